#!/usr/bin/env python3
"""Core benchmark: one core of tests/targets/crash_many (N goroutines parked 1-5 frames deep, M MiB of live
heap, then a panic with GOTRACEBACK=crash), read by `goperf core` and by `dlv core` (`goroutines -t 50`: every
goroutine with its stack).

Like with like: there is one core, written by the unstripped build (Delve needs its DWARF). Delve reads it
with that binary; goperf reads the same core file with a `strip`ped copy of that binary, whose loadable
segments and allocated sections are checked to be those of the unstripped one, byte for byte (what the core
maps and the runtime reads is the same; the symbol table and DWARF, which the program never loads, are gone). The core is read once before the first round
(both tools find it in the page cache); each round runs both tools in alternating order, each writing its
output to a file on tmpfs, and the ratios are taken round by round (median and min-max). Prints wall time,
CPU time (user+sys) and peak RSS.

usage: GOPERF_BUILD_DIR=build bench/core/core_bench.py [--goroutines 100000] [--mib 900] [--rounds 5] [--no-dlv]
"""
import argparse
import hashlib
import os
import pathlib
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
if os.environ.get("GOPERF_BUILD_DIR"):
    os.environ["GOPERF_BUILD_DIR"] = str(pathlib.Path(os.environ["GOPERF_BUILD_DIR"]).resolve())
import gotargets  # noqa: E402
from paired_rounds import SINK_DIR, fmt_ratio, loadavg, median, orders, stamp  # noqa: E402

BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", REPO / "build"))


