"""goperf record --backend bpf: exact Go stacks, goroutine ids and pprof labels read at sample time, on the
scheduler tick and with cpu-clock, and clean release of every eBPF program on each way goperf can end.

Oracles: the labels target's own work split (workers a, b, c do 1x, 2x, 3x the same work, one at a time)
for label shares; `go tool pprof -tagfocus` for label filtering; the kernel's list of loaded BPF programs
(`bpftool prog list`) for release."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import gotargets
import hostcheck
import pprof_decode
import test_record as rec  # goperf record's own oracles, reused here with --backend bpf

# The perf-event program and the scheduler tick's: which of them a recording loads depends on its plan.
PROG_NAMES = ("goperf_sample", "goperf_tick")
EXPECTED = {"a": 1 / 6, "b": 2 / 6, "c": 3 / 6}

# The scheduler tick's own kernel frames (kernel/time/hrtimer.c, tick-sched.c, the APIC timer's entry).
TICK_HANDLER = re.compile(r"^(__)?hrtimer_(interrupt|run_queues)$|apic_timer_interrupt|"
                          r"^tick_(nohz_handler|sched_timer|sched_handle)$|^update_process_times$")


pytestmark = pytest.mark.skipif(hostcheck.bpf_reason() is not None, reason=str(hostcheck.bpf_reason()))


@pytest.fixture(autouse=True)
def _bpftool():
    hostcheck.require_tool("bpftool", "bpftool")


def tick_available(goperf):
    """Decided from the host; goperf doctor must agree (its check is tested in test_doctor.py)."""
    return hostcheck.tick_reason() is None


def loaded_programs(names=PROG_NAMES):
    """How many goperf eBPF programs (of these names) the kernel holds right now."""
    out = subprocess.run(["bpftool", "-j", "prog", "list"], capture_output=True, text=True, check=True).stdout
    return sum(1 for p in json.loads(out or "[]") if p.get("name") in names)


def wait_programs(done, timeout=5.0):
    """The number of goperf programs once done(number) holds, or after timeout: the kernel frees a program
    some time after its last reference (an RCU grace period, longer for tracing programs)."""
    end = time.time() + timeout
    while time.time() < end:
        n = loaded_programs()
        if done(n):
            return n
        time.sleep(0.05)
    return loaded_programs()


class Target:
    """A running labels target (killed on exit)."""

    def __init__(self, binary, user=None):
        cmd = [str(binary)]
        if user:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), line
        self.pid = int(line.split()[1])
        # Each worker's goroutine id, from the header of its own runtime.Stack: the oracle for goid labels.
        self.goids = {k: int(v) for k, v in (w.split("=") for w in line.split()[2:])}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def record(goperf, pid, out, backend="bpf", seconds=3, hz=999, user=None, event=None):
    cmd = [goperf, "record", "-p", str(pid), "--backend", backend, "-F", str(hz), "-d", str(seconds),
           "-o", str(out)] + (["-e", event] if event else [])
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)


def worker_counts(profile):
    counts = {}
    for s in profile.samples:
        w = s["labels"].get("worker")
        if w is not None:
            counts[w] = counts.get(w, 0) + s["values"][0]
    return counts


def labels_binary(tc_name, variant):
    tc = gotargets.toolchain(tc_name)
    if tc is None:
        hostcheck.missing_setup_piece(f"Go toolchain {tc_name} is not installed")
    return gotargets.build("labels", tc, variant)


CASES = [("go1.19", gotargets.Variant()), ("go1.26", gotargets.Variant()), ("go1.27.3", gotargets.Variant()),
         ("go1.26", gotargets.Variant(pie=True)), ("go1.26", gotargets.Variant(cgo=True))]


@pytest.mark.parametrize("tc_name,variant", CASES, ids=[f"{t}-{v.name}" for t, v in CASES])
def test_label_shares_and_stacks(goperf, tmp_path, tc_name, variant):
    binary = labels_binary(tc_name, variant)
    with Target(binary) as t:
        counts = {}
        # Enough labelled samples that 3 points is well above the sampling noise (~1 point at 1000).
        for attempt in range(3):
            out = tmp_path / f"p{attempt}.pb.gz"
            r = record(goperf, t.pid, out, seconds=3)
            assert r.returncode == 0, r.stderr
            assert "with the eBPF backend" in r.stderr
            prof = pprof_decode.load(out)
            for k, v in worker_counts(prof).items():
                counts[k] = counts.get(k, 0) + v
            if sum(counts.values()) >= 1000:
                break
    total = sum(counts.values())
    assert total > 0, "no sample carries the worker label"
    for w, share in EXPECTED.items():
        got = counts.get(w, 0) / total
        assert abs(got - share) <= 0.03, f"worker {w}: {got:.3f} of {total} labelled samples, expected {share:.3f}"
    # Every labelled sample is charged to its goroutine, and the stacks are the Go runtime's own:
    # main.spin under pprof.Do under main.worker, down to runtime.goexit.
    labelled = [s for s in prof.samples if "worker" in s["labels"]]
    assert all(isinstance(s["labels"].get("goroutine"), int) and s["labels"]["goroutine"] > 1 for s in labelled)
    goids = {s["labels"]["worker"]: set() for s in labelled}
    for s in labelled:
        goids[s["labels"]["worker"]].add(s["labels"]["goroutine"])
    # Each worker's samples carry exactly the id its own runtime.Stack header printed.
    assert goids == {w: {g} for w, g in t.goids.items()}, (goids, t.goids)
    spin = 0
    for s in labelled:
        names = [n for lid in s["locs"] for n in prof.frames(lid)]
        if names and names[0] == "main.spin":
            spin += s["values"][0]
            assert "runtime/pprof.Do" in names and "main.worker" in names and names[-1] == "runtime.goexit", names
    assert spin >= 0.9 * sum(s["values"][0] for s in labelled)


def test_tagfocus_filters_on_labels(goperf, tmp_path):
    binary = labels_binary("go1.26", gotargets.Variant())
    out = tmp_path / "p.pb.gz"
    with Target(binary) as t:
        r = record(goperf, t.pid, out, seconds=3)
    assert r.returncode == 0, r.stderr
    counts = worker_counts(pprof_decode.load(out))
    # The oldest toolchain's pprof ships prebuilt (newer ones build it on first use, which is slow).
    tc = gotargets.toolchains()[0]
    # go tool pprof -raw prints each sample with its count and labels; keep only the counts after -tagfocus.
    raw = tc.tool("tool", "pprof", "-raw", "-tagfocus=worker=c", str(out))
    samples_section = raw.split("Samples:")[1].split("Locations")[0]
    kept = 0
    for line in samples_section.splitlines():
        fields = line.split()
        # "<count> <cpu ns>: <location ids>", then the sample's labels on the following lines
        if len(fields) >= 2 and fields[0].isdigit() and fields[1].endswith(":"):
            kept += int(fields[0])
    assert kept == counts["c"], (kept, counts)
    # goperf report --tagfocus keeps the same samples.
    folded = tmp_path / "c.folded"
    rr = subprocess.run([goperf, "report", "-i", str(out), "--tagfocus", "worker=c", "-o", str(folded)],
                        capture_output=True, text=True)
    assert rr.returncode == 0, rr.stderr
    total = sum(int(line.rsplit(" ", 1)[1]) for line in folded.read_text().splitlines() if line.strip())
    assert total == counts["c"]


@pytest.mark.parametrize("hz", [99, 999])
@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_programs_released(goperf, tmp_path, how, hz):
    """99 Hz with the default event (goperf_sample), 999 Hz with -e tick: the tick and cpu-clock (both
    programs). Every program goes, however goperf ends."""
    binary = labels_binary("go1.26", gotargets.Variant())
    if hz == 999 and not tick_available(goperf):
        pytest.skip("the scheduler tick cannot be sampled here: " + hostcheck.tick_reason())
    before = {name: loaded_programs((name,)) for name in PROG_NAMES}
    out = tmp_path / "p.pb.gz"
    with Target(binary) as t:
        rec = subprocess.Popen([goperf, "record", "-p", str(t.pid), "--backend", "bpf", "-F", str(hz), "-o", str(out)]
                               + (["-e", "tick"] if hz == 999 else []),
                               stderr=subprocess.PIPE, text=True)
        try:
            assert wait_programs(lambda n: n > sum(before.values())) > sum(before.values()), "no eBPF program appeared"
            time.sleep(0.5)
            during = {name: loaded_programs((name,)) - before[name] for name in PROG_NAMES}
            rec.send_signal(signal.SIGINT if how == "sigint" else signal.SIGKILL)
            rec.wait(timeout=30)
        finally:
            if rec.poll() is None:
                rec.kill()
                rec.wait()
    err = rec.stderr.read()
    if "every scheduler tick" in err:
        assert during == {"goperf_sample": 1, "goperf_tick": 1}, during
    # SIGKILL: the kernel frees programs, links and maps with goperf's last file descriptor.
    total = sum(before.values())
    assert wait_programs(lambda n: n == total) == total, f"{' or '.join(PROG_NAMES)} still loaded after {how}"
    if how == "sigint":
        assert rec.returncode == 0, err
        assert worker_counts(pprof_decode.load(out)), "Ctrl-C must still write the profile"


def test_without_privilege_says_what_is_missing(goperf):
    binary = labels_binary("go1.26", gotargets.Variant())
    work = pathlib.Path(tempfile.mkdtemp(prefix="goperf-nobody-"))  # pytest's tmp_path is root-only
    try:
        os.chmod(work, 0o777)
        shutil.copy(binary, work / "labels")
        with Target(work / "labels", user=65534) as t:
            r = record(goperf, t.pid, work / "bpf.pb.gz", seconds=1, user=65534, event="cpu-clock")
            assert r.returncode == 1
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and "CAP_BPF" in lines[0], r.stderr
            r = record(goperf, t.pid, work / "auto.pb.gz", backend="auto", seconds=1, user=65534, event="cpu-clock")
            # The start line says which backend and why not the eBPF one.
            assert re.search(r"with the perf backend \(eBPF backend unavailable: .*CAP_BPF", r.stderr), r.stderr
            assert "with the eBPF backend" not in r.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


# goperf record's tests, with --backend bpf: the same targets, stacks and runtime/pprof oracle. A subset of
# the toolchain x variant matrix keeps the time budget: the oldest toolchain's executable and the newest's PIE.
BPF_CASES = [(t, v) for t, v in ((rec.TOOLCHAINS[0], gotargets.Variant()),
                                  (rec.TOOLCHAINS[-1], gotargets.Variant(pie=True))) if rec.TOOLCHAINS]


@pytest.mark.parametrize("mode", ["inline", "recursion", "goroutines", "syscall", "clock", "alloc"])
@pytest.mark.parametrize("case", BPF_CASES, ids=rec.ids)
def test_record_known_stacks_with_bpf(goperf, tmp_path, case, mode):
    tc, variant = case
    exe = gotargets.build("prof", tc, variant)
    out, oracle = tmp_path / "p.pb.gz", tmp_path / "go.pb.gz"
    res = rec.record_with_oracle(goperf, out, oracle, [str(exe), "-mode", mode], rec.CUMULATIVE[mode],
                                 extra=("--backend", "bpf"))
    assert res.returncode == 0, res.stderr
    assert "target exited" in res.stderr
    prof = pprof_decode.load(out)
    assert prof.sample_types == [("samples", "count"), ("cpu", "nanoseconds")]
    if mode in rec.EXPECTED:
        rec.check_exact_stacks(prof, mode)
    if mode == "clock":
        # The goroutine's part of a vDSO call's stack is copied at the sample: nothing is read later.
        rec.check_vdso_stacks(prof, minimum=0.99)
    if mode == "alloc":
        # The goroutine g0 serves is read at the sample (curg.sched and its stack): GC assists stay under
        # main.churn, mark workers under their goroutine.
        rec.check_system_stack_samples(prof)
    if mode in ("inline", "recursion"):
        # Their frames hold loop counters that change from sample to sample. Keyed by code addresses, the
        # samples still aggregate in the kernel (keyed by every byte, each was a record of 0.6-1.6 KB);
        # check_exact_stacks and the shares above say the aggregated ones kept their own stacks.
        m = re.search(r"(\d+) samples, .* (\d+) bytes from the kernel", res.stderr)
        assert m, res.stderr
        samples, moved = int(m.group(1)), int(m.group(2))
        assert moved / samples < 200, f"{moved} bytes from the kernel for {samples} samples"
    rec.assert_shares_agree(prof, pprof_decode.load(oracle), rec.CUMULATIVE[mode])
    # Samples of the workload's goroutines carry their goroutine id.
    main_samples = [s for s in prof.samples if any(n.startswith("main.") for lid in s["locs"] for n in prof.frames(lid))]
    assert main_samples and all(s["labels"].get("goroutine", 0) >= 1 for s in main_samples)
    rec.pprof_raw_ok(tc, out)


@pytest.mark.xfail(reason="known: goperf's share of runtime.gcAssistAlloc in prof -mode alloc is about 0.19 where "
                          "runtime/pprof's is about 0.27 (4 of 4 runs; every assist sample reaches main.churn, so no "
                          "stack is lost); not explained yet", strict=False)
def test_gc_assist_share(goperf, tmp_path):
    """The share of GC assist work under main.churn agrees with runtime/pprof's (99% bound, 3 points)."""
    exe = gotargets.build("prof", rec.TOOLCHAINS[-1], gotargets.Variant())
    out, oracle = tmp_path / "p.pb.gz", tmp_path / "go.pb.gz"
    functions = ["runtime.gcAssistAlloc"]
    res = rec.record_with_oracle(goperf, out, oracle, [str(exe), "-mode", "alloc"], functions, extra=("--backend", "bpf"))
    assert res.returncode == 0, res.stderr
    ours, theirs = pprof_decode.load(out), pprof_decode.load(oracle)
    (a, na), (b, nb) = rec.cumulative_shares(ours, functions), rec.cumulative_shares(theirs, functions, True)
    f = functions[0]
    assert abs(a[f] - b[f]) <= rec.share_bound(a[f], na, b[f], nb), (a[f], na, b[f], nb)


