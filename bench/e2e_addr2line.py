#!/usr/bin/env python3
"""End-to-end: `goperf addr2line -f -i` against `go tool addr2line` over the same random PCs of a Go binary
(default: Debian's stripped /usr/bin/etcd and Go 1.19's addr2line, run directly from its GOTOOLDIR). Both read the same file of PCs and write
their answers to a file on tmpfs; the binary and the PCs are read once before the first round so that no
tool meets a cold page cache; each round runs both tools, in alternating order; the ratios are taken round
by round (median and min-max). CPU time (user+sys) leads: goperf uses two threads, so its wall time also
depends on whether a second core is free on this shared machine, while CPU time is the work each tool does.
Wall time is given beside it: what a user waits for.

    python3 bench/e2e_addr2line.py [--goperf build/goperf] [--binary /usr/bin/etcd] [--pcs 1000000] [--distinct N] [--rounds 7]
        [--base OLD/goperf]

With --base, an older goperf runs in the same rounds too (before/after of a change), and base / goperf is
printed as well.
"""
import argparse
import os
import pathlib
import random
import struct
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from paired_rounds import SINK_DIR, children_cpu, fmt_ratio, loadavg, median, orders, stamp  # noqa: E402


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
    """Wall time and CPU time (user+sys of the child) of one run, its output written to a file on tmpfs as
    `tool < pcs > out` would: reading it through a pipe into Python costs more than goperf itself and would
    be timed too. Lines are counted afterwards."""
    with open(stdin_path) as stdin, tempfile.TemporaryFile(dir=SINK_DIR) as out:
        c0, t0 = children_cpu(), time.perf_counter()
        res = subprocess.run(cmd, stdin=stdin, stdout=out, stderr=subprocess.PIPE)
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        if res.returncode != 0:
            sys.exit(f"{cmd[0]} failed: {res.stderr.decode()[-500:]}")
        out.seek(0)
        lines = sum(block.count(b"\n") for block in iter(lambda: out.read(1 << 20), b""))
    return dict(wall=wall, cpu=cpu, lines=lines)


def read_once(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--goperf", default=str(REPO / "build" / "goperf"))
    ap.add_argument("--binary", default="/usr/bin/etcd")
    ap.add_argument("--go", default="/usr/lib/go-1.19/bin/go", help="the go command whose tool addr2line is compared")
    ap.add_argument("--pcs", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--base", help="an older goperf, timed in the same rounds (before/after a change)")
    ap.add_argument("--distinct", type=int, default=0,
                    help="draw the PCs from this many distinct random PCs (a profile's hot set); 0: all distinct")
    a = ap.parse_args()

    addr, size = text_section(a.binary)
    rnd = random.Random(a.seed)
    with tempfile.NamedTemporaryFile("w", suffix=".pcs", dir=SINK_DIR, delete=False) as f:
        if a.distinct:
            pool = [addr + rnd.randrange(size) for _ in range(a.distinct)]
            f.write("".join(f"{rnd.choice(pool):#x}\n" for _ in range(a.pcs)))
        else:
            f.write("".join(f"{addr + rnd.randrange(size):#x}\n" for _ in range(a.pcs)))
        pcs_file = f.name
    go_version = subprocess.run([a.go, "version"], capture_output=True, text=True).stdout.split()[2]
    # The tool's own binary, not `go tool addr2line`: the go command in front would be timed too.
    tooldir = subprocess.run([a.go, "env", "GOTOOLDIR"], capture_output=True, text=True, check=True).stdout.strip()
    tools = {"go": [f"{tooldir}/addr2line", a.binary],
             "goperf": [a.goperf, "addr2line", "-f", "-i", "-e", a.binary]}
    if a.base:
        tools["base"] = [a.base, "addr2line", "-f", "-i", "-e", a.binary]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=REPO).stdout.strip()
    what = f"{a.pcs:,} random PCs{f' (from {a.distinct:,} distinct)' if a.distinct else ''} of {a.binary}"
    print(f"{stamp()}, commit {commit}: {what} (.text {addr:#x}+{size:#x}), {a.rounds} rounds in alternating "
          f"order, outputs to {SINK_DIR}; load average {loadavg()}", flush=True)
    rows = {t: [] for t in tools}
    try:
        read_once(a.binary)
        read_once(pcs_file)
        read_once(tools["go"][0])
        read_once(a.goperf)
        if a.base:
            read_once(a.base)
        for i, order in enumerate(orders(list(tools), a.rounds)):
            for t in order:
                rows[t].append(timed(tools[t], pcs_file))
            print(f"  round {i + 1} ({', '.join(order)}): " + "; ".join(
                f"{t} {rows[t][-1]['cpu']:.2f} s cpu, {rows[t][-1]['wall']:.2f} s wall" for t in order)
                + f"; load average {loadavg()}", flush=True)
    finally:
        os.unlink(pcs_file)
    g, o = rows["goperf"], rows["go"]
    print(f"| {what} | goperf addr2line -f -i | addr2line of {go_version} (its GOTOOLDIR binary) | go / goperf, median of per-round ratios (min-max) |")
    print("|---|---|---|---|")
    for k, name in (("cpu", "**CPU** (user+sys)"), ("wall", "wall")):
        print(f"| {name}, median of {a.rounds} | {median([r[k] for r in g]):.2f} s | {median([r[k] for r in o]):.2f} s "
              f"| {fmt_ratio([r[k] for r in o], [r[k] for r in g])} |")
    print(f"| output lines | {g[0]['lines']:,} | {o[0]['lines']:,} | |")
    if a.base:
        b = rows["base"]
        print(f"\n| before/after | base goperf | goperf | base / goperf, median of per-round ratios (min-max) |")
        print("|---|---|---|---|")
        for k in ("cpu", "wall"):
            print(f"| {k}, median of {a.rounds} | {median([r[k] for r in b]):.2f} s | {median([r[k] for r in g]):.2f} s "
                  f"| {fmt_ratio([r[k] for r in b], [r[k] for r in g])} |")
        assert b[0]["lines"] == g[0]["lines"], "base and goperf answer with different line counts"
    print(f"end {stamp()}, load average {loadavg()}")


if __name__ == "__main__":
    main()
