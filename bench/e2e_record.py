#!/usr/bin/env python3
"""Workload slowdown under `goperf record` and under `perf record -g`, side by side.

The workload is tests/targets/prof -mode inline -work N: a fixed number of iterations of a CPU-bound
loop, which prints its own elapsed wall time and CPU time (user+sys: the kernel's sampling work, the
interrupt and the stack copy, is charged to the sampled thread). Runs are interleaved (baseline, goperf,
perf, baseline, ...) so that machine load drifts affect all alike; medians are reported. goperf's own
CPU time per second of recording comes from its rusage minus the workload's.

usage: bench/e2e_record.py [--goperf build/goperf] [--runs 7] [--work 20000] [--hz 99,999]
                          [--mode inline|recursion|stolen] [--depth 30] [--seconds 3] [--also NAME=GOPERF ...]
                          [--pair NAME:OTHER ...]

--mode stolen measures the profiler's cost in the sampled thread's own time directly, interruption by
interruption: `prof -mode stolen` spins for --seconds at --depth frames, timing every 0.2 us step, and
reports the time it lost to steps that took more than 2 us longer than usual. Minus the same round's
unprofiled run, that is the time the profiler took from the workload (the sampling interrupt, the kernel's
sample work, any wakeup), per second and per sample, without the drift of the machine's speed that the
whole-run CPU times carry; what it does not see is a slower step after an interruption (caches).

--also adds another goperf binary to the same interleaved runs (e.g. an older build, for before/after).
The load average is printed before and after: on a shared machine, CPU times are the reliable figures.
"""
import argparse
import os
import pathlib
import random
import re
import resource
import statistics
import subprocess
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"elapsed ([\d.]+) (?:cpu|lost) ([\d.]+)", res.stderr)
    total_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    wall, cpu = float(m.group(1)), float(m.group(2))
    return wall, cpu, total_cpu - cpu  # the tool's own CPU time


def bootstrap_median_interval(values, center=1.0, rounds=2000):
    """A 95% interval of the median of `values` by bootstrap (resampling with replacement)."""
    if len(values) < 3:
        return center, center
    rnd = random.Random(1)
    meds = sorted(statistics.median(rnd.choices(values, k=len(values))) for _ in range(rounds))
    return meds[int(0.025 * rounds)], meds[int(0.975 * rounds)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goperf", default=str(REPO / "build" / "goperf"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--work", type=int, default=20000)
    ap.add_argument("--hz", default="99,999", help="sampling rates, comma-separated")
    ap.add_argument("--mode", default="inline", choices=["inline", "recursion", "stolen"],
                    help="inline: 5-frame stacks under a frameless leaf; recursion: 34-frame stacks; "
                         "stolen: the time each profiler takes from the sampled thread, measured by the thread")
    ap.add_argument("--depth", type=int, default=30, help="stolen mode: frames above the timed loop")
    ap.add_argument("--seconds", type=float, default=3.0, help="stolen mode: how long each run spins")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=GOPERF",
                    help="another goperf binary to measure in the same runs")
    ap.add_argument("--pair", action="append", default=[], metavar="NAME:OTHER",
                    help="--mode stolen: also print the paired difference of NAME to OTHER (e.g. bpf-tick:tick)")
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="goperf-e2e-record-"))
    exe = tmp / "prof"
    subprocess.run(["go", "build", "-ldflags=-s -w", "-o", str(exe), "."], cwd=REPO / "tests/targets/prof",
                   check=True, env={**os.environ, "CGO_ENABLED": "0"})
    if args.mode == "stolen":
        work = [str(exe), "-mode", "stolen", "-depth", str(args.depth), "-seconds", str(args.seconds)]
    else:
        work = [str(exe), "-mode", args.mode, "-work", str(args.work)]
    tools = {
        "baseline": lambda hz: work,
        "goperf": lambda hz: [args.goperf, "record", "-q", "--backend", "perf", "-F", str(hz), "-o", str(tmp / "g.pb.gz"),
                              "--", *work],
        **{name: (lambda hz, path=path: [path, "record", "-q", "-F", str(hz), "-o", str(tmp / "g.pb.gz"), "--", *work])
           for name, path in (a.split("=", 1) for a in args.also)},
        "perf -g": lambda hz: ["perf", "record", "-q", "-g", "-e", "cpu-clock", "-F", str(hz), "-o",
                               str(tmp / "perf.data"), "--", *work],
    }
    print(f"workload: {' '.join(work)}; {args.runs} interleaved runs per tool; medians")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.mode == "stolen":
        stolen(args, tools)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    print(f"{'Hz':>5} {'tool':>14} {'wall s':>9} {'cpu s':>9} {'wall +%':>8} {'cpu +%':>8} {'tool cpu/s':>10} "
          f"{'paired cpu +%':>13} [95% interval]")
    for hz in (int(h) for h in args.hz.split(",")):
        results = interleaved(args, tools, hz, run)
        base_wall = statistics.median(r[0] for r in results["baseline"])
        base_cpu = statistics.median(r[1] for r in results["baseline"])
        paired = {}
        for name, rs in results.items():
            wall = statistics.median(r[0] for r in rs)
            cpu = statistics.median(r[1] for r in rs)
            own = statistics.median(r[2] / r[0] for r in rs) if name != "baseline" else 0.0
            # Paired: each run against the baseline run of the same round, so that drifts of the machine's
            # speed between rounds cancel; the median of those ratios, and its 95% bootstrap interval.
            ratios = [t[1] / b[1] for t, b in zip(rs, results["baseline"])]
            paired[name] = ratios
            lo, hi = bootstrap_median_interval(ratios)
            print(f"{hz:>5} {name:>14} {wall:>9.3f} {cpu:>9.3f} {100 * (wall / base_wall - 1):>+8.2f} "
                  f"{100 * (cpu / base_cpu - 1):>+8.2f} {own:>10.4f} {100 * (statistics.median(ratios) - 1):>+9.2f} "
                  f"[{100 * (lo - 1):+.2f}, {100 * (hi - 1):+.2f}]")
        others = [n for n in results if n not in ("baseline", "perf -g")]
        for name in others:
            print_paired(hz, name, "perf -g", [t - p for t, p in zip(paired[name], paired["perf -g"])], "cpu", 2)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def interleaved(args, tools, hz, one_run):
    """args.runs rounds, each running every tool once in turn (so that drifts of the machine hit all
    alike): each tool's results in round order."""
    results = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, cmd in tools.items():
            results[name].append(one_run(cmd(hz)))
    return results


