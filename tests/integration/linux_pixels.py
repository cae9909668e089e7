#!/usr/bin/env python3
"""Pixel checks for the Linux console tests (linux_shell.sh, linux_sdl.sh).

  linux_pixels.py console PNG
      A framebuffer console picture (tools/vncprobe's 8-bit RGB PNG): prints
      "lit=N text=M" (pixels not black; of those, in fbcon's default text
      colour, light grey AAAAAA) and exits 1 unless it looks like text on
      the console: at least 1000 lit pixels, 90% of them that grey.
  linux_pixels.py same PNG PPM X Y
      The VNC picture PNG must equal the screenshot PPM (xwdtopnm: P6, 8- or
      16-bit samples) at X,Y pixel for pixel; prints the count of differing
      pixels and the first few, exits 1 if any.
"""
import struct
import sys
import zlib

from ppm import read_ppm

FBCON_GREY = (0xAA, 0xAA, 0xAA)


def read_png(path):
    data = open(path, 'rb').read()
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            if depth != 8 or ctype != 2:
                sys.exit('%s: want 8-bit RGB' % path)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * 3
    prev, rows = bytearray(stride), []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def console(path):
    w, h, rows = read_png(path)
    lit = text = 0
    for line in rows:
        for x in range(w):
            px = (line[3 * x], line[3 * x + 1], line[3 * x + 2])
            if px != (0, 0, 0):
                lit += 1
                text += px == FBCON_GREY
    print('lit=%d text=%d' % (lit, text))
    return 0 if lit >= 1000 and text * 10 >= lit * 9 else 1


def same(png, ppm, ox, oy):
    w, h, rows = read_png(png)
    sw, sh, pixel = read_ppm(ppm)
    if ox + w > sw or oy + h > sh:
        sys.exit('the %dx%d picture does not fit the %dx%d screenshot at %d,%d' % (w, h, sw, sh, ox, oy))
    bad = 0
    for y in range(h):
        line = rows[y]
        for x in range(w):
            want = (line[3 * x], line[3 * x + 1], line[3 * x + 2])
            got = pixel(ox + x, oy + y)
            if got != want:
                if bad < 5:
                    print('(%d,%d): window %02X%02X%02X, VNC %02X%02X%02X' % (x, y, *got, *want))
                bad += 1
    print('%d of %d pixels differ' % (bad, w * h))
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'console':
        sys.exit(console(sys.argv[2]))
    if len(sys.argv) == 6 and sys.argv[1] == 'same':
        sys.exit(same(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    sys.exit(__doc__)
