#!/usr/bin/env python3
"""Workload slowdown under `goperf record -e goroutines` against fgprof at the same rate, side by side.

The target is bench/targets/gload (built here with the newest Go; it links github.com/felixge/fgprof
through the Go module proxy): -n idle goroutines (90% waiting on a channel, 10% waking every 100 ms)
beside a fixed CPU workload whose wall time it prints. Conditions per round, in a shuffled order:
no profiler, goperf at each rate, fgprof at each rate (fgprof.Start at 99 Hz, its fixed rate; its method,
runtime.GoroutineProfile once per tick, at other rates). Medians of the rounds; slowdown = median /
median without a profiler - 1 of the workload's wall time, and paired: the median of each round's slowdown
against that round's run without a profiler, of the wall time and of the target's CPU time meanwhile (on a
shared, loaded machine the CPU time is the steadier of the two), with a distribution-free 95% interval of
that median (from 6 rounds on). goperf's own CPU per second of recording comes from its summary line.

--base OTHER_GOPERF adds that build of goperf as its own condition ("goperf-base"), in the same rounds: a
before/after comparison under the same load.

usage: bench/e2e_goroutines.py [--goperf build/goperf] [--base OLD_GOPERF] [--rounds 7] [--n 1000,10000] [--hz 19,99]
       [--work-rounds 200] [--settle 0.3]
"""
import argparse
import os
import pathlib
import random
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from paired_rounds import median_interval  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


def build():
    out = pathlib.Path("/tmp/goperf-bench-gload")
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local")
    subprocess.run(["go", "build", "-ldflags=-s -w", "-o", str(out), "."], cwd=REPO / "bench/targets/gload",
                   env=env, check=True)
    return out


def run(exe, goperf, n, cond, base=None, work_rounds=200, settle=0.3):
    kind, hz = cond
    if kind == "goperf-base":
        kind, goperf = "goperf", base
    args = [str(exe), "-n", str(n), "-rounds", str(work_rounds)]
    if kind == "fgprof":
        args += ["-fgprof", str(hz)]
    target = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rec = None
    cpu_per_s = None
    try:
        assert target.stdout.readline().startswith("ready")
        if kind == "goperf":
            rec = subprocess.Popen([goperf, "record", "-e", "goroutines", "-F", str(hz), "-p", str(target.pid),
                                    "-o", "/dev/shm/goperf-bench-g.pb.gz"], stderr=subprocess.PIPE, text=True)
            rec.stderr.readline()  # sampling starts
            time.sleep(settle)
        target.stdin.write("go\n")
        target.stdin.flush()
        line = target.stdout.readline()
        m = re.search(r"elapsed (\d+) cpu (\d+)", line)
        if not m:  # the target died (fgprof's export has panicked with a division by zero): no figure
            print(f"round lost: {kind} {hz} Hz: target said {line!r}", file=sys.stderr)
            return None
        elapsed, cpu = int(m.group(1)) / 1e9, int(m.group(2)) / 1e9
        if rec:
            rec.send_signal(signal.SIGINT)
            err = rec.stderr.read()
            rec.wait()
            m = re.search(r"([\d.]+) ms of goperf CPU per second", err)
            cpu_per_s = float(m.group(1)) if m else None
        return elapsed, cpu, cpu_per_s
    finally:
        target.kill()
        target.wait()
        if rec and rec.poll() is None:
            rec.kill()
            rec.wait()


def interval(xs):
    """The paired median's distribution-free 95% interval, as "[lo..hi%]" (empty with fewer than 6 rounds)."""
    iv = median_interval(xs)
    return f"[{iv[0]:+.1f}..{iv[1]:+.1f}%]" if iv else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goperf", default=str(REPO / "build/goperf"))
    ap.add_argument("--base", default=None)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", default="1000,10000")
    ap.add_argument("--hz", default="19,99")
    # The workload's length (gload -rounds) and how long goperf samples before it starts: goperf's first
    # tick walks every goroutine once (about a second of CPU at 10,000), which a short workload run
    # right after would mostly measure instead of the steady state.
    ap.add_argument("--work-rounds", type=int, default=200)
    ap.add_argument("--settle", type=float, default=0.3)
    a = ap.parse_args()
    exe = build()
    rates = [int(h) for h in a.hz.split(",")]
    kinds = ("goperf", "goperf-base", "fgprof") if a.base else ("goperf", "fgprof")
    conds = [("none", 0)] + [(k, h) for k in kinds for h in rates]
    rng = random.Random(18)
    print("| goroutines | profiler | rate | workload wall (s) | wall slowdown | paired: median [95% interval] (min-max) |"
          " target CPU (s) | target CPU added, paired: median [95% interval] | goperf CPU ms/s (min-max) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in a.n.split(",")):
        rounds = []  # per round: condition -> (wall, target CPU, goperf CPU ms/s)
        for _ in range(a.rounds):
            order = conds[:]
            rng.shuffle(order)
            got = {}
            for c in order:
                r = run(exe, a.goperf, n, c, a.base, a.work_rounds, a.settle)
                if r is not None:
                    got[c] = r
            rounds.append(got)
        none = ("none", 0)
        base = statistics.median(r[none][0] for r in rounds if none in r)
        cbase = statistics.median(r[none][1] for r in rounds if none in r)
        for c in conds:
            have = [r for r in rounds if c in r]
            if not have:
                continue
            med, cmed = statistics.median(r[c][0] for r in have), statistics.median(r[c][1] for r in have)
            # The slowdown within each round (against that round's run without a profiler): the load of
            # the shared machine changes from minute to minute, less within a round.
            paired = [100 * (r[c][0] / r[none][0] - 1) for r in have if none in r]
            pair = f"{statistics.median(paired):+.1f}% {interval(paired)} ({min(paired):+.1f}..{max(paired):+.1f}%, {len(paired)} rounds)"
            cpaired = [100 * (r[c][1] / r[none][1] - 1) for r in have if none in r]
            cpair = f"{statistics.median(cpaired):+.1f}% {interval(cpaired)}"
            cpus = [r[c][2] for r in have if r[c][2] is not None]
            cpu = f"{statistics.median(cpus):.1f} ({min(cpus):.1f}-{max(cpus):.1f})" if cpus else ""
            print(f"| {n} | {c[0]} | {c[1] or ''} | {med:.3f} | {100 * (med / base - 1):+.1f}% | {pair} | {cmed:.3f} |"
                  f" {cpair} | {cpu} |", flush=True)

if __name__ == "__main__":
    main()
