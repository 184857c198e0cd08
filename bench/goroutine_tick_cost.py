#!/usr/bin/env python3
"""goperf's own CPU per tick of `record -e goroutines`, before and after, in one run.

The target is bench/targets/gload with -n idle goroutines (90% waiting on a channel for good, 10% waking
every 100 ms) and no workload started. For each build, goroutine count and rate: two recordings of
SHORT and LONG seconds (the first tick, which walks every goroutine once, and the setup drop out of their
difference), CPU time from the kernel's rusage of the goperf process, ticks from its summary line. Marginal
CPU per tick = (CPU(LONG) - CPU(SHORT)) / (ticks(LONG) - ticks(SHORT)); ms/s = that times the rate.
Builds are run interleaved, in a shuffled order per round, against the same target process; medians of
the rounds, with their range.

usage: bench/goroutine_tick_cost.py --goperf build/goperf [--base OLD/goperf] [--n 1000,10000] [--hz 19,99]
       [--rounds 3] [--short 1] [--long 8]
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import time

from e2e_goroutines import REPO, build as build_gload  # the same stripped gload build, beside this script


def record(goperf, pid, hz, seconds):
    """(goperf CPU seconds, ticks) of one recording."""
    p = subprocess.Popen([goperf, "record", "-e", "goroutines", "-F", str(hz), "-d", str(seconds), "-p", str(pid),
                          "-o", "/dev/shm/goperf-tick-cost.pb.gz"], stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    m = re.search(r"after [\d.]+s: (\d+) ticks", err)
    if p.returncode != 0 or not m:
        raise SystemExit(f"goperf failed ({p.returncode}): {err}")
    return ru.ru_utime + ru.ru_stime, int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goperf", default=str(REPO / "build/goperf"))
    ap.add_argument("--base", default=None)
    ap.add_argument("--n", default="1000,10000")
    ap.add_argument("--hz", default="19,99")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--short", type=float, default=1)
    ap.add_argument("--long", type=float, default=8)
    a = ap.parse_args()
    exe = build_gload()
    builds = [("after", a.goperf)] + ([("before", a.base)] if a.base else [])
    rng = random.Random(18)
    print(f"load average at start: {os.getloadavg()}")
    print("| goroutines | rate | build | ticks (long run) | CPU per tick, ms: median (min-max) | ms/s at the rate |")
    print("|---|---|---|---|---|---|")
    for n in (int(x) for x in a.n.split(",")):
        target = subprocess.Popen([str(exe), "-n", str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert target.stdout.readline().startswith("ready")
            time.sleep(0.5)
            for hz in (int(h) for h in a.hz.split(",")):
                per = {name: [] for name, _ in builds}
                ticks = {name: 0 for name, _ in builds}
                for _ in range(a.rounds):
                    order = builds[:]
                    rng.shuffle(order)
                    for name, goperf in order:
                        c1, t1 = record(goperf, target.pid, hz, a.short)
                        c8, t8 = record(goperf, target.pid, hz, a.long)
                        per[name].append(1000 * (c8 - c1) / max(1, t8 - t1))
                        ticks[name] = t8
                for name, _ in builds:
                    v = per[name]
                    med = statistics.median(v)
                    print(f"| {n} | {hz} | {name} | {ticks[name]} | {med:.2f} ({min(v):.2f}-{max(v):.2f}) |"
                          f" {med * hz:.1f} |", flush=True)
        finally:
            target.kill()
            target.wait()
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
