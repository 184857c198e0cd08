#!/usr/bin/env python3
"""Cuts the kernel's BTF (the .BTF section, what /sys/kernel/btf/vmlinux serves) out of an arm64 kernel
Image, so that bpftool can write the arm64 vmlinux.h on an amd64 host. Debian's arm64 vmlinuz is the raw
Image (no ELF headers to find .BTF by), so the blob is found by its header (include/uapi/linux/btf.h:
magic 0xeB9F, version 1, hdr_len 24, type section first, string section right after it).

usage: btf_from_image.py IMAGE OUT"""
import gzip
import struct
import sys


def find_btf(image: bytes) -> bytes:
    found = []
    at = image.find(b"\x9f\xeb\x01\x00")
    while at >= 0:
        hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<IIIII", image, at + 4)
        if hdr_len == 24 and type_off == 0 and str_off == type_len and type_len > 0 and str_len > 0:
            end = at + hdr_len + str_off + str_len
            if end <= len(image):
                found.append(image[at:end])
        at = image.find(b"\x9f\xeb\x01\x00", at + 1)
    if len(found) != 1:
        sys.exit(f"btf_from_image: {len(found)} BTF headers in the image, expected one")
    return found[0]


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    image = open(sys.argv[1], "rb").read()
    if image[:2] == b"\x1f\x8b":
        image = gzip.decompress(image)
    if image[56:60] != b"ARM\x64":
        sys.exit(f"btf_from_image: {sys.argv[1]}: not an arm64 kernel Image")
    open(sys.argv[2], "wb").write(find_btf(image))


if __name__ == "__main__":
    main()
