"""goperf as users install it: one static executable, and the .deb CPack makes of it.

- build/goperf has no program interpreter and needs no shared library (readelf and file, binutils' and
  file's view of the ELF);
- every command that needs no other file runs in an empty root holding only goperf, the file it reads
  and a mounted /proc: info, addr2line, snapshot and record of a process outside that root, report. What
  it prints there is checked against the Go toolchain (go version, go tool addr2line), the runtime's
  SIGQUIT dump, the stacks the target's source makes, and an independent pprof decoder;
- `cmake --install` installs the binary and its README; the .deb installs with apt-get, runs, and is
  removed with nothing left behind.
"""
import collections
import os
import pathlib
import re
import shutil
import subprocess

import pytest

import gotargets
import hostcheck
import pprof_decode
import snapshot_dump
import symbol_oracles
from conftest import BUILD, GOPERF
from test_record import check_exact_stacks
from test_snapshot import Target, compare

TOOLCHAINS = gotargets.toolchains()


def cmake_cache(name):
    cache = BUILD / "CMakeCache.txt"
    if not cache.exists():
        return None
    m = re.search(rf"^{name}:\w+=(.*)$", cache.read_text(), re.M)
    return m.group(1) if m else None


def require_static_build():
    if cmake_cache("GOPERF_STATIC") != "ON":
        pytest.skip(f"{BUILD} is not a static build (GOPERF_STATIC=ON is the Release default)")


def require_root(why):
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


