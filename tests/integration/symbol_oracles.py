"""Oracles and helpers shared by the addr2line, info and etcd symbol tests: the Go toolchain's own
`go tool nm` / `go tool addr2line` / `go version -m`, binutils addr2line, a minimal ELF reader for
section and segment addresses, and goperf addr2line output parsing."""
import pathlib
import re
import struct
import subprocess

import gotargets

ADDR_LINE = re.compile(r"^0x[0-9a-f]{16}$")
NO_LINE = re.compile(r"^:-\d+$")  # go tool addr2line's answer where the pc-line table has no entry


def elf_layout(path):
    """Section addresses {name: (addr, size)} and PT_LOAD vaddrs of a 64-bit little-endian ELF file."""
    data = pathlib.Path(path).read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2, f"{path}: not a 64-bit ELF"
    e_type, = struct.unpack_from("<H", data, 16)
    phoff, shoff = struct.unpack_from("<QQ", data, 32)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 54)
    loads = []
    for i in range(phnum):
        p_type, _flags, _off, vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if p_type == 1:
            loads.append(vaddr)
    sections = {}
    if shoff and shnum:
        str_off, = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 24)
        for i in range(shnum):
            name, _t, _f, addr, _o, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
            end = data.index(b"\0", str_off + name)
            sections[data[str_off + name:end].decode()] = (addr, size)
    return {"type": e_type, "loads": loads, "sections": sections}


def go_nm(tc, path):
    """Text symbols of an unstripped binary from `go tool nm -size`: [(addr, size, name)]."""
    out = tc.tool("tool", "nm", "-size", str(path))
    syms = []
    for line in out.splitlines():
        f = line.split(None, 3)
        if len(f) == 4 and f[2] in ("T", "t"):
            syms.append((int(f[0], 16), int(f[1]), f[3]))
    return syms


def go_text_range(syms):
    by_name = {name: addr for addr, _size, name in syms}
    return by_name["runtime.text"], by_name["runtime.etext"]


def go_addr2line(tc, path, addrs):
    """`go tool addr2line` of toolchain tc over addrs (one run, addresses on stdin): [(func, file:line)]."""
    res = subprocess.run([tc.go, "tool", "addr2line", str(path)], env=tc.environ(), check=True,
                         capture_output=True, text=True, input="".join(f"{a:#x}\n" for a in addrs))
    lines = res.stdout.splitlines()
    assert len(lines) == 2 * len(addrs), res.stderr[-2000:]
    # A PC past a function's last instruction (alignment padding) has no line: go prints ":-1",
    # binutils' format (and goperf) "??:?".
    return [(lines[2 * i], "??:?" if NO_LINE.match(lines[2 * i + 1]) else lines[2 * i + 1]) for i in range(len(addrs))]


def run_goperf(goperf, binary, addrs, flags=("-f", "-i"), check=True):
    """goperf addr2line -a FLAGS over addrs on stdin; returns its raw stdout."""
    res = subprocess.run([goperf, "addr2line", "-e", str(binary), "-a", *flags], capture_output=True, text=True,
                         input="".join(f"{a:x}\n" for a in addrs), timeout=120)
    if check:
        assert res.returncode == 0, res.stderr
    return res.stdout


def parse_chains(out):
    """The output of addr2line -a -f -i: the addresses it echoed, and for each its chain
    [(func, file:line)], innermost first."""
    addresses, chains = [], []
    for line in out.splitlines():
        if ADDR_LINE.match(line):
            addresses.append(int(line, 16))
            chains.append([])
            pending = None
        elif pending is None:
            pending = line
        else:
            chains[-1].append((pending, line))
            pending = None
    return addresses, chains


def goperf_chains(goperf, binary, addrs):
    """goperf addr2line -a -f -i over addrs: for each address its chain [(func, file:line)], innermost first."""
    _addresses, chains = parse_chains(run_goperf(goperf, binary, addrs))
    assert len(chains) == len(addrs)
    return chains


def physical_view(chain):
    """What go tool addr2line reports for an address: the physical (outermost) function, and the
    innermost file:line. goperf's unknown ("??", "??:0") maps to go's ("?", "?:0")."""
    func, fileline = chain[-1][0], chain[0][1]
    if func == "??":
        return ("?", "?:0")
    return (func, fileline)


def parse_frames_output(text):
    """Parses the `frames` mode of tests/targets/symbols*: (exe start, [stack]); each stack is a list of
    (pc, kind, function, file, line)."""
    exe, stacks = None, []
    for line in text.splitlines():
        if line.startswith("exe "):
            exe = int(line.split()[1], 16)
        elif line == "stack":
            stacks.append([])
        elif line.startswith("pc "):
            head, func, file, ln = line.split("\t")
            _, pc, kind = head.split()
            stacks[-1].append((int(pc, 16), kind, func, file, int(ln)))
    return exe, stacks


def runtime_chains(stacks):
    """Groups each stack's frames into physical frames: {lookup pc: [(func, file:line)]}. The lookup pc
    is the first PC of the group minus one, as runtime.CallersFrames looks it up."""
    chains = {}
    for stack in stacks:
        group = []
        for pc, kind, func, file, line in stack:
            group.append((pc, func, f"{file}:{line}"))
            if kind == "go":
                chains[group[0][0] - 1] = [(f, fl) for _pc, f, fl in group]
                group = []
    return chains


def builds_for(names_variants):
    """Builds every (target, variant) with every toolchain present, in parallel; returns
    {(target, toolchain name, variant): path}."""
    reqs = [(name, tc, v) for tc in gotargets.toolchains() for name, v in names_variants]
    paths = gotargets.build_many(reqs)
    return {(name, tc.name, v): p for (name, tc, v), p in zip(reqs, paths)}
