"""goperf record as users of perf, py-spy and pprof expect it (issue 15): the output's extension chooses the
format, --user-only and event modifiers, durations with units, the warning above 1 kHz, why a recording is
empty, a program started by goperf ends with it, a root frame per process, kernel frames under a [kernel]
mapping drawn in the kernel's colour, and -q printing nothing on success.

Oracles: the target's own code (tests/targets/prof: known stacks, a syscall loop whose kernel time the kernel
reports), the kernel's process table (/proc) for what happened to the program, and pprof_decode (a protobuf
reader independent of goperf) for the files."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import gotargets  # noqa: E402
import hostcheck  # noqa: E402
import pprof_decode  # noqa: E402

TC = (gotargets.toolchains() or [None])[-1]


@pytest.fixture(scope="module")
def prof_exe():
    if TC is None:
        hostcheck.missing_setup_piece("no Go toolchain found")
    return gotargets.build("prof", TC, gotargets.Variant())


@pytest.fixture(autouse=True)
def needs_root():
    if (why := hostcheck.root_reason()):
        pytest.skip(why)


def record(goperf, *args, timeout=60, cwd=None):
    return subprocess.run([goperf, "record", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def one_error_line(res):
    lines = [line for line in res.stderr.splitlines() if "no hardware cycles" not in line]
    return res.returncode == 1 and len(lines) == 1 and lines[0].startswith("goperf record: ")


def kernel_frames(prof):
    return sum(n for s in prof.samples for lid in s["locs"] if prof.is_kernel(lid) for n in [s["values"][0]])


def svg_kinds(svg_text):
    """{frame name: set of kinds} from the SVG's data (names, n, k; k & 7 is flamegraph::FrameKind)."""
    names = json.loads("[" + re.search(r"\nnames:\[(.*?)\],\nn:\[", svg_text, re.S).group(1) + "]")
    n = [int(v) for v in re.search(r"\nn:\[([^\]]*)\]", svg_text).group(1).split(",")]
    k = [int(v) for v in re.search(r"\nk:\[([^\]]*)\]", svg_text).group(1).split(",")]
    out = {}
    for i, name in enumerate(n):
        out.setdefault(names[name], set()).add(k[i] & 7)
    return out


KIND_KERNEL, KIND_NATIVE = 4, 3


# --- the output's extension ---------------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["svg", "folded", "txt"])
def test_extension_chooses_the_format_and_keeps_the_pprof_beside(goperf, prof_exe, tmp_path, ext):
    out = tmp_path / f"x.{ext}"
    res = record(goperf, "-F", 499, "-o", out, "--", prof_exe, "-mode", "inline", "-seconds", "1")
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    if ext == "svg":
        assert text.startswith("<?xml") and "<svg" in text and "main.leaf" in text
    elif ext == "folded":
        assert all(re.fullmatch(r".+ \d+", line) for line in text.splitlines()) and "main.leaf" in text
    else:
        assert "flat%" in text and "main.leaf" in text
    beside = tmp_path / "x.pb.gz"
    prof = pprof_decode.load(beside)
    assert sum(n for _, n in prof.stacks()) > 0
    assert f"wrote {out}" in res.stderr and str(beside) in res.stderr, res.stderr


def test_unknown_extension_is_one_line_before_anything_runs(goperf, prof_exe, tmp_path):
    marker = tmp_path / "ran"
    res = record(goperf, "-o", tmp_path / "x.jpeg", "--", "sh", "-c", f"touch {marker}")
    assert one_error_line(res) and "x.jpeg" in res.stderr, res.stderr
    time.sleep(0.2)
    assert not marker.exists(), "the command ran although the output was refused"
    assert not (tmp_path / "x.jpeg").exists()


# --- user-only ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["perf", "bpf"])
def test_user_only_leaves_the_kernel_out(goperf, prof_exe, tmp_path, backend):
    if backend == "bpf" and (why := hostcheck.bpf_reason()):
        pytest.skip(why)
    base = ["--backend", backend, "-F", 999, "--", prof_exe, "-mode", "syscall", "-seconds", "1.5"]
    res = record(goperf, "-o", tmp_path / "all.pb.gz", *base)
    assert res.returncode == 0, res.stderr
    # The control: the same program recorded in full spends a share of its samples in the kernel.
    assert kernel_frames(pprof_decode.load(tmp_path / "all.pb.gz")) > 0
    for how in (["--user-only"], ["-e", "cpu-clock:u"]):
        out = tmp_path / f"user{len(how)}.pb.gz"
        res = record(goperf, "-o", out, *how, *base)
        assert res.returncode == 0, res.stderr
        prof = pprof_decode.load(out)
        assert sum(n for _, n in prof.stacks()) > 0, how
        assert kernel_frames(prof) == 0, how
        assert "user only" in res.stderr, res.stderr