def print_paired(hz, name, other, diffs, what, digits):
    """The median of per-round differences name - other, its 95% bootstrap interval, rounds below."""
    lo, hi = bootstrap_median_interval(diffs, center=0.0)
    below = sum(d < 0 for d in diffs)
    print(f"{hz:>5} {name} - {other}, paired {what}: median {100 * statistics.median(diffs):+.{digits}f} points "
          f"[{100 * lo:+.{digits}f}, {100 * hi:+.{digits}f}]; below {other} in {below} of {len(diffs)} rounds")


def run_stolen(cmd):
    """One run of prof -mode stolen: its report as a dict of floats."""
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = re.search(r"elapsed .*", res.stderr)
    words = m.group(0).split()
    report = {k: float(v) for k, v in zip(words[::2], words[1::2])}
    # goperf's closing line gives its sample rate (-e tick takes every Nth tick: not the rate asked for).
    g = re.search(r"after ([\d.]+)s: (\d+) samples", res.stderr)
    if g and float(g.group(1)) > 0:
        report["rate"] = int(g.group(2)) / float(g.group(1))
    return report


def stolen(args, tools):
    """Per round: each tool's lost fraction minus the baseline's of the same round; medians, intervals, and
    the paired difference to perf -g, in percentage points of the thread's time and in us per sample.
    "short" counts interruptions under 200 us only (interrupts, not other programs taking the CPU)."""
    print(f"{'Hz':>5} {'tool':>14} {'short cost %':>12} [95% interval] {'us/sample':>9} {'all cost %':>10} "
          f"{'interruptions/s':>15}   (us/sample: at the rate goperf reports, else the rate asked for)")
    for hz in (int(h) for h in args.hz.split(",")):
        runs = interleaved(args, tools, hz, run_stolen)
        base = runs["baseline"]

        def cost(name, key):
            return [t[key] / t["elapsed"] - b[key] / b["elapsed"] for t, b in zip(runs[name], base)]

        for name in runs:
            short, every = cost(name, "short"), cost(name, "lost")
            extra = [t["interruptions"] / t["elapsed"] - b["interruptions"] / b["elapsed"]
                     for t, b in zip(runs[name], base)]
            lo, hi = bootstrap_median_interval(short, center=0.0)
            med = statistics.median(short)
            rate = statistics.median(r.get("rate", hz) for r in runs[name])
            per_sample = "" if name == "baseline" else f"{1e6 * med / rate:.2f}"
            print(f"{hz:>5} {name:>14} {100 * med:>+12.3f} [{100 * lo:+.3f}, {100 * hi:+.3f}] {per_sample:>9} "
                  f"{100 * statistics.median(every):>+10.3f} {statistics.median(extra):>+15.0f}")
        # Every tool against perf -g; the --also variants (other backends, events) against goperf's
        # default too.
        pairs = [(n, "perf -g") for n in runs if n not in ("baseline", "perf -g")]
        pairs += [(n, "goperf") for n in runs if n not in ("baseline", "perf -g", "goperf")]
        pairs += [tuple(p.split(":", 1)) for p in args.pair]
        for name, other in pairs:
            diffs = [t - p for t, p in zip(cost(name, "short"), cost(other, "short"))]
            print_paired(hz, name, other, diffs, "short cost", 3)


if __name__ == "__main__":
    main()
