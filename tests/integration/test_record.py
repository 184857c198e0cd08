"""goperf record against live Go programs whose hot stacks are known by construction.

Oracles: the stacks the target's source code makes (tests/targets/prof*), and runtime/pprof's CPU
profile of the same run (the target writes it with -cpuprofile while goperf samples it). Profiles are
read with pprof_decode (a protobuf wire-format reader independent of goperf) and with `go tool pprof -raw`.
"""
import collections
import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest


sys.path.insert(0, str(pathlib.Path(__file__).parent))
import cgo_two_calls  # noqa: E402
import etcd_server  # noqa: E402
import gotargets  # noqa: E402
import hostcheck  # noqa: E402
import pprof_decode  # noqa: E402

TOOLCHAINS = gotargets.toolchains()
VARIANTS = [gotargets.Variant(pie=False), gotargets.Variant(pie=True)]
SECONDS = 2

# Leaf first, as pprof stores them; kernel frames (no mapping, no address) are left out of comparisons.
GOEXIT = ["runtime.main", "runtime.goexit"]
EXPECTED = {
    "inline": ("main.leaf", [["main.leaf", "main.mid", "main.inl", "main.main"] + GOEXIT]),
    "recursion": ("main.spin", [["main.spin"] + ["main.recurse"] * 30 + ["main.main"] + GOEXIT]),
    # The function of a go statement with arguments runs in a wrapper: main.main.func1 before Go 1.22,
    # main.main.gowrap1 since.
    "goroutines": ("main.crunch", [["main.crunch", "main.worker", w, "runtime.goexit"]
                                   for w in ("main.main.func1", "main.main.gowrap1")]),
}
# The functions whose cumulative share runtime/pprof must confirm, per mode.
CUMULATIVE = {
    "inline": ["main.main", "main.mid", "main.leaf"],
    "recursion": ["main.main", "main.recurse", "main.spin"],
    "goroutines": ["main.worker", "main.crunch"],
    "syscall": ["main.sysloop", "syscall.Getppid"],
    "cgo": ["main.main", "main.hotC", "runtime.cgocall"],
    "clock": ["main.clockloop", "time.Now"],
    # runtime.gcAssistAlloc: see test_bpf.py's test_gc_assist_share (a known disagreement, kept visible).
    "alloc": ["main.churn", "runtime.mallocgc"],
}
# Assembly that calls the vDSO on g0's stack (symbolize::FuncKind::kVdsoCall).
VDSO_CALLERS = ("time.now", "runtime.nanotime1", "runtime.vgetrandom1")


def ids(tc_variant):
    tc, v = tc_variant
    return f"{tc.name}-{v.name}"


CASES = [(tc, v) for tc in TOOLCHAINS for v in VARIANTS]


def record(goperf, out, argv, hz=999, extra=(), timeout=60):
    """Runs `goperf record -- argv` with the perf backend (or the --backend in extra) and returns the
    completed process."""
    backend = () if "--backend" in extra else ("--backend", "perf")
    return subprocess.run([goperf, "record", *backend, "-F", str(hz), "-o", str(out), *extra, "--", *argv],
                          capture_output=True, text=True, timeout=timeout)