def test_one_static_executable(goperf):
    require_static_build()
    headers = subprocess.run(["readelf", "-lW", goperf], check=True, capture_output=True, text=True).stdout
    assert "INTERP" not in headers, "goperf names a program interpreter (dynamic loader)"
    assert "Requesting program interpreter" not in headers
    dynamic = subprocess.run(["readelf", "-dW", goperf], check=True, capture_output=True, text=True).stdout
    needed = [line for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert not needed, f"goperf needs shared libraries: {needed}"
    kind = subprocess.run(["file", "-b", goperf], check=True, capture_output=True, text=True).stdout
    assert "static-pie linked" in kind or "statically linked" in kind, kind


class EmptyRoot:
    """A directory holding only goperf (as /goperf), the files a test copies in, and /proc, where goperf
    runs chrooted. /proc is mounted in a mount namespace of the command's own, so it goes away with it."""

    def __init__(self, path):
        self.path = path
        (path / "proc").mkdir(parents=True)
        shutil.copy2(GOPERF, path / "goperf")

    def add(self, src, name):
        shutil.copy2(src, self.path / name)
        return "/" + name

    def run(self, *args, timeout=120):
        script = 'root=$1; shift; mount -t proc proc "$root/proc" && exec chroot "$root" "$@"'
        return subprocess.run(["unshare", "--mount", "--fork", "sh", "-c", script, "sh", str(self.path),
                               "/goperf", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def empty_root(tmp_path):
    require_static_build()
    require_root("chroot and mounting /proc")
    if not shutil.which("unshare") or not shutil.which("chroot"):
        pytest.skip("unshare and chroot (util-linux, coreutils) are missing")
    if not TOOLCHAINS:
        hostcheck.missing_setup_piece("no Go toolchain to build the targets")
    return EmptyRoot(tmp_path / "root")


def test_info_in_empty_root(empty_root):
    tc = TOOLCHAINS[-1]
    exe = gotargets.build("hang", tc)
    res = empty_root.run("info", empty_root.add(exe, "hang"))
    assert res.returncode == 0, res.stderr
    go_version = tc.tool("version", str(exe)).split(": ", 1)[1].strip()  # "go1.26.8"
    assert res.stdout.splitlines()[0] == f"/hang: {go_version}", res.stdout[:500]


def test_addr2line_in_empty_root(empty_root):
    tc = TOOLCHAINS[-1]
    exe = gotargets.build("hang", tc, gotargets.Variant(stripped=False))
    entries = sorted(addr for addr, _size, name in symbol_oracles.go_nm(tc, exe) if name.startswith("main."))
    assert entries, "no main.* functions in the target"
    res = empty_root.run("addr2line", "-e", empty_root.add(exe, "hang"), "-f", *[f"{a:#x}" for a in entries])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    ours = [(lines[2 * i], lines[2 * i + 1]) for i in range(len(lines) // 2)]
    assert ours == symbol_oracles.go_addr2line(tc, exe, entries)


def test_snapshot_of_a_process_outside_the_root(empty_root):
    tc = TOOLCHAINS[-1]
    target = Target(gotargets.build("hang", tc))
    try:
        res = empty_root.run("snapshot", "-p", str(target.pid))
        oracle = snapshot_dump.parse(target.sigquit_dump())
    finally:
        target.close()
    assert res.returncode == 0, res.stderr
    assert len(oracle) > 20, "the runtime's dump is missing"
    diffs = compare(snapshot_dump.parse(res.stdout), oracle)
    assert not diffs, "\n".join(diffs)


def folded_counts(text):
    """`goperf report --format folded` as {leaf-first stack: samples}, in pprof_decode's terms: inlined
    frames lose their `_[i]` and kernel frames their `_[k]`, and a location without a function (folded
    shows its address) is '?'."""
    counts = collections.Counter()
    for line in text.splitlines():
        stack, n = line.rsplit(" ", 1)
        frames = ["?" if re.fullmatch(r"0x[0-9a-f]+", f) else f.removesuffix("_[i]").removesuffix("_[k]")
                  for f in stack.split(";")]
        counts[tuple(reversed(frames))] += int(n)
    return counts


def test_record_and_report_in_empty_root(empty_root):
    tc = TOOLCHAINS[-1]
    exe = gotargets.build("prof", tc)
    target = subprocess.Popen([str(exe), "-mode", "inline", "-seconds", "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().startswith("ready")
        # The default backend: without /sys (no kernel BTF) `auto` records with perf.
        res = empty_root.run("record", "-F", "999", "-d", "2", "-p", str(target.pid), "-o", "/inline.pb.gz")
    finally:
        target.kill()
        target.wait()
    assert res.returncode == 0, res.stderr
    profile = pprof_decode.load(empty_root.path / "inline.pb.gz")
    check_exact_stacks(profile, "inline")

    res = empty_root.run("report", "-i", "/inline.pb.gz", "--format", "folded")
    assert res.returncode == 0, res.stderr
    oracle = collections.Counter()
    for stack, n in profile.stacks():
        oracle[stack] += n
    assert folded_counts(res.stdout) == oracle


def test_cmake_install(tmp_path):
    res = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(tmp_path)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    installed = tmp_path / "bin" / "goperf"
    assert installed.read_bytes() == GOPERF.read_bytes()
    assert (tmp_path / "share" / "doc" / "goperf" / "README.md").exists()


def dpkg_installed(package):
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return res.returncode == 0 and "install ok installed" in res.stdout


def test_deb_installs_runs_and_removes(goperf, tmp_path):
    require_static_build()
    require_root("apt-get install and remove")
    hostcheck.require_tool("cpack", "cmake")
    if dpkg_installed("goperf"):
        pytest.skip("a goperf package is installed on this host already: not replacing it")
    res = subprocess.run(["cpack", "--config", str(BUILD / "CPackConfig.cmake"), "-B", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    debs = list(tmp_path.glob("goperf_*.deb"))
    assert len(debs) == 1, f"cpack made {debs}"
    fields = subprocess.run(["dpkg-deb", "-f", str(debs[0]), "Package", "Depends"], check=True,
                            capture_output=True, text=True).stdout
    assert fields.strip() == "Package: goperf", f"the static binary's package depends on others: {fields}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        res = subprocess.run(["apt-get", "install", "-y", "-qq", str(debs[0])], env=env, capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        files = subprocess.run(["dpkg-query", "-L", "goperf"], check=True, capture_output=True,
                               text=True).stdout.split()
        assert "/usr/bin/goperf" in files
        version = subprocess.run(["/usr/bin/goperf", "--version"], capture_output=True, text=True, timeout=30)
        assert version.returncode == 0, version.stderr
        built = subprocess.run([goperf, "--version"], check=True, capture_output=True, text=True).stdout
        assert version.stdout == built
    finally:
        res = subprocess.run(["apt-get", "remove", "-y", "-qq", "goperf"], env=env, capture_output=True,
                             text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not dpkg_installed("goperf")
    left = [f for f in files if pathlib.Path(f).is_file()]
    assert not left, f"left behind after removal: {left}"
    assert not pathlib.Path("/usr/share/doc/goperf").exists()
