#!/usr/bin/env python3
"""goperf snapshot of two builds of goperf side by side (a change's before and after), in one run: for each
round, each build in turn (order alternating) snapshots a fresh tests/targets/hang with N parked goroutines
and its pause probe on. Reports, per build, the median stop the target saw (its pause probe), goperf's own
"paused for" figure and goperf's CPU time, and the per-round ratios after/before with their range.

usage: python3 bench/snapshot_before_after.py OLD_GOPERF NEW_GOPERF [--goroutines 10000] [--rounds 9]
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "integration"))
import gotargets  # noqa: E402
import paired_rounds as pr  # noqa: E402


def one(goperf, binary, n):
    """(stop the target saw in ms, goperf's own pause in ms, goperf's CPU seconds) of one snapshot."""
    p = subprocess.Popen([str(binary), str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env={**os.environ, "HANG_PAUSE_PROBE": "1"}, text=True)

    def gap_ms():
        p.stdin.write("gap\n")
        p.stdin.flush()
        return int(p.stdout.readline().split()[1]) / 1e6

    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        gap_ms()  # start a fresh interval
        c0 = pr.children_cpu()
        r = subprocess.run([goperf, "snapshot", "-p", str(p.pid), "-o", os.path.join(pr.SINK_DIR, "goperf-ab.txt")],
                           capture_output=True, text=True)
        cpu = pr.children_cpu() - c0
        seen = gap_ms()
        m = re.search(r"paused for ([0-9.]+) ms", r.stderr)
        assert r.returncode == 0 and m, r.stderr
        return seen, float(m.group(1)), cpu
    finally:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--goroutines", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=9)
    a = ap.parse_args()
    binary = gotargets.build("hang", gotargets.toolchain("go1.26"), gotargets.Variant())
    res = {"old": [], "new": []}
    load0 = pr.loadavg()
    for order in pr.orders(["old", "new"], a.rounds):
        for name in order:
            res[name].append(one(getattr(a, name), binary, a.goroutines))
    print(f"{pr.stamp()}, {a.goroutines} goroutines, {a.rounds} rounds, load {load0} -> {pr.loadavg()}")
    for i, what in enumerate(("stop seen by the target (ms)", "goperf's own pause (ms)", "goperf CPU (s)")):
        old, new = [r[i] for r in res["old"]], [r[i] for r in res["new"]]
        rt = pr.ratio(new, old)
        print(f"{what}: before {pr.median(old):.3f}, after {pr.median(new):.3f}; after/before "
              f"{rt[0]:.2f} [{rt[1]:.2f}, {rt[2]:.2f}]")


if __name__ == "__main__":
    main()
