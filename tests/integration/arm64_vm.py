"""An emulated arm64 machine for goperf's arm64 tests: Debian's arm64 cloud kernel under
qemu-system-aarch64 -M virt (TCG), booted from an initramfs built here from busybox-static:arm64, the arm64
goperf and the files a test hands in. One boot runs a list of shell commands and returns, for each, its
exit status, stdout and stderr, plus the files asked for, over the serial console (the cloud kernel has
no 9p; virtio-pci is a module): every payload is base64 between marker lines, so kernel messages and
the console's line endings cannot corrupt it.

scripts/arm64-kernel fetches the kernel and busybox (into build-arm64/vm); scripts/arm64-vm runs commands
from the command line with this module.
"""
import base64
import dataclasses
import gzip
import os
import pathlib
import re
import shutil
import stat
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
ARM64_BUILD = pathlib.Path(os.environ.get("GOPERF_ARM64_BUILD_DIR", REPO / "build-arm64"))
VM_DIR = ARM64_BUILD / "vm"
QEMU = "qemu-system-aarch64"
# A guest clock that follows the instructions executed (QEMU's docs, "-icount"): one instruction every 2^0 ns
# of guest time, a CPU of 1 GIPS; sleep=off makes the clock jump to the next timer when the CPU idles, in
# place of waiting in host time. Guest times are then the same on a loaded host as on an idle one.
ICOUNT = "shift=0,sleep=off"

# /init: mounts what goperf needs (proc, sysfs, devtmpfs, debugfs, tracefs, bpffs), lets cores be written
# to /tmp, reports that user space is up, runs /job.sh and powers off. `run` and `fetch` are what
# job.sh calls; each result is framed by @@@ lines and base64-encoded.
INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /sbin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ip link set lo up
echo '/tmp/core.%p' > /proc/sys/kernel/core_pattern
ulimit -c unlimited
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp TMPDIR=/tmp
echo "@@@UP $(cut -d' ' -f1 /proc/uptime)"
run() {
  name=$1; shift
  t0=$(cut -d' ' -f1 /proc/uptime)
  sh -c "$*" >/tmp/.out 2>/tmp/.err </dev/null
  rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  echo "@@@BEGIN $name $rc $t0 $t1"
  base64 /tmp/.out
  echo "@@@ERR"
  base64 /tmp/.err
  echo "@@@END"
}
fetch() {
  echo "@@@FILE $1"
  [ -f "$2" ] && gzip -c "$2" | base64
  echo "@@@END"
}
cd /tmp
. /job.sh
echo "@@@DONE"
poweroff -f
"""


@dataclasses.dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    seconds: float   # guest time the command took (from /proc/uptime)


@dataclasses.dataclass
class Boot:
    results: dict          # name -> Result
    files: dict            # name -> bytes (empty when the guest had no such file)
    boot_seconds: float    # guest uptime when /init started (kernel boot to user space)
    wall_seconds: float    # host time from qemu's start to its exit
    console: str


def missing():
    """Why the emulated machine cannot run here (a piece scripts/setup provides is absent), or None."""
    if not shutil.which(QEMU):
        return f"{QEMU} is not installed (Debian package qemu-system-arm)"
    for f in ("vmlinuz", "busybox"):
        if not (VM_DIR / f).exists():
            return f"{VM_DIR / f} is missing (scripts/arm64-kernel fetches it)"
    if not (ARM64_BUILD / "goperf").exists():
        return f"{ARM64_BUILD / 'goperf'} is missing (scripts/setup cross-builds it)"
    return None


def _newc(entries):
    """A cpio archive in the kernel's initramfs format (newc): entries are (path, mode, data)."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        raw = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0, 0, 0, len(raw), 0)
        out += b"070701" + "".join(f"{v:08x}" for v in fields).encode() + raw
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def build_initramfs(files, job, out):
    """Writes an initramfs to `out`: busybox, /init, /job.sh and `files` (guest path -> host path)."""
    entries, dirs = [], set()

    def add_dirs(path):
        parts = pathlib.PurePosixPath(path).parts[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, stat.S_IFDIR | 0o755, b""))

    def add(path, data, mode=0o755):
        path = path.lstrip("/")
        add_dirs(path)
        entries.append((path, stat.S_IFREG | mode, data))

    add("bin/busybox", (VM_DIR / "busybox").read_bytes())
    add("init", INIT.encode())
    add("job.sh", job.encode())
    for guest, host in files.items():
        add(guest, pathlib.Path(host).read_bytes())
    # Uncompressed: under emulation the kernel's gunzip costs more than copying the larger archive.
    pathlib.Path(out).write_bytes(_newc(entries))


def shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def job_script(commands, fetches=()):
    """commands: (name, shell command) pairs; fetches: (name, guest path) pairs, read after the commands."""
    lines = [f"run {name} {shell_quote(cmd)}" for name, cmd in commands]
    lines += [f"fetch {name} {shell_quote(path)}" for name, path in fetches]
    return "\n".join(lines) + "\n"


