"""Every Go toolchain the matrices use is present: a toolchain that is missing would silently drop out of
every parametrized test, so its absence is reported here (a failure in strict mode, as scripts/test runs)."""
import gotargets
import hostcheck

EXPECTED = ("go1.19", "go1.26", "go1.27.3")


def test_every_toolchain_is_present():
    found = {t.name for t in gotargets.toolchains()}
    missing = [name for name in EXPECTED if name not in found]
    if missing:
        hostcheck.missing_setup_piece("Go toolchains missing: " + ", ".join(missing))
    assert found >= set(EXPECTED)
