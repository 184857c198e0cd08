"""goperf on a process whose executable's path no longer leads to the file it runs: the file deleted after the
start, replaced at the same path by another Go program (as a deploy or `apt upgrade` does: a new file renamed
over the old), or present only in the process's own mount namespace (a tmpfs mounted in an `unshare -m`).

Oracles, as for an untouched binary: the stacks the prof target makes by construction (test_record's
check_exact_stacks) for record with both backends, the runtime's SIGQUIT dump for snapshot, and the Go
toolchain (`go version -m`, `go tool buildid`, readelf's GNU build id) on a copy of the file the process
started from for info -p, doctor -p and the pprof mapping's build id. Every toolchain present, stripped
builds; also with goperf's CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE dropped, so that the file is reached
through /proc/PID/exe and /proc/PID/root (checked to be the mapped one) instead of /proc/PID/map_files."""
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

import gotargets
import hostcheck
import pprof_decode
import snapshot_dump
import test_record as rec
import test_snapshot
from test_doctor import doctor
from test_info import facts, version_m_block

TOOLCHAINS = gotargets.toolchains()
STRIPPED = gotargets.Variant()  # exe, no cgo, stripped
SCENARIOS = ["deleted", "replaced", "namespace"]
# Without these goperf cannot open /proc/PID/map_files (fs/proc/base.c, checkpoint_restore_ns_capable).
NO_MAP_FILES = ["setpriv", "--bounding-set=-sys_admin,-checkpoint_restore"]
# Started through the dynamic loader, a program is a mapped file that is not /proc/PID/exe (the loader is).
LOADER = "/lib64/ld-linux-x86-64.so.2"
CGO_SUFFIX = ("runtime.cgocall", "main._Cfunc_hot_loop", "main.hotC", "main.main", "runtime.main", "runtime.goexit")


def needs_root_and(*tools):
    """Skips without root (a machine's lack); fails in strict mode when a tool setup installs is missing."""
    reason = hostcheck.root_reason()
    if reason:
        pytest.skip(reason)
    for tool in tools:
        hostcheck.require_tool(tool, "util-linux")


class Running:
    """A copy of `binary` started as `path` in a scenario; stderr (the SIGQUIT dump) kept in a file.
    `original` stays a copy of the file it started from (the toolchain oracles read it)."""

    def __init__(self, binary, args, scenario, replacement=None, env=None, loader=None):
        if scenario == "namespace":
            needs_root_and("unshare")  # a tmpfs mounted in a new mount namespace
        self.dir = tempfile.mkdtemp(prefix="goperf-redeployed-")
        self.proc = None
        try:
            self._start(binary, args, scenario, replacement, env, loader)
        except BaseException:
            self.close()
            raise

    def _start(self, binary, args, scenario, replacement, env, loader):
        self.path = os.path.join(self.dir, "app")
        self.original = os.path.join(self.dir, "original")
        shutil.copy(binary, self.original)
        self.err = tempfile.TemporaryFile()
        env = {**os.environ, "GOTRACEBACK": "all", **(env or {})}
        if scenario == "namespace":
            # The tmpfs exists only in the target's namespace: here `path` is in an empty directory.
            os.mkdir(self.path + ".d")
            self.path = os.path.join(self.path + ".d", "app")
            script = f'mount -t tmpfs goperf-test "{os.path.dirname(self.path)}" && cp "{self.original}" "{self.path}" ' \
                     f'&& exec "{self.path}" "$@"'
            argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *args]
        else:
            shutil.copy(binary, self.path)
            argv = ([loader] if loader else []) + [self.path, *args]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, env=env, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready"), f"target did not start: {line!r}"
        self.pid = self.proc.pid
        if scenario == "deleted":
            os.unlink(self.path)
        elif scenario == "replaced":
            new = self.path + ".new"
            shutil.copy(replacement, new)
            os.replace(new, self.path)
        elif scenario == "namespace":
            assert not os.path.exists(self.path), "the tmpfs leaked out of the target's namespace"
        with open(f"/proc/{self.pid}/maps") as maps:
            assert self.path in maps.read(), "the target does not run the file the test placed"

    def sigquit_dump(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=120)
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def build_id(tc, path):
    """The build id goperf's pprof mappings carry: the GNU one (readelf) if present, else Go's."""
    notes = subprocess.run([hostcheck.require_tool("readelf", "binutils"), "-n", path], capture_output=True,
                           text=True, check=True).stdout
    gnu = re.search(r"Build ID: ([0-9a-f]+)", notes)
    return gnu.group(1) if gnu else tc.tool("tool", "buildid", path).strip()


