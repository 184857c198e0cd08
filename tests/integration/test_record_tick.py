"""goperf record -e tick: CPU time sampled at the scheduler tick (cpu-clock for the rate above HZ).

Oracles: the workload's own CPU time (getrusage, printed by `prof -work`), which the profile's
cpu/nanoseconds must add up to whichever mix of tick and cpu-clock samples carried it; the rate asked
for; the stacks the target's source code makes; and `-e cpu-clock`, sampled the old way, for the same
kernel frames."""
import pathlib
import re
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import gotargets  # noqa: E402
import hostcheck  # noqa: E402
import pprof_decode  # noqa: E402
import test_record as rec  # noqa: E402

TC = gotargets.toolchains()[-1]
BACKENDS = ["perf", "bpf"]


# prof -work N runs its step through main.fixedWork (a func value: the step is not inlined into it).
WORK_STACKS = {
    "recursion": ("main.spin", [["main.spin"] + ["main.recurse"] * 30 + ["main.recursionStep", "main.fixedWork",
                                                                        "main.main"] + rec.GOEXIT]),
    "inline": ("main.leaf", [["main.leaf", "main.mid", "main.inl", "main.inlineStep", "main.fixedWork",
                              "main.main"] + rec.GOEXIT]),
}


def check_work_stacks(prof, mode, monkeypatch):
    monkeypatch.setitem(rec.EXPECTED, mode, WORK_STACKS[mode])
    rec.check_exact_stacks(prof, mode)


def record(goperf, out, argv, hz, extra=(), default_backend=False):
    """goperf record with the perf backend, or the --backend in extra, or no --backend at all."""
    backend = () if "--backend" in extra or default_backend else ("--backend", "perf")
    return subprocess.run([goperf, "record", "-F", str(hz), "-o", str(out), *backend, *extra, "--", *argv],
                          capture_output=True, text=True, timeout=120)


def workload_cpu(stderr):
    m = re.search(r"elapsed ([\d.]+) cpu ([\d.]+)", stderr)
    assert m, stderr
    return float(m.group(2))


def skip_without_tick(backend):
    """Skips where the host cannot sample the tick (or run eBPF), decided from the host, before goperf runs:
    goperf's own refusal on a host that can is a failure."""
    reason = hostcheck.tick_reason() or (hostcheck.bpf_reason() if backend == "bpf" else None)
    if reason:
        pytest.skip(reason)


def totals(prof):
    count = sum(s["values"][0] for s in prof.samples)
    cpu_ns = sum(s["values"][1] for s in prof.samples)
    return count, cpu_ns


def assert_adds_up(prof, cpu, rate):
    """The profile's CPU time is the workload's (tick-granular: a few ticks either way, plus the process's
    other threads), in about rate samples per second of it."""
    count, cpu_ns = totals(prof)
    assert abs(cpu_ns / 1e9 - cpu) <= 0.1 * cpu + 0.05, f"profile {cpu_ns / 1e9:.3f} s, workload {cpu:.3f} s"
    assert abs(count - rate * cpu) <= 0.15 * rate * cpu + 5, f"{count} samples for {cpu:.3f} s at {rate}/s"


@pytest.fixture(scope="module")
def prof_exe():
    return gotargets.build("prof", TC, gotargets.Variant(pie=True))


@pytest.mark.parametrize("backend", BACKENDS)
def test_low_rate_samples_every_nth_tick_and_weighs_the_cpu_time(goperf, tmp_path, prof_exe, backend, monkeypatch):
    out = tmp_path / "tick99.pb.gz"
    skip_without_tick(backend)
    res = record(goperf, out, [str(prof_exe), "-mode", "recursion", "-work", "40000"], 99,
                 ("-e", "tick", "--backend", backend))
    assert res.returncode == 0, res.stderr
    m = re.search(r"sampling CPU time at the scheduler tick \((\d+) Hz\): every (?:(\d+)\w\w )?tick a thread runs, "
                  r"(\d+) samples/s", res.stderr)
    assert m, res.stderr
    hz, every, rate = int(m.group(1)), int(m.group(2) or 1), int(m.group(3))
    assert every == hz // 99 and rate == round(hz / every)
    prof = pprof_decode.load(out)
    assert prof.period == every * round(1e9 / hz)
    assert_adds_up(prof, workload_cpu(res.stderr), rate)
    check_work_stacks(prof, "recursion", monkeypatch)