def pprof_raw_ok(tc, path):
    # The oldest toolchain's pprof: it ships prebuilt (newer Go distributions build `go tool pprof` on
    # first use, which takes minutes on a loaded CI machine) and reads what every newer one reads.
    tc = TOOLCHAINS[0]
    res = subprocess.run([tc.go, "tool", "pprof", "-raw", str(path)], env=tc.environ(), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Samples:" in res.stdout


def drop(stack, names=("runtime.asyncPreempt",)):
    # runtime/pprof's own signal handler shows runtime.asyncPreempt on top of a goroutine preempted by
    # SIGURG; it is not the workload's code, so the oracle's stacks are compared without it.
    return tuple(f for f in stack if f not in names)


def as_runtime_pprof_sees_cgo(stack):
    # runtime/pprof cannot unwind C code (no cgo traceback in these targets): it charges the C loop to
    # runtime.cgocall. goperf's frames on the C side are folded the same way for the share comparison.
    if "runtime.cgocall" in stack:
        return stack[stack.index("runtime.cgocall"):]
    return stack


def as_runtime_pprof_sees_vdso(stack):
    # runtime/pprof unwinds a vDSO call from m.vdsoPC/vdsoSP: its stack starts at the vDSO caller's caller
    # (time.Now), without the vDSO's frames and the caller's. goperf's are folded the same way to compare.
    for i, f in enumerate(stack):
        if f in VDSO_CALLERS:
            return stack[i + 1:]
    return stack


def check_vdso_stacks(profile, minimum=0.97):
    """Samples in a vDSO call (time.Now's clock read, on g0's stack) keep the goroutine's frames: the
    vDSO caller, then time.Now, main.clockloop and main.main, down to runtime.goexit."""
    suffix = ("time.Now", "main.clockloop", "main.main", "runtime.main", "runtime.goexit")
    in_vdso = complete = 0
    cut = collections.Counter()
    for stack, n in profile.stacks(skip_kernel=True):
        if not any(f in VDSO_CALLERS for f in stack):
            continue
        in_vdso += n
        caller = tuple(as_runtime_pprof_sees_vdso(stack))
        if caller[:1] == ("time.runtimeNow",):  # Go 1.23+: time.Now -> time.runtimeNow -> time.now
            caller = caller[1:]
        if caller == suffix:
            complete += n
        else:
            cut[";".join(stack)] += n
    assert in_vdso >= 30, f"only {in_vdso} samples in a vDSO call"
    assert complete / in_vdso >= minimum, f"{complete}/{in_vdso} vDSO samples reach main.main; others: {cut.most_common(3)}"


def check_system_stack_samples(profile, minimum=0.95):
    """Samples of the runtime's work on g0 for a goroutine (GC assists and mark workers under
    runtime.systemstack) continue on that goroutine's stack down to runtime.goexit, as runtime/pprof's do."""
    on_g0 = complete = 0
    cut = collections.Counter()
    for stack, n in profile.stacks(skip_kernel=True):
        if "runtime.systemstack" not in stack:
            continue
        on_g0 += n
        if stack[-1] == "runtime.goexit":
            complete += n
        else:
            cut[";".join(stack[-3:])] += n
    assert on_g0 >= 30, f"only {on_g0} samples under runtime.systemstack"
    assert complete / on_g0 >= minimum, f"{complete}/{on_g0} reach runtime.goexit; others end: {cut.most_common(3)}"


def workload(stack):
    # Shares are compared over the workload's samples (stacks through the main package): runtime/pprof
    # does not sample threads without a goroutine (sysmon, idle Ms), which goperf does.
    return any(f.startswith("main.") for f in stack)


def asleep_in_oracle(stack):
    # A thread asleep in futex uses no CPU, but a process-wide SIGPROF (runtime/pprof's setitimer) can be
    # delivered to it for CPU time another thread used: seen once in about 20 runs of the cgo target
    # (7% of runtime/pprof's samples on runtime.futex, none in goperf's, which samples running threads).
    return bool(stack) and stack[0] == "runtime.futex"


def cumulative_shares(profile, functions, oracle=False):
    total, hits = 0, collections.Counter()
    for stack, n in profile.stacks(skip_kernel=True):
        stack = drop(stack) if oracle else as_runtime_pprof_sees_vdso(as_runtime_pprof_sees_cgo(stack))
        if not workload(stack) or (oracle and asleep_in_oracle(stack)):
            continue
        total += n
        for f in set(stack):
            if f in functions:
                hits[f] += n
    return {f: hits[f] / total for f in functions}, total


def flat_shares(profile, oracle=False):
    total, flat = 0, collections.Counter()
    for stack, n in profile.stacks(skip_kernel=True):
        stack = drop(stack) if oracle else as_runtime_pprof_sees_vdso(as_runtime_pprof_sees_cgo(stack))
        if workload(stack) and not (oracle and asleep_in_oracle(stack)):
            total += n
            flat[stack[0]] += n
    return {k: v / total for k, v in flat.items()}, total


# runtime/pprof's rate for the oracle (prof -cpuhz): at most the scheduler tick's rate, where its CPU timers
# fire; 2.5x its default, so the oracle's shares are estimates from 2.5x the samples.
ORACLE_HZ = 250
# Below this many oracle samples of the workload a share comparison is not made: the recording is repeated
# for longer (record_with_oracle) instead of widening the bound.
MIN_ORACLE_SAMPLES = 400
# Two-sided 99%: a share check fails by chance in about 1 of 100 comparisons of a correct goperf only if
# the two true shares differ by exactly the 3-point tolerance; at equal true shares, far less often.
Z_99 = 2.576


def share_bound(pa, na, pb, nb, tolerance=0.03):
    """The largest |pa - pb| that is consistent, at 99% confidence, with the two profiles' true shares
    being within `tolerance`: both shares are binomial estimates (na and nb samples), so the standard
    error of their difference has both terms."""
    se = (max(pa * (1 - pa), 1 / na) / na + max(pb * (1 - pb), 1 / nb) / nb) ** 0.5
    return tolerance + Z_99 * se


def record_with_oracle(goperf, out, oracle, argv, functions, seconds=SECONDS, extra=(), recorder=None):
    """Records `argv -seconds S -cpuprofile ORACLE -cpuhz ORACLE_HZ` under goperf, doubling S (up to 4x)
    while either profile has fewer than MIN_ORACLE_SAMPLES of the workload (a loaded machine gives the
    target less CPU). recorder(out, argv) runs goperf (default: record at 999 Hz with `extra`). Returns
    goperf's completed process."""
    recorder = recorder or (lambda o, a: record(goperf, o, a, extra=extra, timeout=120))
    for attempt in range(3):
        s = seconds * 2 ** attempt
        res = recorder(out, [*argv, "-seconds", str(s), "-cpuprofile", str(oracle), "-cpuhz", str(ORACLE_HZ)])
        if res.returncode != 0:
            break
        counts = [cumulative_shares(pprof_decode.load(path), functions, is_oracle)[1]
                  for path, is_oracle in ((out, False), (oracle, True))]
        if min(counts) >= MIN_ORACLE_SAMPLES:
            break
    return res


def assert_shares_agree(ours, oracle, functions):
    """Per-function shares (cumulative for `functions`, flat for every function holding 5% or more) agree
    with runtime/pprof's: the difference is consistent, at 99% confidence, with at most 3 points (see
    share_bound). Needs MIN_ORACLE_SAMPLES oracle samples: record_with_oracle records longer to get them."""
    for kind, ours_s, oracle_s in (("cumulative", *[cumulative_shares(p, functions, o)
                                                    for p, o in ((ours, False), (oracle, True))]),
                                   ("flat", flat_shares(ours), flat_shares(oracle, True))):
        (a, na), (b, nb) = ours_s, oracle_s
        assert nb >= MIN_ORACLE_SAMPLES, f"runtime/pprof took only {nb} samples of the workload"
        assert na >= MIN_ORACLE_SAMPLES, f"goperf took only {na} samples of the workload"
        names = functions if kind == "cumulative" else {k for k in set(a) | set(b)
                                                        if max(a.get(k, 0), b.get(k, 0)) >= 0.05}
        for f in names:
            pa, pb = a.get(f, 0.0), b.get(f, 0.0)
            bound = share_bound(pa, na, pb, nb)
            assert abs(pa - pb) <= bound, (f"{kind} share of {f}: goperf {pa:.3f} (n={na}), runtime/pprof {pb:.3f} "
                                           f"(n={nb}): differs by more than the 99% bound {bound:.3f}")


def workload_part(stack):
    """The stack from the innermost frame of package main outwards: what runs above it (runtime callees of
    the workload: preemption, morestack, a write barrier) is not the workload's own frames."""
    for i, f in enumerate(stack):
        if f.startswith("main."):
            return stack[i:]
    return ()


def check_exact_stacks(profile, mode, expected_stacks=None):
    """Every sample of the mode's code (any frame of package main that only this mode's stacks hold) is
    counted, whatever its leaf: from its innermost main frame outwards it must be exactly a tail of an
    expected stack. A misnamed frame, a dropped or invented middle frame, or a stack cut short (or ending in
    a marker frame) is a wrong sample; at least 99% must be right."""
    leaf, expected = expected_stacks or EXPECTED[mode]
    expected = [tuple(e) for e in expected]
    marks = mode_marks(expected)
    considered = exact = with_leaf = 0
    wrong = collections.Counter()
    for stack, n in profile.stacks(skip_kernel=True):
        if not marks & set(stack):
            continue
        considered += n
        with_leaf += n if stack[:1] == (leaf,) else 0
        part = workload_part(stack)
        if any(len(part) <= len(e) and e[len(e) - len(part):] == part for e in expected):
            exact += n
        else:
            wrong[";".join(stack)] += n
    assert with_leaf >= 50, f"only {with_leaf} samples in {leaf} (of {considered} in the mode's code)"
    assert exact / considered >= 0.99, f"{exact}/{considered} exact; others: {wrong.most_common(3)}"


def mode_marks(expected):
    """The main-package functions only this mode's expected stacks hold (main.main is in every mode's)."""
    return {f for e in expected for f in e if f.startswith("main.") and f != "main.main"}


def call_sites(profile, expected):
    """{function: {(file, line)}} of the call sites (every frame but the leaf) of the samples of the mode's
    code: where a call is, is fixed by the code."""
    marks = mode_marks(expected)
    sites = collections.defaultdict(set)
    for stack, _ in profile.line_stacks(skip_kernel=True):
        if not marks & {name for name, _, _ in stack}:
            continue
        # A call into the runtime (preemption, morestack: runtime/pprof shows runtime.asyncPreempt where its
        # signal preempted) is not the workload's call; the runtime's callers of main differ between versions.
        for callee, (name, file, line) in zip(stack, stack[1:]):
            if not callee[0].startswith("runtime.") and not name.startswith("runtime."):
                sites[name].add((file, line))
    return sites


def check_call_site_lines(ours, oracle, mode, calls_in=None):
    """Function, file and line of every call site of the mode's code (inlined ones included: the inline
    tree gives each its own line) are among those runtime/pprof recorded for the same code in the same run,
    and every function runtime/pprof saw calling is there. `calls_in`, when given, is a function returning
    {function: {(file, line)}} of the CALL instructions `go tool objdump` shows in each function of the
    unstripped build (objdump_calls): a site runtime/pprof happened not to sample (a worker's deferred
    wg.Done at its closing brace, once at its exit) is accepted only if the compiler put a call there."""
    expected = [tuple(e) for e in EXPECTED[mode][1]]
    want, got = call_sites(oracle, expected), call_sites(ours, expected)
    assert want, f"runtime/pprof recorded no call site of the {mode} code"
    # Functions runtime/pprof does not show (go statement wrappers, the vDSO's callers) are left out;
    # a frame named wrongly leaves its real name's call sites missing below.
    for name in set(got) & set(want):
        extra = got[name] - want[name]
        if extra and calls_in is not None:
            calls = calls_in().get(name, set())
            extra = {(file, line) for file, line in extra if (os.path.basename(file), line) not in calls}
        assert not extra, f"{name}: call sites {sorted(extra)} not in runtime/pprof's {sorted(want[name])}"
    assert set(want) <= set(got), f"call sites runtime/pprof has and goperf lacks: {sorted(set(want) - set(got))}"


_OBJDUMP_CALLS = {}
OBJDUMP_CALL = re.compile(r"^\s+(\S+):(\d+)\s+0x[0-9a-f]+\s+[0-9a-f]+\s+CALL\b")


def objdump_calls(tc, binary):
    """{function: {(file, line)}} of every CALL instruction in `go tool objdump` of binary (unstripped)."""
    key = (tc.name, str(binary))
    if key not in _OBJDUMP_CALLS:
        calls, fn = collections.defaultdict(set), None
        for line in tc.tool("tool", "objdump", str(binary)).splitlines():
            if line.startswith("TEXT "):
                fn = line.split()[1].removesuffix("(SB)")
                continue
            m = OBJDUMP_CALL.match(line)
            if fn and m:
                calls[fn].add((m.group(1), int(m.group(2))))  # objdump names the file without its directory
        _OBJDUMP_CALLS[key] = calls
    return _OBJDUMP_CALLS[key]


@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="goperf-record-")
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("mode", ["inline", "recursion", "goroutines", "syscall", "clock"])
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_known_stacks_and_shares(goperf, workdir, case, mode):
    tc, variant = case
    exe = gotargets.build("prof", tc, variant)
    out = workdir / f"{tc.name}-{variant.name}-{mode}.pb.gz"
    oracle = workdir / f"{tc.name}-{variant.name}-{mode}.go.pb.gz"
    res = record_with_oracle(goperf, out, oracle, [str(exe), "-mode", mode], CUMULATIVE[mode])
    assert res.returncode == 0, res.stderr
    assert "target exited" in res.stderr and str(out) in res.stderr
    prof = pprof_decode.load(out)
    assert prof.sample_types == [("samples", "count"), ("cpu", "nanoseconds")]
    assert prof.period_type == ("cpu", "nanoseconds") and prof.period == 1000000000 // 999
    assert prof.duration > 0 and prof.time > 0
    main_mapping = [m for m in prof.mappings.values() if prof.strings[m.get(5, 0)] == str(exe)]
    assert main_mapping and prof.strings[main_mapping[0].get(6, 0)], "executable mapping with a build id"
    if mode in EXPECTED:
        check_exact_stacks(prof, mode)
        unstripped = dataclasses.replace(variant, stripped=False)
        check_call_site_lines(prof, pprof_decode.load(oracle), mode,
                              lambda: objdump_calls(tc, gotargets.build("prof", tc, unstripped)))
    if mode == "clock":
        check_vdso_stacks(prof)
    if mode == "goroutines":
        threads = {s["labels"].get("thread") for s in prof.samples
                   if any("main.crunch" in prof.frames(loc) for loc in s["locs"])}
        assert len(threads) >= 4, f"samples of main.crunch came from {len(threads)} threads"
    assert_shares_agree(prof, pprof_decode.load(oracle), CUMULATIVE[mode])
    pprof_raw_ok(tc, out)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_cgo_hot_loop(goperf, workdir, case):
    tc, variant = case
    exe = gotargets.build("prof_cgo", tc, gotargets.Variant(pie=variant.pie, cgo=True, stripped=True))
    out = workdir / f"cgo-{tc.name}-{variant.name}.pb.gz"
    oracle = workdir / f"cgo-{tc.name}-{variant.name}.go.pb.gz"
    res = record_with_oracle(goperf, out, oracle, [str(exe)], CUMULATIVE["cgo"])
    assert res.returncode == 0, res.stderr
    prof = pprof_decode.load(out)
    # The C loop is unnamed in a stripped binary; its callers must all be there, down to runtime.goexit.
    suffix = ("runtime.cgocall", "main._Cfunc_hot_loop", "main.hotC", "main.main", "runtime.main", "runtime.goexit")
    in_c = complete = 0
    for stack, n in prof.stacks(skip_kernel=True):
        if "runtime.asmcgocall" in stack:
            in_c += n
            if stack[-len(suffix):] == suffix:
                complete += n
    assert in_c >= 50 and complete / in_c >= 0.95, f"{complete}/{in_c} cgo samples reach main.main"
    assert_shares_agree(prof, pprof_decode.load(oracle), CUMULATIVE["cgo"])
    pprof_raw_ok(tc, out)


