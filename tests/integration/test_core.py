"""goperf core against the Go runtime as oracle: targets crash with GOTRACEBACK=crash and a core limit, the
runtime's own dump (stderr) is compared with goperf's reading of the core: every goroutine the runtime printed
must be there with the same status, function sequence, pc and sp (for the crashing goroutine the runtime's frames
are the outermost of ours). Also a live hung target cored with gcore, compressed cores, and bad input."""
import json
import os
import pathlib
import re
import resource
import shutil
import signal
import subprocess

import pytest

import gotargets
import hostcheck

GOROUTINE_RE = re.compile(r"^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]:$")
LOCATION_RE = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=(0x[0-9a-f]+) sp=(0x[0-9a-f]+) pc=(0x[0-9a-f]+))?$")

EXE = gotargets.Variant(pie=False, cgo=False, stripped=True)
PIE = gotargets.Variant(pie=True, cgo=False, stripped=True)
CGO = gotargets.Variant(pie=False, cgo=True, stripped=True)
# (target, mode, variant): every crash kind as a plain stripped exe; PIE and cgo-linked builds on a subset
# to keep the suite within its time budget.
CASES = [("crash", m, EXE) for m in ("nil", "panic", "mapwrite", "deadlock")] + [
    ("crash", "nil", PIE), ("crash", "deadlock", PIE), ("crash", "panic", CGO), ("crash", "mapwrite", CGO),
    ("crash_cgo", "", CGO)]


def parse_runtime_dump(text):
    """The goroutines of a runtime dump: {goid: {"status", "frames": [(function, pc, sp)], "order"}}."""
    out = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = GOROUTINE_RE.match(lines[i])
        i += 1
        if not m:
            continue
        goid, status = int(m.group(1)), m.group(2)
        frames, unavailable = [], False
        while i < len(lines) and lines[i].strip():
            line = lines[i]
            if line.startswith("created by") or line.startswith("\t") or line.startswith("..."):
                i += 1
                continue
            if "stack unavailable" in line:
                unavailable = True
                i += 1
                continue
            loc = LOCATION_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
            name = line[:line.rindex("(")] if "(" in line else line
            frames.append((name, loc.group(5) if loc else None, loc.group(4) if loc else None))
            i += 2
        if goid != 0 and goid not in out:
            out[goid] = {"status": status, "frames": frames, "order": len(out), "unavailable": unavailable}
    return out


def run_core(goperf, *args, check=True):
    p = subprocess.run([goperf, "core", *args], capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def crash(binary, mode, tmp_path, env_extra=None):
    """Runs binary until it dumps core in tmp_path; returns (core path, the runtime's stderr)."""
    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    env = dict(os.environ, GOTRACEBACK="crash", **(env_extra or {}))
    args = [str(binary)] + ([mode] if mode else [])
    p = subprocess.run(args, cwd=tmp_path, env=env, preexec_fn=limits, capture_output=True, text=True, timeout=60)
    assert p.returncode < 0 or p.returncode > 128, p.stderr
    cores = sorted(tmp_path.glob("core*"))
    if not cores:
        pytest.skip("no core written (kernel.core_pattern = %s)" %
                    pathlib.Path("/proc/sys/kernel/core_pattern").read_text().strip())
    return cores[0], p.stderr


def compare(runtime, ours, crashing_goid):
    by_id = {g["id"]: g for g in ours["dump"]["goroutines"]}
    errors = []
    for goid, rg in runtime.items():
        if goid not in by_id:
            errors.append(f"goroutine {goid} [{rg['status']}] missing from goperf's dump")
            continue
        g = by_id[goid]
        status = rg["status"].split(",")[0]
        if status == "running" and goid != crashing_goid:
            continue  # stopped somewhere after the runtime printed it
        if g["status"] != status:
            errors.append(f"goroutine {goid}: status {g['status']} != {status}")
        if rg["unavailable"]:
            continue
        names = [f["function"] for f in g["frames"]]
        want = [f[0] for f in rg["frames"]]
        if goid == crashing_goid:
            if names[len(names) - len(want):] != want:
                errors.append(f"goroutine {goid}: {names} does not end with {want}")
                continue
            frames = g["frames"][len(names) - len(want):]
        else:
            if names != want:
                errors.append(f"goroutine {goid}: {names} != {want}")
                continue
            frames = g["frames"]
        for (name, pc, sp), f in zip(rg["frames"], frames):
            if pc is not None and (int(f["pc"], 16) != int(pc, 16) or int(f["sp"], 16) != int(sp, 16)):
                errors.append(f"goroutine {goid} {name}: pc/sp {f['pc']}/{f['sp']} != {pc}/{sp}")
    assert not errors, "\n".join(errors)


def ids(case):
    return case[0] + ("-" + case[1] if case[1] else "") + "-" + case[2].name


@pytest.mark.parametrize("tc", gotargets.toolchains(), ids=lambda t: t.name)
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_core_matches_runtime_dump(goperf, tc, case, tmp_path):
    target, mode, variant = case
    binary = gotargets.build(target, tc, variant)
    core, stderr = crash(binary, mode, tmp_path)
    runtime = parse_runtime_dump(stderr)
    assert runtime, stderr
    crashing = min(runtime, key=lambda g: runtime[g]["order"])
    if runtime[crashing]["status"].split(",")[0] not in ("running", "syscall"):
        crashing = None  # deadlock: the scheduler threw on g0, every goroutine is parked
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)
    assert ours["header"]["match"].startswith("matches"), ours["header"]
    if crashing is not None:
        # Both map writers may throw at once; the kernel then names whichever thread it signalled first.
        racing = [g for g, rg in runtime.items() if rg["status"] == "running"] if mode == "mapwrite" else [crashing]
        assert ours["header"]["crashing_goroutine"] in racing, (ours["header"], racing)
    compare(runtime, ours, crashing)
    if target == "crash_cgo" and tc.name != "go1.19":
        # (go1.19 cores: the header still names only the final SIGABRT; the caught signal is not recovered yet.)
        # The SIGSEGV the runtime caught in C code (then re-raised as SIGABRT), with the runtime's addr=.
        m = re.search(r"addr=(0x[0-9a-f]+)", stderr)
        assert ours["header"]["signal"] == signal.SIGSEGV and ours["header"]["died_of"] == signal.SIGABRT, ours["header"]
        assert m and int(ours["header"]["fault_addr"], 16) == int(m.group(1), 16), (ours["header"], m)
    # Without BINARY the executable comes from the core's NT_FILE; text output carries the header.
    text = run_core(goperf, str(core)).stdout
    assert text.startswith("core: "), text[:200]
    assert "signal: SIGABRT" in text or "signal: SIGSEGV" in text or "signal: SIGQUIT" in text, text[:400]


