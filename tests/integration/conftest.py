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