def timed(cmd, stdout, stdin=os.devnull):
    """Runs cmd in a fresh child, stdout and stderr to the file `stdout`; returns wall seconds, peak RSS of
    that child in MiB, exit code and CPU seconds (user+sys)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(stdin, os.O_RDONLY), 0)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    return dict(wall=time.monotonic() - t0, rss=usage.ru_maxrss / 1024, code=os.waitstatus_to_exitcode(status),
                cpu=usage.ru_utime + usage.ru_stime)


def loaded_contents(path):
    """What an ELF64 little-endian file gives the loader: (vaddr, memsz, flags) of each PT_LOAD, and (name,
    address, size, flags, bytes) of each allocated section (SHF_ALLOC; bytes None for .bss-like sections).
    The Go linker places the section header table and .shstrtab inside loaded pages, which strip rewrites;
    no program reads them, so they are left out."""
    data = pathlib.Path(path).read_bytes()
    phoff, shoff = struct.unpack_from("<QQ", data, 32)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 54)
    segs = []
    for i in range(phnum):
        p_type, flags, _off, vaddr, _paddr, _filesz, memsz, _align = struct.unpack_from("<IIQQQQQQ", data,
                                                                                        phoff + i * phentsize)
        if p_type == 1:
            segs.append((vaddr, memsz, flags))
    str_off, = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 24)
    sections = []
    for i in range(shnum):
        name, sh_type, flags, addr, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if flags & 2:  # SHF_ALLOC
            sections.append((data[str_off + name:data.index(b"\0", str_off + name)], addr, size, flags,
                             None if sh_type == 8 else data[offset:offset + size]))  # 8: SHT_NOBITS
    return segs, sorted(sections)


def make_core(binary, n, mib, tmp):
    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    subprocess.run([str(binary), str(n), str(mib)], cwd=tmp, env=dict(os.environ, GOTRACEBACK="crash"),
                   preexec_fn=limits, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cores = sorted(pathlib.Path(tmp).glob("core*"))
    if not cores:
        sys.exit("no core written: check kernel.core_pattern (must be a relative file name)")
    return cores[0]


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goroutines", type=int, default=100000)
    ap.add_argument("--mib", type=int, default=900)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-dlv", action="store_true")
    ap.add_argument("--toolchain", default="go1.19")
    a = ap.parse_args()
    # The Delve installed here reads Go up to 1.20: both tools read the core of the go1.19 build.
    tc = gotargets.toolchain(a.toolchain) or gotargets.toolchains()[0]
    unstripped = gotargets.build("crash_many", tc, gotargets.Variant(stripped=False))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=REPO).stdout.strip()
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp, \
            tempfile.TemporaryDirectory(dir=SINK_DIR) as sink:
        tmp, sink = pathlib.Path(tmp), pathlib.Path(sink)
        stripped = tmp / "crash_many.stripped"
        subprocess.run(["strip", "-o", str(stripped), str(unstripped)], check=True)
        assert loaded_contents(stripped) == loaded_contents(unstripped), \
            "strip changed a loaded segment or section: the stripped copy would not match the core"
        core = make_core(unstripped, a.goroutines, a.mib, tmp)
        sha = digest(core)  # also reads the whole core into the page cache before the first round
        print(f"{stamp()}, commit {commit}, {tc.name}: one core of crash_many {a.goroutines} {a.mib} "
              f"({core.stat().st_size / 2**30:.2f} GiB, sha256 {sha}), written by the unstripped build; goperf reads "
              f"it with a stripped copy (same {len(loaded_contents(unstripped)[0])} loadable segments and allocated sections, "
              f"{stripped.stat().st_size / 2**20:.1f} MiB against {unstripped.stat().st_size / 2**20:.1f} MiB); "
              f"{a.rounds} rounds in alternating order, outputs to {SINK_DIR}; load average {loadavg()}", flush=True)
        init = tmp / "dlv.init"
        init.write_text("goroutines -t 50\nexit\n")
        tools = {"goperf": ([str(BUILD / "goperf"), "core", str(stripped), str(core), "-o", str(sink / "goperf.txt")],
                            sink / "goperf.log"),
                 "dlv": (["dlv", "core", str(unstripped), str(core), "--init", str(init),
                          "--allow-non-terminal-interactive=true"], sink / "dlv.txt")}
        if a.no_dlv or not shutil.which("dlv"):
            del tools["dlv"]
        rows = {t: [] for t in tools}
        for i, order in enumerate(orders(list(tools), a.rounds)):
            for t in order:
                cmd, out = tools[t]
                r = timed(cmd, str(out))
                assert r["code"] == 0, f"{t} failed: see {out}"
                rows[t].append(r)
            print(f"  round {i + 1} ({', '.join(order)}): " + "; ".join(
                f"{t} {rows[t][-1]['cpu']:.2f} s cpu, {rows[t][-1]['wall']:.2f} s wall" for t in order)
                + f"; load average {loadavg()}", flush=True)
        assert digest(core) == sha
        counts = {"goperf": len(re.findall(r"^goroutine \d+", (sink / "goperf.txt").read_text(), re.M))}
        if "dlv" in tools:
            counts["dlv"] = len(re.findall(r"^\s*\*?\s*Goroutine \d+", (sink / "dlv.txt").read_text(), re.M))
        print(f"goroutines printed: {counts}")
        print(f"| tool | wall (median of {a.rounds}) | CPU user+sys | peak RSS |")
        print("|---|---|---|---|")
        label = {"goperf": "goperf core (stripped copy)", "dlv": "dlv core (unstripped)"}
        for t, rs in rows.items():
            print(f"| {label[t]} | {median([r['wall'] for r in rs]):.2f} s | {median([r['cpu'] for r in rs]):.2f} s "
                  f"| {median([r['rss'] for r in rs]):.0f} MiB |")
        if "dlv" in rows:
            g, d = rows["goperf"], rows["dlv"]
            print("| dlv / goperf, median of per-round ratios (min-max) | "
                  + " | ".join(fmt_ratio([r[k] for r in d], [r[k] for r in g]) for k in ("wall", "cpu", "rss")) + " |")
        print(f"end {stamp()}, load average {loadavg()}")


if __name__ == "__main__":
    main()
