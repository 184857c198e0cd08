"""goperf report with several inputs and pprof's top table (issue 15), against `go tool pprof` as the oracle:
inputs (files, repeated -i, globs) merged as `go tool pprof -proto a b` merges them, and
`--format top -n N --cum` equal to `go tool pprof -top -nodecount=N -cum`, header included."""
import pathlib
import re
import subprocess

import pytest

from test_report import cpu_profile, parse_top, parse_traces, pprof, report  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def two_profiles(tmp_path_factory):
    """Two runtime/pprof CPU profiles of pprofgen (different runs, so different sample counts per stack)."""
    import gotargets
    import hostcheck
    tc = gotargets.toolchain("go1.26") or (gotargets.toolchains() or [None])[-1]
    if tc is None:
        hostcheck.missing_setup_piece("no Go toolchain found")
    binary = gotargets.build("pprofgen", tc, gotargets.Variant(stripped=True))
    d = tmp_path_factory.mktemp("two")
    outs = [d / "run-1.pb.gz", d / "run-2.pb.gz"]
    for out, ms in zip(outs, ("150", "250")):
        subprocess.run([str(binary), str(out), ms], check=True, timeout=120)
    return tc, outs


def per_stack(traces):
    out = {}
    for (_, frames), value in traces.items():
        out[frames] = out.get(frames, 0) + value
    return out


def test_several_inputs_merge_as_pprof_merges_them(goperf, two_profiles, tmp_path):
    tc, (a, b) = two_profiles
    merged = tmp_path / "theirs.pb.gz"
    pprof(tc, "-proto", "-output", str(merged), str(a), str(b))
    want = per_stack(parse_traces(pprof(tc, "-traces", str(merged))))
    for args in (["-i", a, "-i", b], [a, b], ["-i", str(a.parent / "run-*.pb.gz")]):
        ours = tmp_path / "ours.pb.gz"
        report(goperf, *args, "-o", ours)
        got = per_stack(parse_traces(pprof(tc, "-traces", str(ours))))
        assert got == want, args
    # The control: one input alone is not the merged profile.
    alone = per_stack(parse_traces(pprof(tc, "-traces", str(a))))
    assert alone != want


def test_inputs_of_other_sample_types_are_refused(goperf, two_profiles, tmp_path):
    _, (a, _) = two_profiles
    folded = tmp_path / "x.folded"
    folded.write_text("main.main;main.f 3\n")
    res = report(goperf, a, folded, "-o", tmp_path / "m.svg", check=False)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "cannot merge" in res.stderr


@pytest.mark.parametrize("n", [5, 3])
def test_top_n_cum_equals_go_tool_pprof(goperf, cpu_profile, n):  # noqa: F811 (fixture)
    tc, prof = cpu_profile
    ours = report(goperf, "-i", prof, "--format", "top", "-n", n, "--cum").stdout
    theirs = pprof(tc, "-top", f"-nodecount={n}", "-cum", str(prof))
    rows = lambda text: [(name, v) for name, v in parse_top(text).items()]  # noqa: E731
    # parse_top keeps rows in their printed order (dicts keep insertion order).
    assert rows(ours) == rows(theirs)
    assert len(rows(ours)) == n
    header = lambda text: {m.group(1): m.group(2) for m in re.finditer(r"^(File|Type|Duration): (.*)$", text, re.M)}  # noqa: E731
    assert header(ours) == header(theirs) and set(header(ours)) == {"File", "Type", "Duration"}, (ours, theirs)
    # Without --cum the order is pprof's flat one.
    flat = report(goperf, "-i", prof, "--format", "top", "-n", n).stdout
    assert rows(flat) == rows(pprof(tc, "-top", f"-nodecount={n}", str(prof)))
