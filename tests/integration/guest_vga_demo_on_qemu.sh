#!/bin/bash
# Boots guests/vga-demo on QEMU (the reference: the PC machine, whose SeaBIOS
# assigns the std VGA's BARs) and checks that it finds the device, sets each
# mode of its list the way bochs-drm does, and that QEMU's VNC server then
# shows guests/vga-demo/pattern.h exactly at each resolution (raw encoding,
# so pixels are exact; DesktopSize, so the client follows the mode switch).
# Both register paths: BAR2 MMIO (regs=auto picks it, as bochs-drm does) and
# the 0x1CE/0x1CF ports. Guards the guest and the pattern contract that
# fbvm's VGA tests use.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/qemu_common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
need_qemu_guest "$GUESTS/vga-demo.elf"

# --- pixel checker: renders the expected screen from pattern.h ---
cat >"$tmp/check.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "pattern.h"

static uint32_t w, h, *exp, *got;

static void rect(uint32_t x, uint32_t y, uint32_t rw, uint32_t rh, uint32_t rgb)
{
	for (uint32_t j = y; j < y + rh && j < h; j++)
		for (uint32_t i = x; i < x + rw && i < w; i++)
			exp[j * w + i] = rgb;
}

int main(int argc, char **argv)
{
	FILE *f = argc == 4 ? fopen(argv[1], "rb") : NULL;
	uint32_t want_w, want_h, top, ly, bad = 0;

	if (!f || fread(&w, 4, 1, f) != 1 || fread(&h, 4, 1, f) != 1)
		return 2;
	want_w = (uint32_t)atoi(argv[2]);
	want_h = (uint32_t)atoi(argv[3]);
	if (w != want_w || h != want_h) {
		printf("screen is %ux%u, want %ux%u\n", w, h, want_w, want_h);
		return 1;
	}
	exp = calloc((size_t)w * h, 4);
	got = calloc((size_t)w * h, 4);
	if (!exp || !got || fread(got, 4, (size_t)w * h, f) != (size_t)w * h)
		return 2;
	for (size_t i = 0; i < (size_t)w * h; i++)
		got[i] &= 0xFFFFFF;
	top = vga_pattern_bars_height(h);
	for (unsigned i = 0; i < VGA_PATTERN_BAR_COUNT; i++)
		rect(vga_pattern_bar_x0(i, w), 0, vga_pattern_bar_x0(i + 1, w) - vga_pattern_bar_x0(i, w),
		     top, vga_pattern_bar_rgb(i));
	rect(0, top, w, h - top, VGA_PATTERN_FIELD_RGB);
	rect(w - 1, top, 1, h - top, VGA_PATTERN_EDGE_RGB);
	rect(0, h - 1, w, 1, VGA_PATTERN_EDGE_RGB);
	ly = vga_pattern_label_y(h);
	rect(VGA_PATTERN_LABEL_X, ly, VGA_PATTERN_LABEL_BOX_W, VGA_PATTERN_LABEL_BOX_H,
	     VGA_PATTERN_LABEL_BG_RGB);
	for (unsigned k = 0; k < VGA_PATTERN_LABEL_GLYPHS; k++) {
		const uint8_t *g = vga_pattern_label_glyph(k, w, h);
		uint32_t gx0 = VGA_PATTERN_LABEL_X + VGA_PATTERN_LABEL_PAD + k * 8 * VGA_PATTERN_LABEL_SCALE;

		for (unsigned gy = 0; gy < 8; gy++)
			for (unsigned gx = 0; gx < 8; gx++)
				rect(gx0 + gx * VGA_PATTERN_LABEL_SCALE,
				     ly + VGA_PATTERN_LABEL_PAD + gy * VGA_PATTERN_LABEL_SCALE,
				     VGA_PATTERN_LABEL_SCALE, VGA_PATTERN_LABEL_SCALE,
				     g[gy] & (0x80 >> gx) ? VGA_PATTERN_LABEL_FG_RGB : VGA_PATTERN_LABEL_BG_RGB);
	}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			if (got[y * w + x] != exp[y * w + x] && bad++ < 5)
				printf("pixel %u,%u: 0x%06x, want 0x%06x\n", x, y, got[y * w + x],
				       exp[y * w + x]);
	printf("%ux%u: %u pixels differ from pattern.h\n", w, h, bad);
	return bad ? 1 : 0;
}
C
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/guests/vga-demo" -o "$tmp/check" "$tmp/check.c" ||
	fail "pixel checker does not build against pattern.h"

# --- VNC client: RFB 3.8, no auth, raw encoding plus DesktopSize. Keeps
# asking for full frames until one arrives at the wanted size (the mode
# switch reaches QEMU's VNC server on its next refresh), then writes width,
# height (LE u32) and the XRGB8888 pixels; with a .png name also a PNG. ---
cat >"$tmp/vnc.py" <<'PY'
import os, sys
sys.path.insert(0, os.environ['TESTS_INTEGRATION'])
import rfb