@pytest.mark.parametrize("backend", ["perf", "bpf"])
@pytest.mark.parametrize("tc", TOOLCHAINS, ids=lambda tc: tc.name)
def test_cgo_calls_at_one_depth_keep_their_callers(goperf, workdir, tc, backend):
    """prof_cgo -two: main.hotC -> C hot_loop and main.hotC2 -> C hot_loop2 in turn, both calls at one depth
    of the goroutine's stack. A sample in C gets the goroutine's frames of the call it was taken in: each C
    function under its own caller (the build keeps its symbols, so the C functions have names)."""
    if backend == "bpf" and hostcheck.bpf_reason() is not None:
        pytest.skip(str(hostcheck.bpf_reason()))
    exe = gotargets.build("prof_cgo", tc, gotargets.Variant(cgo=True, stripped=False))
    out = workdir / f"cgo-two-{tc.name}-{backend}.pb.gz"
    res = subprocess.run([goperf, "record", "--backend", backend, "-F", "499", "-o", str(out), "--", str(exe),
                          "-two", "-seconds", "3"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    per_c, wrong, complete = cgo_two_calls.tally(pprof_decode.load(out).stacks(skip_kernel=True))
    total = sum(per_c.values())
    assert total >= 200 and min(per_c.values()) >= 0.25 * total, f"samples in C: {dict(per_c)}"
    assert not wrong, f"samples in C under the other call's frames (of {total}): {dict(wrong)}"
    assert complete >= 0.95 * total, f"{complete} of {total} samples in C reach runtime.goexit"


@pytest.mark.parametrize("backend", ["perf", "bpf"])
def test_cgo_call_into_c_without_frame_records(goperf, workdir, backend):
    """prof_cgo -nofp: main.hotCNoFP -> C hot_loop_nofp, which keeps no frame record and clobbers the frame
    pointer register, so no frame-pointer walk gets from it to asmcgocall. The eBPF backend, which read the
    goroutine at the sample, goes on from its saved state as the runtime's profiler does for a cgo call, and
    says that frames are missing in between ("[frames not unwound]", then runtime.cgocall and its callers);
    the perf backend cannot and says so ([truncated]). Neither names another caller."""
    if backend == "bpf" and hostcheck.bpf_reason() is not None:
        pytest.skip(str(hostcheck.bpf_reason()))
    tc = TOOLCHAINS[-1]
    exe = gotargets.build("prof_cgo", tc, gotargets.Variant(cgo=True, stripped=False))
    out = workdir / f"cgo-nofp-{backend}.pb.gz"
    res = subprocess.run([goperf, "record", "--backend", backend, "-F", "499", "-o", str(out), "--", str(exe),
                          "-nofp", "-seconds", "2"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    callers = ("[frames not unwound]", "runtime.cgocall", "main._Cfunc_hot_loop_nofp", "main.hotCNoFP", "main.main",
               "runtime.main", "runtime.goexit")
    in_c = whole = cut = 0
    prof = pprof_decode.load(out)
    for s in prof.samples:
        stack = [f for lid in s["locs"] if not prof.is_kernel(lid) for f in prof.frames(lid) or ["?"]]
        if not stack or stack[0] != "hot_loop_nofp":
            continue
        n = s["values"][0]
        in_c += n
        whole += n if tuple(stack[1:]) == callers else 0
        cut += n if stack[1:] == ["[truncated]"] else 0
    assert in_c >= 200, res.stderr
    assert whole + cut == in_c, f"{in_c - whole - cut} of {in_c} samples in C with other callers"
    if backend == "bpf":
        assert whole >= 0.95 * in_c, f"{whole} of {in_c} samples in C reach runtime.goexit: {res.stderr}"
        assert "with frames not unwound" in res.stderr, res.stderr
    else:
        assert cut == in_c, f"{whole} of {in_c} perf-backend samples passed the C function without a walk"


def test_attach_by_pid_and_target_exit(goperf, workdir):
    tc = TOOLCHAINS[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant(pie=True))
    target = subprocess.Popen([str(exe), "-mode", "inline", "-seconds", "2"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().startswith("ready")
        out = workdir / "attach.pb.gz"
        t0 = time.monotonic()
        res = subprocess.run([goperf, "record", "--backend", "perf", "-F", "999", "-p", str(target.pid), "-d", "30",
                              "-o", str(out)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert time.monotonic() - t0 < 10, "recording did not stop when the target exited"
        assert "target exited" in res.stderr and f"goperf report -i {out}" in res.stderr
        check_exact_stacks(pprof_decode.load(out), "inline")
    finally:
        target.wait(timeout=10)
    assert target.returncode == 0, "the target was disturbed"


def test_ctrl_c_writes_the_profile(goperf, workdir):
    tc = TOOLCHAINS[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant())
    target = subprocess.Popen([str(exe), "-mode", "recursion", "-seconds", "20"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().startswith("ready")
        out = workdir / "sigint.pb.gz"
        rec = subprocess.Popen([goperf, "record", "--backend", "perf", "-F", "999", "-p", str(target.pid),
                                "-o", str(out)],
                               stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        rec.send_signal(2)
        _, err = rec.communicate(timeout=20)
        assert rec.returncode == 0, err
        assert "interrupted" in err
        assert target.poll() is None, "the target must keep running"
        check_exact_stacks(pprof_decode.load(out), "recursion")
        pprof_raw_ok(tc, out)
    finally:
        target.kill()
        target.wait()


def test_default_output_name(goperf, workdir):
    exe = gotargets.build("prof", TOOLCHAINS[-1], gotargets.Variant())
    res = subprocess.run([goperf, "record", "-F", "99", "--", str(exe), "-mode", "inline", "-seconds", "0.5"],
                         capture_output=True, text=True, timeout=60, cwd=workdir)
    assert res.returncode == 0, res.stderr
    files = list(workdir.glob(f"{exe.name}-*-*-*.pb.gz"))
    assert len(files) == 1, res.stderr
    name = files[0].name
    assert f"goperf report -i {name}" in res.stderr
    files[0].unlink()


def test_etcd_under_write_load(goperf, workdir):
    with etcd_server.EtcdUnderLoad(workdir, name="rec") as etcd:
        out = workdir / "etcd.pb.gz"
        res = subprocess.run([goperf, "record", "--backend", "perf", "-F", "499", "-d", "4", "-p", str(etcd.pid),
                              "-o", str(out)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        prof = pprof_decode.load(out)
        frames = unknown = 0
        for stack, n in prof.stacks(skip_kernel=True):
            frames += n * len(stack)
            unknown += n * stack.count("?")
        assert frames >= 1000, f"only {frames} frames sampled"
        assert unknown / frames < 0.01, f"{unknown} of {frames} frames unknown"
        names = {f for stack, _ in prof.stacks(True) for f in stack}
        assert any(n.startswith("go.etcd.io/etcd/") for n in names)
        assert etcd.proc.poll() is None, "etcd must keep running"
        pprof_raw_ok(TOOLCHAINS[0], out)


def _dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("args,message", [
    (["-p", "DEAD"], "does not exist"),
    (["-e", "no-such-event", "--", "true"], "unknown event"),
    (["-F", "1000000", "--", "true"], "perf_event_max_sample_rate"),
    (["-o", "/nonexistent-dir/x.pb.gz", "--", "true"], "cannot write the output"),
    (["--", "/nonexistent-program"], "cannot run the command"),
])
def test_bad_input(goperf, args, message):
    args = [str(_dead_pid()) if a == "DEAD" else a for a in args]
    res = subprocess.run([goperf, "record", "-q", *args], capture_output=True, text=True, timeout=30)
    assert res.returncode == 1, res.stderr
    lines = [line for line in res.stderr.splitlines() if "no hardware cycles" not in line]
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_no_permission(goperf, workdir):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop privileges")
    target = subprocess.Popen(["sleep", "30"])
    try:
        res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", goperf, "record", "-q",
                              "-p", str(target.pid), "-d", "1", "-o", "/tmp/goperf-nobody.pb.gz"],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 1, res.stderr
        # Another user's process: perf_event_paranoid is not what stops it; the change is root (or both caps).
        assert f"sudo goperf record -p {target.pid}" in res.stderr and "CAP_PERFMON" in res.stderr, res.stderr
        assert "sysctl" not in res.stderr and "perf_event_paranoid does not help" in res.stderr, res.stderr
    finally:
        target.kill()
        target.wait()


def test_two_pids(goperf, workdir):
    exe = gotargets.build("prof", TOOLCHAINS[0], gotargets.Variant())
    targets = [subprocess.Popen([str(exe), "-mode", m, "-seconds", "3"], stdout=subprocess.PIPE, text=True)
               for m in ("inline", "recursion")]
    try:
        for t in targets:
            assert t.stdout.readline().startswith("ready")
        out = workdir / "two.pb.gz"
        res = subprocess.run([goperf, "record", "--backend", "perf", "-F", "999", "-d", "1.5", "-p",
                              ",".join(str(t.pid) for t in targets), "-o", str(out)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        prof = pprof_decode.load(out)
        # Each sample names its process; each process's hot stack is exact.
        assert {s["labels"].get("pid") for s in prof.samples} >= {t.pid for t in targets}
        check_exact_stacks(prof, "inline")
        check_exact_stacks(prof, "recursion")
    finally:
        for t in targets:
            t.wait(timeout=20)
