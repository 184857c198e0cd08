"""goperf core's header against the Go runtime as oracle: each crash target dies with GOTRACEBACK=crash, and the
panic lines goperf reads from the core (g._panic and its links) must equal the first lines the runtime printed on
stderr (printpanics), for every toolchain; a fatal error says its message is not in memory rather than guess;
the signal code is named as the kernel names it."""
import json

import pytest

import gotargets
from test_core import EXE, crash, run_core

PANIC_MODES = ["panic", "nil", "nilmap", "customerr", "nested", "repanic", "named"]


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


def runtime_crash_site(stderr):
    """The first frame of the first goroutine the runtime printed that is not the runtime's own:
    (function, file, line)."""
    lines = stderr.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("goroutine "))
    for name, loc in zip(lines[i + 1::2], lines[i + 2::2]):
        if not name or not loc.startswith("\t"):
            break
        func = name[:name.rindex("(")]
        if func == "panic" or func.startswith("runtime.") or func.startswith("internal/runtime/"):
            continue
        where = loc.strip().split(" ")[0]
        file, line = where.rsplit(":", 1)
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
@pytest.mark.parametrize("mode", ["mapwrite", "deadlock"])
def test_fatal_error_is_said_not_guessed(goperf, tc, mode, tmp_path):
    binary = gotargets.build("crash", tc, EXE)
    core, stderr = crash(binary, mode, tmp_path)
    assert "fatal error: " in stderr, stderr[:400]
    ours = json.loads(run_core(goperf, str(binary), str(core), "--format", "json").stdout)["header"]
    assert ours["panic"].startswith("fatal error: ") and "not kept in memory" in ours["panic"], ours
    assert "panic: " not in ours["panic"]
