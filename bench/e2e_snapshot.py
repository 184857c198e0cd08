#!/usr/bin/env python3
"""goperf snapshot end to end, side by side with the two other ways to see every goroutine of a live Go
process: SIGQUIT (the runtime's dump; the process dies) and Delve (`dlv attach` + `goroutines -t`, on the
unstripped build, since Delve needs DWARF), for N parked goroutines of tests/targets/hang.

Like with like: each measurement gets a fresh target (started, settled, nothing run on it before); every
tool's output goes to a file on tmpfs (goperf's -o, the dying target's stderr, dlv's stdout); each round runs
the three tools in a shuffled order, and the ratios are taken round by round. How long the target is stopped
is measured by the target itself (HANG_PAUSE_PROBE=1, tests/targets/hang/pause_probe.go: a goroutine reads
the clock in a loop and reports its longest gap): for goperf and dlv, the longest gap over the tool's run;
for SIGQUIT the process never runs again, so its stop is the time from the signal to its exit. Beside it:
goperf's own report of its pause, and the target's longest gap over 0.3 s with no tool at all (what being
scheduled out costs it on this machine). CPU: user+sys of goperf, of dlv, of the dying target for SIGQUIT.

usage: GOPERF_BUILD_DIR=build python3 bench/e2e_snapshot.py [--rounds 5] [--sizes 1000,10000,100000] [--no-dlv]
"""
import argparse
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "integration"))
# gotargets builds below GOPERF_BUILD_DIR and changes directory meanwhile: make a relative one absolute.
if os.environ.get("GOPERF_BUILD_DIR"):
    os.environ["GOPERF_BUILD_DIR"] = str(pathlib.Path(os.environ["GOPERF_BUILD_DIR"]).resolve())
import gotargets  # noqa: E402
from paired_rounds import SINK_DIR, children_cpu, fmt_ratio, loadavg, median, orders, stamp  # noqa: E402

BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", gotargets.REPO / "build"))
GOPERF = str(BUILD / "goperf")
SINK = pathlib.Path(SINK_DIR) / f"goperf-bench-snapshot-{os.getpid()}.out"