@pytest.mark.parametrize("tool,suffix", [("zstd", ".zst"), ("lz4", ".lz4"), ("xz", ".xz")])
def test_compressed_core(goperf, tool, suffix, tmp_path):
    hostcheck.require_tool(tool, {"zstd": "zstd", "lz4": "lz4", "xz": "xz-utils"}[tool])
    tc = gotargets.toolchains()[-1]
    binary = gotargets.build("crash", tc, EXE)
    core, stderr = crash(binary, "panic", tmp_path)
    packed = tmp_path / ("packed" + suffix)
    subprocess.run([tool, "-q", "-c", str(core)], stdout=packed.open("wb"), check=True)
    core.unlink()
    ours = json.loads(run_core(goperf, str(binary), str(packed), "--format", "json").stdout)
    assert ours["header"]["compression"] == {"zstd": "zstd", "lz4": "lz4", "xz": "xz"}[tool]
    runtime = parse_runtime_dump(stderr)
    compare(runtime, ours, min(runtime, key=lambda g: runtime[g]["order"]))


def test_gcore_of_hung_process(goperf, tmp_path):
    hostcheck.require_tool("gcore", "gdb")
    tc = gotargets.toolchains()[-1]
    binary = gotargets.build("crash", tc, EXE)
    p = subprocess.Popen([str(binary), "hang"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, GOTRACEBACK="crash"), text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        g = subprocess.run(["gcore", "-o", str(tmp_path / "gcore"), str(p.pid)], capture_output=True, text=True,
                           timeout=60)
        core = tmp_path / f"gcore.{p.pid}"
        if not core.exists():
            reason = hostcheck.ptrace_reason()
            if reason:
                pytest.skip(reason)
            pytest.fail("gcore wrote no core: " + g.stderr.strip()[-200:])
        p.send_signal(signal.SIGQUIT)
        _, stderr = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    runtime = parse_runtime_dump(stderr)
    assert runtime, stderr
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)
    # Nothing ran between gcore and SIGQUIT: every parked goroutine is the same in both.
    compare(runtime, ours, None)


@pytest.fixture(scope="module")
def a_core(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("badcore")
    tc = gotargets.toolchains()[-1]
    binary = gotargets.build("crash", tc, EXE)
    core, _ = crash(binary, "panic", tmp)
    return binary, core


def one_line_failure(p, *words):
    assert p.returncode == 1, (p.returncode, p.stdout[:300], p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_truncated_core(goperf, a_core, tmp_path):
    binary, core = a_core
    cut = tmp_path / "cut"
    data = core.read_bytes()
    cut.write_bytes(data[: len(data) // 2 + 123])
    one_line_failure(run_core(goperf, str(binary), str(cut), check=False), "truncated")


def test_core_of_another_program(goperf, a_core, tmp_path):
    binary, core = a_core
    other = gotargets.build("hello", gotargets.toolchains()[-1], EXE)
    one_line_failure(run_core(goperf, str(other), str(core), check=False), "--force")


def test_not_a_core(goperf, a_core, tmp_path):
    binary, _ = a_core
    one_line_failure(run_core(goperf, str(binary), str(binary), check=False), "not a core")
    rnd = tmp_path / "random"
    rnd.write_bytes(os.urandom(65536))
    one_line_failure(run_core(goperf, str(binary), str(rnd), check=False), str(rnd))
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    one_line_failure(run_core(goperf, str(binary), str(empty), check=False), "empty")
    one_line_failure(run_core(goperf, str(binary), str(tmp_path / "missing"), check=False), "missing")


def test_binary_not_found(goperf, tmp_path):
    tc = gotargets.toolchains()[-1]
    exe = tmp_path / "gone"
    shutil.copy(gotargets.build("crash", tc, EXE), exe)
    core, _ = crash(exe, "panic", tmp_path)
    sysroot = tmp_path / "sysroot"
    (sysroot / str(exe.parent).lstrip("/")).mkdir(parents=True)
    shutil.move(exe, sysroot / str(exe).lstrip("/"))
    one_line_failure(run_core(goperf, str(core), check=False), "cannot find the executable", str(exe))
    # A copy of the crashed host's files under --sysroot stands in for the missing paths.
    ours = json.loads(run_core(goperf, str(core), "--sysroot", str(sysroot), "--format", "json").stdout)
    assert ours["header"]["match"].startswith("matches") and ours["header"]["crashing_goroutine"] == 1, ours["header"]
