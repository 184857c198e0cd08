"""goperf report against the Go toolchain's own pprof as the oracle.

A runtime/pprof CPU profile written by tests/targets/pprofgen (known stacks, pprof labels) is rendered by
goperf report and compared with `go tool pprof -top` / `-traces` / `-raw` of the same file; profiles goperf
re-writes must be read back by `go tool pprof`; bad input must fail with one line and exit code 1; and the
SVG is driven in headless Chromium (tests/browser/flamegraph_check.mjs)."""
import gzip
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

import gotargets
import hostcheck

REPO = pathlib.Path(__file__).resolve().parents[2]
BROWSER_DIR = REPO / "tests" / "browser"
ALPHA = ["runtime.main", "main.main", "main.run", "runtime/pprof.Do", "main.run.func1", "main.burnAlpha",
         "main.spinAlpha"]
BETA = ["runtime.main", "main.main", "main.run", "runtime/pprof.Do", "main.run.func2", "main.burnBeta",
        "main.spinBeta"]


def toolchains_for_report():
    tcs = [t for t in gotargets.toolchains() if t.name in ("go1.19", "go1.26")]
    return tcs


@pytest.fixture(scope="session")
def go_tc():
    tc = gotargets.toolchain("go1.26") or (gotargets.toolchains() or [None])[0]
    if tc is None:
        hostcheck.missing_setup_piece("no Go toolchain found")
    return tc


def pprof(tc, *args):
    """`go tool pprof ARGS` of toolchain tc (the oracle)."""
    return tc.tool("tool", "pprof", *args)


@pytest.fixture(scope="session", params=[t.name for t in toolchains_for_report()] or ["none"])
def cpu_profile(request, tmp_path_factory):
    """A runtime/pprof CPU profile of pprofgen built by one toolchain (stripped, as in production)."""
    tc = gotargets.toolchain(request.param)
    if tc is None:
        hostcheck.missing_setup_piece("no Go toolchain found")
    binary = gotargets.build("pprofgen", tc, gotargets.Variant(stripped=True))
    out = tmp_path_factory.mktemp(f"prof-{tc.name}") / "cpu.pb.gz"
    subprocess.run([str(binary), str(out), "150"], check=True, timeout=120)
    return tc, out


