"""goperf snapshot/core --group and --filter against the runtime as the oracle: the waits target (goroutines
blocked in known numbers on known objects) is snapshotted with --group, then killed with SIGQUIT; goperf's
groups must equal panicparse's grouping of the runtime's own dump (arguments ignored), and every goroutine
of a group must have the group's state and frames in that dump. The same from a GOTRACEBACK=crash core.
Every toolchain present, exe, PIE and cgo, stripped."""
import json
import os
import resource
import signal
import subprocess
import tempfile
import time

import pytest

import etcd_server
import goroutine_groups
import gotargets
import snapshot_dump

VARIANTS = {
    "exe": gotargets.Variant(pie=False, cgo=False, stripped=True),
    "pie": gotargets.Variant(pie=True, cgo=False, stripped=True),
    "cgo": gotargets.Variant(pie=False, cgo=True, stripped=True),
}
CASES = [(tc, v) for tc in gotargets.toolchains() for v in VARIANTS]
# What the target starts, by the function each goroutine blocks in.
EXPECTED = {"main.chanReceiver": 7, "main.selecter": 4, "main.mutexWaiter": 5, "main.rwReader": 3, "main.rwWriter": 1,
            "main.groupWaiter": 6, "main.condWaiter": 2, "main.sleeper": 9, "main.pipeReader": 3, "main.netReader": 1,
            "main.timerReceiver": 1}


@pytest.fixture(scope="module")
def binaries():
    reqs = [("waits", tc, VARIANTS[v]) for tc, v in CASES]
    return dict(zip([(tc.name, v) for tc, v in CASES], gotargets.build_many(reqs)))