@pytest.mark.parametrize("event", ["cpu-clock:k", "cpu-clock:p", "cycles:H"])
def test_event_modifiers_goperf_cannot_honour_are_refused(goperf, event):
    res = record(goperf, "-e", event, "--", "true")
    assert one_error_line(res) and ("modifier" in res.stderr or "kernel-only" in res.stderr), res.stderr


# --- durations, rate ------------------------------------------------------------------------------------

def test_durations_take_units(goperf, prof_exe, tmp_path):
    target = subprocess.Popen([str(prof_exe), "-mode", "inline", "-seconds", "20"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().startswith("ready")
        for text, seconds in (("500ms", 0.5), ("1s", 1.0), ("1", 1.0)):
            res = record(goperf, "-p", target.pid, "-d", text, "-o", tmp_path / "d.pb.gz")
            assert res.returncode == 0, res.stderr
            took = float(re.search(r"duration elapsed after ([\d.]+)s", res.stderr).group(1))
            assert seconds - 0.05 <= took <= seconds + 0.5, (text, res.stderr)
            duration = pprof_decode.load(tmp_path / "d.pb.gz").duration / 1e9
            assert seconds - 0.05 <= duration <= seconds + 0.5, text
    finally:
        target.kill()
        target.wait()
    for bad in ("1x", "-1s", "1m30", "s"):
        res = record(goperf, "-d", bad, "--", "true")
        assert one_error_line(res) and "duration" in res.stderr, (bad, res.stderr)


def test_a_rate_above_1khz_is_warned_about(goperf, prof_exe, tmp_path):
    max_rate = int(pathlib.Path("/proc/sys/kernel/perf_event_max_sample_rate").read_text())
    if max_rate < 2000:
        pytest.skip(f"kernel.perf_event_max_sample_rate is {max_rate} here")
    res = record(goperf, "-F", 2000, "-o", tmp_path / "f.pb.gz", "--", prof_exe, "-mode", "inline", "-seconds", "0.3")
    assert res.returncode == 0, res.stderr
    warning = [line for line in res.stderr.splitlines() if "above 1 kHz" in line]
    assert len(warning) == 1 and f"perf_event_max_sample_rate={max_rate}" in warning[0], res.stderr
    res = record(goperf, "-F", 999, "-o", tmp_path / "f.pb.gz", "--", prof_exe, "-mode", "inline", "-seconds", "0.3")
    assert "above 1 kHz" not in res.stderr


# --- empty recordings -----------------------------------------------------------------------------------

def test_an_empty_recording_says_why(goperf, tmp_path):
    symbols = gotargets.build("symbols", TC, gotargets.Variant())
    idle = subprocess.Popen([str(symbols), "wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    busy = None
    try:
        assert idle.stdout.readline() == "ready\n"
        res = record(goperf, "-p", idle.pid, "-d", "1", "-o", tmp_path / "idle.pb.gz")
        assert res.returncode == 0, res.stderr
        assert "no samples" in res.stderr and "idle" in res.stderr, res.stderr
        # A shell that waits for the program doing the work: the wrong process, and goperf names the right one.
        prof = gotargets.build("prof", TC, gotargets.Variant())
        busy = subprocess.Popen(["sh", "-c", f"{prof} -mode inline -seconds 5; true"], stdout=subprocess.PIPE, text=True)
        assert busy.stdout.readline().startswith("ready")
        child = int(pathlib.Path(f"/proc/{busy.pid}/task/{busy.pid}/children").read_text().split()[0])
        res = record(goperf, "-p", busy.pid, "-d", "1", "-o", tmp_path / "sh.pb.gz")
        assert res.returncode == 0, res.stderr
        assert "no samples" in res.stderr and f"record -p {child}" in res.stderr, res.stderr
    finally:
        idle.stdin.close()
        idle.wait(timeout=10)
        if busy:
            busy.kill()
            busy.wait()
    hello = gotargets.build("hello", TC, gotargets.Variant())
    res = record(goperf, "-F", 99, "-o", tmp_path / "hello.pb.gz", "--", hello)
    assert res.returncode == 0, res.stderr
    assert "no samples" in res.stderr and "exited after" in res.stderr and "exit status 0" in res.stderr, res.stderr


# --- a program started by goperf ends with it -----------------------------------------------------------

def gone(pid, within=5.0):
    """Whether pid is dead (gone, or a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_the_program_ends_with_goperf(goperf, prof_exe, tmp_path, sig):
    # A session of its own: the signal reaches goperf alone, as from kill(1), not the terminal's group.
    rec = subprocess.Popen([goperf, "record", "-F", "99", "-o", str(tmp_path / "c.pb.gz"), "--", str(prof_exe),
                            "-mode", "inline", "-seconds", "60"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert rec.stdout.readline().startswith("ready")
        children = pathlib.Path(f"/proc/{rec.pid}/task/{rec.pid}/children").read_text().split()
        assert len(children) == 1
        child = int(children[0])
        time.sleep(0.5)
        rec.send_signal(sig)
        rec.wait(timeout=20)
        assert gone(child), f"the program outlived goperf after {sig.name}"
        if sig != signal.SIGKILL:
            assert rec.returncode == 0, rec.stderr.read()
            assert pprof_decode.load(tmp_path / "c.pb.gz").samples
    finally:
        rec.kill()
        rec.wait()


# --- several processes, kernel frames -------------------------------------------------------------------

def test_a_root_frame_per_process(goperf, prof_exe, tmp_path):
    targets = [subprocess.Popen([str(prof_exe), "-mode", m, "-seconds", "3"], stdout=subprocess.PIPE, text=True)
               for m in ("inline", "recursion")]
    try:
        for t in targets:
            assert t.stdout.readline().startswith("ready")
        want = {f"{pathlib.Path(f'/proc/{t.pid}/comm').read_text().strip()} ({t.pid})": {t.pid} for t in targets}
        out = tmp_path / "two.pb.gz"
        res = record(goperf, "-F", 499, "-d", "1.5", "-p", ",".join(str(t.pid) for t in targets), "-o", out)
        assert res.returncode == 0, res.stderr
        prof = pprof_decode.load(out)
        roots = {}
        for s in prof.samples:
            names = prof.frames(s["locs"][-1])
            roots.setdefault(names[0], set()).add(s["labels"]["pid"])
        assert roots == want
    finally:
        for t in targets:
            t.wait(timeout=20)


def test_kernel_frames_have_a_mapping_an_address_and_the_kernel_colour(goperf, prof_exe, tmp_path):
    if not hostcheck._kallsyms_address(["do_syscall_64"]):
        pytest.skip("kernel addresses hidden in /proc/kallsyms")
    out = tmp_path / "k.svg"
    res = record(goperf, "--backend", "perf", "-F", 999, "-o", out, "--", prof_exe, "-mode", "syscall", "-seconds", "1.5")
    assert res.returncode == 0, res.stderr
    prof = pprof_decode.load(tmp_path / "k.pb.gz")
    kernel = [lid for lid in prof.locations if prof.is_kernel(lid)]
    assert kernel, "no kernel frames recorded"
    for lid in kernel:
        loc = prof.locations[lid]
        assert loc["address"] >= 0xffff800000000000, hex(loc["address"])
        assert prof.strings[prof.mappings[loc["mapping"]][5]] == "[kernel]"
    names = {n for lid in kernel for n in prof.frames(lid)}
    kinds = svg_kinds(out.read_text())
    assert any(n.startswith("entry_SYSCALL_64") or n == "do_syscall_64" for n in names), names
    for name in names:
        assert kinds.get(name, {KIND_KERNEL}) == {KIND_KERNEL}, (name, kinds.get(name))
    # The same through report, from the pprof.
    svg = subprocess.run([goperf, "report", "-i", tmp_path / "k.pb.gz", "-o", "-", "--format", "svg"],
                         capture_output=True, text=True, check=True).stdout
    assert svg_kinds(svg)["do_syscall_64"] == {KIND_KERNEL}


# --- -q -------------------------------------------------------------------------------------------------

def test_quiet_prints_nothing_on_success(goperf, prof_exe, tmp_path):
    res = record(goperf, "-q", "-F", 2000, "-o", tmp_path / "q.svg", "--", prof_exe, "-mode", "inline", "-seconds", "0.5")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    res = subprocess.run([goperf, "report", "-q", "-i", tmp_path / "q.pb.gz", "-o", tmp_path / "r.svg"],
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    res = record(goperf, "-q", "-p", "999999999")
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
