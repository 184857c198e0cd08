"""goperf doctor against the kernel's own knobs: each line it prints must agree with /proc and with what the
kernel does when asked (perf_event_open, ptrace, core limits of a real process)."""
import ctypes
import os
import pathlib
import re
import resource
import subprocess
import time

import pytest

LINE_RE = re.compile(r"^(ok|warn|FIX)\s+(\S+)\s+(\S+(?: \S+)?)\s+(.*)$")


def doctor(goperf, *args):
    p = subprocess.run([goperf, "doctor", *args], capture_output=True, text=True, timeout=30)
    assert p.returncode in (0, 1) and p.stderr == "", p.stderr
    checks = {}
    lines = p.stdout.splitlines()
    for i, line in enumerate(lines):
        m = LINE_RE.match(line)
        if m:
            fix = lines[i + 1].split("->", 1)[1].strip() if i + 1 < len(lines) and "->" in lines[i + 1] else ""
            checks[m.group(3).strip()] = (m.group(1), m.group(4), fix)
    # Exit status 1 exactly when some check says FIX.
    assert p.returncode == (1 if any(c[0] == "FIX" for c in checks.values()) else 0), p.stdout
    return checks, p.stdout


@pytest.fixture
def sleeper():
    procs = []

    def start(core_limit=None):
        def pre():
            if core_limit is not None:
                resource.setrlimit(resource.RLIMIT_CORE, (core_limit, resource.RLIM_INFINITY))
        p = subprocess.Popen(["sleep", "60"], preexec_fn=pre)
        procs.append(p)
        time.sleep(0.05)
        return p
    yield start
    for p in procs:
        p.kill()
        p.wait()


def test_perf_checks_agree_with_kernel(goperf):
    checks, out = doctor(goperf)
    level = int(pathlib.Path("/proc/sys/kernel/perf_event_paranoid").read_text())
    state, detail, _ = checks["perf_event_paranoid"]
    assert f"= {level}" in detail, out
    # The software clock is what goperf record falls back to; the kernel here allows it (we run as root).
    assert checks["software events"][0] == ("ok" if os.geteuid() == 0 else checks["software events"][0])
    hw = subprocess.run(["perf", "stat", "-e", "cycles", "-x,", "true"], capture_output=True, text=True)
    if hw.returncode == 0 and "not supported" not in hw.stderr and "not counted" not in hw.stderr:
        assert checks["hardware events"][0] == "ok", out
    else:
        assert checks["hardware events"][0] == "warn" and "cpu-clock" in checks["hardware events"][2], out


def test_bpf_and_ptrace_checks(goperf):
    checks, out = doctor(goperf)
    btf = pathlib.Path("/sys/kernel/btf/vmlinux").exists()
    # Without BTF record falls back to the perf backend: a warning, not a FIX.
    assert checks["BTF"][0] == ("ok" if btf else "warn"), out
    scope = pathlib.Path("/proc/sys/kernel/yama/ptrace_scope")
    if scope.exists():
        assert f"= {int(scope.read_text())}" in checks["ptrace_scope"][1], out
    if os.geteuid() == 0:
        assert checks["CAP_SYS_PTRACE"][0] == "ok" and checks["CAP_BPF"][0] == "ok", out


def test_core_limit_of_a_process(goperf, sleeper):
    off = sleeper(core_limit=0)
    checks, out = doctor(goperf, "-p", str(off.pid))
    state, detail, fix = checks["RLIMIT_CORE"]
    assert state == "FIX" and f"prlimit --pid {off.pid} --core=unlimited" in fix, out
    on = sleeper(core_limit=resource.RLIM_INFINITY)
    checks, out = doctor(goperf, "-p", str(on.pid))
    assert checks["RLIMIT_CORE"][0] == "ok", out
    pattern = pathlib.Path("/proc/sys/kernel/core_pattern").read_text().strip()
    assert pattern in checks["core_pattern"][1] or "systemd-coredump" in checks["core_pattern"][1], out


def test_coredump_filter_without_anonymous_memory(goperf, sleeper):
    p = sleeper()
    pathlib.Path(f"/proc/{p.pid}/coredump_filter").write_text("0x30")
    checks, out = doctor(goperf, "-p", str(p.pid))
    state, _, fix = checks["coredump_filter"]
    assert state == "FIX" and f"echo 0x33 > /proc/{p.pid}/coredump_filter" in fix, out


def test_already_traced_process(goperf, sleeper):
    p = sleeper()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, p.pid, None, None) != 0:  # PTRACE_ATTACH
        pytest.skip("ptrace attach not permitted here: errno %d" % ctypes.get_errno())
    try:
        os.waitpid(p.pid, 0)
        checks, out = doctor(goperf, "-p", str(p.pid))
        state, detail, _ = checks["TracerPid"]
        assert state == "FIX" and f"traced by PID {os.getpid()}" in detail, out
    finally:
        libc.ptrace(17, p.pid, None, None)  # PTRACE_DETACH
    checks, out = doctor(goperf, "-p", str(p.pid))
    assert checks["TracerPid"][0] == "ok", out


def test_missing_process(goperf):
    p = subprocess.run([goperf, "doctor", "-p", "999999999"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "process 999999999 does not exist" in p.stderr


def test_scheduler_tick_check_agrees_with_kallsyms_and_config(goperf):
    """The tick can carry samples where kallsyms shows its handler's address; its rate is CONFIG_HZ."""
    checks, out = doctor(goperf)
    state, detail, _ = checks["scheduler tick"]
    names = {}
    with open("/proc/kallsyms") as f:
        for line in f:
            addr, _type, name = line.split()[:3]
            if name in ("tick_nohz_handler", "tick_sched_timer"):
                names[name] = int(addr, 16)
    if names and all(names.values()):
        assert state == "ok", out
        config = pathlib.Path("/proc/config.gz")
        if config.exists():
            import gzip
            hz = re.search(r"^CONFIG_HZ=(\d+)$", gzip.decompress(config.read_bytes()).decode(), re.M)
            assert hz and f"({hz.group(1)} Hz)" in detail, out
    else:
        assert state == "warn", out
