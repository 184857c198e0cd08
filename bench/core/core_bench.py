#!/usr/bin/env python3
"""Core benchmark: a ~1 GiB core holding 100,000 goroutines (tests/targets/crash_many, GOTRACEBACK=crash), read by
`goperf core` on the stripped build and by `dlv core` (goroutines with stacks) on the unstripped build of the same
source, side by side. Prints wall time and peak RSS (median of --runs) and the ratio.

usage: GOPERF_BUILD_DIR=build bench/core/core_bench.py [--goroutines 100000] [--mib 900] [--runs 3] [--no-dlv]
"""
import argparse
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import gotargets  # noqa: E402

BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", REPO / "build"))


def timed(cmd, **kw):
    """Runs cmd in a fresh child; returns (seconds, peak RSS of that child in MiB, CompletedProcess)."""
    r, w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        out = os.open(kw.get("stdout", os.devnull), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        if "stdin" in kw:
            os.dup2(os.open(kw["stdin"], os.O_RDONLY), 0)
        os.execvp(cmd[0], cmd)
    os.close(w)
    _, status, usage = os.wait4(pid, 0)
    os.close(r)
    return (time.monotonic() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
            usage.ru_utime + usage.ru_stime)


def make_core(binary, n, mib, tmp):
    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    subprocess.run([str(binary), str(n), str(mib)], cwd=tmp, env=dict(os.environ, GOTRACEBACK="crash"),
                   preexec_fn=limits, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cores = sorted(pathlib.Path(tmp).glob("core*"))
    if not cores:
        sys.exit("no core written: check kernel.core_pattern (must be a relative file name)")
    return cores[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goroutines", type=int, default=100000)
    ap.add_argument("--mib", type=int, default=900)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-dlv", action="store_true")
    ap.add_argument("--toolchain", default="go1.19")
    a = ap.parse_args()
    # The Delve installed here reads Go up to 1.20: both tools read cores of the go1.19 build.
    tc = gotargets.toolchain(a.toolchain) or gotargets.toolchains()[0]
    stripped = gotargets.build("crash_many", tc, gotargets.Variant(stripped=True))
    unstripped = gotargets.build("crash_many", tc, gotargets.Variant(stripped=False))
    goperf = str(BUILD / "goperf")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        tmp = pathlib.Path(tmp)
        core_s = make_core(stripped, a.goroutines, a.mib, tmp / "s" if (tmp / "s").mkdir() is None else None)
        core_u = make_core(unstripped, a.goroutines, a.mib, tmp / "u" if (tmp / "u").mkdir() is None else None)
        print(f"{tc.name}: {a.goroutines} goroutines, cores {core_s.stat().st_size / 2**30:.2f} GiB (stripped) "
              f"and {core_u.stat().st_size / 2**30:.2f} GiB (unstripped)")
        rows = {}
        out = tmp / "goperf.txt"
        runs = [timed([goperf, "core", str(stripped), str(core_s), "-o", str(out)]) for _ in range(a.runs)]
        assert all(r[2] == 0 for r in runs), "goperf core failed"
        count = out.read_text().count("\ngoroutine ")
        rows["goperf core (stripped)"] = runs
        print(f"goperf printed {count} goroutines")
        if not a.no_dlv and shutil.which("dlv"):
            init = tmp / "dlv.init"
            init.write_text("goroutines -t 50\nexit\n")
            runs = [timed(["dlv", "core", str(unstripped), str(core_u), "--init", str(init),
                           "--allow-non-terminal-interactive=true"], stdin=os.devnull,
                          stdout=str(tmp / "dlv.txt")) for _ in range(a.runs)]
            rows["dlv core (unstripped)"] = runs
            assert all(r[2] == 0 for r in runs), "dlv core failed: see " + str(tmp / "dlv.txt")
            print(f"dlv printed {(tmp / 'dlv.txt').read_text().count('Goroutine ')} goroutine lines")
        print(f"{'tool':28} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}   (medians of {a.runs})")
        med = {}
        for name, runs in rows.items():
            med[name] = (statistics.median(r[0] for r in runs), statistics.median(r[3] for r in runs))
            print(f"{name:28} {med[name][0]:8.2f} {med[name][1]:8.2f} {statistics.median(r[1] for r in runs):13.0f}")
        if len(med) == 2:
            g, d = med["goperf core (stripped)"], med["dlv core (unstripped)"]
            print(f"ratio dlv/goperf: wall {d[0] / g[0]:.1f}x, CPU {d[1] / g[1]:.1f}x")


if __name__ == "__main__":
    main()