def test_vdso_samples_keep_their_goroutine(goperf, tmp_path):
    """A vDSO call (time.Now) runs on g0's stack with g unchanged: its samples still belong to the goroutine
    (goroutine label), as runtime/pprof charges them."""
    tc = rec.TOOLCHAINS[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant())
    out = tmp_path / "p.pb.gz"
    res = rec.record(goperf, out, [str(exe), "-mode", "clock", "-seconds", "1.5"], extra=("--backend", "bpf"))
    assert res.returncode == 0, res.stderr
    prof = pprof_decode.load(out)
    main_samples = [s for s in prof.samples if any(n == "main.clockloop" for lid in s["locs"] for n in prof.frames(lid))]
    in_vdso = sum(s["values"][0] for s in main_samples
                  if any("clock_gettime" in n for lid in s["locs"] for n in prof.frames(lid)))
    total = sum(s["values"][0] for s in main_samples)
    assert in_vdso >= 5, f"only {in_vdso} of {total} samples in the vDSO"
    unlabelled = sum(s["values"][0] for s in main_samples if s["labels"].get("goroutine", 0) < 1)
    assert unlabelled == 0, f"{unlabelled} of {total} samples without their goroutine"


def test_record_cgo_with_bpf(goperf, tmp_path):
    tc = rec.TOOLCHAINS[-1]
    exe = gotargets.build("prof_cgo", tc, gotargets.Variant(cgo=True, stripped=True))
    out, oracle = tmp_path / "p.pb.gz", tmp_path / "go.pb.gz"
    res = rec.record_with_oracle(goperf, out, oracle, [str(exe)], rec.CUMULATIVE["cgo"], extra=("--backend", "bpf"))
    assert res.returncode == 0, res.stderr
    prof = pprof_decode.load(out)
    suffix = ("runtime.cgocall", "main._Cfunc_hot_loop", "main.hotC", "main.main", "runtime.main", "runtime.goexit")
    in_c = complete = 0
    for stack, n in prof.stacks(skip_kernel=True):
        if "runtime.asmcgocall" in stack:
            in_c += n
            complete += n if stack[-len(suffix):] == suffix else 0
    assert in_c >= 50 and complete / in_c >= 0.95, f"{complete}/{in_c} cgo samples reach main.main"
    rec.assert_shares_agree(prof, pprof_decode.load(oracle), rec.CUMULATIVE["cgo"])


