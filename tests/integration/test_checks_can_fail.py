"""The integration tests' own checks, fed with profiles and dumps made wrong on purpose: each check must
fail on the defect it exists to catch (a walker that drops a middle frame, a misnamed leaf, an off-by-one
line, an invented goroutine, shares that disagree) and pass on the right answer."""
import pytest

import snapshot_dump
import test_record as rec
import test_snapshot as snap

INLINE = rec.EXPECTED["inline"][1][0]  # main.leaf ... runtime.goexit


class FakeProfile:
    """Just enough of pprof_decode.Profile for the checks: (frames, count) pairs, leaf first; a frame is a
    name or a (name, file, line) triple."""

    def __init__(self, stacks):
        self._stacks = [(tuple(f if isinstance(f, tuple) else (f, "main.go", 1) for f in s), n) for s, n in stacks]

    def stacks(self, skip_kernel=False):
        return [(tuple(f[0] for f in s), n) for s, n in self._stacks]

    def line_stacks(self, skip_kernel=False):
        return self._stacks


def test_exact_stacks_pass_on_the_expected_stacks():
    rec.check_exact_stacks(FakeProfile([(INLINE, 100), (INLINE[1:], 1)]), "inline")


@pytest.mark.parametrize("broken", [
    [f for f in INLINE if f != "main.mid"],                  # a middle frame dropped
    ["main.other"] + list(INLINE[1:]),                       # the leaf misnamed as another main function
    INLINE[:3],                                              # cut short
    list(INLINE[:3]) + ["[truncated]"],                      # ended by a marker
    list(INLINE[:2]) + ["main.mid"] + list(INLINE[2:]),      # a frame invented
], ids=["dropped-middle", "misnamed-leaf", "cut", "marker", "invented"])
def test_exact_stacks_fail_on_wrong_stacks(broken):
    with pytest.raises(AssertionError):
        rec.check_exact_stacks(FakeProfile([(INLINE, 90), (broken, 10)]), "inline")


def with_lines(stack, lines):
    return [(f, "/src/main.go", line) for f, line in zip(stack, lines)]


def test_call_site_lines_fail_on_an_off_by_one_line():
    oracle = FakeProfile([(with_lines(INLINE, [10, 20, 30, 40, 50, 60]), 50)])
    # The leaf's line is where it was sampled, not a call site: it may differ.
    rec.check_call_site_lines(FakeProfile([(with_lines(INLINE, [11, 20, 30, 40, 50, 60]), 50)]), oracle, "inline")
    with pytest.raises(AssertionError):
        rec.check_call_site_lines(FakeProfile([(with_lines(INLINE, [10, 21, 30, 40, 50, 60]), 50)]), oracle, "inline")
    misnamed = ["main.leaf", "main.other"] + list(INLINE[2:])
    with pytest.raises(AssertionError):
        rec.check_call_site_lines(FakeProfile([(with_lines(misnamed, [10, 20, 30, 40, 50, 60]), 50)]), oracle, "inline")


def test_call_site_the_oracle_missed_passes_only_where_objdump_has_a_call():
    oracle = FakeProfile([(with_lines(INLINE, [10, 20, 30, 40, 50, 60]), 50)])
    ours = FakeProfile([(with_lines(INLINE, [10, 20, 30, 40, 50, 60]), 50), (with_lines(INLINE, [10, 20, 31, 40, 50, 60]), 1)])
    caller = INLINE[2]  # the frame whose call site is at line 31 in ours alone
    rec.check_call_site_lines(ours, oracle, "inline", lambda: {caller: {("main.go", 30), ("main.go", 31)}})
    with pytest.raises(AssertionError):
        rec.check_call_site_lines(ours, oracle, "inline", lambda: {caller: {("main.go", 30)}})
    with pytest.raises(AssertionError):  # a call at that line in another function does not count
        rec.check_call_site_lines(ours, oracle, "inline", lambda: {INLINE[3]: {("main.go", 31)}})


def test_share_bound_catches_a_wrong_share():
    # 1000 samples each: a 10-point difference is far outside, a 1-point one inside.
    assert abs(0.50 - 0.40) > rec.share_bound(0.50, 1000, 0.40, 1000)
    assert abs(0.50 - 0.49) <= rec.share_bound(0.50, 1000, 0.49, 1000)
    # Fewer samples widen the bound: never past the 0.10 the old check allowed at 200 oracle samples,
    # given MIN_ORACLE_SAMPLES on both sides.
    n = rec.MIN_ORACLE_SAMPLES
    assert rec.share_bound(0.5, n, 0.5, n) < 0.13


DUMP = """goroutine 1 [chan receive]:
main.main()
\t/src/main.go:10 +0x1

goroutine 7 [running]:
main.spinner()
\t/src/main.go:20 +0x2
runtime.goexit()
\t/src/asm.s:1 +0x1
created by main.main in goroutine 1
\t/src/main.go:11 +0x3

"""


def test_snapshot_compare_fails_on_an_invented_goroutine():
    oracle = snapshot_dump.parse(DUMP)
    assert not snap.compare(snapshot_dump.parse(DUMP), oracle)
    invented = DUMP + "goroutine 99 [select]:\nmain.x()\n\t/src/main.go:5 +0x1\n\n"
    assert snap.compare(snapshot_dump.parse(invented), oracle)


def test_snapshot_compare_fails_on_a_wrong_running_stack():
    oracle = snapshot_dump.parse(DUMP)
    wrong = DUMP.replace("runtime.goexit()\n\t/src/asm.s:1", "main.other()\n\t/src/main.go:30")
    assert snap.compare(snapshot_dump.parse(wrong), oracle)
    # The innermost frame's line of a running goroutine may differ (it ran on): not a difference.
    moved = DUMP.replace("main.go:20 +0x2", "main.go:21 +0x4")
    assert not snap.compare(snapshot_dump.parse(moved), oracle)
