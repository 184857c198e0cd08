"""goperf core's header against the Go runtime as oracle: each crash target dies with GOTRACEBACK=crash, and the
panic lines goperf reads from the core (g._panic and its links) must equal the first lines the runtime printed on
stderr (printpanics), for every toolchain; a fatal error's lines (read from throw's or fatal's closure on the
crashing thread's stack) must equal the runtime's "fatal error: ..." lines, and when that closure is damaged the
header says the message is not in memory rather than guess; the signal code is named as the kernel names it."""
import json
import struct

import pytest

import gotargets
from symbol_oracles import go_nm
from test_core import CGO, EXE, crash, run_core

PANIC_MODES = ["panic", "nil", "nilmap", "customerr", "nested", "repanic", "named"]
# Fatal errors: throw/fatal from the map code, the scheduler's checkdead (on g0, no goroutine), package sync
# (runtime.fatal through go:linkname), and sync's fatal in a deferred call while a panic runs (1.26 and 1.27
# print the panic first, then a tab and the fatal error).
FATAL_MODES = ["mapwrite", "deadlock", "unlock", "unlockpanic"]
NOT_KEPT = "fatal error: (message not kept in memory"


def runtime_panic_lines(stderr):
    """The runtime's printpanics output and the "[signal ...]" line dopanic_m prints after it for a panic
    that came from a signal: from the first "panic: " line up to the blank line."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("panic: "))
    out = []
    for line in lines[start:]:
        if not line:
            break
        out.append(line)
    return out


def runtime_first_lines(stderr):
    """What the runtime printed before its first blank line: the panic or fatal error lines and dopanic_m's
    "[signal ...]" line."""
    out = []
    for line in stderr.splitlines():
        if not line:
            break
        out.append(line)
    return out


def runtime_own(func, file):
    """The runtime's own frames: its package and internal/runtime/*, gopanic ("panic"), and what it defines for
    other packages by go:linkname (sync.fatal), whose file is in package runtime's directory."""
    return (func == "panic" or func.startswith("runtime.") or func.startswith("internal/runtime/")
            or file.rsplit("/", 1)[0].endswith("/src/runtime") or file.rsplit("/", 1)[0] == "runtime")


def runtime_crash_site(stderr):
    """The first frame of the first goroutine the runtime printed that is not the runtime's own:
    (function, file, line)."""
    lines = stderr.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("goroutine "))
    for name, loc in zip(lines[i + 1::2], lines[i + 2::2]):
        if not name or not loc.startswith("\t"):
            break
        func = name[:name.rindex("(")]
        where = loc.strip().split(" ")[0]
        file, line = where.rsplit(":", 1)
        if runtime_own(func, file):
            continue
        return func, file, int(line)
    return None


@pytest.mark.parametrize("tc", gotargets.toolchains(), ids=lambda t: t.name)
@pytest.mark.parametrize("mode", PANIC_MODES)
def test_panic_header_equals_runtime(goperf, tc, mode, tmp_path):
    binary = gotargets.build("crash", tc, EXE)
    core, stderr = crash(binary, mode, tmp_path)
    want = runtime_panic_lines(stderr)
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)["header"]
    assert ours["panic"].splitlines() == want, (ours["panic"], stderr[:600])
    text = run_core(goperf, str(binary), str(core)).stdout
    assert "\n" + "\n".join(want) + "\n" in text, text[:600]
    # The runtime's crash() ends the process with SIGABRT sent by tgkill.
    assert ours["signal_name"] == "SIGABRT" and ours["signal_code_name"] == "SI_TKILL", ours
    assert "code=SI_TKILL" in text
    # The program's own frame where it happened, as the runtime's traceback of the panicking goroutine shows it.
    func, file, line = runtime_crash_site(stderr)
    site = ours["crash_site"]
    assert (site["function"], site["file"], site["line"]) == (func, file, line), (site, stderr[:800])
    assert f"\nin: {func} at {file}:{line}\n" in text


