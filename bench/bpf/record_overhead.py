#!/usr/bin/env python3
"""Slowdown of a fixed Go workload under goperf record --backend bpf, --backend perf and `perf record -g`,
at 99 Hz and 999 Hz, interleaved round by round, medians; and bytes moved from the kernel per second.

The workload is tests/targets/labels with -rounds N -wait: the profiler attaches (-p) first, then the
workload starts and reports its own elapsed time; its CPU time (user+sys, from wait4) is also taken,
since sampling costs land in the sampled task's context. Slowdown = median(profiled) / median(baseline).

usage: bench/bpf/record_overhead.py [--build DIR] [--rounds N] [--reps R] [--hz 99,999]
"""
import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))


def run_once(target, rounds, profiler, out_dir):
    """Runs the workload under `profiler` (None, ('goperf', backend, hz), ('perf', hz)); returns
    (elapsed_s, cpu_s, kernel_bytes or None)."""
    t = subprocess.Popen([str(target), "-rounds", str(rounds), "-wait"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    pid = int(t.stdout.readline().split()[1])
    prof = None
    if profiler:
        if profiler[0] == "goperf":
            _, goperf, backend, hz = profiler
            cmd = [goperf, "record", "-p", str(pid), "--backend", backend, "-F", str(hz), "-e", "cpu-clock",
                   "-o", str(out_dir / "p.pb.gz")]
            ready = "sampling"
        else:
            _, hz = profiler
            cmd = ["perf", "record", "-g", "-F", str(hz), "-e", "cpu-clock", "-p", str(pid), "-o",
                   str(out_dir / "perf.data")]
            ready = None
        prof = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        if ready:
            line = prof.stderr.readline()
            while line and ready not in line:
                line = prof.stderr.readline()
        else:
            time.sleep(0.5)  # perf prints nothing when attached
    t.stdin.write("\n")
    t.stdin.flush()
    elapsed = int(t.stdout.readline().split()[1]) / 1e9
    _, status, ru = os.wait4(t.pid, 0)
    t.returncode = os.waitstatus_to_exitcode(status)
    cpu = ru.ru_utime + ru.ru_stime
    kbytes = None
    if prof:
        if profiler[0] == "perf":
            prof.send_signal(2)
        err = prof.communicate(timeout=300)[1]
        if profiler[0] == "goperf":
            m = re.search(r"(\d+) bytes from the kernel", err)
            kbytes = int(m.group(1)) if m else None
        else:
            size = (out_dir / "perf.data").stat().st_size
            kbytes = size  # perf.data holds what perf read from its rings
    return elapsed, cpu, kbytes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("GOPERF_BUILD_DIR", str(REPO / "build")))
    ap.add_argument("--rounds", type=int, default=1500)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--hz", default="99,999")
    a = ap.parse_args()
    os.environ["GOPERF_BUILD_DIR"] = a.build
    import gotargets
    target = gotargets.build("labels", gotargets.toolchain("go1.26"), gotargets.Variant())
    goperf = str(pathlib.Path(a.build) / "goperf")
    hzs = [int(h) for h in a.hz.split(",")]
    configs = [("baseline", None)]
    for hz in hzs:
        configs += [(f"bpf@{hz}", ("goperf", goperf, "bpf", hz)), (f"perf-backend@{hz}", ("goperf", goperf, "perf", hz)),
                    (f"perf-record-g@{hz}", ("perf", hz))]
    results = {name: [] for name, _ in configs}
    with tempfile.TemporaryDirectory() as d:
        out_dir = pathlib.Path(d)
        for rep in range(a.reps):  # interleaved: every configuration once per repetition
            for name, prof in configs:
                results[name].append(run_once(target, a.rounds, prof, out_dir))
            print(f"repetition {rep + 1}/{a.reps} done", file=sys.stderr)
    base_wall = statistics.median(r[0] for r in results["baseline"])
    base_cpu = statistics.median(r[1] for r in results["baseline"])
    print(f"workload: labels -rounds {a.rounds}, {a.reps} interleaved repetitions, medians; "
          f"baseline {base_wall:.3f} s wall, {base_cpu:.3f} s CPU")
    print("| configuration | wall (s) | slowdown (wall) | CPU (s) | slowdown (CPU) | kernel->user bytes/s |")
    print("|---|---|---|---|---|---|")
    for name, _ in configs:
        wall = statistics.median(r[0] for r in results[name])
        cpu = statistics.median(r[1] for r in results[name])
        kb = [r[2] / r[0] for r in results[name] if r[2] is not None]
        rate = f"{statistics.median(kb):,.0f}" if kb else "-"
        print(f"| {name} | {wall:.3f} | {wall / base_wall:.3f} | {cpu:.3f} | {cpu / base_cpu:.3f} | {rate} |")


if __name__ == "__main__":
    main()
