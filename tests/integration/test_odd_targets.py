"""Targets goperf cannot work on get one line on stderr and exit status 1, in the same words in every
command, and are left as they were (not stopped, not killed): a process id that does not exist, a kernel
thread, a zombie, a thread id given for a process, a core of another program given with a Go binary.
A -p list with an empty entry is a malformed option: one line and status 1, as any bad input."""
import os
import pathlib
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest

import gotargets

PF_KTHREAD = 0x00200000


def stat_fields(pid):
    """/proc/PID/stat after the command name: [state, ppid, ..., flags at index 6]."""
    text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def state(pid):
    return stat_fields(pid)[0]


def run(goperf, *args):
    return subprocess.run([goperf, *args], capture_output=True, text=True, timeout=60)


def one_line(p, status, *words):
    assert p.returncode == status, (p.returncode, p.stdout[-300:], p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def commands_on(pid):
    """Every command that takes -p, on pid (record writes nowhere: it must fail before opening anything)."""
    return [["record", "-q", "-d", "1", "-o", "/tmp/goperf-odd-target.pb.gz", "-p", str(pid)],
            ["snapshot", "-p", str(pid)], ["doctor", "-p", str(pid)], ["info", "-p", str(pid)]]


def assert_same_line_everywhere(goperf, pid, *words):
    """Each command prints 'goperf CMD: <the same message>'."""
    messages = set()
    for args in commands_on(pid):
        line = one_line(run(goperf, *args), 1, *words)
        prefix = f"goperf {args[0]}: "
        assert line.startswith(prefix), line
        messages.add(line[len(prefix):])
    assert len(messages) == 1, messages
    return messages.pop()


def kernel_thread():
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(stat_fields(entry.name)[6]) & PF_KTHREAD:
                    return int(entry.name)
            except (OSError, IndexError, ValueError):
                continue
    pytest.skip("no kernel thread visible in this PID namespace")


@pytest.fixture
def sleeper():
    p = subprocess.Popen(["sleep", "60"])
    yield p
    p.kill()
    p.wait()


def test_missing_process(goperf):
    p = subprocess.Popen(["true"])
    p.wait()
    assert_same_line_everywhere(goperf, p.pid, f"process {p.pid} does not exist")


@pytest.mark.parametrize("value", ["0", "abc", "-5", "12x", "99999999999"])
def test_not_a_process_id(goperf, value):
    """A -p value that is no process id: one wording in every command (the usage error's exit status, 1)."""
    messages = set()
    for args in commands_on(value):
        line = one_line(run(goperf, *args), 1, f"-p '{value}': not a process id (a positive number)")
        messages.add(line.split(": ", 1)[1].split(" (see goperf ")[0])
    assert len(messages) == 1, messages


def test_kernel_thread(goperf):
    pid = kernel_thread()
    before = state(pid)
    msg = assert_same_line_everywhere(goperf, pid, f"process {pid} (", "is a kernel thread")
    assert "prlimit" not in msg and "coredump_filter" not in msg
    assert state(pid) == before or state(pid) in "SRDI", state(pid)


def test_zombie(goperf):
    child = subprocess.Popen(["true"])  # not waited for until the end: a zombie meanwhile
    try:
        deadline = time.time() + 10
        while state(child.pid) != "Z" and time.time() < deadline:
            time.sleep(0.02)
        assert state(child.pid) == "Z"
        assert_same_line_everywhere(goperf, child.pid, f"process {child.pid} (true) is a zombie")
        assert state(child.pid) == "Z"  # nobody reaped it: its parent still can
    finally:
        child.wait()
    assert child.returncode == 0


def test_thread_id(goperf):
    code = "import threading, time; threading.Thread(target=time.sleep, args=(60,)).start(); time.sleep(60)"
    p = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 10
        tids = []
        while len(tids) < 2 and time.time() < deadline:
            tids = [int(t) for t in os.listdir(f"/proc/{p.pid}/task")]
            time.sleep(0.02)
        tid = max(t for t in tids if t != p.pid)
        msg = assert_same_line_everywhere(goperf, tid, f"{tid} is a thread of process {p.pid}", f"give -p {p.pid}")
        assert msg.startswith(f"{tid} is a thread"), msg
        assert p.poll() is None and state(p.pid) in "SR" and state(tid) in "SR", (state(p.pid), state(tid))
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("pids", ["{0},,{0}", "{0},", ",{0}"])
def test_empty_entry_in_pid_list(goperf, sleeper, pids):
    arg = pids.format(sleeper.pid)
    one_line(run(goperf, "record", "-q", "-d", "1", "-o", "/tmp/goperf-odd-target.pb.gz", "-p", arg), 1,
             f"-p '{arg}': an empty entry in the process id list")
    assert sleeper.poll() is None and state(sleeper.pid) == "S"


@pytest.fixture(scope="module")
def sleep_core(tmp_path_factory):
    """A kernel-written core of /usr/bin/sleep (a C program) and the pid it had."""
    tmp_path = tmp_path_factory.mktemp("sleepcore")

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    sleep = subprocess.Popen(["sleep", "60"], cwd=tmp_path, preexec_fn=limits)
    time.sleep(0.2)
    sleep.send_signal(signal.SIGSEGV)
    sleep.wait()
    assert sleep.returncode == -signal.SIGSEGV
    cores = sorted(tmp_path.glob("core*"))
    if not cores:
        pytest.skip("no core written (kernel.core_pattern = %s)" %
                    pathlib.Path("/proc/sys/kernel/core_pattern").read_text().strip())
    return cores[0], sleep.pid


@pytest.mark.parametrize("variant", [gotargets.Variant(), gotargets.Variant(pie=True, cgo=True)],
                         ids=lambda v: v.name)
@pytest.mark.parametrize("tc", gotargets.toolchains(), ids=lambda t: t.name)
def test_core_of_another_program(goperf, sleep_core, tc, variant):
    """A core of /usr/bin/sleep given with a Go binary: the error names whose core it is (NT_FILE, NT_PRPSINFO),
    whether the Go binary carries a GNU build id to compare (external linking, Go 1.2x) or only Go's."""
    core, pid = sleep_core
    go = gotargets.build("hello", tc, variant)
    sleep_path = os.path.realpath(shutil.which("sleep"))  # NT_FILE holds the path the kernel resolved
    one_line(run(goperf, "core", str(go), str(core)), 1,
             f"{core} is a core of {sleep_path} (pid {pid}: sleep 60), not of {go}: ", "build id", "--force")
