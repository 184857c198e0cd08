#!/usr/bin/env python3
"""End-to-end: `goperf addr2line -f -i` against `go tool addr2line` over the same random PCs of a Go binary
(default: Debian's stripped /usr/bin/etcd and Go 1.19's go tool), one run each, side by side; prints the
wall times, the ratio and a Markdown row for docs/benchmarks.md.

    python3 bench/e2e_addr2line.py [--goperf build/goperf] [--binary /usr/bin/etcd] [--pcs 1000000] [--distinct N]
"""
import argparse
import os
import pathlib
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
# Answers go to a file in memory (tmpfs): on disk, one tool's run would pay for writing back the other's.
OUT_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None


def text_section(path):
    data = pathlib.Path(path).read_bytes()
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
    str_off, = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 24)
    for i in range(shnum):
        name, _t, _f, addr, _o, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if data[str_off + name:data.index(b"\0", str_off + name)] == b".text":
            return addr, size
    sys.exit(f"{path}: no .text section")


def timed(cmd, stdin_path):
    """Wall time and CPU time (user+sys of the child: the machine may be shared) of one run, its output
    written to a file as `tool < pcs > out` would: reading it through a pipe into Python costs more than
    goperf itself and would be timed too. Lines are counted afterwards."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdin_path) as stdin, tempfile.TemporaryFile(dir=OUT_DIR) as out:
        t = time.perf_counter()
        res = subprocess.run(cmd, stdin=stdin, stdout=out, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if res.returncode != 0:
            sys.exit(f"{cmd[0]} failed: {res.stderr.decode()[-500:]}")
        out.seek(0)
        lines = sum(block.count(b"\n") for block in iter(lambda: out.read(1 << 20), b""))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--goperf", default=str(REPO / "build" / "goperf"))
    ap.add_argument("--binary", default="/usr/bin/etcd")
    ap.add_argument("--go", default="/usr/lib/go-1.19/bin/go", help="the go command whose tool addr2line is compared")
    ap.add_argument("--pcs", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--distinct", type=int, default=0,
                    help="draw the PCs from this many distinct random PCs (a profile's hot set); 0: all distinct")
    a = ap.parse_args()

    addr, size = text_section(a.binary)
    rnd = random.Random(a.seed)
    with tempfile.NamedTemporaryFile("w", suffix=".pcs", delete=False) as f:
        if a.distinct:
            pool = [addr + rnd.randrange(size) for _ in range(a.distinct)]
            f.write("".join(f"{rnd.choice(pool):#x}\n" for _ in range(a.pcs)))
        else:
            f.write("".join(f"{addr + rnd.randrange(size):#x}\n" for _ in range(a.pcs)))
        pcs_file = f.name
    try:
        env_go = [a.go, "tool", "addr2line", a.binary]
        go_s, go_cpu, go_lines = timed(env_go, pcs_file)
        goperf_s, goperf_cpu, goperf_lines = timed([a.goperf, "addr2line", "-f", "-i", "-e", a.binary], pcs_file)
    finally:
        os.unlink(pcs_file)
    go_version = subprocess.run([a.go, "version"], capture_output=True, text=True).stdout.split()[2]
    print(f"{a.pcs} random PCs{f' (from {a.distinct} distinct)' if a.distinct else ''} of {a.binary} (.text {addr:#x}+{size:#x}), load average {os.getloadavg()[0]:.1f}")
    print(f"  go tool addr2line ({go_version}): wall {go_s:.2f} s, cpu {go_cpu:.2f} s "
          f"({go_cpu / a.pcs * 1e9:.0f} ns/PC), {go_lines} lines")
    print(f"  goperf addr2line -f -i:      wall {goperf_s:.2f} s, cpu {goperf_cpu:.2f} s "
          f"({goperf_cpu / a.pcs * 1e9:.0f} ns/PC), {goperf_lines} lines")
    print(f"  ratio: goperf is {go_s / goperf_s:.1f}x faster in wall time, {go_cpu / goperf_cpu:.1f}x in CPU time")
    print(f"| {a.pcs:,} random PCs{f' from {a.distinct:,} distinct' if a.distinct else ''} of {pathlib.Path(a.binary).name} | {goperf_s:.2f} s wall, {goperf_cpu:.2f} s cpu | "
          f"{go_s:.2f} s wall, {go_cpu:.2f} s cpu (go tool addr2line, {go_version}) | "
          f"{go_s / goperf_s:.1f}x wall, {go_cpu / goperf_cpu:.1f}x cpu |")


if __name__ == "__main__":
    main()
