#!/usr/bin/env python3
# unpack-kernel.py BZIMAGE OUT: the kernel ELF inside a bzImage whose payload
# is gzip (xlab's lean kernel), as xlab hands it to Xen as the dom0 kernel
# (host/hostprep.c): Xen would otherwise unpack it in the emulated host.
import struct
import sys
import zlib

img = open(sys.argv[1], "rb").read()
if img[0x202:0x206] != b"HdrS":
    sys.exit("unpack-kernel: %s is not a bzImage" % sys.argv[1])
setup_sects = img[0x1F1] or 4
off, size = struct.unpack_from("<II", img, 0x248)
start = (setup_sects + 1) * 512 + off
elf = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(img[start:start + size])
if elf[:4] != b"\x7fELF":
    sys.exit("unpack-kernel: no gzip of an ELF in %s" % sys.argv[1])
with open(sys.argv[2], "wb") as f:
    f.write(elf)