@pytest.mark.parametrize("backend", BACKENDS)
def test_high_rate_mixes_every_tick_with_cpu_clock(goperf, tmp_path, prof_exe, backend, monkeypatch):
    out = tmp_path / "tick999.pb.gz"
    skip_without_tick(backend)
    res = record(goperf, out, [str(prof_exe), "-mode", "inline", "-work", "40000"], 999,
                 ("-e", "tick", "--backend", backend))
    assert res.returncode == 0, res.stderr
    m = re.search(r"at every scheduler tick \((\d+) Hz\) and with cpu-clock at (\d+) Hz", res.stderr)
    assert m, res.stderr
    hz, clock_hz = int(m.group(1)), int(m.group(2))
    assert hz + clock_hz == 999
    prof = pprof_decode.load(out)
    assert prof.period == 1000000000 // 999
    assert_adds_up(prof, workload_cpu(res.stderr), 999)
    check_work_stacks(prof, "inline", monkeypatch)


def test_kernel_share_is_the_kernels_own_account(goperf, tmp_path, prof_exe):
    """A tick that interrupts a system call shows the kernel frames it interrupted, never the tick's own
    handler; and the share of samples in the kernel is the kernel's own split of the process's CPU time
    (getrusage: sys / (user + sys), printed by the target), with -e tick as with cpu-clock."""
    skip_without_tick("perf")
    for name, extra in (("tick", ("-e", "tick")), ("cpu-clock", ("-e", "cpu-clock"))):
        out = tmp_path / f"sys-{name}.pb.gz"
        res = record(goperf, out, [str(prof_exe), "-mode", "syscall", "-seconds", "2"], 99, extra)
        assert res.returncode == 0, res.stderr
        assert ("scheduler tick" in res.stderr) == (name == "tick"), res.stderr
        m = re.search(r"user ([\d.]+) sys ([\d.]+)", res.stderr)
        assert m, res.stderr
        user, sys_ = float(m.group(1)), float(m.group(2))
        prof = pprof_decode.load(out)
        total = in_kernel = 0
        for s in prof.samples:
            if not any("main.sysloop" in prof.frames(lid) for lid in s["locs"]):
                continue
            n = s["values"][0]
            total += n
            kernel = [f for lid in s["locs"] if prof.is_kernel(lid) for f in prof.frames(lid)]
            if kernel:
                in_kernel += n
                # The innermost frame is what was interrupted, never the tick's own handler (the frames
                # up to its interrupt entry are cut). Further out, another interrupt's entry may show:
                # the tick (or cpu-clock) arrived during an earlier interrupt's exit work (softirqs,
                # irqentry_exit_to_user_mode), which is kernel time of the thread's as well.
                leaf = kernel[0]
                assert not ("hrtimer" in leaf or "apic_timer_interrupt" in leaf or leaf == "tick_nohz_handler"
                            or leaf == "tick_sched_timer"), kernel
        assert total >= 100, f"{name}: {total} samples in main.sysloop"
        share, oracle = in_kernel / total, sys_ / (user + sys_)
        assert abs(share - oracle) <= 0.1, f"{name}: {share:.3f} of samples in the kernel, getrusage says {oracle:.3f}"


def test_default_is_not_the_tick(goperf, tmp_path, prof_exe):
    """The tick is asked for, never chosen: its grid can keep in step with timer-paced work."""
    res = record(goperf, tmp_path / "d.pb.gz", [str(prof_exe), "-mode", "inline", "-seconds", "0.5"], 99,
                 default_backend=True)
    assert res.returncode == 0, res.stderr
    assert "scheduler tick" not in res.stderr, res.stderr
    count, _ = totals(pprof_decode.load(tmp_path / "d.pb.gz"))
    assert count > 0


def test_explicit_cpu_clock_is_sampled_by_cpu_clock(goperf, tmp_path, prof_exe):
    out = tmp_path / "clock.pb.gz"
    res = record(goperf, out, [str(prof_exe), "-mode", "recursion", "-work", "8000"], 199, ("-e", "cpu-clock"))
    assert res.returncode == 0, res.stderr
    assert "scheduler tick" not in res.stderr, res.stderr
    assert_adds_up(pprof_decode.load(out), workload_cpu(res.stderr), 199)
