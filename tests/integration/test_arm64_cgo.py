"""cgo targets in the emulated arm64 machine (issue 17): GOARCH=arm64 cgo builds of tests/targets by every Go
toolchain present (CC=aarch64-linux-gnu-gcc, gotargets.py), run against the arm64 glibc they link (the dynamic
loader and the libraries their DT_NEEDED name, taken from the :arm64 multiarch packages scripts/setup installs).
The oracles are the runtime's, as on amd64: the SIGQUIT dump for a snapshot, the GOTRACEBACK=crash dump for a
kernel-written core (read in the machine and on this host), and for record the callers of the C code down to
the goroutine's root (runtime/pprof's stacks of a cgo call: runtime.cgocall and its Go callers), and with
two cgo calls made at one depth from different callers (prof_cgo -two), each C function under its own caller.

One boot runs every command; the machine helpers are test_arm64.py's (arm64_vm.py)."""
import json
import pathlib
import re
import subprocess

import pytest

import arm64_vm
import cgo_two_calls
import gotargets
import hostcheck
import pprof_decode
import snapshot_dump

V = gotargets.Variant
CGO = V(cgo=True, goarch="arm64")
CGO_SYMS = V(cgo=True, stripped=False, goarch="arm64")  # prof_cgo -two: its C functions named
TOOLCHAINS = gotargets.toolchains()
MULTIARCH = pathlib.Path("/usr/lib/aarch64-linux-gnu")  # libc6:arm64, pulled in by scripts/setup's :arm64 packages
RECORD_BACKENDS = ("bpf", "perf")
# What runtime/pprof shows under a cgo call's C frames, outermost last: the Go caller of the C function.
CGO_CALLERS = ("main.hotC", "main.main", "runtime.main", "runtime.goexit")


def key(tc):
    return tc.name.replace(".", "_")


