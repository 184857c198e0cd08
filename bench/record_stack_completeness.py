#!/usr/bin/env python3
"""How many of goperf record's stacks run down to their goroutine's (or thread's) top frame, per backend.

Workloads whose samples cross stacks: `prof -mode alloc` (GC work on g0 under runtime.systemstack, for a
goroutine) and `prof -mode clock` (time.Now's vDSO call on g0's stack). For each backend and workload:
the samples under runtime.systemstack that reach runtime.goexit, and the samples in a vDSO call that
reach runtime.goexit. Then a server: tests/targets/httpserver (stripped, cgo-linked) under its loopback
client, and the share of all its samples that end at a root (runtime.goexit, runtime.main, runtime.mstart,
runtime.mcall; a [truncated] stack does not), per backend. Medians over --reps recordings; the oracle for
what a complete stack ends with is the Go runtime's traceback. Root; go1.27.3 build.

usage: bench/record_stack_completeness.py [--goperf build/goperf] [--reps 3] [--hz 999]
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import gotargets  # noqa: E402
import pprof_decode  # noqa: E402
import test_record_stacks  # noqa: E402  (its root rule and its reading of [truncated])

VDSO_CALLERS = ("time.now", "runtime.nanotime1", "runtime.vgetrandom1")


def complete_share(profile, crosses):
    total = complete = 0
    for stack, n in profile.stacks(skip_kernel=True):
        if crosses(stack):
            total += n
            complete += n if stack and stack[-1] == "runtime.goexit" else 0
    return complete / total if total else float("nan"), total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goperf", default=str(REPO / "build" / "goperf"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--hz", type=int, default=999)
    args = ap.parse_args()
    tc = gotargets.toolchains()[-1]
    exe = gotargets.build("prof", tc, gotargets.Variant(stripped=True))
    cases = (("alloc", "under runtime.systemstack", lambda st: "runtime.systemstack" in st),
             ("clock", "in a vDSO call", lambda st: any(f in VDSO_CALLERS for f in st)))
    print(f"prof ({tc.name}), {args.hz} Hz, 2 s per recording, {args.reps} recordings; share reaching runtime.goexit")
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d) / "p.pb.gz"
        for mode, what, crosses in cases:
            for backend in ("perf", "bpf"):
                shares, counts = [], []
                for _ in range(args.reps):
                    subprocess.run([args.goperf, "record", "-q", "--backend", backend, "-F", str(args.hz), "-o",
                                    str(out), "--", str(exe), "-mode", mode, "-seconds", "2"],
                                   check=True, capture_output=True)
                    share, n = complete_share(pprof_decode.load(out), crosses)
                    shares.append(share)
                    counts.append(n)
                print(f"{mode:>6} {backend:>5}: samples {what}: median {statistics.median(counts)}, "
                      f"complete {100 * statistics.median(shares):.1f}% (min {100 * min(shares):.1f}%)")
    servers(args, tc)


def server_share(goperf, tc, backend, hz, out):
    exe = gotargets.build("httpserver", tc, gotargets.Variant(cgo=True, stripped=True))
    srv = subprocess.Popen([str(exe), "-serve", "-seconds", "30"], stdout=subprocess.PIPE, text=True)
    try:
        addr = srv.stdout.readline().split()[1]
        client = subprocess.Popen([str(exe), "-load", addr, "-seconds", "5"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        subprocess.run([goperf, "record", "-q", "--backend", backend, "-F", str(hz), "-d", "3", "-p", str(srv.pid),
                        "-o", str(out)], check=True, capture_output=True)
        client.wait()
    finally:
        srv.kill()
        srv.wait()
    total = rooted = 0
    for names, n, _ in test_record_stacks.user_stacks(pprof_decode.load(out)):
        total += n
        rooted += n if names and names[-1] in test_record_stacks.ROOTS else 0
    return rooted / total, total


def servers(args, tc):
    print(f"httpserver ({tc.name}, stripped, cgo), {args.hz} Hz, 3 s per recording, {args.reps} recordings; "
          "share of all samples ending at a root")
    with tempfile.TemporaryDirectory() as d:
        for backend in ("auto", "perf"):
            runs = [server_share(args.goperf, tc, backend, args.hz, pathlib.Path(d) / "s.pb.gz") for _ in range(args.reps)]
            shares = [r[0] for r in runs]
            print(f"  {backend:>5}: samples median {statistics.median(r[1] for r in runs)}, "
                  f"at a root {100 * statistics.median(shares):.1f}% (min {100 * min(shares):.1f}%)")


if __name__ == "__main__":
    main()