class Target:
    """A fresh tests/targets/hang with N extra goroutines and the pause probe; its stderr (the SIGQUIT dump)
    goes to the sink file."""

    def __init__(self, binary, n):
        self.sink = open(SINK, "w")
        self.proc = subprocess.Popen([str(binary), str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.sink, text=True,
                                     env={**os.environ, "GOTRACEBACK": "all", "HANG_PAUSE_PROBE": "1"})
        assert self.proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        self.longest_gap()
        time.sleep(0.3)
        self.quiet = self.longest_gap()  # seconds: the longest gap with nothing attached

    def longest_gap(self):
        """Seconds: the longest gap between two clock reads of the target since the last query."""
        self.proc.stdin.write("gap\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().split()
        assert line[:1] == ["gap"], f"the target's pause probe answered {line}"
        return int(line[1]) / 1e9

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.sink.close()


def sink_count(pattern):
    return len(re.findall(pattern, SINK.read_text(errors="replace"), re.M))


def run_goperf(stripped, _unstripped, n):
    t = Target(stripped, n)
    try:
        t0, c0 = time.perf_counter(), children_cpu()
        r = subprocess.run([GOPERF, "snapshot", "-p", str(t.proc.pid), "-o", str(SINK)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        seen = t.longest_gap()
        m = re.search(r"paused for ([0-9.]+) ms", r.stderr)
        assert r.returncode == 0 and m, r.stderr
        return dict(wall=wall, stopped=seen, own=float(m.group(1)) / 1e3, quiet=t.quiet, cpu=cpu,
                    goroutines=sink_count(r"^goroutine \d+"))
    finally:
        t.close()


def process_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_sigquit(stripped, _unstripped, n):
    t = Target(stripped, n)
    try:
        c0 = process_cpu(t.proc.pid)
        t0 = time.perf_counter()
        t.proc.send_signal(signal.SIGQUIT)
        _, status, ru = os.wait4(t.proc.pid, 0)
        wall = time.perf_counter() - t0
        t.proc.returncode = os.waitstatus_to_exitcode(status)
        assert t.proc.returncode == 2, f"SIGQUIT: the target exited with {t.proc.returncode}"
        # The runtime stops the world for the whole dump and the process never runs again: stopped = total.
        return dict(wall=wall, stopped=wall, own=None, quiet=t.quiet, cpu=ru.ru_utime + ru.ru_stime - c0,
                    goroutines=sink_count(r"^goroutine \d+"))
    finally:
        t.close()


def run_dlv(_stripped, unstripped, n):
    t = Target(unstripped, n)
    commands = SINK.with_suffix(".dlv")
    commands.write_text("goroutines -t\nexit\nn\n")  # n: detach, do not kill
    try:
        with open(commands) as stdin, open(SINK, "w") as out:
            t0, c0 = time.perf_counter(), children_cpu()
            r = subprocess.run(["dlv", "attach", str(t.proc.pid), "--allow-non-terminal-interactive=true"],
                               stdin=stdin, stdout=out, stderr=subprocess.PIPE, text=True, timeout=3600)
            wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        seen = t.longest_gap()  # also shows the target survived the detach
        assert r.returncode == 0, r.stderr[-500:]
        return dict(wall=wall, stopped=seen, own=None, quiet=t.quiet, cpu=cpu,
                    goroutines=sink_count(r"^\s*\*?\s*Goroutine \d+"))
    finally:
        commands.unlink()
        t.close()


TOOLS = {"goperf": run_goperf, "sigquit": run_sigquit, "dlv": run_dlv}
LABEL = {"goperf": "goperf snapshot (stripped)", "sigquit": "SIGQUIT dump (stripped; the process dies)",
         "dlv": "dlv attach + goroutines -t (unstripped)"}


def ms(s):
    return f"{s * 1e3:.0f} ms" if s >= 0.1 else f"{s * 1e3:.1f} ms"


def report(n, rows, rounds):
    print(f"\n{n:,} goroutines, medians of {rounds} rounds:")
    print("| tool | goroutines printed | total wall | stopped, as the target saw it | goperf's own figure "
          "| target's longest gap with no tool | CPU |")
    print("|---|---|---|---|---|---|---|")
    for tool, rs in rows.items():
        own = ms(median([r["own"] for r in rs])) if rs[0]["own"] is not None else "-"
        print(f"| {LABEL[tool]} | {median([r['goroutines'] for r in rs]):,.0f} | {ms(median([r['wall'] for r in rs]))} "
              f"| {ms(median([r['stopped'] for r in rs]))} | {own} | {ms(median([r['quiet'] for r in rs]))} "
              f"| {median([r['cpu'] for r in rs]):.2f} s |")
    g = rows["goperf"]
    print("| ratio, median of per-round ratios (min-max) | | total wall | stopped | | | CPU |")
    for tool in [t for t in rows if t != "goperf"]:
        o = rows[tool]
        cols = [fmt_ratio([r[k] for r in o], [r[k] for r in g]) for k in ("wall", "stopped", "cpu")]
        print(f"| {tool} / goperf | | {cols[0]} | {cols[1]} | | | {cols[2]} |")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--no-dlv", action="store_true")
    ap.add_argument("--toolchain", default="go1.26")
    a = ap.parse_args()
    tc = gotargets.toolchain(a.toolchain)
    stripped = gotargets.build("hang", tc, gotargets.Variant(stripped=True))
    unstripped = gotargets.build("hang", tc, gotargets.Variant(stripped=False))
    tools = ["goperf", "sigquit"] + (["dlv"] if not a.no_dlv and shutil.which("dlv") else [])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=gotargets.REPO).stdout.strip()
    print(f"{stamp()}, commit {commit}, toolchain {tc.name}, target tests/targets/hang, {a.rounds} rounds per size "
          f"(tools in a shuffled order per round, a fresh target per measurement), outputs to {SINK_DIR}; "
          f"load average {loadavg()}", flush=True)
    try:
        for n in [int(x) for x in a.sizes.split(",")]:
            rows = {t: [] for t in tools}
            for i, order in enumerate(orders(tools, a.rounds, seed=n)):
                for tool in order:
                    rows[tool].append(TOOLS[tool](stripped, unstripped, n))
                print(f"  {n:,} round {i + 1} ({', '.join(order)}): " + "; ".join(
                    f"{t} {ms(rows[t][-1]['wall'])} total, {ms(rows[t][-1]['stopped'])} stopped" for t in order)
                    + f"; load average {loadavg()}", flush=True)
            report(n, rows, a.rounds)
        print(f"\nend {stamp()}, load average {loadavg()}")
    finally:
        SINK.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
