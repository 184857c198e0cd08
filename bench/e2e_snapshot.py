#!/usr/bin/env python3
"""goperf snapshot end to end, side by side with the two other ways to see every goroutine of a live Go
process: SIGQUIT (the runtime's dump; the process dies) and Delve (`dlv attach` + `goroutines -t`, on the
unstripped build, since Delve needs DWARF). Reports median wall time and how long each keeps the target
stopped, for 1,000 / 10,000 / 100,000 parked goroutines of tests/targets/hang.

usage: GOPERF_BUILD_DIR=build python3 bench/e2e_snapshot.py [--runs 5] [--sizes 1000,10000,100000] [--no-dlv]
"""
import argparse
import os
import pathlib
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "integration"))
# gotargets builds below GOPERF_BUILD_DIR and changes directory meanwhile: make a relative one absolute.
if os.environ.get("GOPERF_BUILD_DIR"):
    os.environ["GOPERF_BUILD_DIR"] = str(pathlib.Path(os.environ["GOPERF_BUILD_DIR"]).resolve())
import gotargets  # noqa: E402

BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", gotargets.REPO / "build"))
GOPERF = str(BUILD / "goperf")


def start(binary, n):
    p = subprocess.Popen([str(binary), str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "GOTRACEBACK": "all"})
    assert p.stdout.readline().strip() == b"ready"
    time.sleep(0.2)
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
    p.communicate()


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def goperf_runs(binary, n, runs):
    p = start(binary, n)
    walls, pauses, cpus = [], [], []
    try:
        for _ in range(runs):
            t0, c0 = time.perf_counter(), children_cpu()
            r = subprocess.run([GOPERF, "snapshot", "-p", str(p.pid), "-o", "/dev/null"], capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            cpus.append(children_cpu() - c0)
            m = re.search(r"paused for ([0-9.]+) ms", r.stderr)
            assert r.returncode == 0 and m, r.stderr
            pauses.append(float(m.group(1)) / 1e3)
    finally:
        stop(p)
    return statistics.median(walls), statistics.median(pauses), statistics.median(cpus)


def process_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sigquit_runs(binary, n, runs):
    walls, cpus = [], []
    for _ in range(runs):
        p = start(binary, n)
        c0 = process_cpu(p.pid)
        t0 = time.perf_counter()
        p.send_signal(signal.SIGQUIT)
        p.stderr.read()  # the dump, until the process exits
        _, _, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t0)
        cpus.append(ru.ru_utime + ru.ru_stime - c0)
        p.returncode = 2
        p.communicate()
    # The runtime stops the world for the whole dump, and the process does not come back.
    return statistics.median(walls), statistics.median(cpus)


def dlv_runs(binary, n, runs):
    walls, cpus = [], []
    for _ in range(runs):
        p = start(binary, n)
        t0, c0 = time.perf_counter(), children_cpu()
        r = subprocess.run(["dlv", "attach", str(p.pid), "--allow-non-terminal-interactive=true"],
                           input="goroutines -t\nexit\nn\n", capture_output=True, text=True, timeout=1800)
        walls.append(time.perf_counter() - t0)
        cpus.append(children_cpu() - c0)
        assert r.returncode == 0 and "Goroutine" in r.stdout, r.stderr[-500:]
        stop(p)
    # Delve keeps every thread stopped from attach to detach.
    return statistics.median(walls), statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--no-dlv", action="store_true")
    ap.add_argument("--toolchain", default="go1.26")
    a = ap.parse_args()
    tc = gotargets.toolchain(a.toolchain)
    stripped = gotargets.build("hang", tc, gotargets.Variant(stripped=True))
    unstripped = gotargets.build("hang", tc, gotargets.Variant(stripped=False))
    use_dlv = not a.no_dlv and shutil.which("dlv")
    print(f"toolchain {a.toolchain}; target tests/targets/hang; median of {a.runs} runs; load {os.getloadavg()[0]:.1f}")
    print("wall times (total, and how long the target is stopped), then CPU seconds of the work itself")
    print("| goroutines | goperf snapshot (stripped): total / stopped / cpu | SIGQUIT dump: total = stopped / cpu "
          "(process dies) | dlv attach + goroutines -t (unstripped): total = stopped / cpu "
          "| SIGQUIT / goperf (total, stopped, cpu) | dlv / goperf (total, stopped, cpu) |")
    print("|---|---|---|---|---|---|")
    nan = float("nan")
    for n in [int(x) for x in a.sizes.split(",")]:
        gw, gp, gc = goperf_runs(stripped, n, a.runs)
        sw, sc = sigquit_runs(stripped, n, a.runs)
        dw, dc = dlv_runs(unstripped, n, max(1, a.runs // 2)) if use_dlv else (nan, nan)
        print(f"| {n:,} | {gw * 1e3:.0f} ms / {gp * 1e3:.1f} ms / {gc:.2f} s | {sw * 1e3:.0f} ms / {sc:.2f} s "
              f"| {dw * 1e3:.0f} ms / {dc:.2f} s | {sw / gw:.1f}x, {sw / gp:.0f}x, {sc / gc:.1f}x "
              f"| {dw / gw:.1f}x, {dw / gp:.0f}x, {dc / gc:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
