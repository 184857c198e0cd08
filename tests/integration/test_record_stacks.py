"""Whole stacks from goperf record on real servers: a net/http server of our own (tests/targets/httpserver:
deep handler stacks, GC pressure, timers, system calls) and Debian's etcd, each under a loopback load.

Oracle: the Go runtime's traceback. Every goroutine's stack ends at runtime.goexit (under runtime.main for
the main goroutine), every thread's g0 stack at runtime.mstart, and runtime/pprof's CPU profile ends a stack
sampled under runtime.mcall there (traceback.go: mcall writes SP), and one sampled on g0 under
runtime.morestack while the M has no goroutine (the scheduler after a preemption through morestack:
traceback.go jumps from g0 to curg only when curg != nil). With the default backend at least 99%
of samples must end at one of those roots (a stack ending in goperf's [truncated] frame does not count);
with either backend no frame may be a value outside the target's executable mappings. The perf backend's
share is printed (pytest -rP or -s) and checked against goperf's own summary line only: what it cannot
reach is in docs/bpf_backend.md.
"""
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import gotargets  # noqa: E402
import pprof_decode  # noqa: E402

ROOTS = {"runtime.goexit", "runtime.main", "runtime.mstart", "runtime.mcall", "runtime.morestack"}
TRUNCATED = "[truncated]"
HZ, SECONDS = 999, 4
# Enough samples that a share of 99% is measured to a fraction of a point (~0.2 at 2,000 samples).
MIN_SERVER_SAMPLES, MIN_ETCD_SAMPLES = 1000, 500
SUMMARY = re.compile(r"(\d+) of (\d+) stacks complete")


def executable_ranges(pid):
    ranges = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            addr, perms = line.split()[:2]
            if "x" in perms:
                lo, hi = (int(x, 16) for x in addr.split("-"))
                ranges.append((lo, hi))
    return ranges


def user_stacks(prof):
    """(function names leaf first, count, addresses) per sample. Kernel frames (pprof_decode's is_kernel) are
    left out, but not goperf's [truncated] frame, which has neither either."""
    out = []
    for s in prof.samples:
        names, addresses = [], []
        for lid in s["locs"]:
            loc = prof.locations[lid]
            frames = prof.frames(lid)
            if prof.is_kernel(lid) and frames != [TRUNCATED]:
                continue
            names += frames or ["?"]
            if loc["address"] != 0:
                addresses.append(loc["address"])
        out.append((names, s["values"][0], addresses))
    return out


def check_profile(prof, code, stderr, label, min_samples):
    """Checks every frame's address against the executable ranges; returns (root share, samples)."""
    total = rooted = truncated = 0
    outside = []
    for names, n, addresses in user_stacks(prof):
        total += n
        if names and names[-1] in ROOTS:
            rooted += n
        if names and names[-1] == TRUNCATED:
            truncated += n
            assert names.count(TRUNCATED) == 1
        outside += [hex(a) for a in addresses if not any(lo <= a < hi for lo, hi in code)]
    assert not outside, f"{label}: frames outside the mapped code: {sorted(set(outside))[:10]}"
    assert total >= min_samples, f"{label}: only {total} samples"
    m = SUMMARY.search(stderr)
    assert m, stderr
    # goperf's own count of complete stacks is the profile's: every sample not ending in [truncated].
    assert (int(m.group(1)), int(m.group(2))) == (total - truncated, total), (m.group(0), total, truncated)
    share = rooted / total
    print(f"{label}: {rooted} of {total} samples end at a root ({100 * share:.1f}%), {truncated} truncated")
    return share


def record(goperf, pid, out, backend, hz=HZ, seconds=SECONDS):
    cmd = [goperf, "record", "-v", "-F", str(hz), "-d", str(seconds), "-p", str(pid), "-o", str(out)]
    if backend:
        cmd += ["--backend", backend]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stderr


def default_is_bpf(stderr):
    return "with the eBPF backend" in stderr