def elf_needed_and_interp(path):
    """(DT_NEEDED names, PT_INTERP) of an arm64 executable, read with the cross binutils' readelf."""
    out = subprocess.run(["aarch64-linux-gnu-readelf", "-dl", str(path)], capture_output=True, text=True,
                         check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return needed, interp.group(1) if interp else None


def glibc_files(binaries):
    """Guest path -> host path: the loader at its PT_INTERP path and each DT_NEEDED library (and theirs) in
    /lib/aarch64-linux-gnu, the arm64 loader's default directory."""
    hostcheck.require_tool("aarch64-linux-gnu-readelf", "binutils-aarch64-linux-gnu")
    files, todo, seen = {}, [], set()
    for b in binaries:
        needed, interp = elf_needed_and_interp(b)
        assert interp, f"{b} names no dynamic loader"
        files[interp] = MULTIARCH / pathlib.Path(interp).name
        todo += needed
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        host = MULTIARCH / name
        if not host.exists():
            hostcheck.missing_setup_piece(f"{host} is missing (libc6:arm64, scripts/setup)")
        files[f"/lib/aarch64-linux-gnu/{name}"] = host
        todo += elf_needed_and_interp(host)[0]
    for guest, host in files.items():
        if not pathlib.Path(host).exists():
            hostcheck.missing_setup_piece(f"{host} is missing (libc6:arm64, scripts/setup)")
    return files


@pytest.fixture(scope="module")
def builds():
    if not TOOLCHAINS:
        hostcheck.missing_setup_piece("no Go toolchain found")
    hostcheck.require_tool("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")
    requests = [(name, tc, CGO) for tc in TOOLCHAINS for name in ("hang", "crash_cgo", "prof_cgo")]
    requests += [("prof_cgo", tc, CGO_SYMS) for tc in TOOLCHAINS]
    paths = gotargets.build_many(requests)
    return {(n if v == CGO else f"{n}-syms", tc.name): p for (n, tc, v), p in zip(requests, paths)}


def guest_commands(tcs):
    cmds = []
    for tc in tcs:
        k = key(tc)
        cmds.append((f"ldso-{k}", f"/t/prof_cgo-{k} -seconds 0"))
        h = f"/tmp/hang-{k}"
        cmds.append((f"hang-start-{k}", arm64_vm.start_hang(f"/t/hang-{k}", h)))
        cmds.append((f"snapshot-{k}", f"goperf snapshot -p $(cat {h}.pid)"))
        cmds.append((f"sigquit-{k}", arm64_vm.sigquit_dump(h)))
        cmds.append((f"crash-{k}", f"rm -f /tmp/core.*; (GOTRACEBACK=crash /t/crash_cgo-{k} 2> /tmp/crash.err) "
                     "2>/dev/null; cat /tmp/crash.err >&2; ls /tmp/core.*"))
        cmds.append((f"core-{k}", f"goperf core --format json /t/crash_cgo-{k} /tmp/core.*"))
        cmds.append((f"keepcore-{k}", f"mv /tmp/core.* /tmp/kept-core-{k}"))
        for backend in RECORD_BACKENDS:
            p = f"/tmp/profcgo-{backend}"
            cmds.append((f"record-{backend}-{k}", arm64_vm.record_attached(
                f"/t/prof_cgo-{k} -seconds 8", f"{p}.out", backend, 4, f"/tmp/rec-{backend}-{k}.pb.gz")))
            cmds.append((f"record-two-{backend}-{k}", arm64_vm.record_attached(
                f"/t/prof_cgo-syms-{k} -two -seconds 6", f"{p}-two.out", backend, 3,
                f"/tmp/rec-two-{backend}-{k}.pb.gz")))
    return cmds


@pytest.fixture(scope="module")
def vm(builds):
    why = arm64_vm.missing()
    if why:
        hostcheck.missing_setup_piece(why)
    files = {"/bin/goperf": arm64_vm.ARM64_BUILD / "goperf"}
    for tc in TOOLCHAINS:
        for name in ("hang", "crash_cgo", "prof_cgo", "prof_cgo-syms"):
            files[f"/t/{name}-{key(tc)}"] = builds[(name, tc.name)]
    files.update(glibc_files([builds[("prof_cgo", TOOLCHAINS[0].name)], builds[("hang", TOOLCHAINS[0].name)]]))
    fetches = [(f"core-{key(tc)}", f"/tmp/kept-core-{key(tc)}") for tc in TOOLCHAINS[-1:]]
    fetches += [(f"rec-{b}-{key(tc)}", f"/tmp/rec-{b}-{key(tc)}.pb.gz") for tc in TOOLCHAINS for b in RECORD_BACKENDS]
    fetches += [(f"rec-two-{b}-{key(tc)}", f"/tmp/rec-two-{b}-{key(tc)}.pb.gz") for tc in TOOLCHAINS
                for b in RECORD_BACKENDS]
    boot = arm64_vm.boot(files, guest_commands(TOOLCHAINS), fetches)
    print(f"\narm64 machine (cgo): the whole job took {boot.wall_seconds:.1f} s on the host")
    return boot


def result(vm, name):
    return vm.results[name]


@pytest.mark.parametrize("tc", TOOLCHAINS, ids=lambda t: t.name)
def test_cgo_program_runs_with_the_arm64_glibc(vm, tc):
    """The guest runs the cgo build through the arm64 loader and libc handed in (a failed exec says why)."""
    r = result(vm, f"ldso-{key(tc)}")
    assert r.rc == 0 and r.stdout.startswith("ready"), r.stdout + r.stderr


@pytest.mark.parametrize("tc", TOOLCHAINS, ids=lambda t: t.name)
def test_snapshot_of_a_cgo_program(vm, tc):
    """Snapshot of the cgo hang target (one goroutine blocked in C) against its SIGQUIT dump, goroutine by
    goroutine; the goroutine in C shows the runtime's frames from its syscall state, after its C frames."""
    k = key(tc)
    assert "ready" in result(vm, f"hang-start-{k}").stdout, result(vm, f"hang-start-{k}").stderr
    oracle = snapshot_dump.parse(result(vm, f"sigquit-{k}").stdout)
    assert len(oracle) > 20, result(vm, f"sigquit-{k}").stdout[-2000:]
    snap = result(vm, f"snapshot-{k}")
    assert snap.rc == 0, snap.stderr
    ours = snapshot_dump.parse(snap.stdout)
    from test_snapshot import compare
    diffs = compare(ours, oracle, check_args=False)
    assert not diffs, "\n".join(diffs[:10])
    cgo = [g for g in ours.values() if "main.cgoBlocker" in g.functions()]
    assert cgo and cgo[0].status == "syscall", [g.functions()[:4] for g in ours.values()][:5]


@pytest.mark.parametrize("tc", TOOLCHAINS, ids=lambda t: t.name)
def test_cgo_crash_core_read_in_the_arm64_machine(vm, tc):
    """crash_cgo (SIGSEGV in C under a cgo call, GOTRACEBACK=crash): the kernel's core read by goperf in the
    guest gives the runtime's dump, goroutine by goroutine."""
    k = key(tc)
    crash = result(vm, f"crash-{k}")
    assert "goroutine 1" in crash.stderr and "/tmp/core." in crash.stdout, crash.stderr[-1500:]
    core = result(vm, f"core-{k}")
    assert core.rc == 0, core.stderr
    from test_arm64 import same_goroutines_then_stacks
    same_goroutines_then_stacks(json.loads(core.stdout), crash.stderr)


def test_cgo_crash_core_read_on_the_host(goperf, vm, builds, tmp_path):
    """The same kernel core of the last toolchain's crash_cgo, read by the amd64 goperf on this host."""
    tc = TOOLCHAINS[-1]
    data = vm.files.get(f"core-{key(tc)}", b"")
    assert data, "the machine returned no core"
    core = tmp_path / "core"
    core.write_bytes(data)
    p = subprocess.run([goperf, "core", "--format", "json", str(builds[("crash_cgo", tc.name)]), str(core)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    ours = json.loads(p.stdout)
    assert ours["header"]["match"].startswith("matches"), ours["header"]
    from test_arm64 import same_goroutines_then_stacks
    same_goroutines_then_stacks(ours, result(vm, f"crash-{key(tc)}").stderr)


@pytest.mark.parametrize("backend", RECORD_BACKENDS)
@pytest.mark.parametrize("tc", TOOLCHAINS, ids=lambda t: t.name)
def test_record_of_a_cgo_program_continues_into_the_go_caller(vm, tc, backend):
    """record of prof_cgo (main.hotC -> C hot_loop through cgo): samples taken in the C code, on the system
    stack under runtime.asmcgocall, continue on the goroutine's stack from asmcgocall's saved g and depth
    (unwind/asmcgocall_frame_arm64.cpp): runtime.cgocall, main.hotC, main.main, runtime.main, runtime.goexit,
    from the goroutine read at the sample (eBPF backend); the perf backend's end at asmcgocall, said so."""
    k = key(tc)
    r = result(vm, f"record-{backend}-{k}")
    assert r.rc == 0, r.stderr
    data = vm.files.get(f"rec-{backend}-{k}", b"")
    assert data, "no profile written"
    from test_record_stacks import TRUNCATED, user_stacks
    in_c = whole = cut = 0
    for names, n, _ in user_stacks(pprof_decode.Profile(data)):
        if "runtime.asmcgocall" not in names:
            continue
        in_c += n
        if tuple(names[-len(CGO_CALLERS):]) == CGO_CALLERS and "runtime.cgocall" in names:
            whole += n
        elif tuple(names[-2:]) == ("runtime.asmcgocall", TRUNCATED):
            cut += n
    print(f"arm64 record of prof_cgo, {tc.name}, {backend}: {whole} of {in_c} samples in C reach main.main and "
          f"runtime.goexit, {cut} end at asmcgocall")
    assert in_c >= 50, r.stderr
    if backend == "bpf":
        assert whole / in_c >= 0.95, f"{whole} of {in_c} samples in C reach the Go caller: {r.stderr}"
    else:
        # The perf backend's copy is of g0's stack only, and arm64's kernel frame-pointer walk stops where the
        # records go down to the goroutine's stack: nothing at the sample says the goroutine is still in this
        # call, so the sample ends there (unwind/cgo_continuation.cpp) rather than name frames read later.
        assert whole + cut == in_c, f"{in_c - whole - cut} of {in_c} samples in C neither whole nor cut: {r.stderr}"


@pytest.mark.parametrize("backend", RECORD_BACKENDS)
@pytest.mark.parametrize("tc", TOOLCHAINS, ids=lambda t: t.name)
def test_record_of_two_cgo_calls_at_one_depth(vm, tc, backend):
    """record of prof_cgo -two (main.hotC -> C hot_loop and main.hotC2 -> C hot_loop2 in turn, both calls at
    one depth of the goroutine's stack; a build with its symbols, so the C functions have names): a sample in
    C gets the goroutine's frames of the call it was taken in, as on amd64 (test_record.py)."""
    k = key(tc)
    r = result(vm, f"record-two-{backend}-{k}")
    assert r.rc == 0, r.stderr
    data = vm.files.get(f"rec-two-{backend}-{k}", b"")
    assert data, "no profile written"
    from test_record_stacks import user_stacks
    per_c, wrong, whole = cgo_two_calls.tally((names, n) for names, n, _ in user_stacks(pprof_decode.Profile(data)))
    total = sum(per_c.values())
    print(f"arm64 record of prof_cgo -two, {tc.name}, {backend}: {dict(per_c)}, {whole} of {total} reach runtime.goexit")
    assert total >= 40 and min(per_c.values()) >= 0.25 * total, f"samples in C: {dict(per_c)}: {r.stderr}"
    assert not wrong, f"samples in C under the other call's frames (of {total}): {dict(wrong)}"
    if backend == "bpf":  # (the perf backend's end at asmcgocall: test above)
        assert whole >= 0.95 * total, f"{whole} of {total} samples in C reach runtime.goexit"