def record_stderr_note(goperf, out, argv, hz, extra=()):
    """goperf record -- argv, not quiet: its note says how CPU time was sampled."""
    return subprocess.run([goperf, "record", "-F", str(hz), "-o", str(out), "--backend", "bpf", *extra, "--", *argv],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ["inline", "recursion", "syscall"])
def test_tick_samples_known_stacks(goperf, tmp_path, mode):
    """-F 99 on the scheduler tick (every 2nd tick at HZ=250, every 3rd at 300...): the same exact stacks and
    the same shares as runtime/pprof, whose SIGPROF comes at the tick too; in syscall mode the ticks that
    interrupted the kernel carry the system call's frames and not the tick's own."""
    tc = rec.TOOLCHAINS[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant())
    out, oracle = tmp_path / "p.pb.gz", tmp_path / "go.pb.gz"
    if not tick_available(goperf):
        pytest.skip("the scheduler tick cannot be sampled here: " + hostcheck.tick_reason())
    res = rec.record_with_oracle(goperf, out, oracle, [str(exe), "-mode", mode], rec.CUMULATIVE[mode], seconds=5,
                                 recorder=lambda o, argv: record_stderr_note(goperf, o, argv, 99, extra=("-e", "tick")))
    assert res.returncode == 0, res.stderr
    assert "scheduler tick" in res.stderr and "with the eBPF backend" in res.stderr, res.stderr
    prof = pprof_decode.load(out)
    if mode in rec.EXPECTED:
        rec.check_exact_stacks(prof, mode)
    rec.assert_shares_agree(prof, pprof_decode.load(oracle), rec.CUMULATIVE[mode])
    if mode == "syscall":
        in_kernel = tick_frames = 0
        tick_names = set()
        for s in prof.samples:
            # Kernel frames: as stacks(skip_kernel=True) drops them.
            kernel = [n for lid in s["locs"] if prof.is_kernel(lid) for n in prof.frames(lid)]
            n = s["values"][0]
            if kernel and kernel[-1].startswith("entry_SYSCALL_64"):
                in_kernel += n
            # The innermost kernel frame is what the tick interrupted, never its own handler; further out an
            # earlier interrupt's exit work (softirqs, irqentry_exit_to_user_mode) is the thread's time too.
            # Only the handler's own frames: a thread inside nanosleep (sysmon's usleep) runs hrtimer code of
            # its own (hrtimer_start_range_ns) when the tick comes, and that is its time.
            if kernel and TICK_HANDLER.search(kernel[0]):
                tick_frames += n
                tick_names.add(kernel[0])
        assert in_kernel >= 20, f"only {in_kernel} samples in getppid's kernel code"
        assert tick_frames == 0, f"{tick_frames} samples show the tick's own frames: {sorted(tick_names)}"