@pytest.fixture(scope="module", params=gotargets.toolchains(), ids=lambda tc: tc.name)
def server(request):
    """The httpserver (stripped, cgo-linked) under its loopback client: (pid, executable ranges)."""
    exe = gotargets.build("httpserver", request.param, gotargets.Variant(cgo=True, stripped=True))
    srv = subprocess.Popen([str(exe), "-serve", "-seconds", "60"], stdout=subprocess.PIPE, text=True)
    clients = []
    try:
        line = srv.stdout.readline().split()
        assert line and line[0] == "listening", line
        addr = line[1]

        def load(seconds):
            c = subprocess.Popen([str(exe), "-load", addr, "-seconds", str(seconds), "-requests", "300000"],
                                 stdout=subprocess.PIPE, text=True)
            clients.append(c)
            time.sleep(0.5)
            return c
        yield srv.pid, load
        for c in clients:
            out, _ = c.communicate(timeout=30)
            assert "failed 0" in out, out
    finally:
        for c in clients:
            c.kill()
        srv.kill()
        srv.wait()


@pytest.mark.parametrize("backend", [None, "perf"], ids=["default", "perf"])
def test_http_server_stacks_reach_their_root(goperf, server, backend, tmp_path):
    pid, load = server
    load(SECONDS + 2)
    out = tmp_path / "http.pb.gz"
    stderr = record(goperf, pid, out, backend)
    share = check_profile(pprof_decode.load(out), executable_ranges(pid), stderr, f"httpserver {backend or 'default'}",
                          MIN_SERVER_SAMPLES)
    if backend is None:
        if not default_is_bpf(stderr):
            pytest.skip(f"the default backend fell back to perf here: {stderr.splitlines()[1:2]}")
        assert share >= 0.99


def etcd_put_load(client_port, stop):
    env = {**os.environ, "ETCDCTL_API": "3"}
    i = 0
    while not stop.is_set():
        subprocess.run(["/usr/bin/etcdctl", "--endpoints", f"127.0.0.1:{client_port}", "put", f"k{i % 100}",
                        "v" * 64], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        i += 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    if not (os.path.exists("/usr/bin/etcd") and os.path.exists("/usr/bin/etcdctl")):
        pytest.skip("Debian's etcd-server and etcd-client are not installed")
    data = tmp_path_factory.mktemp("etcd") / "data"
    client, peer = free_port(), free_port()
    proc = subprocess.Popen(
        ["/usr/bin/etcd", "--data-dir", str(data), "--name", "stacks",
         "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"stacks=http://127.0.0.1:{peer}", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    workers = [threading.Thread(target=etcd_put_load, args=(client, stop)) for _ in range(4)]
    try:
        deadline = time.time() + 30
        while subprocess.run(["/usr/bin/etcdctl", "--endpoints", f"127.0.0.1:{client}", "put", "ready", "1"],
                             env={**os.environ, "ETCDCTL_API": "3"}, capture_output=True).returncode != 0:
            assert time.time() < deadline and proc.poll() is None, "etcd did not start"
            time.sleep(0.3)
        for w in workers:
            w.start()
        time.sleep(0.5)
        yield proc.pid
    finally:
        stop.set()
        for w in workers:
            if w.is_alive():
                w.join(timeout=20)
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.parametrize("backend", [None, "perf"], ids=["default", "perf"])
def test_etcd_stacks_reach_their_root(goperf, etcd, backend, tmp_path):
    out = tmp_path / "etcd.pb.gz"
    # etcd takes a fraction of a CPU under this load (each put is an etcdctl process): sample longer.
    stderr = record(goperf, etcd, out, backend, seconds=12)
    share = check_profile(pprof_decode.load(out), executable_ranges(etcd), stderr, f"etcd {backend or 'default'}",
                          MIN_ETCD_SAMPLES)
    if backend is None:
        if not default_is_bpf(stderr):
            pytest.skip(f"the default backend fell back to perf here: {stderr.splitlines()[1:2]}")
        assert share >= 0.99