s, w, h = rfb.connect(sys.argv[1], (0, rfb.DESKTOP_SIZE), secs=20)
w, h, fb = rfb.frame(s, w, h, want=(int(sys.argv[2]), int(sys.argv[3])), secs=20)
rfb.save(sys.argv[4], w, h, fb)
if len(sys.argv) > 5:
    rfb.png(sys.argv[5], w, h, fb)
PY

# Waits (up to $2 s) for serial line $1, or for QEMU to end.
wait_line() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		grep -qx "$1" "$tmp/serial.txt" 2>/dev/null && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/serial.txt" "$tmp/qemu.err" 2>/dev/null || true
	fail "no serial line '$1'"
}

# Grabs the screen, which must be mode $1 x $2, and checks it.
check_screen() {
	python3 "$tmp/vnc.py" "$tmp/vnc.sock" "$1" "$2" "$tmp/$1x$2.fb" ||
		fail "VNC grab of ${1}x$2 failed"
	"$tmp/check" "$tmp/$1x$2.fb" "$1" "$2" || {
		python3 "$tmp/vnc.py" "$tmp/vnc.sock" "$1" "$2" "$tmp/again.fb" "$BUILD/logs/vga-demo-${1}x$2.png" || true
		fail "${1}x$2 differs from pattern.h (screenshot: $BUILD/logs/vga-demo-${1}x$2.png)"
	}
}

# The PC machine runs SeaBIOS (and the std VGA's option ROM) first: seconds
# under PVM, where firmware code is emulated.
start_qemu() {
	qemu_start -machine pc,accel=kvm:tcg -nodefaults -vga none -device VGA \
		-kernel "$guest" -append "$1"
}

stop_qemu() {
	qemu_stop
	cat "$tmp/serial.txt"
}

mkdir -p "$BUILD/logs"

# 1. Default register path (auto = BAR2 MMIO with qext on QEMU), the
# default modes; each screen is grabbed while the mode is held (4 s).
start_qemu "hold_ms=4000 hold"
wait_line "vga-demo: mode 1024x768" 60
check_screen 1024 768
grep -qx "vga-demo: mode 800x600" "$tmp/serial.txt" &&
	fail "the second mode came before the first grab finished (raise hold_ms)"
wait_line "vga-demo: done frames=2" 10
check_screen 800 600
stop_qemu
grep -q "^vga-demo: found 1234:1111 class 0300 rev 02 at 00:02.0$" "$tmp/serial.txt" ||
	fail "no 'found' line for 1234:1111 at 00:02.0"
grep -Eq "^vga-demo: vram 0x[0-9a-f]+ 16384 KiB, mmio 0x[0-9a-f]+ 4 KiB, id 0xb0c5, regs=mmio qext$" \
	"$tmp/serial.txt" || fail "no vram/mmio line with regs=mmio qext"

# 2. The I/O-port path and other modes, ending through the test-exit port
# (status 1), with exactly the mode lines in order.
run_limited 120 qemu-system-x86_64 -machine pc,accel=kvm:tcg -nodefaults -vga none -device VGA \
	-kernel "$guest" -append "regs=io modes=640x480,1280x1024 hold_ms=0 exit" -display none \
	-device isa-debug-exit,iobase=0x501,iosize=1 -serial "file:$tmp/serial.txt" \
	</dev/null 2>"$tmp/qemu.err"
cat "$tmp/serial.txt" "$tmp/qemu.err"
[ "$rc" -eq 1 ] || fail "regs=io exit: QEMU exit status $rc, want 1"
grep -Eq "^vga-demo: vram 0x[0-9a-f]+ 16384 KiB, mmio 0x[0-9a-f]+ 4 KiB, id 0xb0c5, regs=io$" \
	"$tmp/serial.txt" || fail "regs=io: no vram line saying regs=io"
printf 'vga-demo: mode 640x480\nvga-demo: mode 1280x1024\nvga-demo: done frames=2\n' |
	cmp - <(grep -v "^vga-demo: found\|^vga-demo: vram" "$tmp/serial.txt") ||
	fail "regs=io: unexpected serial output"

# 3. The ports path holds a mode just as well: one grab.
start_qemu "regs=io modes=1280x1024 hold"
wait_line "vga-demo: done frames=1" 60
check_screen 1280 1024
stop_qemu

# 4. microvm has no PCI: the demo says so and exits with GUEST_EXIT_NO_DEVICE.
qemu_run_stdio 60 "$tmp/nopci.out" "${QEMU_MICROVM[@]}" -kernel "$guest"
cat "$tmp/nopci.out"
[ "$rc" -eq 5 ] || fail "no PCI: exit status $rc, want 5"
grep -q "^vga-demo: error no PCI configuration mechanism #1" "$tmp/nopci.out" ||
	fail "no PCI: missing error line"
echo "vga-demo sets modes like bochs-drm and draws pattern.h exactly on QEMU (MMIO and ports)"
