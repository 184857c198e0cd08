"""Shared fixtures for goperf's integration tests: paths to the goperf binary and the build directory."""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", REPO / "build"))
GOPERF = BUILD / "goperf"


@pytest.fixture(scope="session")
def goperf():
    if not GOPERF.exists():
        pytest.fail(f"{GOPERF} is missing: run scripts/setup first")
    return str(GOPERF)


# Sanitizer reports of goperf itself (scripts/test runs a subset with the ASan+UBSan build): ASAN_OPTIONS'
# log_path writes each ASan and LeakSanitizer report to a file in GOPERF_SANITIZER_LOG_DIR, and any file that
# appears during a test fails it, also where the test does not look at goperf's exit status or stderr (a
# recording stopped by a signal, a command expected to fail).
SANITIZER_LOGS = os.environ.get("GOPERF_SANITIZER_LOG_DIR")


@pytest.fixture(autouse=True)
def no_sanitizer_report():
    if not SANITIZER_LOGS:
        yield
        return
    logs = pathlib.Path(SANITIZER_LOGS)
    before = set(logs.iterdir())
    yield
    reports = sorted(set(logs.iterdir()) - before)
    if reports:
        pytest.fail("sanitizer report(s) from goperf:\n" +
                    "\n".join(f"{p}:\n{p.read_text(errors='replace')[:6000]}" for p in reports), pytrace=False)