def cases(scenarios=SCENARIOS):
    return [pytest.param(tc, s, id=f"{tc.name}-{s}") for tc in TOOLCHAINS for s in scenarios]


def record_backends():
    missing = hostcheck.bpf_reason()
    return [pytest.param("perf", id="perf"),
            pytest.param("bpf", id="bpf", marks=pytest.mark.skipif(missing is not None, reason=str(missing)))]


@pytest.mark.parametrize("backend", record_backends())
@pytest.mark.parametrize("tc,scenario", cases())
def test_record_names_frames_from_the_running_file(goperf, tmp_path, tc, scenario, backend):
    prof_bin = gotargets.build("prof", tc, STRIPPED)
    other = gotargets.build("hang", tc, STRIPPED)
    with Running(prof_bin, ["-mode", "inline", "-seconds", "30"], scenario, replacement=other) as t:
        out = tmp_path / "p.pb.gz"
        res = subprocess.run([goperf, "record", "-F", "999", "-d", "1.5", "--backend", backend,
                              "-p", str(t.pid), "-o", str(out)], capture_output=True, text=True, timeout=90)
        assert res.returncode == 0, res.stderr
        assert "frames are unknown" not in res.stderr and "not recorded" not in res.stderr, res.stderr
        prof = pprof_decode.load(out)
        rec.check_exact_stacks(prof, "inline")
        # The mapping keeps the name the process shows (without " (deleted)") and the build id of the file
        # it runs, not of the file now at that path.
        main = [m for m in prof.mappings.values() if prof.strings[m.get(5, 0)] == t.path]
        assert main, [prof.strings[m.get(5, 0)] for m in prof.mappings.values()]
        assert prof.strings[main[0].get(6, 0)] == build_id(tc, t.original)
        if backend == "bpf":
            assert any(s["labels"].get("goroutine") for s in prof.samples), "no goroutine ids"


