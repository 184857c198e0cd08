"""Builds the Go target programs of tests/targets/ with every Go toolchain present, in every variant.

A target is a directory tests/targets/<name>/ holding a main package (with its own go.mod, `go 1.19`).
Builds are cached under <build>/targets/<toolchain>/<name>-<variant> and rebuilt when a source changes.
"""
import concurrent.futures
import dataclasses
import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
TARGETS = REPO / "tests" / "targets"
BUILD = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", REPO / "build"))
# GOPERF_TARGETS_DIR: another build's cache (scripts/test's sanitizer run reuses build/targets).
CACHE = pathlib.Path(os.environ.get("GOPERF_TARGETS_DIR", BUILD / "targets"))


@dataclasses.dataclass(frozen=True)
class Toolchain:
    name: str          # "go1.19", "go1.26", "go1.27.3"
    go: str            # the go command
    env: tuple = ()    # extra environment, as (key, value) pairs

    def environ(self, **extra):
        env = dict(os.environ)
        env.update(dict(self.env))
        env.update(extra)
        return env

    def tool(self, *args, **kw):
        """Runs `go <args>` of this toolchain and returns its stdout."""
        return subprocess.run([self.go, *args], env=self.environ(), check=True, capture_output=True,
                              text=True, **kw).stdout


def _detect():
    found = []
    if pathlib.Path("/usr/lib/go-1.19/bin/go").exists():
        found.append(Toolchain("go1.19", "/usr/lib/go-1.19/bin/go", (("GOTOOLCHAIN", "local"),)))
    go = shutil.which("go")
    if go:
        found.append(Toolchain("go1.26", go, (("GOTOOLCHAIN", "local"),)))
        # Go 1.27.3 comes through the module proxy on first use; skipped when it cannot be had.
        try:
            out = subprocess.run([go, "version"], env={**os.environ, "GOTOOLCHAIN": "go1.27.3"},
                                 capture_output=True, text=True, timeout=300)
            if out.returncode == 0 and "go1.27.3" in out.stdout:
                found.append(Toolchain("go1.27.3", go, (("GOTOOLCHAIN", "go1.27.3"),)))
        except (OSError, subprocess.TimeoutExpired):
            pass
    return found


_TOOLCHAINS = None


def toolchains():
    """Every Go toolchain present: go1.19 (Debian), go1.26 (preinstalled), go1.27.3 (module proxy)."""
    global _TOOLCHAINS
    if _TOOLCHAINS is None:
        _TOOLCHAINS = _detect()
    return _TOOLCHAINS


def toolchain(name):
    for t in toolchains():
        if t.name == name:
            return t
    return None


@dataclasses.dataclass(frozen=True)
class Variant:
    pie: bool = False
    cgo: bool = False
    stripped: bool = True
    goarch: str = "amd64"   # "arm64": cross-built for the arm64 tests (test_arm64.py)

    @property
    def name(self):
        return "-".join(["pie" if self.pie else "exe", "cgo" if self.cgo else "nocgo",
                         "stripped" if self.stripped else "syms"] + ([self.goarch] if self.goarch != "amd64" else []))


# The variants that matter for stack and symbol work: exe, PIE and cgo-linked, each stripped and not.
ALL_VARIANTS = [Variant(pie, cgo, stripped) for pie in (False, True) for cgo in (False, True)
                for stripped in (True, False)]


def _source_hash(src):
    h = hashlib.sha256()
    for p in sorted(src.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(src)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build(name, tc, variant=Variant()):
    """Builds target `name` with toolchain `tc` (a Toolchain) in `variant`; returns the binary's path.

    Safe across concurrent pytest workers: a per-binary lock file serializes builders, and the binary
    is written under a temporary name and renamed, so a reader never sees a half-written file."""
    src = TARGETS / name
    out_dir = CACHE / tc.name
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{name}-{variant.name}"
    stamp = out.with_suffix(".stamp")
    digest = _source_hash(src)
    if out.exists() and stamp.exists() and stamp.read_text() == digest:
        return out
    with open(out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.exists() and stamp.exists() and stamp.read_text() == digest:
            return out
        tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
        args = [tc.go, "build", "-o", str(tmp)]
        if variant.pie:
            args.append("-buildmode=pie")
        ldflags = []
        if variant.cgo:
            # The external linker puts C code first in .text, as in distribution binaries such as etcd.
            ldflags.append("-linkmode=external")
        if variant.stripped:
            ldflags += ["-s", "-w"]
        if ldflags:
            args.append("-ldflags=" + " ".join(ldflags))
        env = tc.environ(CGO_ENABLED="1" if variant.cgo else "0", GOARCH=variant.goarch)
        if variant.cgo and variant.goarch == "arm64":
            env["CC"] = "aarch64-linux-gnu-gcc"
        res = subprocess.run(args + ["."], cwd=src, env=env, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"building {name} with {tc.name} ({variant.name}) failed:\n{res.stderr}")
        os.replace(tmp, out)
        stamp.write_text(digest)
    return out


def build_many(requests, jobs=None):
    """Builds several (name, tc, variant) triples at once (the go command is mostly single-threaded
    when linking); returns their paths in the same order."""
    jobs = jobs or max(2, os.cpu_count() or 2)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(lambda r: build(*r), requests))
