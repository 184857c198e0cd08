"""goperf's top-level command line: --version against the sources and git (the version in CMakeLists.txt,
the commit checked out, its date) and the Go toolchains present; `goperf help CMD` against `goperf CMD --help`;
an unknown command."""
import datetime
import platform
import re
import shutil
import subprocess

import pytest

import gotargets
from conftest import REPO


def run(goperf, *args):
    return subprocess.run([goperf, *args], capture_output=True, text=True, timeout=60)


def version_fields(goperf):
    res = run(goperf, "--version")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    lines = res.stdout.splitlines()
    fields = dict(line.split(None, 1) for line in lines[1:])
    return lines[0], fields


def git(*args):
    res = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, env={"TZ": "UTC"})
    return res.stdout.strip() if res.returncode == 0 else None


def test_version_names_the_release_commit_and_date(goperf):
    first, fields = version_fields(goperf)
    project = re.search(r"project\(goperf VERSION (\S+)", (REPO / "CMakeLists.txt").read_text()).group(1)
    assert first == f"goperf {project}"
    if not shutil.which("git") or git("rev-parse", "HEAD") is None:
        pytest.skip("not a git checkout: the commit cannot be checked")
    head = git("rev-parse", "--short=12", "HEAD")
    assert fields["commit"] in (head, head + "-dirty"), f"built from {fields['commit']}, checked out {head} (rebuild?)"
    built = datetime.date.fromisoformat(fields["built"])
    committed = datetime.date.fromisoformat(git("log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d"))
    assert committed <= built <= datetime.datetime.now(datetime.timezone.utc).date()


def test_version_covers_the_go_toolchains_present(goperf):
    _, fields = version_fields(goperf)
    ranges = {}
    for key in ("binaries", "runtimes"):
        lo, hi = re.match(r"Go 1\.(\d+)-1\.(\d+) ", fields[key]).groups()
        ranges[key] = (int(lo), int(hi))
    toolchains = gotargets.toolchains()
    if not toolchains:
        pytest.skip("no Go toolchain present")
    for tc in toolchains:
        minor = int(re.match(r"go1\.(\d+)", tc.tool("env", "GOVERSION")).group(1))
        for key, (lo, hi) in ranges.items():
            assert lo <= minor <= hi, f"{tc.name} is outside what --version says goperf reads ({key} {lo}-{hi})"
    arch = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]
    assert fields["architectures"].endswith(f"live processes: {arch}")


def commands(goperf):
    usage = run(goperf, "--help").stdout
    names = re.findall(r"^  (\S+) ", usage.split("commands:", 1)[1], re.M)
    assert len(names) >= 7, usage
    return names


def test_help_is_the_usage(goperf):
    usage = run(goperf, "--help")
    assert usage.returncode == 0
    for args in (["help"], ["help", "help"]):
        res = run(goperf, *args)
        assert (res.returncode, res.stdout, res.stderr) == (0, usage.stdout, ""), args


def test_help_cmd_is_cmd_help(goperf):
    usage = run(goperf, "--help").stdout
    for name in commands(goperf):
        ours = run(goperf, "help", name)
        own = run(goperf, name, "--help")
        assert own.returncode == 0 and own.stdout.startswith(f"usage: goperf {name}"), own.stdout[:200]
        assert (ours.returncode, ours.stdout, ours.stderr) == (own.returncode, own.stdout, own.stderr), name
        assert ours.stdout != usage


def test_unknown_command(goperf):
    for args in (["help", "nosuch"], ["nosuch"]):
        res = run(goperf, *args)
        assert res.returncode == 1, args
        assert res.stdout == "" and res.stderr == "goperf: unknown command 'nosuch' (goperf help lists them)\n"
