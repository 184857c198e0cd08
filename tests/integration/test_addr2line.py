"""goperf addr2line against the Go toolchain and binutils as oracles, on the symbols targets built by every
Go toolchain present as exe, PIE and cgo, stripped and not:
- goperf on every build equals `go tool addr2line` (same toolchain) on the unstripped non-PIE build, for every
  function entry and 10,000 random PCs (physical function name, innermost file:line);
- PIE builds equal their non-PIE twin function by function (go tool addr2line answers ? on PIE);
- inline chains equal what runtime.CallersFrames reports inside the program itself;
- the output text equals binutils addr2line's (go1.19 DWARF) for every flag combination;
- C and C++ functions of a cgo program are named as binutils nm names them (-C demangles)."""
import concurrent.futures
import functools
import json
import random
import select
import subprocess
import tempfile

import pytest

import gotargets
import hostcheck
from symbol_oracles import (builds_for, elf_layout, go_addr2line, go_nm, go_text_range, goperf_chains,
                            parse_chains, parse_frames_output, physical_view, run_goperf, runtime_chains)

V = gotargets.Variant
TOOLCHAINS = [tc.name for tc in gotargets.toolchains()]
CGO_VARIANTS = [v for v in gotargets.ALL_VARIANTS if v.cgo]
TARGETS = [("symbols", v) for v in gotargets.ALL_VARIANTS] + [("symbols_cgo", v) for v in CGO_VARIANTS]
RANDOM_PCS = 10_000


@pytest.fixture(scope="module")
def builds():
    if not TOOLCHAINS:
        hostcheck.missing_setup_piece("no Go toolchain found")
    return builds_for(TARGETS)


_oracles = {}


def oracle(builds, target, tcname, cgo):
    """Entries and random PCs of the unstripped non-PIE build, with go tool addr2line's answers."""
    key = (target, tcname, cgo)
    if key not in _oracles:
        tc = gotargets.toolchain(tcname)
        twin = builds[(target, tcname, V(pie=False, cgo=cgo, stripped=False))]
        syms = go_nm(tc, twin)
        text, etext = go_text_range(syms)
        entries = sorted({a for a, _s, _n in syms if text <= a < etext})
        rnd = random.Random(f"{target}-{tcname}-{cgo}")
        pcs = entries + [rnd.randrange(text, etext) for _ in range(RANDOM_PCS)]
        # On an unstripped binary go tool addr2line takes the Go text start from the runtime.text symbol
        # (on a stripped one it falls back to .text's address, wrong when C start-up code comes first).
        answers = go_addr2line(tc, twin, pcs)
        _oracles[key] = (syms, pcs, answers)
    return _oracles[key]


def params(pie):
    out = []
    for tc in TOOLCHAINS:
        for target, v in TARGETS:
            if v.pie == pie:
                out.append(pytest.param(tc, target, v, id=f"{tc}-{target}-{v.name}"))
    return out


@pytest.mark.parametrize("tcname,target,variant", params(pie=False))
def test_matches_go_tool_addr2line(goperf, builds, tcname, target, variant):
    _syms, pcs, answers = oracle(builds, target, tcname, variant.cgo)
    chains = goperf_chains(goperf, builds[(target, tcname, variant)], pcs)
    bad = [(hex(pc), want, physical_view(ch)) for pc, want, ch in zip(pcs, answers, chains) if physical_view(ch) != want]
    assert not bad, f"{len(bad)} of {len(pcs)} PCs differ from go tool addr2line, e.g. {bad[:8]}"
    assert sum(1 for a in answers if a[0] != "?") > 0.99 * len(pcs)


@pytest.mark.parametrize("tcname,target,variant", params(pie=True))
def test_pie_matches_non_pie_twin(goperf, builds, tcname, target, variant):
    tc = gotargets.toolchain(tcname)
    syms, pcs, answers = oracle(builds, target, tcname, variant.cgo)
    by_name = {}
    for (pc, ans) in zip(pcs, answers):
        by_name.setdefault(pc, ans)
    exe_entries = {}
    for a, _s, n in syms:
        exe_entries.setdefault(n, []).append(a)
    pie_syms = go_nm(tc, builds[(target, tcname, V(pie=True, cgo=variant.cgo, stripped=False))])
    text, etext = go_text_range(pie_syms)
    pie_entries = {}
    for a, _s, n in pie_syms:
        if text <= a < etext:
            pie_entries.setdefault(n, []).append(a)
    names = sorted(n for n, a in pie_entries.items() if len(a) == 1 and len(exe_entries.get(n, [])) == 1
                   and exe_entries[n][0] in by_name)
    assert len(names) > 500
    chains = goperf_chains(goperf, builds[(target, tcname, variant)], [pie_entries[n][0] for n in names])
    bad = [(n, by_name[exe_entries[n][0]], physical_view(ch)) for n, ch in zip(names, chains)
           if not same_entry(physical_view(ch), by_name[exe_entries[n][0]])]
    assert not bad, f"{len(bad)} of {len(names)} functions differ from the non-PIE twin, e.g. {bad[:8]}"


