"""goperf info against `go version -m` (text and -json), `go tool buildid`, `go tool nm` and readelf on the symbols
targets built by every toolchain in every variant, on Debian's etcd and restic, on a live process (-p), and
bad input (non-Go ELF, non-ELF, truncated, corrupted, directory, missing): one line on stderr, exit 1."""
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

import gotargets
import hostcheck
from symbol_oracles import builds_for, elf_layout, go_nm, go_text_range

V = gotargets.Variant
TOOLCHAINS = [tc.name for tc in gotargets.toolchains()]
TARGETS = [("symbols", v) for v in gotargets.ALL_VARIANTS] + [("symbols_cgo", v) for v in gotargets.ALL_VARIANTS if v.cgo]
DEBIAN_GO = "/usr/lib/go-1.19/bin/go"


@pytest.fixture(scope="module")
def builds():
    if not TOOLCHAINS:
        hostcheck.missing_setup_piece("no Go toolchain found")
    return builds_for(TARGETS)


def info(goperf, *args):
    res = subprocess.run([goperf, "info", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def version_m_block(text):
    """The leading `go version -m` block of goperf info's text: the header and the tab-indented lines."""
    lines = text.splitlines(keepends=True)
    n = 1
    while n < len(lines) and lines[n].startswith("\t"):
        n += 1
    return "".join(lines[:n])


def facts(text):
    return dict(line.split(": ", 1) for line in text.splitlines() if not line.startswith("\t") and ": " in line
                and not line.startswith("/"))


@pytest.mark.parametrize("tcname,target,variant",
                         [pytest.param(tc, t, v, id=f"{tc}-{t}-{v.name}") for tc in TOOLCHAINS for t, v in TARGETS])
def test_info_equals_go_version_m(goperf, builds, tcname, target, variant):
    tc = gotargets.toolchain(tcname)
    binary = str(builds[(target, tcname, variant)])
    text = info(goperf, binary)
    assert version_m_block(text) == tc.tool("version", "-m", binary)

    f = facts(text)
    # Go 1.19, 1.26 and 1.27 have tables measured from DWARF of real builds (tests/fixtures/layouts).
    minor = int(tc.tool("version", binary).split(": go1.")[1].split(".")[0])
    assert f["runtime layout"] == f"Go 1.{minor}, measured", f["runtime layout"]
    twin = builds[(target, tcname, V(pie=variant.pie, cgo=variant.cgo, stripped=False))]
    syms = go_nm(tc, twin)
    text_start, etext = go_text_range(syms)
    layout = elf_layout(binary)
    assert f["functions"] == str(len({a for a, _s, _n in syms if text_start <= a < etext}))
    assert f["pie"] == ("yes" if variant.pie else "no")
    assert f["stripped"].startswith("yes" if variant.stripped else "no")
    assert f["cgo"].startswith("yes" if variant.cgo else "no")
    assert f["platform"] == "linux/amd64"
    assert f["go build id"] == tc.tool("tool", "buildid", binary).strip()
    notes = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True).stdout
    gnu = re.search(r"Build ID: ([0-9a-f]+)", notes)
    assert f["gnu build id"] == (gnu.group(1) if gnu else "none")
    pcln = [s for s in layout["sections"] if s.endswith("gopclntab")]
    assert f["pclntab"].startswith("go1.18-go1.19" if tcname == "go1.19" else "go1.20+")
    if pcln:
        assert f"section {pcln[0]}, at {layout['sections'][pcln[0]][0]:#x}" in f["pclntab"]
    else:
        # go1.19's external linker merges the pclntab into .data.rel.ro of a PIE: found by its header.
        assert "found by scanning the segments" in f["pclntab"]
    if not variant.pie:
        # The Go text start: runtime.text of the unstripped twin (same layout), not .text's address.
        assert f["text start"] == f"{text_start:#x}"


def snake_case_keys(value):
    """go version -m -json's keys as goperf spells them: GoVersion -> go_version, Path -> path."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake_case_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake_case_keys(v) for v in value]
    return value


@pytest.mark.parametrize("variant", [V(), V(pie=True, cgo=True, stripped=False)], ids=lambda v: v.name)
def test_info_json_equals_go_version_m_json(goperf, builds, variant):
    tc = gotargets.toolchain("go1.26") or gotargets.toolchain("go1.27.3")
    if tc is None:
        pytest.skip("`go version -m -json` needs Go 1.22 or later")
    for tcname in TOOLCHAINS:
        binary = str(builds[("symbols", tcname, variant)])
        want = json.loads(tc.tool("version", "-m", "-json", binary))
        got = json.loads(info(goperf, "--json", binary))
        # goperf's JSON keys are snake_case (GoVersion -> go_version); the module path is main_path, since
        # path is the file's.
        for key, ours in (("GoVersion", "go_version"), ("Path", "main_path"), ("Main", "main"), ("Deps", "deps"),
                          ("Settings", "settings")):
            assert got[ours] == snake_case_keys(want[key]), key
        assert all(re.fullmatch(r"[a-z0-9_]+", k) for k in got), list(got)
        assert re.fullmatch(r"0x[0-9a-f]+", got["text_start"]) and re.fullmatch(r"0x[0-9a-f]+", got["pclntab"]["vaddr"])
        assert got["pie"] == variant.pie and got["stripped"] == variant.stripped and got["cgo"] == variant.cgo


@pytest.mark.parametrize("binary", ["/usr/bin/etcd", "/usr/bin/restic"])
def test_info_on_debian_programs(goperf, binary):
    hostcheck.require_file(binary, {"/usr/bin/etcd": "etcd-server", "/usr/bin/restic": "restic"}[binary])
    hostcheck.require_file(DEBIAN_GO, "golang-1.19-go")
    want = subprocess.run([DEBIAN_GO, "version", "-m", binary], check=True, capture_output=True, text=True).stdout
    text = info(goperf, binary)
    assert version_m_block(text) == want
    f = facts(text)
    assert f["stripped"].startswith("yes") and f["cgo"].startswith("yes") and f["pie"] == "no"
    assert f["pclntab"].startswith("go1.18-go1.19")


def test_info_of_a_live_process(goperf, builds):
    tcname = TOOLCHAINS[-1]
    binary = str(builds[("symbols", tcname, V(pie=True))])
    proc = subprocess.Popen([binary, "wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        text = info(goperf, "-p", str(proc.pid))
        want = gotargets.toolchain(tcname).tool("version", "-m", binary)
        assert version_m_block(text).split("\n", 1)[1] == want.split("\n", 1)[1]
        assert facts(text)["pie"] == "yes"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, builds):
    d = tmp_path_factory.mktemp("bad")
    good = pathlib.Path(builds[("symbols", TOOLCHAINS[0], V())]).read_bytes()
    (d / "text.txt").write_text("not an executable\n")
    (d / "empty").write_bytes(b"")
    (d / "truncated-header").write_bytes(good[:40])
    (d / "truncated-half").write_bytes(good[:len(good) // 2])
    corrupt = bytearray(good)
    layout = elf_layout(builds[("symbols", TOOLCHAINS[0], V())])
    pcln = next(v for k, v in layout["sections"].items() if k.endswith("gopclntab"))
    # Overwrite the pclntab's header and part of its tables with a repeating pattern.
    start = pcln[0] - min(layout["loads"])  # exe: the first PT_LOAD maps file offset 0
    for i in range(start, min(start + 65536, len(corrupt))):
        corrupt[i] = (i * 7) & 0xFF
    (d / "corrupted-pclntab").write_bytes(bytes(corrupt))
    (d / "a-directory").mkdir()
    return d


CASES = ["/bin/true", "text.txt", "empty", "truncated-header", "truncated-half", "corrupted-pclntab", "a-directory",
         "does-not-exist"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("command", ["info", "addr2line"])
def test_bad_input_fails_cleanly(goperf, bad_inputs, name, command):
    path = name if name.startswith("/") else str(bad_inputs / name)
    args = [goperf, "info", path] if command == "info" else [goperf, "addr2line", "-f", "-e", path, "0x401000"]
    res = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert res.stdout == ""
    assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith(f"goperf {command}: "), res.stderr
    assert path in res.stderr


def test_unreadable_file_fails_cleanly(goperf, tmp_path, builds):
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not deny reading")
    p = tmp_path / "unreadable"
    shutil.copy(builds[("symbols", TOOLCHAINS[0], V())], p)
    p.chmod(0)
    res = subprocess.run([goperf, "info", str(p)], capture_output=True, text=True)
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1


def test_missing_process_fails_cleanly(goperf):
    res = subprocess.run([goperf, "info", "-p", "999999999"], capture_output=True, text=True)
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1 and "999999999" in res.stderr


def test_help(goperf):
    res = subprocess.run([goperf, "info", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "usage: goperf info" in res.stdout and "--json" in res.stdout
