"""goperf snapshot against the Go runtime as the oracle: for every toolchain, as exe, PIE and cgo (all
stripped), the hang target is snapshotted, then killed with SIGQUIT (GOTRACEBACK=all), and the two dumps
are compared goroutine by goroutine: statuses, function sequences with inlined frames and file:line +off,
arguments, creators. Also: bad input, a SIGKILLed goperf never leaves the target stopped, and Debian's
stripped etcd under a write load."""
import ctypes
import json
import os
import re
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import etcd_server
import gotargets
import snapshot_dump

VARIANTS = {
    "exe": gotargets.Variant(pie=False, cgo=False, stripped=True),
    "pie": gotargets.Variant(pie=True, cgo=False, stripped=True),
    "cgo": gotargets.Variant(pie=False, cgo=True, stripped=True),
}
CASES = [(tc, v) for tc in gotargets.toolchains() for v in VARIANTS]


@pytest.fixture(scope="module")
def binaries():
    reqs = [("hang", tc, VARIANTS[v]) for tc, v in CASES]
    return dict(zip([(tc.name, v) for tc, v in CASES], gotargets.build_many(reqs)))


class Target:
    """A running hang process; its stderr (where SIGQUIT's dump goes) is kept in a file."""

    def __init__(self, binary, extra=20, env=None):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([str(binary), str(extra)], stdout=subprocess.PIPE, stderr=self.err,
                                     env={**os.environ, "GOTRACEBACK": "all", **(env or {})})
        line = self.proc.stdout.readline()
        assert line.strip() == b"ready", f"target did not start: {line!r}"
        self.pid = self.proc.pid

    def state(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1]
        return "?"

    def thread_states(self):
        states = []
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:
                pass
        return states

    def sigquit_dump(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=180)
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def _still_our_child(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid()
        except (FileNotFoundError, ProcessLookupError):
            return False

    def close(self):
        # Kill whatever poll() says: once this process has ptrace-seized the target (test_bad_input),
        # waitpid reports its ptrace stops and Popen takes one for an exit, so the target would live on
        # (and spin) after the tests. Reap it by pid until it really exited.
        if self.proc.returncode is None or (self.proc.returncode < 0 and self._still_our_child()):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                while True:
                    _, status = os.waitpid(self.pid, 0)
                    if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                        break
            except ChildProcessError:
                pass
            self.proc.returncode = -signal.SIGKILL


def snapshot(goperf, pid, *args, check=True):
    res = subprocess.run([goperf, "snapshot", "-p", str(pid), *args], capture_output=True, text=True, timeout=60)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def compare_running(goid, g, o):
    """A goroutine running in both dumps: the runtime prints its stack only when it can (the thread that
    took SIGQUIT); then every frame but the innermost one's line must agree. Where it cannot, who created
    the goroutine still must."""
    diffs = []
    if (g.creator, g.parent) != (o.creator, o.parent):
        diffs.append(f"goroutine {goid} [running]: created by {g.creator} in {g.parent}, runtime {o.creator} in {o.parent}")
    if o.unavailable or not o.frames:
        return diffs
    # A goroutine that the runtime preempts asynchronously at the moment of the dump (a signal on its own
    # thread, preempt.go asyncPreempt) shows runtime.asyncPreempt[2] above the frame it was running: the
    # snapshot, taken before, saw it running that frame. Those frames are left out on both sides.
    a, b = without_async_preempt(g.lines()), without_async_preempt(o.lines())
    if [x[0] for x in a] != [y[0] for y in b] or a[1:] != b[1:]:
        diffs.append(f"goroutine {goid} [running]: {a[:3]} vs runtime {b[:3]} ({len(a)} vs {len(b)} frames)")
    return diffs


def without_async_preempt(lines):
    """lines without the innermost runtime.asyncPreempt / runtime.asyncPreempt2 frames."""
    i = 0
    while i < len(lines) and lines[i][0] in ("runtime.asyncPreempt", "runtime.asyncPreempt2"):
        i += 1
    return lines[i:]


def compare(ours, oracle, allow_missing=0, allow_extra=0, check_args=True, skip_changed=False):
    """Compares two parsed dumps in both directions; returns the list of differences (empty when they
    agree). allow_extra: goroutines the snapshot may show that the runtime's later dump lacks (they
    exited in between, on a busy program); 0 for targets whose goroutines never exit."""
    diffs = []
    common = set(ours) & set(oracle) - {0}
    missing = set(oracle) - set(ours) - {0}
    if len(missing) > allow_missing:
        diffs.append(f"goroutines missing from the snapshot: {sorted(missing)[:10]}")
    extra = set(ours) - set(oracle) - {0}
    if len(extra) > allow_extra:
        diffs.append(f"goroutines in the snapshot that the runtime does not have: {sorted(extra)[:10]}")
    for goid in sorted(common):
        g, o = ours[goid], oracle[goid]
        if g.status == o.status == "running":
            diffs += compare_running(goid, g, o)
            continue
        if g.status in ("running", "runnable") or o.status in ("running", "runnable"):
            continue  # it ran between the snapshot and SIGQUIT: its stack moved on
        if (g.status, g.locked) != (o.status, o.locked):
            if skip_changed:
                continue  # it moved on between the two dumps
            diffs.append(f"goroutine {goid}: status {g.status!r} locked={g.locked}, runtime {o.status!r} locked={o.locked}")
        a, b = g.lines(), o.lines()
        if o.status == "syscall" and len(a) > len(b) and a[-len(b):] == b:
            # A cgo call: the snapshot also shows the thread's C frames and the g0 frames above the
            # goroutine's syscall state; the runtime starts at g.syscallpc.
            extra = g.frames[:len(g.frames) - len(b)]
            if not all(f.is_c or f.function.startswith("runtime.") for f in extra):
                diffs.append(f"goroutine {goid}: unexpected frames before the syscall state: {extra}")
        elif a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            diffs.append(f"goroutine {goid} [{o.status}]: frame {first} differs: "
                         f"{a[first:first + 2]} vs runtime {b[first:first + 2]} ({len(a)} vs {len(b)} frames)")
        if (g.creator, g.parent) != (o.creator, o.parent):
            diffs.append(f"goroutine {goid}: created by {g.creator} in {g.parent}, runtime {o.creator} in {o.parent}")
        fa = [f.args for f in g.frames if not f.is_c][-len(o.frames):] if o.frames else []
        fb = [f.args for f in o.frames]
        if check_args and fa != fb:
            diffs.append(f"goroutine {goid}: arguments differ: {[(x, y) for x, y in zip(fa, fb) if x != y][:3]}")
    return diffs


@pytest.mark.parametrize("tc,variant", CASES, ids=[f"{tc.name}-{v}" for tc, v in CASES])
def test_snapshot_matches_sigquit(goperf, binaries, tc, variant):
    target = Target(binaries[(tc.name, variant)])
    try:
        res = snapshot(goperf, target.pid)
        assert "paused for" in res.stderr
        js = json.loads(snapshot(goperf, target.pid, "--format", "json").stdout)
        time.sleep(0.05)
        assert target.proc.poll() is None, "target died after the snapshot"
        assert target.state() not in ("t", "T"), "target left stopped"
        assert all(s not in ("t", "T") for s in target.thread_states()), "a thread left stopped"
        ours = snapshot_dump.parse(res.stdout)
        oracle_text = target.sigquit_dump()
        oracle = snapshot_dump.parse(oracle_text)
    finally:
        target.close()
    assert len(oracle) > 20, "the runtime's dump is missing"
    if os.environ.get("GOPERF_TEST_KEEP"):
        keep = f"/tmp/snapshot-{tc.name}-{variant}"
        open(keep + ".ours.txt", "w").write(res.stdout)
        open(keep + ".runtime.txt", "w").write(oracle_text)
    diffs = compare(ours, oracle)
    assert not diffs, "\n".join(diffs)

    # What the runtime cannot print: the spinning goroutine's real stack, from its thread's registers.
    spinning = [g for g in ours.values() if "main.spinner" in g.functions()]
    assert spinning, "the spinning goroutine is missing"
    # go spinner() from main.main: its whole stack is main.spinner (in hang/main.go) on runtime.goexit, which a
    # SIGQUIT dump shows too (runtime frames are shown), created by main.main.
    # Stopped just as a preemption signal's handler injected its call (preempt.go asyncPreempt), the goroutine
    # runs runtime.asyncPreempt[2] above main.spinner: real frames, left out as compare_running does.
    names = [x[0] for x in without_async_preempt(spinning[0].lines())]
    assert names == ["main.spinner", "runtime.goexit"], spinning[0].frames
    spinner_frame = next(f for f in spinning[0].frames if f.function == "main.spinner")
    assert spinner_frame.location.rsplit("/", 1)[-1].startswith("main.go:")
    assert spinning[0].creator == "main.main" and spinning[0].parent in (0, 1)
    by_id = {g["id"]: g for g in js["goroutines"]}
    assert set(by_id) == set(ours), "text and JSON disagree on the goroutines"
    recursion = [g for g in js["goroutines"] if [f["function"] for f in g["frames"]].count("main.recurse") > 150]
    assert recursion, "the deep recursion is missing or cut"
    if variant == "cgo":
        cgo = [g for g in ours.values() if "main.cgoBlocker" in g.functions()]
        assert cgo and cgo[0].status == "syscall"
        names = [f.function for f in cgo[0].frames if f.is_c]
        assert any("block_in_c" in n or "sleep" in n for n in names), f"no C frames named: {cgo[0].frames[:6]}"
        js_cgo = by_id[cgo[0].goid]
        assert any(not f["go"] for f in js_cgo["frames"])


def test_all_level_hides_runtime_frames(goperf, binaries):
    tc, variant = CASES[0]
    target = Target(binaries[(tc.name, variant)])
    try:
        res = snapshot(goperf, target.pid, "--traceback", "all")
    finally:
        target.close()
    dump = snapshot_dump.parse(res.stdout)
    assert dump and all(not f.function.startswith("runtime.") or f.function[8:9].isupper()
                        for g in dump.values() for f in g.frames)
    assert all("runtime.gcenable" not in g.creator for g in dump.values()), "system goroutines shown"


def test_ten_thousand_goroutines(goperf, binaries):
    tc = gotargets.toolchains()[-1]
    target = Target(binaries[(tc.name, "exe")], extra=10000)
    try:
        res = snapshot(goperf, target.pid)
        ours = snapshot_dump.parse(res.stdout)
        oracle = snapshot_dump.parse(target.sigquit_dump())
    finally:
        target.close()
    assert len(ours) > 10000
    assert not compare(ours, oracle)


def test_reported_pause_is_what_the_target_saw(goperf, binaries):
    """The pause goperf reports against the one the target measured itself: a goroutine reading the clock in
    a loop keeps its longest gap (tests/targets/hang/pause_probe.go). goperf must not report less than the
    target saw, beyond the gaps the target sees anyway on this machine (measured just before)."""
    tc = gotargets.toolchains()[-1]
    proc = subprocess.Popen([str(binaries[(tc.name, "exe")]), "20"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "HANG_PAUSE_PROBE": "1"}, text=True)

    def longest_gap_ms():
        proc.stdin.write("gap\n")
        proc.stdin.flush()
        line = proc.stdout.readline().split()
        assert line[:1] == ["gap"], line
        return int(line[1]) / 1e6

    try:
        assert proc.stdout.readline().strip() == "ready"
        rows = []
        for _ in range(5):
            longest_gap_ms()
            time.sleep(0.3)
            quiet = longest_gap_ms()
            res = snapshot(goperf, proc.pid)
            seen = longest_gap_ms()
            reported = float(re.search(r"paused for ([\d.]+) ms", res.stderr).group(1))
            rows.append((reported, seen, quiet))
    finally:
        proc.kill()
        proc.wait()
    # On a busy machine the target's own gaps (being scheduled out) can exceed a snapshot's stop in any one
    # round; an understated pause shows in every round.
    assert any(seen <= reported + quiet + 1.0 for reported, seen, quiet in rows), \
        f"in every round the target saw a longer pause than goperf reported (reported, seen, gaps without a snapshot): {rows}"
    # The probe does see the pause: a stop of the whole process is a gap in its clock reads.
    assert max(seen for _, seen, _ in rows) >= 0.5 * min(reported for reported, _, _ in rows), rows


def test_bad_input(goperf, binaries, tmp_path):
    tc, variant = CASES[0]
    # Gone.
    res = snapshot(goperf, 999999999, check=False)
    assert res.returncode == 1 and "does not exist" in res.stderr
    # Not Go.
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        res = snapshot(goperf, sleeper.pid, check=False)
        assert res.returncode == 1 and "not a Go program" in res.stderr
    finally:
        sleeper.kill()
        sleeper.wait()
    # Zombie: a child that exited and was not reaped.
    zombie = subprocess.Popen(["true"])
    time.sleep(0.2)
    res = snapshot(goperf, zombie.pid, check=False)
    zombie.wait()
    assert res.returncode == 1 and "zombie" in res.stderr
    target = Target(binaries[(tc.name, variant)])
    try:
        # No permission: an unprivileged user.
        if shutil.which("setpriv") and os.geteuid() == 0:
            res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", goperf, "snapshot",
                                  "-p", str(target.pid)], capture_output=True, text=True, timeout=30)
            assert res.returncode == 1 and "CAP_SYS_PTRACE" in res.stderr, res.stderr
        # Already traced: this test process seizes the target first.
        libc = ctypes.CDLL(None, use_errno=True)
        PTRACE_SEIZE = 0x4206
        assert libc.ptrace(PTRACE_SEIZE, target.pid, None, None) == 0, os.strerror(ctypes.get_errno())
        res = snapshot(goperf, target.pid, check=False)
        assert res.returncode == 1 and f"already traced by process {os.getpid()}" in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    finally:
        target.close()