def same_entry(pie, exe):
    """The entry of a function names the same function and file in both builds, and the same line except
    in assembly, where PIE builds assemble a different first instruction (asm_amd64.s gogo, morestack, ...)."""
    if pie[1].rsplit(":", 1)[0].endswith(".s"):
        return (pie[0], pie[1].rsplit(":", 1)[0]) == (exe[0], exe[1].rsplit(":", 1)[0])
    return pie == exe


def print_name(name):
    """runtime.CallersFrames reports generic functions by their print name since Go 1.21: everything
    between the first '[' and the last ']' becomes "..." (runtime/symtab.go funcNameForPrint)."""
    i, j = name.find("["), name.rfind("]")
    return name if i < 0 or j < i else name[:i + 1] + "..." + name[j:]


def exe_load_bias(binary, exe_start):
    return exe_start - (min(elf_layout(binary)["loads"]) & ~0xFFF)


@pytest.mark.parametrize("tcname,target,variant",
                         [pytest.param(tc, t, v, id=f"{tc}-{t}-{v.name}") for tc in TOOLCHAINS for t, v in TARGETS])
def test_inline_chains_equal_callers_frames(goperf, builds, tcname, target, variant):
    binary = builds[(target, tcname, variant)]
    out = subprocess.run([str(binary), "frames"], check=True, capture_output=True, text=True, timeout=60).stdout
    exe_start, stacks = parse_frames_output(out)
    chains = runtime_chains(stacks)
    assert any(len(c) >= (5 if target == "symbols" else 2) for c in chains.values()), "the target lost its inline chains"
    bias = exe_load_bias(binary, exe_start)
    lookups = sorted(chains)
    got = [[(print_name(f), fl) for f, fl in ch] for ch in goperf_chains(goperf, binary, [pc - bias for pc in lookups])]
    bad = [(hex(pc - bias), chains[pc], g) for pc, g in zip(lookups, got) if g != chains[pc]]
    assert not bad, f"{len(bad)} of {len(lookups)} inline chains differ from runtime.CallersFrames, e.g. {bad[:4]}"
    # Without -i, the innermost (inlined) function is named, as binutils does.
    plain = run_goperf(goperf, binary, [pc - bias for pc in lookups], flags=("-f",)).splitlines()
    assert [print_name(f) for f in plain[1::3]] == [chains[pc][0][0] for pc in lookups]
    assert plain[2::3] == [chains[pc][0][1] for pc in lookups]
    # --json: the same chains, inline levels marked, the physical frame last.
    res = subprocess.run([goperf, "addr2line", "--json", "-e", str(binary)], check=True, capture_output=True, text=True,
                         input="".join(f"{pc - bias:x}\n" for pc in lookups))
    for pc, line in zip(lookups, res.stdout.splitlines()):
        obj = json.loads(line)
        assert int(obj["address"], 16) == pc - bias
        assert [(print_name(f["function"]), f"{f['file']}:{f['line']}") for f in obj["frames"]] == chains[pc]
        assert [f["inlined"] for f in obj["frames"]] == [True] * (len(chains[pc]) - 1) + [False]


# -f without -i is left out here: on Go's DWARF binutils then names the physical function (on C code it
# names the innermost inlined one, as goperf does); what goperf's -f alone names is checked against
# runtime.CallersFrames in test_inline_chains_equal_callers_frames.
FLAG_SETS = [(), ("-i",), ("-f", "-i"), ("-a", "-f", "-i", "-p"), ("-i", "-p"), ("-a", "-p"), ("-f", "-i", "-a"),
             ("-p", "-f", "-i", "-s", "-C")]


