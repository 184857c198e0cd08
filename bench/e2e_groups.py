#!/usr/bin/env python3
"""goperf snapshot --group, --waits and --diff on many goroutines: the time --group (--waits) adds to a plain snapshot (and to
the target's pause), and the time of --diff against an earlier JSON snapshot of the same process. Target:
tests/targets/hang with N parked goroutines, built by the default Go toolchain, stripped. Medians of --runs.

usage: GOPERF_BUILD_DIR=build python3 bench/e2e_groups.py [--runs 5] [--goroutines 100000]
"""
import argparse
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "integration"))
if os.environ.get("GOPERF_BUILD_DIR"):
    os.environ["GOPERF_BUILD_DIR"] = str(pathlib.Path(os.environ["GOPERF_BUILD_DIR"]).resolve())
import gotargets  # noqa: E402

BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", gotargets.REPO / "build"))
GOPERF = str(BUILD / "goperf")


def timed(args):
    """(wall s, cpu s, paused ms, phase ms) of one goperf run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    r = subprocess.run([GOPERF, *args], capture_output=True, text=True, env={**os.environ, "GOPERF_SNAPSHOT_TIMING": "1"})
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert r.returncode == 0, r.stderr
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    paused = float(re.search(r"paused for ([0-9.]+) ms", r.stderr).group(1))
    phases = {m.group(1): float(m.group(2)) for m in re.finditer(r"goperf snapshot: (\w+)\s+([0-9.]+) ms wall", r.stderr)}
    return wall, cpu, paused, phases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--goroutines", type=int, default=100000)
    a = ap.parse_args()
    tc = gotargets.toolchains()[0]
    binary = gotargets.build("hang", tc, gotargets.Variant(pie=False, cgo=False, stripped=True))
    p = subprocess.Popen([str(binary), str(a.goroutines)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env={**os.environ, "GOTRACEBACK": "all"})
    assert p.stdout.readline().strip() == b"ready"
    pid = str(p.pid)
    tmp = tempfile.mkdtemp()
    old = os.path.join(tmp, "old.json")
    try:
        timed(["snapshot", "-p", pid, "--format", "json", "-o", old])
        cases = {
            "plain text": ["snapshot", "-p", pid, "-o", "/dev/null"],
            "--group": ["snapshot", "-p", pid, "--group", "-o", "/dev/null"],
            "--group --waits": ["snapshot", "-p", pid, "--group", "--waits", "-o", "/dev/null"],
            "json": ["snapshot", "-p", pid, "--format", "json", "-o", "/dev/null"],
            "--diff OLD.json": ["snapshot", "-p", pid, "--diff", old, "-o", "/dev/null"],
        }
        results = {k: [] for k in cases}
        for _ in range(a.runs):
            for name, args in cases.items():  # interleaved: the machine's load changes under all alike
                results[name].append(timed(args))
        print(f"{tc.name}, {a.goroutines} goroutines, {a.runs} runs, OLD.json {os.path.getsize(old) >> 20} MiB, "
              f"load average {os.getloadavg()[0]:.1f}")
        print("| command | wall | cpu | paused | reading OLD.json (setup phase) |")
        print("|---|---|---|---|---|")
        for name, rs in results.items():
            med = lambda i: statistics.median(r[i] for r in rs)  # noqa: E731
            setup = statistics.median(r[3].get("setup", 0) for r in rs)
            print(f"| `{name}` | {med(0) * 1000:.0f} ms | {med(1) * 1000:.0f} ms | {med(2):.1f} ms | {setup:.0f} ms |")
    finally:
        p.kill()
        p.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
