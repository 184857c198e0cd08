"""goperf doctor -p for this process and this user, with the kernel and the Go runtime as oracles:
- GOTRACEBACK read from the target's environment: doctor says whether a crash leaves a core, and the runtime
  then does or does not leave one (SIGQUIT takes the same path as a panic: the runtime's crash() under
  GOTRACEBACK=crash, exit status 2 otherwise).
- the target's owner against the caller (root checking nobody's process, nobody checking root's): each FIX
  line names the exact change, the exit status is 1, and the commands doctor says will fail do fail, with
  the real fix in their message (never perf_event_paranoid for another user's process).
- --json carries the same checks as the text."""
import json
import os
import pathlib
import pwd
import resource
import shutil
import signal
import subprocess
import time

import pytest

import gotargets
from test_doctor import LINE_RE

EXE = gotargets.Variant(pie=False, cgo=False, stripped=True)


def run_doctor(goperf, pid, user=None, json_out=False):
    cmd = [goperf, "doctor", "-p", str(pid)] + (["--json"] if json_out else [])
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def parse(text):
    """{name: (state, detail, fix)} of doctor's text."""
    checks = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = LINE_RE.match(line)
        if m:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            fix = nxt.split("->", 1)[1].strip() if "->" in nxt and not LINE_RE.match(nxt) else ""
            checks[m.group(3).strip()] = (m.group(1), m.group(4), fix)
    return checks


def assert_exit_agrees(p, checks):
    fixes = [n for n, c in checks.items() if c[0] == "FIX"]
    assert p.returncode == (1 if fixes else 0), (p.returncode, fixes, p.stdout)
    for name in fixes:
        assert checks[name][2], f"FIX line {name} names no change:\n{p.stdout}"


def need_root_and_nobody():
    if os.geteuid() != 0:
        pytest.skip("needs root (to start a process as another user)")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is missing (util-linux)")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody on this host")


def relative_core_pattern():
    pattern = pathlib.Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|") or pattern.startswith("/") or not pattern:
        pytest.skip(f"kernel.core_pattern = {pattern!r}: the oracle needs cores written in the working directory")
    return pattern


class Hang:
    """The crash target in mode hang (prints "ready", then blocks), started with the given environment,
    working directory, core limit and user."""

    def __init__(self, cwd, gotraceback=None, user=None, core_unlimited=True):
        tc = gotargets.toolchains()[-1]
        binary = gotargets.build("crash", tc, EXE)
        env = {k: v for k, v in os.environ.items() if k != "GOTRACEBACK"}
        if gotraceback is not None:
            env["GOTRACEBACK"] = gotraceback
        cmd = [str(binary), "hang"]
        if user:
            cmd = ["runuser", "-u", user, "--"] + cmd

        def limits():
            lim = resource.RLIM_INFINITY if core_unlimited else 0
            resource.setrlimit(resource.RLIMIT_CORE, (lim, resource.RLIM_INFINITY))
        self.p = subprocess.Popen(cmd, cwd=cwd, env=env, preexec_fn=limits, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready"
        # runuser forks the program as a child: the Go process is its only child.
        self.pid = self.p.pid
        if user:
            kids = pathlib.Path(f"/proc/{self.p.pid}/task/{self.p.pid}/children").read_text().split()
            self.pid = int(kids[0])
        self.cwd = pathlib.Path(cwd)

    def quit(self):
        """SIGQUIT: the runtime's crash path; returns whether a core appeared in the working directory."""
        os.kill(self.pid, signal.SIGQUIT)
        self.p.communicate(timeout=30)
        time.sleep(0.2)
        return any(self.cwd.glob("core*"))

    def close(self):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.communicate(timeout=30)


@pytest.fixture
def hang():
    started = []

    def start(*args, **kw):
        h = Hang(*args, **kw)
        started.append(h)
        return h
    yield start
    for h in started:
        h.close()


def test_without_gotraceback_crash_no_core(goperf, hang, tmp_path):
    relative_core_pattern()
    h = hang(tmp_path)
    p = run_doctor(goperf, h.pid)
    checks = parse(p.stdout)
    state, detail, fix = checks["GOTRACEBACK"]
    assert state == "FIX" and "GOTRACEBACK is unset" in detail, p.stdout
    assert "GOTRACEBACK=crash" in fix and f"restart process {h.pid}" in fix, p.stdout
    assert "debug.SetTraceback" in detail, p.stdout  # what goperf cannot know is said
    assert checks["on panic"][0] == "warn" and "leaves no core" in checks["on panic"][1], p.stdout
    assert_exit_agrees(p, checks)
    assert not h.quit(), "the runtime left a core although doctor said it would not"


def test_with_gotraceback_crash_a_core(goperf, hang, tmp_path):
    relative_core_pattern()
    h = hang(tmp_path, gotraceback="crash")
    p = run_doctor(goperf, h.pid)
    checks = parse(p.stdout)
    assert checks["GOTRACEBACK"][0] == "ok" and "GOTRACEBACK=crash" in checks["GOTRACEBACK"][1], p.stdout
    assert checks["on panic"][0] == "ok", p.stdout
    assert_exit_agrees(p, checks)
    assert h.quit(), "doctor said a crash leaves a core, and none was written"


def test_gotraceback_crash_but_no_core_limit(goperf, hang, tmp_path):
    relative_core_pattern()
    h = hang(tmp_path, gotraceback="crash", core_unlimited=False)
    p = run_doctor(goperf, h.pid)
    checks = parse(p.stdout)
    assert checks["GOTRACEBACK"][0] == "ok", p.stdout
    assert checks["RLIMIT_CORE"][0] == "FIX" and "RLIMIT_CORE" in checks["on panic"][1], p.stdout
    assert p.returncode == 1
    assert not h.quit()


def test_nobody_target_checked_by_root(goperf, hang, tmp_path):
    """Root may do everything to nobody's process, but the core is written as nobody: a working directory
    nobody cannot write gets no core, and doctor says so with the change."""
    need_root_and_nobody()
    relative_core_pattern()
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o755)
    h = hang(closed, gotraceback="crash", user="nobody")
    p = run_doctor(goperf, h.pid)
    checks = parse(p.stdout)
    assert "runs as nobody" in checks["owner"][1] and checks["owner"][0] == "ok", p.stdout
    for name in ("sampling", "attaching"):
        assert checks[name][0] == "ok", p.stdout
    state, detail, fix = checks["core_pattern"]
    assert state == "FIX" and "nobody (uid" in detail and str(closed) in detail, p.stdout
    assert "kernel.core_pattern=/var/tmp/core.%e.%p" in fix, p.stdout
    assert checks["on panic"][0] == "warn" and "core_pattern" in checks["on panic"][1], p.stdout
    assert_exit_agrees(p, checks)
    assert not h.quit(), "a core was written where doctor said nobody cannot write"