@pytest.mark.parametrize("tc,scenario", cases())
def test_snapshot_equals_sigquit(goperf, tc, scenario):
    hang = gotargets.build("hang", tc, STRIPPED)
    other = gotargets.build("prof", tc, STRIPPED)
    with Running(hang, ["20"], scenario, replacement=other) as t:
        res = test_snapshot.snapshot(goperf, t.pid)
        ours = snapshot_dump.parse(res.stdout)
        oracle = snapshot_dump.parse(t.sigquit_dump())
    assert len(oracle) > 20, "the runtime's dump is missing"
    diffs = test_snapshot.compare(ours, oracle)
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("tc,scenario", cases())
def test_info_and_doctor_describe_the_running_program(goperf, tc, scenario):
    hang = gotargets.build("hang", tc, STRIPPED)
    other = gotargets.build("prof", tc, STRIPPED)
    with Running(hang, ["20"], scenario, replacement=other) as t:
        res = subprocess.run([goperf, "info", "-p", str(t.pid)], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        checks, _ = doctor(goperf, "-p", str(t.pid))
        want = tc.tool("version", "-m", t.original)
        go_build_id = tc.tool("tool", "buildid", t.original).strip()
        any_build_id = build_id(tc, t.original)
    block = version_m_block(res.stdout)
    assert block.split("\n", 1)[1] == want.split("\n", 1)[1]
    # A file renamed over it unlinks the old one too: the kernel shows both as " (deleted)".
    assert block.startswith(t.path + ("" if scenario == "namespace" else " (deleted)") + ": "), block
    assert facts(res.stdout)["go build id"] == go_build_id
    state, detail, _ = checks["executable"]
    go_version = want.split("\n", 1)[0].split(": ", 1)[1]
    assert state == "ok" and f"runs {t.path}" in detail and go_version in detail, detail
    assert any_build_id in detail, detail
    # The runtime layout goperf reads this version with (go1.19, 1.26 and 1.27 are measured from DWARF).
    minor = int(go_version.split("go1.")[1].split(".")[0])
    assert f"runtime layout Go 1.{minor}, measured" in detail, detail


def test_without_map_files(goperf, tmp_path):
    """The fallbacks: /proc/PID/exe for the executable, /proc/PID/root for libc (checked to be the mapped
    file by device and inode), on a cgo build replaced by another program; snapshot and record."""
    needs_root_and("setpriv")  # to drop CAP_SYS_ADMIN
    tc = TOOLCHAINS[-1]
    cgo = gotargets.Variant(cgo=True)
    hang = gotargets.build("hang", tc, cgo)
    prof_bin = gotargets.build("prof_cgo", tc, cgo)
    other = gotargets.build("prof", tc, STRIPPED)
    with Running(hang, ["20"], "replaced", replacement=other) as t:
        entry = f"/proc/{t.pid}/map_files/" + sorted(os.listdir(f"/proc/{t.pid}/map_files"))[0]
        probe = subprocess.run(NO_MAP_FILES + ["head", "-c", "1", entry], capture_output=True)
        assert probe.returncode != 0, "map_files still readable: the capability was not dropped"
        res = subprocess.run(NO_MAP_FILES + [goperf, "snapshot", "-p", str(t.pid)], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0, res.stderr
        ours = snapshot_dump.parse(res.stdout)
        oracle = snapshot_dump.parse(t.sigquit_dump())
    assert not test_snapshot.compare(ours, oracle)
    blocked = [g for g in ours.values() if "main.cgoBlocker" in g.functions()]
    assert blocked and any("sleep" in f.function for f in blocked[0].frames if f.is_c), "libc's frames unnamed"

    with Running(prof_bin, ["-seconds", "30"], "deleted") as t:
        out = tmp_path / "cgo.pb.gz"
        res = subprocess.run(NO_MAP_FILES + [goperf, "record", "-F", "999", "-d", "1.5", "--backend", "perf",
                                             "-p", str(t.pid), "-o", str(out)], capture_output=True, text=True,
                             timeout=90)
        assert res.returncode == 0, res.stderr
        assert "frames are unknown" not in res.stderr, res.stderr
    check_cgo_stacks(pprof_decode.load(out))


def check_cgo_stacks(prof):
    """prof_cgo's samples in C keep their callers down to runtime.goexit (as in test_record)."""
    in_c = complete = 0
    for stack, n in prof.stacks(skip_kernel=True):
        if "runtime.asmcgocall" in stack:
            in_c += n
            complete += n if stack[-len(CGO_SUFFIX):] == CGO_SUFFIX else 0
    assert in_c >= 50 and complete / in_c >= 0.95, f"{complete}/{in_c} cgo samples reach main.main"


def test_a_file_not_shown_to_be_the_mapped_one_is_never_used(goperf, tmp_path):
    """A program started through the dynamic loader and deployed over, with map_files out of reach: the
    file at its path now is another program, and nothing shows it is the one mapped. record and snapshot
    say so in one line naming each path tried, and name no frame from it; with map_files, the same
    process is named right."""
    needs_root_and("setpriv")
    hostcheck.require_file(LOADER, "libc6")
    tc = TOOLCHAINS[-1]
    cgo = gotargets.Variant(cgo=True)
    prof_bin = gotargets.build("prof_cgo", tc, cgo)
    other = gotargets.build("hang", tc, cgo)
    with Running(prof_bin, ["-seconds", "30"], "replaced", replacement=other, loader=LOADER) as t:
        out = tmp_path / "refused.pb.gz"
        argv = [goperf, "record", "-F", "999", "-d", "1", "--backend", "perf", "-p", str(t.pid), "-o", str(out)]
        res = subprocess.run(NO_MAP_FILES + argv, capture_output=True, text=True, timeout=90)
        assert res.returncode == 0, res.stderr
        said = [line for line in res.stderr.splitlines() if "its frames are unknown" in line]
        assert len(said) == 1, res.stderr
        for tried in (f"/proc/{t.pid}/map_files/", f"/proc/{t.pid}/root{t.path}: not the mapped file"):
            assert tried in said[0], said[0]
        names = {f for stack, _ in pprof_decode.load(out).stacks(skip_kernel=True) for f in stack}
        assert not any(n.startswith(("main.", "runtime.")) for n in names), sorted(names)[:10]

        snap = subprocess.run(NO_MAP_FILES + [goperf, "snapshot", "-p", str(t.pid)], capture_output=True, text=True,
                              timeout=60)
        assert snap.returncode == 1 and snap.stdout == "", snap.stdout[:200]
        assert len(snap.stderr.splitlines()) == 1 and "not the mapped file" in snap.stderr, snap.stderr

        res = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        assert res.returncode == 0 and "frames are unknown" not in res.stderr, res.stderr
        check_cgo_stacks(pprof_decode.load(out))