def test_output_equals_binutils(goperf, builds):
    """binutils reads the DWARF of the unstripped go1.19 build (DWARF 4; it cannot read newer Go DWARF
    line tables); goperf reads only the pclntab of the stripped build. Generic functions (DWARF names
    their shapes, the pclntab prints [...]), assembly (DWARF keeps the linker's .abi0 suffix) and
    <autogenerated> code (paths differ) are left out."""
    if "go1.19" not in TOOLCHAINS:
        hostcheck.missing_setup_piece("go1.19 is not installed (Debian package golang-1.19-go)")
    tc = gotargets.toolchain("go1.19")
    syms_bin = builds[("symbols", "go1.19", V(stripped=False))]
    stripped = builds[("symbols", "go1.19", V())]
    # PCs inside main's functions, and the inline-chain PCs the program reports itself.
    cands = set()
    for a, size, name in go_nm(tc, syms_bin):
        if name.startswith("main.") and "[" not in name:
            cands.update((a, a + size // 2))
    out = subprocess.run([str(syms_bin), "frames"], check=True, capture_output=True, text=True).stdout
    cands.update(runtime_chains(parse_frames_output(out)[1]))
    cands = sorted(cands)

    # binutils answers each address in a process of its own: on Go DWARF its inlined-call lookups depend
    # on the queries before them (it sometimes names an inlined frame after its caller, when the call's
    # abstract origin is in another compilation unit, i.e. another Go package).
    @functools.lru_cache(maxsize=None)
    def binutils(flags, addr):
        return subprocess.run(["addr2line", "-e", str(syms_bin), *flags, f"{addr:#x}"], check=True,
                              capture_output=True, text=True).stdout

    # On Go's DWARF binutils names the innermost frame of an inlined chain after the physical function
    # (its inlined-by frames are named right), and cannot follow an abstract origin into another package.
    # Function names are therefore compared only where the chain stays in package main and names no
    # function twice (Go never inlines a function into itself); file:lines are compared everywhere.
    def keep(addr):
        block = binutils(("-f", "-i"), addr)
        names = block.splitlines()[0::2]
        return (not any(s in block for s in ("autogenerated", "go.shape", ".abi0"))
                and all(n.startswith("main.") for n in names) and len(set(names)) == len(names))

    def usable(addr):
        return not any(s in binutils(("-f", "-i"), addr) for s in ("autogenerated", ".abi0"))

    unknown = [0x10, 0x7FFFFFFF0000]  # "??" and "??:0"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        named = [a for a, k in zip(cands, pool.map(keep, cands)) if k] + unknown
        located = [a for a, k in zip(cands, pool.map(usable, cands)) if k] + unknown
        assert len(named) > 40 and any(len(binutils(("-i",), a).splitlines()) >= 5 for a in located)
        for flags in FLAG_SETS:
            addrs = named if "-f" in flags else located
            if "-f" in flags:
                want = "".join(pool.map(lambda a: binutils(flags, a), addrs))
            else:  # file:line answers do not depend on earlier queries: one process
                want = subprocess.run(["addr2line", "-e", str(syms_bin), *flags], input="".join(f"{a:#x}\n" for a in addrs),
                                      check=True, capture_output=True, text=True).stdout
            got = subprocess.run([goperf, "addr2line", "-e", str(stripped), *flags],
                                 input="".join(f"{a:#x}\n" for a in addrs), check=True, capture_output=True,
                                 text=True).stdout
            if got != want:
                g, w = got.splitlines() + [""], want.splitlines() + [""]
                i = next(i for i, (x, y) in enumerate(zip(g, w)) if x != y)
                pytest.fail(f"flags {flags}: line {i}: goperf {g[max(0, i - 3):i + 2]} binutils {w[max(0, i - 3):i + 2]}")
    # Addresses as arguments, with and without 0x, as binutils reads them.
    args = [hex(named[0]), f"{named[1]:x}", f"{named[2]:X}"]
    want = subprocess.run(["addr2line", "-e", str(syms_bin), "-a", "-f", "-i", *args], check=True, capture_output=True,
                          text=True).stdout
    got = subprocess.run([goperf, "addr2line", "-e", str(stripped), "-a", "-f", "-i", *args], check=True,
                         capture_output=True, text=True).stdout
    assert got == want


def elf_functions(binary, demangle):
    """FUNC symbols of .symtab by binutils readelf: {addr: name} (demangled with -C)."""
    out = subprocess.run(["readelf", "-sW", *(["-C"] if demangle else []), str(binary)], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split(None, 7)
        if len(f) == 8 and f[3] == "FUNC" and f[6] != "UND" and int(f[2], 0) > 0:
            syms.setdefault(int(f[1], 16), f[7])
    return syms


@pytest.mark.parametrize("tcname,variant", [pytest.param(tc, v, id=f"{tc}-{v.name}") for tc in TOOLCHAINS
                                            for v in CGO_VARIANTS if not v.stripped])
def test_native_names_equal_nm(goperf, builds, tcname, variant):
    binary = builds[("symbols_cgo", tcname, variant)]
    text, etext = go_text_range(go_nm(gotargets.toolchain(tcname), binary))
    raw, demangled = elf_functions(binary, False), elf_functions(binary, True)
    addrs = sorted(a for a in raw if not text <= a < etext and raw[a] not in ("_start", "_init", "_fini"))
    assert any(n.startswith("_ZN13goperf_target") for n in raw.values())
    for flags, names in ((("-f",), raw), (("-f", "-C"), demangled)):
        out = run_goperf(goperf, binary, addrs, flags=flags).splitlines()
        got = out[1::3]
        want = [names[a] for a in addrs]
        bad = [(hex(a), w, g) for a, w, g in zip(addrs, want, got) if w != g]
        assert not bad, f"{flags}: {len(bad)} of {len(addrs)} C/C++ symbols misnamed, e.g. {bad[:6]}"
    assert "goperf_target::Accumulator::add(int, int)" in demangled.values()


def test_answers_each_line_as_it_arrives(goperf, builds):
    """Usable as a coprocess: each address is answered before the next one is written."""
    tc = TOOLCHAINS[0]
    binary = builds[("symbols", tc, V())]
    proc = subprocess.Popen([goperf, "addr2line", "-f", "-e", str(binary)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        for addr in ("0x10", "0x20"):
            proc.stdin.write(addr + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 10)
            assert ready, "no answer within 10 s while stdin stays open"
            assert proc.stdout.readline() == "??\n"
            assert proc.stdout.readline() == "??:0\n"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


def test_many_batches_keep_input_order(goperf, builds):
    """Megabytes of addresses are answered in batches on two threads: every answer must still come in
    input order (-a echoes each address) and equal go tool addr2line's, through a pipe as from a file
    (read whole, symbolized and gathered on two threads)."""
    tc = TOOLCHAINS[0]
    _syms, pcs, answers = oracle(builds, "symbols", tc, False)
    want = dict(zip(pcs, answers))
    rnd = random.Random(5)
    addrs = []
    while len(addrs) * 19 < 13 << 20:  # "0x%016x\n" is 19 bytes: at least three 4 MiB batches from a pipe
        addrs.extend(rnd.sample(pcs, len(pcs)))
    text = "".join(f"0x{a:016x}\n" for a in addrs)
    binary = builds[("symbols", tc, V())]
    with tempfile.TemporaryFile("w+") as f:
        f.write(text)
        f.seek(0)
        from_file = subprocess.run([goperf, "addr2line", "-a", "-f", "-i", "-e", str(binary)], stdin=f,
                                   capture_output=True, text=True, timeout=120)
    from_pipe = subprocess.run([goperf, "addr2line", "-a", "-f", "-i", "-e", str(binary)], input=text,
                               capture_output=True, text=True, timeout=120)
    assert from_file.returncode == 0 and from_pipe.returncode == 0, from_file.stderr + from_pipe.stderr
    assert from_pipe.stdout == from_file.stdout
    # Without -a, addresses with the same frames share one answer: the text must be the same but for
    # the echoed addresses.
    with tempfile.TemporaryFile("w+") as f:
        f.write(text)
        f.seek(0)
        plain = subprocess.run([goperf, "addr2line", "-f", "-i", "-e", str(binary)], stdin=f,
                               capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    echoes = {f"0x{a:016x}" for a in addrs}
    assert plain.stdout.splitlines() == [l for l in from_file.stdout.splitlines() if l not in echoes]
    echoed, chains = parse_chains(from_file.stdout)
    assert echoed == addrs
    bad = [(hex(a), want[a], physical_view(ch)) for a, ch in zip(addrs, chains) if physical_view(ch) != want[a]]
    assert not bad, f"{len(bad)} of {len(addrs)} answers differ from go tool addr2line, e.g. {bad[:8]}"


def test_help(goperf):
    res = subprocess.run([goperf, "addr2line", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "usage: goperf addr2line" in res.stdout and "--inlines" in res.stdout