def test_nobody_target_in_its_own_directory(goperf, hang, tmp_path):
    need_root_and_nobody()
    relative_core_pattern()
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    h = hang(open_dir, user="nobody")
    p = run_doctor(goperf, h.pid)
    checks = parse(p.stdout)
    assert checks["core_pattern"][0] == "ok", p.stdout
    assert checks["GOTRACEBACK"][0] == "FIX" and "GOTRACEBACK=crash" in checks["GOTRACEBACK"][2], p.stdout
    assert_exit_agrees(p, checks)


def test_root_target_checked_by_nobody(goperf, hang, tmp_path):
    need_root_and_nobody()
    h = hang(tmp_path, gotraceback="crash")
    p = run_doctor(goperf, h.pid, user="nobody")
    checks = parse(p.stdout)
    assert "runs as root" in checks["owner"][1] and "goperf as nobody" in checks["owner"][1], p.stdout
    state, detail, fix = checks["sampling"]
    assert state == "FIX" and f"`sudo goperf record -p {h.pid}`" in fix and "setcap cap_perfmon,cap_sys_ptrace" in fix
    assert "perf_event_paranoid does not apply" in detail, p.stdout
    state, _, fix = checks["attaching"]
    assert state == "FIX" and f"`sudo goperf snapshot -p {h.pid}`" in fix, p.stdout
    # What nobody cannot read is said, not guessed.
    assert checks["GOTRACEBACK"][0] == "warn" and "Permission denied" in checks["GOTRACEBACK"][1], p.stdout
    assert_exit_agrees(p, checks)
    assert p.returncode == 1
    # The kernel agrees: nobody's record and snapshot fail, and record names the real fix.
    rec = subprocess.run(["runuser", "-u", "nobody", "--", goperf, "record", "--backend", "perf", "-d", "1",
                          "-o", "/tmp/goperf-doctor-owner.pb.gz", "-p", str(h.pid)], capture_output=True, text=True,
                         timeout=60)
    assert rec.returncode == 1, rec.stderr
    assert f"sudo goperf record -p {h.pid}" in rec.stderr and "sysctl" not in rec.stderr, rec.stderr
    snap = subprocess.run(["runuser", "-u", "nobody", "--", goperf, "snapshot", "-p", str(h.pid)],
                          capture_output=True, text=True, timeout=60)
    assert snap.returncode == 1 and f"sudo goperf snapshot -p {h.pid}" in snap.stderr, snap.stderr
    assert len(snap.stderr.strip().splitlines()) == 1, snap.stderr
    # And the change doctor names works: as root, both succeed.
    snap = subprocess.run([goperf, "snapshot", "-p", str(h.pid)], capture_output=True, text=True, timeout=60)
    assert snap.returncode == 0, snap.stderr


@pytest.mark.parametrize("user", [None, "nobody"])
def test_json_agrees_with_text(goperf, hang, tmp_path, user):
    if user:
        need_root_and_nobody()
    h = hang(tmp_path)
    text = run_doctor(goperf, h.pid, user=user)
    js = run_doctor(goperf, h.pid, user=user, json_out=True)
    assert js.returncode == text.returncode, (js.stderr, text.stderr)
    doc = json.loads(js.stdout)
    assert doc["pid"] == h.pid
    checks = parse(text.stdout)
    by_name = {c["name"]: c for c in doc["checks"]}
    assert set(by_name) == set(checks), (set(by_name) ^ set(checks))
    states = {"ok": "ok", "warn": "warn", "fix": "FIX"}
    for name, (state, detail, fix) in checks.items():
        c = by_name[name]
        assert (states[c["state"]], c["detail"], c["fix"]) == (state, detail, fix), name
    assert doc["fix_count"] == sum(1 for c in doc["checks"] if c["state"] == "fix")
    # One case style: snake_case keys only.
    keys = set(doc) | {k for c in doc["checks"] for k in c}
    assert all(k == k.lower() and "-" not in k for k in keys), keys
