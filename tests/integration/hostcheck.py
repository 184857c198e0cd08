"""What this host can do, decided from the host itself (never from goperf's own messages), and the one way
a test says that something it needs is missing.

Two kinds of missing piece:
- what `scripts/setup` installs (a Debian package, a Go toolchain, npm's playwright-core): in strict mode
  (GOPERF_STRICT=1, set by scripts/test unless the caller set it) its absence fails the test, since it
  means setup is broken; outside strict mode the test is skipped with the reason;
- what a machine truly lacks (root, BTF, kernel addresses, a sampleable tick): always a skip with the
  reason, in every mode.
"""
import os
import pathlib
import shutil

import pytest

STRICT = os.environ.get("GOPERF_STRICT", "0") == "1"


def missing_setup_piece(what):
    """A piece that scripts/setup provides is absent: fail in strict mode, skip otherwise."""
    message = f"{what} (scripts/setup installs it)"
    if STRICT:
        pytest.fail("strict mode (GOPERF_STRICT=1): " + message, pytrace=False)
    pytest.skip(message)


def require_tool(name, package):
    """The path of command `name`, which Debian's `package` provides and scripts/setup installs."""
    path = shutil.which(name)
    if not path:
        missing_setup_piece(f"{name} is not installed (Debian package {package})")
    return path


def require_file(path, package):
    p = pathlib.Path(path)
    if not p.exists():
        missing_setup_piece(f"{path} is missing (Debian package {package})")
    return p


def root_reason():
    return None if os.geteuid() == 0 else "needs root"


def ptrace_reason():
    """Why root cannot ptrace another process here (Yama's ptrace_scope 3 forbids it to everyone), or None."""
    if os.geteuid() != 0:
        return "needs root"
    try:
        scope = pathlib.Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        return None
    return "kernel.yama.ptrace_scope is 3: no process may be attached" if scope == "3" else None


def bpf_reason():
    """Why eBPF perf_event programs cannot be used here, or None."""
    if os.geteuid() != 0:
        return "needs root (CAP_BPF, CAP_PERFMON)"
    if not pathlib.Path("/sys/kernel/btf/vmlinux").exists():
        return "kernel without BTF (/sys/kernel/btf/vmlinux)"
    return None


def _kallsyms_address(names):
    """The first non-zero address of any of `names` in /proc/kallsyms (zero when addresses are hidden)."""
    try:
        with open("/proc/kallsyms") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] in names:
                    addr = int(parts[0], 16)
                    if addr:
                        return addr
    except OSError:
        return 0
    return 0


def tick_reason():
    """Why the scheduler tick cannot be sampled on this host, or None: kernel addresses hidden or no tick
    handler known, CPUs in nohz_full mode, or a CPU in low-resolution timer mode. The same facts goperf's
    unwind/tick_source.cpp reads, read here independently."""
    if os.geteuid() != 0:
        return "needs root to read kernel addresses"
    if not _kallsyms_address({"tick_nohz_handler", "tick_sched_timer"}):
        return "kernel addresses hidden or no tick handler in /proc/kallsyms"
    try:
        nohz = pathlib.Path("/sys/devices/system/cpu/nohz_full").read_text().strip()
    except OSError:
        nohz = ""
    if nohz and nohz != "(null)":
        return f"CPUs {nohz} run in nohz_full mode"
    try:
        timer_list = pathlib.Path("/proc/timer_list").read_text()
    except OSError:
        return "cannot read /proc/timer_list"
    for line in timer_list.splitlines():
        if ".hres_active" in line and line.split(":")[-1].strip() == "0":
            return "a CPU runs its timers in low-resolution mode"
    return None