@pytest.mark.parametrize("tc", gotargets.toolchains(), ids=lambda t: t.name)
@pytest.mark.parametrize("mode", FATAL_MODES)
def test_fatal_error_equals_runtime(goperf, tc, mode, tmp_path):
    binary = gotargets.build("crash", tc, EXE)
    core, stderr = crash(binary, mode, tmp_path)
    want = runtime_first_lines(stderr)
    assert any(line.lstrip("\t").startswith("fatal error: ") for line in want), stderr[:400]
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)["header"]
    got = ours["panic"].splitlines()
    if mode == "mapwrite" and len(want) > 1 and len(set(want)) == 1:
        # Both racing writers may throw at once (fatal takes printlock only in 1.26 and 1.27): the runtime prints the
        # line once per writer; the core holds the closure of the thread that aborted.
        want = want[:1]
    assert got == want, (ours["panic"], stderr[:600])
    assert ours["signal_name"] == "SIGABRT" and ours["signal_code_name"] == "SI_TKILL", ours
    text = run_core(goperf, str(binary), str(core)).stdout
    assert "\n" + "\n".join(want) + "\n" in text, text[:600]
    site = runtime_crash_site(stderr) if mode != "deadlock" else None
    if site is not None:
        got_site = ours["crash_site"]
        assert (got_site["function"], got_site["file"], got_site["line"]) == site, (got_site, stderr[:800])


@pytest.mark.parametrize("tc", gotargets.toolchains(), ids=lambda t: t.name)
def test_unexpected_signal_in_c(goperf, tc, tmp_path):
    """A SIGSEGV in C code called through cgo: Go 1.19 throws "unexpected signal during runtime execution" from
    sigpanic (then dopanic_m prints the [signal ...] line); later releases print the signal without a fatal
    error, and the header must then claim none."""
    binary = gotargets.build("crash_cgo", tc, CGO)
    core, stderr = crash(binary, None, tmp_path)
    want = runtime_first_lines(stderr)
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)["header"]
    if want[0].startswith("fatal error: "):
        assert ours["panic"].splitlines() == want, (ours["panic"], stderr[:600])
    else:
        assert "fatal error" not in ours["panic"] and "fatal error" not in stderr.split("\n\n")[0], (ours, stderr[:400])


def damage(core, entries, how):
    """Rewrites the core's copy of each throw/fatal closure (a word equal to the closure's entry): `fn` zeroes
    that word, `string` fills the three words after it (the captured p and s) with ones. Returns how many."""
    data = bytearray(core.read_bytes())
    count = 0
    for entry in entries:
        needle = struct.pack("<Q", entry)
        at = data.find(needle)
        while at >= 0:
            if how == "fn":
                data[at:at + 8] = bytes(8)
            else:
                data[at + 8:at + 32] = b"\xff" * 24
            count += 1
            at = data.find(needle, at + 8)
    core.write_bytes(bytes(data))
    return count


@pytest.mark.parametrize("tc", gotargets.toolchains(), ids=lambda t: t.name)
@pytest.mark.parametrize("how", ["fn", "string"])
def test_fatal_error_is_said_not_guessed(goperf, tc, how, tmp_path):
    """With the closure damaged in the core the message cannot be read soundly: the header says so and prints
    no other message."""
    binary = gotargets.build("crash", tc, gotargets.Variant(pie=False, cgo=False, stripped=False))
    core, stderr = crash(binary, "unlock", tmp_path)
    assert stderr.startswith("fatal error: sync: unlock of unlocked mutex"), stderr[:400]
    before = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)["header"]
    assert before["panic"] == "fatal error: sync: unlock of unlocked mutex\n", before
    closures = ("runtime.throw.func1", "runtime.fatal.func1")
    entries = [addr for addr, _size, name in go_nm(tc, binary) if name in closures]
    assert len(entries) == 2, entries
    assert damage(core, entries, how) >= 1
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)["header"]
    assert ours["panic"].startswith(NOT_KEPT) and ours["panic"].count("\n") == 1, ours
    assert "panic: " not in ours["panic"] and "unlock" not in ours["panic"]