class Waits:
    """A running waits process: the objects it printed ({name: (kind, address)}), its stderr kept."""

    def __init__(self, binary, cwd=None, env=None, preexec_fn=None):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     cwd=cwd, preexec_fn=preexec_fn,
                                     env={**os.environ, "GOTRACEBACK": "all", **(env or {})})
        self.pid = self.proc.pid
        self.objects = {}
        for line in self.proc.stdout:
            words = line.decode().split()
            if words == ["ready"]:
                break
            self.objects[words[0]] = (words[1], words[2])
        else:
            raise AssertionError("waits did not start")

    def more(self):
        self.proc.stdin.write(b"more\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == b"more ready"

    def sigquit_dump(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=120)
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(goperf, *args, check=True):
    p = subprocess.run([goperf, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def moving(groups, dump):
    """Goroutines that may have moved between the two looks (running or runnable in either)."""
    oracle = snapshot_dump.parse(dump)
    busy = {i for i, g in oracle.items() if g.status in ("running", "runnable")}
    busy |= {i for g in groups if g["state"] in ("running", "runnable") for i in g["ids"]}
    return busy


def check_against_runtime(groups, dump, drop, tmp_path):
    goroutine_groups.check_ids(groups, dump, drop)
    ours = goroutine_groups.goperf_groups(groups, drop)
    theirs = goroutine_groups.panicparse_groups(goroutine_groups.without_goroutines(dump, drop), tmp_path)
    assert ours == theirs, f"only goperf: {ours - theirs}\nonly panicparse: {theirs - ours}"
    # The target's own numbers: one group per blocking function, exactly as many as it started.
    for fn, n in EXPECTED.items():
        counts = [len(g["ids"]) for g in groups if any(f["function"] == fn for f in g["frames"])]
        assert counts == [n], (fn, counts)
    sizes = [len(g["ids"]) for g in groups]
    assert sizes == sorted(sizes, reverse=True), "largest groups first"


needs_panicparse = pytest.mark.skipif(not goroutine_groups.have_panicparse(),
                                      reason="panicparse is not installed (scripts/setup installs it)")


@needs_panicparse
@pytest.mark.parametrize("tc,variant", CASES, ids=[f"{tc.name}-{v}" for tc, v in CASES])
def test_snapshot_groups_match_panicparse(goperf, binaries, tc, variant, tmp_path):
    t = Waits(binaries[(tc.name, variant)])
    try:
        doc = json.loads(run(goperf, "snapshot", "-p", str(t.pid), "--group", "--format", "json", "-q").stdout)
        text = run(goperf, "snapshot", "-p", str(t.pid), "--group", "-q").stdout
        dump = t.sigquit_dump()
    finally:
        t.close()
    groups = doc["groups"]
    assert sum(len(g["ids"]) for g in groups) == len(doc["goroutines"])
    check_against_runtime(groups, dump, moving(groups, dump), tmp_path)
    # The text shows the same groups in the same order: their headers' counts and states.
    headers = [line for line in text.splitlines() if " goroutine" in line and line[0].isdigit()]
    assert [h.split(" [")[0] for h in headers] == [
        f"{len(g['ids'])} goroutine{'s' if len(g['ids']) > 1 else ''}" for g in groups]
    assert [h.split(" [")[1].split("]")[0].split(",")[0] for h in headers] == [g["state"] for g in groups]


@needs_panicparse
@pytest.mark.parametrize("tc,variant", CASES, ids=[f"{tc.name}-{v}" for tc, v in CASES])
def test_core_groups_match_panicparse(goperf, binaries, tc, variant, tmp_path):
    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    binary = binaries[(tc.name, variant)]
    t = Waits(binary, cwd=tmp_path, env={"GOTRACEBACK": "crash", "GODEBUG": "asynctimerchan=0"}, preexec_fn=limits)
    try:
        dump = t.sigquit_dump()
    finally:
        t.close()
    cores = sorted(tmp_path.glob("core*"))
    if not cores:
        pytest.skip("no core written (kernel.core_pattern = %s)" % open("/proc/sys/kernel/core_pattern").read().strip())
    doc = json.loads(run(goperf, "core", str(binary), str(cores[0]), "--group", "--format", "json").stdout)
    groups = doc["dump"]["groups"]
    # The goroutine the signal interrupted is walked from the signal context by the runtime: left out.
    # Goroutines on a thread (in a syscall) are shown from the thread's registers, the runtime shows them
    # from where they entered the syscall: left out too.
    drop = moving(groups, dump) | {doc["header"]["crashing_goroutine"]}
    drop |= {g["id"] for g in doc["dump"]["goroutines"] if g["thread"] != 0}
    check_against_runtime(groups, dump, drop, tmp_path)
    # --waits in the core: the same objects the target printed, each goroutine in the runtime's wait state.
    waits = json.loads(run(goperf, "core", str(binary), str(cores[0]), "--waits", "--format", "json").stdout)
    text = run(goperf, "core", str(binary), str(cores[0]), "--waits", "--group").stdout
    assert waits["header"]["taken_at"] == pytest.approx(os.stat(cores[0]).st_mtime, abs=1e-3)
    check_waits(waits["dump"]["goroutines"], text, t.objects, dump, live=False, go_minor=int(tc.name.split(".")[1]))


def test_filter(goperf, binaries):
    tc = gotargets.toolchains()[0]
    t = Waits(binaries[(tc.name, "exe")])
    try:
        text = run(goperf, "snapshot", "-p", str(t.pid), "--filter", r"main\.mutexWaiter$", "-q").stdout
        grouped = run(goperf, "snapshot", "-p", str(t.pid), "--group", "--filter", "sleeper", "-q").stdout
        doc = json.loads(run(goperf, "snapshot", "-p", str(t.pid), "--format", "json", "--filter", "pipeReader",
                             "-q").stdout)
        bad = run(goperf, "snapshot", "-p", str(t.pid), "--filter", "(", check=False)
    finally:
        t.close()
    kept = snapshot_dump.parse(text)
    assert len(kept) == 5 and all("main.mutexWaiter" in g.functions() for g in kept.values()), text
    assert grouped.startswith("9 goroutines [sleep]: ") and grouped.count(" goroutine") == 1, grouped
    assert len(doc["goroutines"]) == 3
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "--filter" in bad.stderr, bad.stderr


def leak_and_target_changes(changes):
    """{function the target blocks its goroutines in: change} over the diff's groups."""
    out = {}
    for c in changes:
        for fn in list(EXPECTED) + ["main.leak"]:
            if any(f["function"] == fn for f in c["group"]["frames"]):
                out[fn] = out.get(fn, 0) + c["change"]
    return out


@pytest.mark.parametrize("tc,variant", CASES, ids=[f"{tc.name}-{v}" for tc, v in CASES])
def test_diff_names_the_leak(goperf, binaries, tc, variant, tmp_path):
    old = tmp_path / "old.json"
    t = Waits(binaries[(tc.name, variant)])
    try:
        run(goperf, "snapshot", "-p", str(t.pid), "--format", "json", "-o", str(old), "-q")
        t.more()
        text = run(goperf, "snapshot", "-p", str(t.pid), "--diff", str(old), "-q").stdout
        doc = json.loads(run(goperf, "snapshot", "-p", str(t.pid), "--diff", str(old), "--format", "json",
                             "-q").stdout)
        now = json.loads(run(goperf, "snapshot", "-p", str(t.pid), "--format", "json", "--group", "-q").stdout)
    finally:
        t.close()
    first = doc["changes"][0]
    assert first["change"] == 50 and first["old_count"] == 0 and first["new_count"] == 50, first
    assert any(f["function"] == "main.leak" for f in first["group"]["frames"]), first
    assert text.split("\n\n")[1].startswith("+50 [chan receive]: 0 -> 50, new group\n"), text
    assert "main.leak(...)" in text.split("\n\n")[1]
    changes = leak_and_target_changes(doc["changes"])
    assert changes == {**{fn: 0 for fn in EXPECTED}, "main.leak": 50}, changes
    assert doc["same_process"] and doc["seconds_between"] > 0
    # The target's blocked goroutines were in the same place in both: every one of them is "stuck", with the
    # ids the --group snapshot shows.
    ids_now = {fn: sorted(i for g in now["groups"] if any(f["function"] == fn for f in g["frames"]) for i in g["ids"])
               for fn in EXPECTED}
    for fn in EXPECTED:
        stuck = sorted(i for c in doc["changes"] if any(f["function"] == fn for f in c["group"]["frames"])
                       for i in c["stuck"])
        assert stuck == ids_now[fn] and len(stuck) == EXPECTED[fn], (fn, stuck, ids_now[fn])


def test_diff_core_against_snapshot(goperf, binaries, tmp_path):
    """A core (50 leaked goroutines more) read as OLD by a snapshot of another run of the same program:
    the leak's group vanished, every other target group is unchanged, nothing is "stuck" (another process)."""
    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    tc = gotargets.toolchains()[0]
    binary = binaries[(tc.name, "exe")]
    t = Waits(binary, cwd=tmp_path, env={"GOTRACEBACK": "crash"}, preexec_fn=limits)
    try:
        t.more()
        t.sigquit_dump()
    finally:
        t.close()
    cores = sorted(tmp_path.glob("core*"))
    if not cores:
        pytest.skip("no core written (kernel.core_pattern = %s)" % open("/proc/sys/kernel/core_pattern").read().strip())
    old = tmp_path / "core.json"
    old.write_text(run(goperf, "core", str(binary), str(cores[0]), "--format", "json").stdout)
    # --filter in a core, text and JSON: the 50 leaked goroutines, one group.
    leaked = run(goperf, "core", str(binary), str(cores[0]), "--filter", r"main\.leak$", "--group").stdout
    headers = [line for line in leaked.splitlines() if line[:1].isdigit() and " goroutine" in line]
    assert len(headers) == 1 and headers[0].startswith("50 goroutines [chan receive]: "), leaked
    only = json.loads(run(goperf, "core", str(binary), str(cores[0]), "--filter", r"main\.leak$", "--format",
                          "json").stdout)
    assert len(only["dump"]["goroutines"]) == 50
    t = Waits(binary)
    try:
        doc = json.loads(run(goperf, "snapshot", "-p", str(t.pid), "--diff", str(old), "--format", "json", "-q").stdout)
    finally:
        t.close()
    assert not doc["same_process"]
    assert all(not c["stuck"] for c in doc["changes"])
    changes = leak_and_target_changes(doc["changes"])
    assert changes == {**{fn: 0 for fn in EXPECTED}, "main.leak": -50}, changes
    # And a core against that core: nothing changed.
    same = json.loads(run(goperf, "core", str(binary), str(cores[0]), "--diff", str(old), "--format", "json").stdout)
    assert all(c["change"] == 0 for c in same["changes"]), [c for c in same["changes"] if c["change"]]


def test_diff_bad_old(goperf, binaries, tmp_path):
    tc = gotargets.toolchains()[0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"go_version": "go1.26", "goroutines": [{"id": 1, "frames": [}')
    t = Waits(binaries[(tc.name, "exe")])
    try:
        for path in (bad, tmp_path / "missing.json"):
            p = run(goperf, "snapshot", "-p", str(t.pid), "--diff", str(path), check=False)
            assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and str(path) in p.stderr, p.stderr
        assert t.proc.poll() is None
    finally:
        t.close()


@needs_panicparse
def test_etcd_groups_match_panicparse(goperf, tmp_path):
    """Debian's stripped etcd, idle: --group of a snapshot equals panicparse's grouping of its SIGQUIT dump,
    leaving out the goroutines that started, ended or moved between the two (a timer fired)."""
    with etcd_server.EtcdUnderLoad(tmp_path, workers=0, stderr=subprocess.PIPE, env={"GOTRACEBACK": "all"}) as etcd:
        time.sleep(3)
        assert etcd.proc.poll() is None
        doc = json.loads(run(goperf, "snapshot", "-p", str(etcd.pid), "--group", "--format", "json", "-q").stdout)
        etcd.proc.send_signal(signal.SIGQUIT)
        _, err = etcd.proc.communicate(timeout=60)
    dump = err.decode(errors="replace")
    oracle = snapshot_dump.parse(dump)
    ours = {g["id"]: g for g in doc["goroutines"]}

    def same(i):
        o, g = oracle.get(i), ours.get(i)
        if o is None or g is None or o.status != g["status"] or o.status in ("running", "runnable"):
            return False
        return [os.path.basename(f.location) for f in o.frames] == [
            f"{os.path.basename(f['file'])}:{f['line']}" for f in g["frames"]]
    drop = {i for i in set(oracle) | set(ours) if not same(i)}
    assert len(ours) > 30 and len(drop) < 0.1 * len(ours), (len(ours), sorted(drop))
    ours_groups = goroutine_groups.goperf_groups(doc["groups"], drop)
    theirs = goroutine_groups.panicparse_groups(goroutine_groups.without_goroutines(dump, drop), tmp_path)
    assert ours_groups == theirs, f"only goperf: {ours_groups - theirs}\nonly panicparse: {theirs - ours_groups}"
    assert len(ours_groups) > 5


@pytest.mark.parametrize("tc,variant", CASES, ids=[f"{tc.name}-{v}" for tc, v in CASES])
def test_waits(goperf, binaries, tc, variant):
    """--waits: every blocked goroutine of the target names the object the target printed (%p) with the
    kind and state the target built (channels, mutex, RWMutex, WaitGroup, Cond, sleeps, pipes and a TCP
    read), and each is in the wait state the runtime's own SIGQUIT dump gives it."""
    # The module says go 1.19: Go 1.23+ would keep the old asynchronous timer channels, without hchan.timer.
    t = Waits(binaries[(tc.name, variant)], env={"GODEBUG": "asynctimerchan=0"})
    try:
        doc = json.loads(run(goperf, "snapshot", "-p", str(t.pid), "--waits", "--format", "json", "-q").stdout)
        text = run(goperf, "snapshot", "-p", str(t.pid), "--waits", "--group", "-q").stdout
        dump = t.sigquit_dump()
    finally:
        t.close()
    check_waits(doc["goroutines"], text, t.objects, dump, live=True, go_minor=int(tc.name.split(".")[1]))


# The runtime's wait reasons (runtime2.go waitReasonStrings) a goroutine waiting on each kind of object can
# be in: 1.19 says "semacquire" for every semaphore; RWMutex.Lock waits first on its writer Mutex.
KIND_REASONS = {"chan": {"chan receive", "chan send", "select"},
                "mutex": {"sync.Mutex.Lock", "semacquire"},
                "rwmutex": {"sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.Mutex.Lock", "semacquire"},
                "waitgroup": {"sync.WaitGroup.Wait", "semacquire"}, "cond": {"sync.Cond.Wait"},
                "timer": {"sleep"}, "fd": {"IO wait"}}
HOUR_NS = 3600 * 10**9


def check_waits(goroutines, text, objects, dump, live, go_minor, drop=()):
    """What goperf read each goroutine waits on equals what the target built; the runtime's dump agrees on
    each one's wait state."""
    addr = {name: int(v, 16) for name, (kind, v) in objects.items() if kind != "fd"}
    pipe_fds = {int(objects[f"pipe{i}"][1]) for i in range(3)}
    oracle = snapshot_dump.parse(dump)

    def waits_of(fn):
        gs = [g for g in goroutines if any(f["function"] == fn for f in g["frames"]) and g["id"] not in drop]
        for g in gs:  # the runtime's own view of the same goroutine
            reason = oracle[g["id"]].status
            assert all(reason in KIND_REASONS.get(w["kind"], ()) for w in g["waiting_on"]), (fn, reason, g)
        return [g["waiting_on"] for g in gs]

    def key(w, *fields):
        return (w["kind"], int(w["address"], 16), *(w[f] for f in fields))
    assert [[key(w, "cap", "len", "closed", "direction") for w in ws] for ws in waits_of("main.chanReceiver")] == \
        [[("chan", addr["A"], 0, 0, False, "receive")]] * 7
    assert [[key(w, "cap", "len", "closed", "direction") for w in ws] for ws in waits_of("main.selecter")] == \
        [[("chan", addr["A"], 0, 0, False, "receive"), ("chan", addr["B"], 3, 0, False, "receive")]] * 4
    # M is locked by main, 5 goroutines queue on it; the runtime does not record who holds a mutex.
    assert [[key(w, "locked", "starving", "waiters", "holder") for w in ws] for ws in waits_of("main.mutexWaiter")] == \
        [[("mutex", addr["M"], True, False, 5, "unknown")]] * 5
    # R is write-locked by main: 3 readers wait on its reader semaphore, 1 writer on its writer Mutex.
    assert [[key(w, "direction", "locked", "holder") for w in ws] for ws in waits_of("main.rwReader")] == \
        [[("rwmutex", addr["R"], "read", True, "unknown")]] * 3
    assert [[key(w, "direction", "locked", "waiters") for w in ws] for ws in waits_of("main.rwWriter")] == \
        [[("rwmutex", addr["R"], "write", True, 1)]]
    assert [[key(w, "counter", "waiters") for w in ws] for ws in waits_of("main.groupWaiter")] == \
        [[("waitgroup", addr["W"], 1, 6)]] * 6
    assert [[key(w, "waiters") for w in ws] for ws in waits_of("main.condWaiter")] == [[("cond", addr["C"], 2)]] * 2
    sleeps = waits_of("main.sleeper")
    assert len(sleeps) == 9 and all(len(ws) == 1 and ws[0]["kind"] == "timer" for ws in sleeps), sleeps
    assert len({ws[0]["address"] for ws in sleeps}) == 9, "each sleeping goroutine has its own timer"
    if live:  # time.Sleep(100 * time.Hour), started moments ago
        assert all(99 * HOUR_NS < ws[0]["remaining_ns"] <= 100 * HOUR_NS for ws in sleeps), sleeps
    else:
        assert all("remaining_ns" not in ws[0] and ws[0]["when_ns"] > 100 * HOUR_NS for ws in sleeps), sleeps
    pipes = waits_of("main.pipeReader")
    assert sorted((ws[0]["kind"], ws[0]["fd"], ws[0]["direction"]) for ws in pipes) == \
        sorted(("fd", fd, "read") for fd in pipe_fds), pipes
    assert [[(w["kind"], w["fd"], w["direction"]) for w in ws] for ws in waits_of("main.netReader")] == \
        [[("fd", int(objects["tcp"][1]), "read")]]
    # A timer's channel: from Go 1.23 (with synchronous timer channels) the channel keeps its timer
    # (hchan.timer), firing 100 hours after start.
    [[t]] = waits_of("main.timerReceiver")
    assert (t["kind"], int(t["address"], 16), t["direction"]) == ("chan", addr["T"], "receive"), t
    if go_minor >= 23:  # unbuffered to the program (cap(t.C) == 0), as the runtime's chancap says
        assert int(t["timer"], 16) != 0 and t["when_ns"] > 0 and (t["cap"], t["len"]) == (0, 0), t
        assert not live or 99 * HOUR_NS < t["remaining_ns"] <= 100 * HOUR_NS, t
    else:  # the old asynchronous timer channel: a buffer of 1
        assert "timer" not in t and (t["cap"], t["len"]) == (1, 0), t
    summary = text[text.index("\nwaits:\n") + 8:].splitlines()
    assert summary[0] == f"chan {addr['A']:#x} (cap 0, len 0): 11 goroutines receive, 0 send", summary
    assert summary[1] == f"waitgroup {addr['W']:#x} (counter 1, 6 waiters): 6 goroutines wait", summary
    assert summary[2] == f"mutex {addr['M']:#x} (locked, 5 waiters, holder unknown): 5 goroutines wait", summary
    assert summary[3] == f"chan {addr['B']:#x} (cap 3, len 0): 4 goroutines receive, 0 send", summary
    assert f"rwmutex {addr['R']:#x} (write-locked, reader count {-(1 << 30) + 3}, holder unknown): " \
        "3 goroutines wait to read, 1 to write" in summary, summary
    assert f"cond {addr['C']:#x} (2 not notified): 2 goroutines wait" in summary, summary
    for fd in pipe_fds | {int(objects["tcp"][1])}:
        assert any(line.startswith(f"fd {fd} (pollDesc 0x") and line.endswith(": 1 goroutine waits to read, 0 to write")
                   for line in summary), (fd, summary)
    assert any(line.startswith("time.Sleep: 9 goroutines, each on its own timer") for line in summary), summary