def report(goperf, *args, check=True, cwd=None):
    res = subprocess.run([goperf, "report", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def to_ns(text):
    """'1.20s' / '870ms' / '10us' / '0' -> nanoseconds (pprof's and goperf's -top value format)."""
    m = re.fullmatch(r"(-?[0-9.]+)(ns|us|µs|ms|s|min|h)?", text)
    assert m, text
    scale = {None: 1, "ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "min": 60e9, "h": 3600e9}[m.group(2)]
    return round(float(m.group(1)) * scale)


def parse_top(text):
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\S+)\s+(\S+%)\s+(\S+%)\s+(\S+)\s+(\S+%)\s+(.+?)(?: \(inline\))?$", line)
        if m and m.group(1) != "flat":
            rows[m.group(6)] = (to_ns(m.group(1)), to_ns(m.group(4)))
    return rows


def parse_traces(text):
    """`go tool pprof -traces` -> {(labels, root-first stack): value in ns}."""
    out = {}
    for block in text.split("-----------+-------------------------------------------------------")[1:]:
        labels, frames, value = [], [], None
        for line in block.splitlines():
            if not line.strip():
                continue
            m = re.match(r"\s+(\S+):\s+(.*)$", line)
            if value is None and m and not re.match(r"\s+-?[0-9.]+(ns|us|ms|s)?\s", line):
                labels.append(f"{m.group(1)}={m.group(2).strip()}")
                continue
            m = re.match(r"\s+(-?[0-9.]+(?:ns|us|µs|ms|s)?)\s+(\S.*)$", line)
            if value is None and m:
                value = to_ns(m.group(1))
                frames.append(m.group(2).strip())
            else:
                frames.append(line.strip())
        if value is None:
            continue
        key = (tuple(sorted(labels)), tuple(reversed(frames)))
        out[key] = out.get(key, 0) + value
    return out


def parse_folded(text):
    out = {}
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        # An inlined frame: "_[i]" in folded stacks, " (inline)" in go tool pprof -traces.
        frames = tuple(f[:-4] + " (inline)" if f.endswith("_[i]") else f for f in stack.split(";"))
        out[frames] = out.get(frames, 0) + int(count)
    return out


def svg_frames(svg_text):
    """The SVG's frame data (names, and per frame: depth, x, value, flags) -> list of (root-first path, x, v)."""
    def array(key):
        m = re.search(r"\n" + key + r":\[([^\]]*)\]", svg_text)
        assert m, key
        return [int(v) for v in m.group(1).split(",")] if m.group(1) else []
    names = json.loads("[" + re.search(r"\nnames:\[(.*?)\],\nn:\[", svg_text, re.S).group(1) + "]")
    n, d, x, v = array("n"), array("d"), array("x"), array("v")
    path, out = [], []
    for i in range(len(n)):
        del path[d[i]:]
        path.append(names[n[i]])
        out.append((tuple(path), x[i], v[i]))
    return out


# --- rendering a runtime/pprof profile ---------------------------------------------------------------

def test_text_equals_go_tool_pprof_top(goperf, cpu_profile):
    tc, prof = cpu_profile
    ours = parse_top(report(goperf, "-i", prof, "--format", "text").stdout)
    theirs = parse_top(pprof(tc, "-top", "-nodefraction=0", "-nodecount=100000", str(prof)))
    assert ours == theirs
    assert ours["main.spinBeta"][1] > 0 and ours["main.spinAlpha"][1] > 0


def test_top_shows_ten_rows_in_pprof_order(goperf, cpu_profile):
    tc, prof = cpu_profile
    out = report(goperf, "-i", prof, "--format", "top").stdout
    rows = [l for l in out.splitlines() if re.match(r"\s*\S+\s+\S+%", l) and "flat%" not in l]
    theirs = [l for l in pprof(tc, "-top", "-nodefraction=0", str(prof)).splitlines()
              if re.match(r"\s*\S+\s+\S+%", l) and "flat%" not in l]
    assert 0 < len(rows) <= 10
    assert [r.split()[-1] for r in rows] == [r.split()[-1] for r in theirs][:len(rows)]


def test_folded_equals_go_tool_pprof_traces(goperf, cpu_profile):
    tc, prof = cpu_profile
    traces = parse_traces(pprof(tc, "-traces", str(prof)))
    want = {}
    for (_, frames), value in traces.items():
        want[frames] = want.get(frames, 0) + value
    # Sample index 1 is cpu/nanoseconds, the values -traces prints.
    got = parse_folded(report(goperf, "-i", prof, "--format", "folded", "--sample-index", "1").stdout)
    assert got == want
    assert any(f[:len(ALPHA)] == tuple(ALPHA) for f in got), "pprofgen's known alpha stack is missing"
    assert any(f[:len(BETA)] == tuple(BETA) for f in got), "pprofgen's known beta stack is missing"


def test_svg_renders_the_known_stacks_with_their_share(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    out = tmp_path / "cpu.svg"
    report(goperf, "-i", prof, "-o", out, "--title", "pprofgen")
    svg = out.read_text()
    frames = svg_frames(svg)
    traces = parse_traces(pprof(tc, "-traces", str(prof)))
    total = sum(traces.values())
    assert frames[0][0] == ("all",) and frames[0][2] == total
    for known in (ALPHA, BETA):
        path = ("all",) + tuple(known)
        drawn = [f for f in frames if f[0] == path]
        assert len(drawn) == 1, f"{path} not drawn"
        want = sum(v for (_, fr), v in traces.items() if fr[:len(known)] == tuple(known))
        assert drawn[0][2] == want
    # Every frame's rect is its share of the width, to the pixel.
    rects = re.findall(r'<rect x="([0-9.]+)" y="[0-9]+" width="([0-9.]+)" height="15"', svg)
    assert len(rects) == len(frames)
    for (path, x, v), (rx, rw) in zip(frames, rects):
        assert abs(float(rw) - 1180 * v / total) < 0.01, path
        assert abs(float(rx) - (10 + 1180 * x / total)) < 0.01, path
    assert "<text id=\"title\"" in svg and ">pprofgen</text>" in svg


def test_tagfocus_focus_ignore_match_go_tool_pprof(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    for ours, theirs in ((["--tagfocus", "worker=alpha"], ["-tagfocus=worker=alpha"]),
                         (["--focus", "Beta"], ["-focus=Beta"]),
                         (["--ignore", "asyncPreempt|spinAlpha"], ["-ignore=asyncPreempt|spinAlpha"])):
        got = parse_top(report(goperf, "-i", prof, "--format", "text", *ours).stdout)
        want = parse_top(pprof(tc, "-top", "-nodefraction=0", "-nodecount=100000", *theirs, str(prof)))
        assert got == want, ours
    alpha = parse_folded(report(goperf, "-i", prof, "--format", "folded", "--tagfocus", "worker=alp.a").stdout)
    assert alpha and all("main.burnAlpha" in f for f in alpha)


def test_lines_aggregates_by_function_and_line(goperf, cpu_profile):
    tc, prof = cpu_profile
    got = parse_top(report(goperf, "-i", prof, "--format", "text", "--lines").stdout)
    assert any(re.fullmatch(r"main\.spinBeta:\d+", k) for k in got)
    # The same per-line sums as pprof -lines, whose rows read "main.spinBeta main.go:33".
    theirs = parse_top(pprof(tc, "-top", "-lines", "-nodefraction=0", "-nodecount=100000", str(prof)))
    flat_theirs = sorted(v[0] for k, v in theirs.items() if k.startswith("main.spinBeta "))
    flat_ours = sorted(v[0] for k, v in got.items() if k.startswith("main.spinBeta:"))
    assert flat_ours == flat_theirs


# --- re-written profiles -----------------------------------------------------------------------------

def raw_samples(tc, path):
    """Sum of the samples/count column of `go tool pprof -raw`."""
    text = pprof(tc, "-raw", "-symbolize=none", str(path))
    body = text.split("Samples:", 1)[1].split("Locations", 1)[0]
    total = 0
    for line in body.splitlines():
        m = re.match(r"\s+(\d+)(?:\s+\d+)*:", line)  # "  count [value...]: location ids"
        if m:
            total += int(m.group(1))
    return total


def test_pprof_rewrite_is_read_by_go_tool_pprof(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    out = tmp_path / "same.pb.gz"
    report(goperf, "-i", prof, "-o", out)
    assert raw_samples(tc, out) == raw_samples(tc, prof)
    assert parse_top(pprof(tc, "-top", "-nodefraction=0", str(out))) == \
        parse_top(pprof(tc, "-top", "-nodefraction=0", str(prof)))
    filtered = tmp_path / "beta.pprof"
    report(goperf, "-i", prof, "-o", filtered, "--focus", "spinBeta")
    assert parse_top(pprof(tc, "-top", "-nodefraction=0", str(filtered))) == \
        parse_top(pprof(tc, "-top", "-nodefraction=0", "-focus=spinBeta", str(prof)))


def test_pprof_to_folded_to_pprof_keeps_every_sample(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    folded = tmp_path / "cpu.folded"
    back = tmp_path / "back.pb.gz"
    report(goperf, "-i", prof, "-o", folded)
    report(goperf, "-i", folded, "-o", back)
    assert raw_samples(tc, back) == raw_samples(tc, prof)
    assert sum(parse_folded(folded.read_text()).values()) == raw_samples(tc, prof)
    # And the stacks are the same: folding the re-written profile gives the same file.
    assert report(goperf, "-i", back, "--format", "folded").stdout == folded.read_text()


def test_uncompressed_pprof_input(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    raw = tmp_path / "cpu.pb"
    raw.write_bytes(gzip.decompress(prof.read_bytes()))
    assert report(goperf, "-i", raw, "--format", "text").stdout == \
        report(goperf, "-i", prof, "--format", "text").stdout


def test_diff_colours_and_tooltip_data(goperf, tmp_path):
    base = tmp_path / "base.folded"
    new = tmp_path / "new.folded"
    base.write_text("main.main;main.grow 10\nmain.main;main.shrink 90\n")
    new.write_text("main.main;main.grow 60\nmain.main;main.shrink 40\nmain.main;main.added 5\n")
    out = tmp_path / "diff.svg"
    report(goperf, "-i", new, "--diff", base, "-o", out)
    svg = out.read_text()
    frames = svg_frames(svg)
    fills = re.findall(r'<rect x="[0-9.]+" y="[0-9]+" width="[0-9.]+" height="15" fill="#(..)(..)(..)"', svg)
    by = {f[0][-1]: (fill, f[2]) for f, fill in zip(frames, fills)}
    assert by["main.grow"][1] == 60  # widths from the new profile
    assert by["main.grow"][0][0] == "ff" and by["main.grow"][0][2] != "ff"     # red
    assert by["main.shrink"][0][2] == "ff" and by["main.shrink"][0][0] != "ff"  # blue
    base_values = [int(v) for v in re.search(r"\nb:\[([^\]]*)\]", svg).group(1).split(",")]
    assert dict(zip([f[0][-1] for f in frames], base_values))["main.shrink"] == 90


def test_default_input_is_the_newest_profile_here(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    old = tmp_path / "old.pb.gz"
    newest = tmp_path / "prog-123-20260101-000000.pb.gz"
    shutil.copy(prof, old)
    shutil.copy(prof, newest)
    os.utime(old, (time.time() - 100, time.time() - 100))
    res = report(goperf, cwd=tmp_path)
    assert (tmp_path / "prog-123-20260101-000000.svg").exists(), res.stderr
    assert not (tmp_path / "old.svg").exists()


# --- bad input: one line, exit 1 ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory, cpu_profile):
    d = tmp_path_factory.mktemp("bad")
    good = cpu_profile[1].read_bytes()
    files = {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "truncated_raw": gzip.decompress(good)[:100],
        "binary": bytes(range(256)) * 8,
        "text": b"hello, this is not a profile\n",
        "gzip_of_junk": gzip.compress(b"\x08\x96\x01\xff\xff\xff"),
        "elf": pathlib.Path("/bin/true").read_bytes()[:20000],
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


@pytest.mark.parametrize("name", ["empty", "truncated", "truncated_raw", "binary", "text", "gzip_of_junk", "elf"])
def test_bad_input_fails_with_one_line(goperf, bad_inputs, name, tmp_path):
    res = report(goperf, "-i", bad_inputs / name, "-o", tmp_path / "x.svg", check=False)
    assert res.returncode == 1, res
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("goperf report: ")
    assert not (tmp_path / "x.svg").exists()


def test_bad_arguments_fail_with_one_line(goperf, cpu_profile, tmp_path):
    tc, prof = cpu_profile
    cases = [
        ["-i", prof, "--format", "jpeg"],                      # unknown format
        ["-i", prof, "-o", tmp_path / "out.jpeg"],             # unknown extension
        ["-i", prof, "-o", "/nonexistent-dir/x.svg"],          # unwritable output
        ["-i", prof, "-o", tmp_path],                          # a directory
        ["-i", tmp_path / "missing.pb.gz"],                    # missing input
        ["-i", prof, "--focus", "("],                          # bad regex
        ["-i", prof, "--sample-index", "7"],                   # no such value
    ]
    for args in cases:
        res = report(goperf, *args, check=False)
        assert res.returncode == 1, (args, res)
        assert len(res.stderr.strip().splitlines()) == 1, (args, res.stderr)
    res = report(goperf, check=False, cwd=tmp_path)  # nothing to read here
    assert res.returncode == 1 and "no profile" in res.stderr


# --- the SVG in a real browser -----------------------------------------------------------------------

def test_svg_in_headless_chromium(goperf, cpu_profile, tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    hostcheck.require_file(chromium, "chromium")
    hostcheck.require_tool("node", "nodejs")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").exists():
        hostcheck.missing_setup_piece("playwright-core is not installed (npm ci --prefix tests/browser)")
    tc, prof = cpu_profile
    svg = tmp_path / "cpu.svg"
    report(goperf, "-i", prof, "-o", svg)
    frames = svg_frames(svg.read_text())
    total = frames[0][2]
    target = next(i for i, f in enumerate(frames) if f[0][-1] == "main.burnBeta")
    matches = [f for f in frames if re.search("spin", f[0][-1])]
    # The matched share: union of matched ranges (nested matches count once).
    covered, reach = 0, -1
    for _, x, v in sorted(((f[0], f[1], f[2]) for f in matches), key=lambda f: (f[1], -f[2])):
        if x + v <= reach:
            continue
        covered += x + v - max(x, reach)
        reach = x + v
    artifacts = pathlib.Path(os.environ.get("GOPERF_BUILD_DIR", REPO / "build")) / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / f"report-flamegraph-{tc.name}.png"
    res = subprocess.run(["node", str(BROWSER_DIR / "flamegraph_check.mjs"), str(svg), str(target), "spin",
                          str(shot)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr + res.stdout
    r = json.loads(res.stdout)
    # Hover: the tooltip shows the frame's name, value and share.
    assert r["tip_visible"] == "visible"
    assert r["tip"][0] == "main.burnBeta"
    assert f"{100 * frames[target][2] / total:.2f}% of all" in r["tip"][1]
    # Click: the clicked frame spans the width (1200 - 2 * 10 px), and the URL remembers it.
    assert abs(r["zoomed_width"] - 1180) < 1
    assert r["zoomed_hash"] == f"#zoom={target}"
    assert r["hidden_after_zoom"] > 0
    # Reset restores every frame's width.
    assert abs(r["reset_width"] - r["initial_width"]) < 0.01
    assert r["reset_hash"] == ""
    # Search paints every match and reports the matched share.
    assert r["painted"] == len(matches)
    assert r["matched"].startswith(f"Matched: {100 * covered / total:.2f}%")
    assert "search=spin" in r["search_hash"]
    # Reloading the URL with its hash restores zoom and search.
    assert r["restored_zoom_width"] > 1179 and r["restored_painted"] > 0
    assert shot.exists() and shot.stat().st_size > 5000
