#!/usr/bin/env python3
"""Writes a small copy of an ELF core file as a fuzzing seed: the ELF header, every program header and
every note (threads' registers, NT_FILE, auxv, prpsinfo) kept as they are, each PT_LOAD's file data cut
to its first KEEP bytes (its p_filesz shrunk, p_memsz kept), offsets repacked. The result is still a
core goperf's reader accepts, so the fuzzer starts inside the parser rather than at its first check.

usage: shrink_core.py CORE OUT [KEEP]"""
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4


def shrink(data, keep):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit("shrink_core: not a 64-bit little-endian ELF file")
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    headers = [list(struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)) for i in range(phnum)]
    out = bytearray(data[:64])
    struct.pack_into("<Q", out, 32, 64)               # program headers right after the ELF header
    struct.pack_into("<Q", out, 40, 0)                # no section headers
    struct.pack_into("<HHH", out, 58, 0, 0, 0)
    offset = 64 + phnum * phentsize
    blobs = []
    for h in headers:
        p_type, _, p_offset, _, _, p_filesz = h[0], h[1], h[2], h[3], h[4], h[5]
        size = p_filesz if p_type != PT_LOAD else min(p_filesz, keep)
        blobs.append(data[p_offset:p_offset + size])
        h[2], h[5] = offset, size
        offset += size
    for h in headers:
        out += struct.pack("<IIQQQQQQ", *h) + b"\0" * (phentsize - 56)
    for b in blobs:
        out += b
    return bytes(out)


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    keep = int(sys.argv[3]) if len(sys.argv) == 4 else 4096
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    with open(sys.argv[2], "wb") as f:
        f.write(shrink(data, keep))


if __name__ == "__main__":
    main()