def test_sigkill_during_snapshot_never_leaves_target_stopped(goperf, binaries):
    tc = gotargets.toolchains()[-1]
    target = Target(binaries[(tc.name, "exe")], extra=3000)
    rng = random.Random(1234)
    try:
        for _ in range(25):
            p = subprocess.Popen([goperf, "snapshot", "-q", "-p", str(target.pid)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 0.06))
            p.kill()
            p.wait()
            time.sleep(0.01)
            assert target.proc.poll() is None, "target died"
            states = target.thread_states()
            assert all(s not in ("t", "T") for s in states), f"threads left stopped: {states}"
        # Still fully functional: a snapshot and the runtime's own dump still work.
        assert snapshot_dump.parse(snapshot(goperf, target.pid).stdout)
        assert len(snapshot_dump.parse(target.sigquit_dump())) > 3000
    finally:
        target.close()


def test_etcd_under_write_load(goperf, tmp_path):
    with etcd_server.EtcdUnderLoad(tmp_path, workers=1, stderr=subprocess.PIPE, env={"GOTRACEBACK": "all"}) as etcd:
        time.sleep(0.5)
        res = snapshot(goperf, etcd.pid)
        assert etcd.proc.poll() is None
        etcd.stop_load()
        etcd.proc.send_signal(signal.SIGQUIT)
        _, err = etcd.proc.communicate(timeout=30)
    ours = snapshot_dump.parse(res.stdout)
    oracle = snapshot_dump.parse(err.decode(errors="replace"))
    assert len(ours) > 20 and len(oracle) > 20
    if os.environ.get("GOPERF_TEST_KEEP"):
        open("/tmp/snapshot-etcd.ours.txt", "w").write(res.stdout)
        open("/tmp/snapshot-etcd.runtime.txt", "w").write(err.decode(errors="replace"))
    # Under load some goroutines end, start or move between the two dumps (argument values and stacks
    # change with them); the long-lived parked ones must show the same frames.
    diffs = compare(ours, oracle, allow_missing=len(oracle), allow_extra=len(ours), check_args=False,
                    skip_changed=True)
    common = len(set(ours) & set(oracle))
    assert common > 0.8 * len(oracle)
    assert len(diffs) <= 0.05 * common, "\n".join(diffs[:20])
