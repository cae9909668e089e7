#!/usr/bin/env python3
"""Key-to-photon latency in the SDL window (tools/bench_sdl.sh).

    tools/sdl_latency.py WINDOW_ID N [PAUSE_MS]

The window shows guests/kbd-demo 1:1 (fbvm run --sdl). N times: XTest sends
the 'a' key to the X server (press and release alternate, so each event is
one scancode byte for the guest), then the window's pixels are read back
(XGetImage of one pixel, about every 0.2 ms) until the centre of the key
slot that byte paints shows its colour (guests/kbd-demo/pattern.h: byte n
paints slot (n-1) % 8 with kbd_pattern_key_rgb(n)); the time from sending to
seeing it is one sample. Then a pause of PAUSE_MS (60) plus a pseudo-random
0..PAUSE_MS/2 (fixed seed). Prints latency_samples=, latency_missed=,
latency_p50_ms=, latency_p99_ms=, latency_max_ms= as vncprobe does.
The window must have the keyboard focus (xdotool windowfocus) and be
unobscured; the guest must be at "kbd-demo: ready" with no byte received.
"""
import ctypes
import random
import sys
import time

SLOT_X0, SLOT_PITCH, SLOT_Y, SLOT_SIZE, SLOTS = 24, 76, 96, 64, 8
KEY_RGB = [0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF]
TIMEOUT_S = 2.0
POLL_S = 0.0002
Z_PIXMAP = 2
ALL_PLANES = ctypes.c_ulong(~0 & 0xFFFFFFFFFFFFFFFF)


class XImage(ctypes.Structure):
    pass


DESTROY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(XImage))
XImage._fields_ = [
    ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
    ("format", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_uint32)),
    ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
    ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
    ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int),
    ("red_mask", ctypes.c_ulong), ("green_mask", ctypes.c_ulong), ("blue_mask", ctypes.c_ulong),
    ("obdata", ctypes.c_void_p), ("create_image", ctypes.c_void_p), ("destroy_image", DESTROY),
]


def main():
    wid = int(sys.argv[1], 0)
    n = int(sys.argv[2])
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    x11 = ctypes.CDLL("libX11.so.6")
    xtst = ctypes.CDLL("libXtst.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XStringToKeysym.restype = ctypes.c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XGetImage.restype = ctypes.POINTER(XImage)
    x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                              ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                       ctypes.c_ulong]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        sys.exit("sdl_latency: cannot open the display")
    keycode = x11.XKeysymToKeycode(dpy, x11.XStringToKeysym(b"a"))

    def pixel(x, y):
        img = x11.XGetImage(dpy, wid, x, y, 1, 1, ALL_PLANES, Z_PIXMAP)
        if not img:
            return None
        v = img.contents.data[0] & 0xFFFFFF
        img.contents.destroy_image(img)
        return v

    rng = random.Random(12)
    samples, missed = [], 0
    for i in range(1, n + 1):
        slot = (i - 1) % SLOTS
        x = SLOT_X0 + slot * SLOT_PITCH + SLOT_SIZE // 2
        y = SLOT_Y + SLOT_SIZE // 2
        want = KEY_RGB[(i - 1) % 7]
        xtst.XTestFakeKeyEvent(dpy, keycode, 1 if i % 2 else 0, 0)
        x11.XFlush(dpy)
        t0 = time.monotonic()
        while True:
            if pixel(x, y) == want:
                samples.append((time.monotonic() - t0) * 1000)
                break
            if time.monotonic() - t0 > TIMEOUT_S:
                missed += 1
                break
            time.sleep(POLL_S)
        time.sleep((pause + rng.uniform(0, pause / 2)) / 1000)
    if n % 2:
        xtst.XTestFakeKeyEvent(dpy, keycode, 0, 0)   # leave the key released
        x11.XFlush(dpy)
    samples.sort()

    def pct(p):   # nearest rank, as vncprobe's
        if not samples:
            return -1
        rank = max(1, min(len(samples), int(p / 100 * len(samples) + 0.999999)))
        return samples[rank - 1]

    print("latency_samples=%d" % len(samples))
    print("latency_missed=%d" % missed)
    print("latency_p50_ms=%.1f" % pct(50))
    print("latency_p99_ms=%.1f" % pct(99))
    print("latency_max_ms=%.1f" % (samples[-1] if samples else -1))


if __name__ == "__main__":
    main()