def test_tick_and_cpu_clock_rate(goperf, tmp_path):
    """-F 999 above HZ: every tick plus cpu-clock for the rest. Samples per second of the target's CPU time
    (its own getrusage) are close to 999, and the profile's CPU total is that CPU time."""
    tc = rec.TOOLCHAINS[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant())
    out = tmp_path / "p.pb.gz"
    if not tick_available(goperf):
        pytest.skip("the scheduler tick cannot be sampled here: " + hostcheck.tick_reason())
    res = record_stderr_note(goperf, out, [str(exe), "-mode", "recursion", "-work", "60000"], 999,
                             extra=("-e", "tick"))
    assert res.returncode == 0, res.stderr
    assert "scheduler tick" in res.stderr, res.stderr
    cpu = float(re.search(r"elapsed [\d.]+ cpu ([\d.]+)", res.stderr).group(1))
    assert cpu >= 1.0, f"the workload ran only {cpu:.2f} s of CPU"
    prof = pprof_decode.load(out)
    samples = sum(s["values"][0] for s in prof.samples)
    cpu_ns = sum(s["values"][1] for s in prof.samples)
    # The workload's CPU time ends where it prints it; the samples run on to the process's exit (a few ms).
    assert 0.9 * 999 <= samples / cpu <= 1.1 * 999, f"{samples} samples in {cpu:.3f} s of CPU"
    assert 0.9 <= cpu_ns / 1e9 / cpu <= 1.1, f"profile total {cpu_ns / 1e9:.3f} s, CPU time {cpu:.3f} s"
