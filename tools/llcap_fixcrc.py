#!/usr/bin/env python3
# llcap_fixcrc.py - rewrites a capture/snapshot file's CRC-32 trailer to match its bytes, optionally first zeroing every frame's ip (so corrupt inputs reach the parsers).
"""Usage: llcap_fixcrc.py [--zero-ips] IN OUT

The trailer (snapfile.h) is: u64 total, u32 crc32 of every byte before the crc, "LLND".
--zero-ips: in the FRAMES section (type 2), sets each frame's u64 ip (bytes 16..23) to 0,
making native frames look like compile-time-hook frames to the readers.
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


def main(argv):
    args = argv[1:]
    zero = False
    if args and args[0] == "--zero-ips":
        zero = True
        args = args[1:]
    if len(args) != 2:
        sys.exit("usage: llcap_fixcrc.py [--zero-ips] IN OUT")
    with open(args[0], "rb") as f:
        b = bytearray(f.read())
    if len(b) < 40:
        sys.exit("llcap_fixcrc.py: %s: too short for a trailer" % args[0])
    if zero and zero_ips(b) == 0:
        sys.exit("llcap_fixcrc.py: %s: no frames to zero" % args[0])
    struct.pack_into("<I", b, len(b) - 8, zlib.crc32(bytes(b[: len(b) - 8])) & 0xFFFFFFFF)
    with open(args[1], "wb") as f:
        f.write(b)


main(sys.argv)