def _parse(console):
    results, files, boot = {}, {}, None
    lines = [line.rstrip("\r") for line in console.split("\n")]
    i = 0
    b64 = re.compile(r"^[A-Za-z0-9+/=]+$")

    def payload(j, stop):
        chunk = []
        while j < len(lines) and lines[j] not in stop:
            if b64.match(lines[j]):
                chunk.append(lines[j])
            j += 1
        return base64.b64decode("".join(chunk)), j

    while i < len(lines):
        line = lines[i]
        if line.startswith("@@@UP "):
            boot = float(line.split()[1])
        elif line.startswith("@@@BEGIN "):
            _, name, rc, t0, t1 = line.split()
            out, i = payload(i + 1, ("@@@ERR",))
            err, i = payload(i + 1, ("@@@END",))
            results[name] = Result(int(rc), out.decode(errors="replace"), err.decode(errors="replace"),
                                   float(t1) - float(t0))
        elif line.startswith("@@@FILE "):
            name = line.split()[1]
            data, i = payload(i + 1, ("@@@END",))
            files[name] = gzip.decompress(data) if data else b""
        i += 1
    return results, files, boot


def boot(files, commands, fetches=(), timeout=900, memory_mb=1024, workdir=None, icount=None):
    """Boots the machine once, runs `commands` in order and returns a Boot.

    icount: QEMU's -icount suboptions (e.g. ICOUNT), for a machine whose clock counts the instructions it
    executes instead of following the host's: timings there do not depend on the host's load."""
    workdir = pathlib.Path(workdir or VM_DIR)
    initrd = workdir / f"initramfs-{os.getpid()}.cpio"
    build_initramfs(files, job_script(commands, fetches), initrd)
    # -cpu max,pauth-impdef=on: every arm64 feature, with QEMU's cheap pointer-authentication hash in place
    # of the architected QARMA (several times faster under TCG; Go code does not sign pointers).
    # One CPU: TCG runs each vCPU in its own host thread, and the tests share two host cores.
    args = [QEMU, "-M", "virt", "-cpu", "max,pauth-impdef=on", "-smp", "1", "-m", str(memory_mb),
            "-nographic", "-no-reboot", "-nic", "none", "-kernel", str(VM_DIR / "vmlinuz"),
            "-initrd", str(initrd), "-append", "console=ttyAMA0 quiet loglevel=1 panic=-1 rdinit=/init"]
    if icount:
        args += ["-icount", icount]
    start = time.monotonic()
    log = workdir / "console.log"  # written as the guest runs: where a slow or stuck job shows its progress
    try:
        with open(log, "wb") as out:
            proc = subprocess.run(args, stdout=out, stderr=subprocess.PIPE, timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        initrd.unlink(missing_ok=True)
    wall = time.monotonic() - start
    console = log.read_text(errors="replace")
    results, fetched, up = _parse(console)
    if up is None or "@@@DONE" not in console:
        raise RuntimeError(f"the arm64 machine did not finish its job (qemu status {proc.returncode}):\n"
                           f"{console[-4000:]}\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return Boot(results, fetched, up, wall, console)


# Guest shell snippets shared by the arm64 tests.
def wait_ready(out, tries=300):
    """Waits (0.1 s steps, at most `tries`) until the program started in the background writes "ready" to `out`."""
    return (f"i=0; until grep -q ready {out} 2>/dev/null || [ $i -ge {tries} ]; "
            "do sleep 0.1; i=$((i+1)); done; ")


def start_hang(binary, h):
    """Starts a hang target (GOTRACEBACK=all, so that SIGQUIT dumps every goroutine) in the background, its
    pid in h.pid, and waits until it is ready."""
    return (f"GOTRACEBACK=all {binary} 20 > {h}.out 2> {h}.err & echo $! > {h}.pid; "
            f"{wait_ready(h + '.out')}cat {h}.out")


def sigquit_dump(h):
    """The runtime's own dump of the target start_hang started: SIGQUIT, then its stderr once it is gone."""
    return f"pid=$(cat {h}.pid); kill -QUIT $pid; while kill -0 $pid 2>/dev/null; do sleep 0.01; done; cat {h}.err"


def record_attached(start, out, backend, seconds, profile):
    """Starts `start` in the background and records it with goperf once it is ready, then stops it; goperf's
    exit status. Attached, not started by goperf: a started child's first samples fall in its exec, before any
    Go code (as test_record_stacks does)."""
    return (f"{start} > {out} & pid=$!; {wait_ready(out)}"
            f"goperf record -v --backend {backend} -F 99 -d {seconds} -p $pid -o {profile}; "
            "rc=$?; kill $pid 2>/dev/null; wait $pid; exit $rc")
