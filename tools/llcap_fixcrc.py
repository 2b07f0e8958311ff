#!/usr/bin/env python3
# llcap_fixcrc.py - rewrites a capture/snapshot file's CRC-32 trailer to match its bytes, optionally first zeroing every frame's ip or emptying its memory over time per line (so odd inputs reach the readers).
"""Usage: llcap_fixcrc.py [--zero-ips | --empty-lines] IN OUT

The trailer (snapfile.h) is: u64 total, u32 crc32 of every byte before the crc, "LLND".
--zero-ips: in the FRAMES section (type 2), sets each frame's u64 ip (bytes 16..23) to 0,
making native frames look like compile-time-hook frames to the readers.
--empty-lines: the LINES section (type 0x105) becomes one with no points and no columns (a
series that never sampled); the file's lengths follow.
"""
import struct
import sys
import zlib


def zero_ips(b):
    off = 24
    end = len(b) - 16
    hit = 0
    while off + 16 <= end:
        typ, _flags, length = struct.unpack_from("<IIQ", b, off)
        payload = off + 16
        if typ == 2:
            count = struct.unpack_from("<I", b, payload)[0]
            for i in range(count):
                struct.pack_into("<Q", b, payload + 8 + i * 24 + 16, 0)
            hit += count
        off = payload + length
        off += (-off) % 8
    return hit


def empty_lines(b):
    """A new file image whose LINES sections hold no points; None when there is none."""
    off = 24
    end = len(b) - 16
    out = bytearray(b[:24])
    hit = False
    while off + 16 <= end:
        typ, flags, length = struct.unpack_from("<IIQ", b, off)
        payload = bytes(b[off + 16: off + 16 + length])
        if typ == 0x105:
            # version 1, npts 0, ncols 0, peak_pt none, stride 1
            payload = struct.pack("<IIIIQ", 1, 0, 0, 0xFFFFFFFF, 1)
            hit = True
        out += struct.pack("<IIQ", typ, flags, len(payload)) + payload
        out += bytes((-len(out)) % 8)
        off += 16 + length
        off += (-off) % 8
    if not hit:
        return None
    total = len(out) + 16
    struct.pack_into("<Q", out, 16, total)
    out += struct.pack("<QI", total, 0) + b"LLND"
    return out


def main(argv):
    args = argv[1:]
    mode = None
    if args and args[0] in ("--zero-ips", "--empty-lines"):
        mode = args[0]
        args = args[1:]
    if len(args) != 2:
        sys.exit("usage: llcap_fixcrc.py [--zero-ips | --empty-lines] IN OUT")
    with open(args[0], "rb") as f:
        b = bytearray(f.read())
    if len(b) < 40:
        sys.exit("llcap_fixcrc.py: %s: too short for a trailer" % args[0])
    if mode == "--zero-ips" and zero_ips(b) == 0:
        sys.exit("llcap_fixcrc.py: %s: no frames to zero" % args[0])
    if mode == "--empty-lines":
        b = empty_lines(b)
        if b is None:
            sys.exit("llcap_fixcrc.py: %s: no LINES section" % args[0])
    struct.pack_into("<I", b, len(b) - 8, zlib.crc32(bytes(b[: len(b) - 8])) & 0xFFFFFFFF)
    with open(args[1], "wb") as f:
        f.write(b)


main(sys.argv)
