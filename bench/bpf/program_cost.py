#!/usr/bin/env python3
"""Run time of goperf's eBPF programs per sample, from the kernel's own accounting.

With kernel.bpf_stats_enabled=1 the kernel counts each program's runs and the time they took
(`bpftool prog show`: run_cnt, run_time_ns). This records `prof -mode MODE` with `goperf record --backend
bpf` at HZ, reads the counters of goperf's programs while it runs, and prints ns per run (the medians of
--reps recordings). The setting is restored afterwards. Root; needs bpftool.

usage: bench/bpf/program_cost.py [--goperf build/goperf] [--mode stolen] [--hz 999] [--reps 5] [-- EXTRA...]
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import gotargets  # noqa: E402


def programs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True).stdout
    return {p["name"]: (p.get("run_cnt", 0), p.get("run_time_ns", 0))
            for p in json.loads(out) if p.get("name", "").startswith("goperf")}


def one(args, exe, extra, tmp):
    rec = subprocess.Popen([args.goperf, "record", "-q", "--backend", "bpf", "-F", str(args.hz), *extra,
                            "-o", str(tmp / "p.pb.gz"), "--", str(exe), "-mode", args.mode, "-seconds", "3"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    before = programs()
    time.sleep(1.5)
    after = programs()
    rec.communicate(timeout=60)
    return {name: (after[name][1] - before.get(name, (0, 0))[1]) / max(1, after[name][0] - before.get(name, (0, 0))[0])
            for name in after if after[name][0] > before.get(name, (0, 0))[0]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goperf", default=str(REPO / "build" / "goperf"))
    ap.add_argument("--mode", default="stolen")
    ap.add_argument("--hz", type=int, default=999)
    ap.add_argument("--reps", type=int, default=5)
    args, extra = ap.parse_known_args()
    extra = [e for e in extra if e != "--"]
    tc = gotargets.toolchains()[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant(stripped=True))
    flag = pathlib.Path("/proc/sys/kernel/bpf_stats_enabled")
    old = flag.read_text().strip()
    flag.write_text("1")
    try:
        with tempfile.TemporaryDirectory() as d:
            runs = [one(args, exe, extra, pathlib.Path(d)) for _ in range(args.reps)]
    finally:
        flag.write_text(old)
    print(f"prof -mode {args.mode} ({tc.name}), goperf record --backend bpf -F {args.hz} {' '.join(extra)}; "
          f"{args.reps} recordings, medians")
    for name in sorted({n for r in runs for n in r}):
        values = [r[name] for r in runs if name in r]
        print(f"{name}: {statistics.median(values):.0f} ns per run (min {min(values):.0f}, max {max(values):.0f})")


if __name__ == "__main__":
    main()
