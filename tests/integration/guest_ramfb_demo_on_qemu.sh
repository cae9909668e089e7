#!/bin/bash
# Boots guests/ramfb-demo on QEMU (the reference: microvm with ramfb) in each
# mode, holding a known frame, reads the screen back over VNC (raw encoding,
# so pixels are exact) and checks every pixel against the rules in
# guests/ramfb-demo/pattern.h, including the frame number it shows.
# Guards the guest and the pattern contract that fbvm's display tests use.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/qemu_common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
need_qemu_guest "$GUESTS/ramfb-demo.elf"

# --- pixel checker: renders the expected frame from pattern.h and font.h ---
cat >"$tmp/check.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "font.h"
#include "pattern.h"

static uint32_t w, h, *exp, *got;

static void rect(uint32_t x, uint32_t y, uint32_t rw, uint32_t rh, uint32_t rgb)
{
	for (uint32_t j = y; j < y + rh && j < h; j++)
		for (uint32_t i = x; i < x + rw && i < w; i++)
			exp[j * w + i] = rgb;
}

static void number(uint32_t x, uint32_t y, uint32_t v, unsigned nd, unsigned sc,
		   uint32_t fg, uint32_t bg)
{
	for (unsigned k = nd; k-- > 0; v /= 10) {
		const uint8_t *g = font_digit(v % 10);

		for (unsigned gy = 0; gy < 8; gy++)
			for (unsigned gx = 0; gx < 8; gx++)
				rect(x + (k * 8 + gx) * sc, y + gy * sc, sc, sc,
				     g[gy] & (0x80 >> gx) ? fg : bg);
	}
}

/* Reads the counter digits back from the screen (glyph row 7 is blank). */
static uint32_t decode(uint32_t x, uint32_t y, unsigned nd, unsigned sc)
{
	uint32_t bg = got[(y + 7 * sc) * w + x], v = 0;

	for (unsigned k = 0; k < nd; k++) {
		uint8_t rows[8] = { 0 };
		unsigned d;

		for (unsigned gy = 0; gy < 8; gy++)
			for (unsigned gx = 0; gx < 8; gx++)
				if (got[(y + gy * sc) * w + x + (k * 8 + gx) * sc] != bg)
					rows[gy] |= 0x80 >> gx;
		for (d = 0; d < 10 && memcmp(rows, font_digit(d), 8); d++)
			;
		if (d == 10) {
			printf("counter digit %u unreadable\n", k);
			exit(1);
		}
		v = v * 10 + d;
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *mode = argv[1];
	FILE *f = fopen(argv[2], "rb");
	uint32_t top, frame, bad = 0, want_frame = (uint32_t)atoi(argv[3]);

	if (argc != 4 || !f || fread(&w, 4, 1, f) != 1 || fread(&h, 4, 1, f) != 1)
		return 2;
	exp = calloc((size_t)w * h, 4);
	got = calloc((size_t)w * h, 4);
	if (!exp || !got || fread(got, 4, (size_t)w * h, f) != (size_t)w * h)
		return 2;
	for (size_t i = 0; i < (size_t)w * h; i++)
		got[i] &= 0xFFFFFF;
	top = pattern_bars_height(h);
	for (unsigned i = 0; i < PATTERN_BAR_COUNT; i++)
		rect(pattern_bar_x0(i, w), 0, pattern_bar_x0(i + 1, w) - pattern_bar_x0(i, w), top,
		     pattern_bar_rgb(i));
	if (!strcmp(mode, "small")) {
		uint32_t bx = pattern_block_x(w), by = pattern_block_y(h);

		frame = decode(bx, by + PATTERN_BLOCK_DIGITS_DY, PATTERN_BLOCK_DIGITS, PATTERN_BLOCK_SCALE);
		rect(0, top, w, h - top, PATTERN_FIELD_RGB);
		rect(bx, by, PATTERN_BLOCK_SIZE, PATTERN_BLOCK_SIZE, pattern_block_rgb(frame));
		number(bx, by + PATTERN_BLOCK_DIGITS_DY, frame, PATTERN_BLOCK_DIGITS,
		       PATTERN_BLOCK_SCALE, pattern_block_fg_rgb(frame), pattern_block_rgb(frame));
	} else {
		uint32_t cy = pattern_counter_y(h);

		frame = decode(PATTERN_COUNTER_X + PATTERN_COUNTER_PAD, cy + PATTERN_COUNTER_PAD,
			       PATTERN_COUNTER_DIGITS, PATTERN_COUNTER_SCALE);
		if (!strcmp(mode, "still")) {
			rect(0, top, w, h - top, PATTERN_FIELD_RGB);
		} else {
			for (uint32_t y = top; y < h; y++)
				for (uint32_t x = 0; x < w; x++)
					exp[y * w + x] = pattern_anim_rgb(x, y, frame);
		}
		rect(pattern_square_x(frame, w), pattern_square_y(h), PATTERN_SQUARE_SIZE,
		     PATTERN_SQUARE_SIZE, PATTERN_SQUARE_RGB);
		rect(PATTERN_COUNTER_X, cy, PATTERN_COUNTER_BOX_W, PATTERN_COUNTER_BOX_H,
		     PATTERN_COUNTER_BG_RGB);
		number(PATTERN_COUNTER_X + PATTERN_COUNTER_PAD, cy + PATTERN_COUNTER_PAD, frame,
		       PATTERN_COUNTER_DIGITS, PATTERN_COUNTER_SCALE, PATTERN_COUNTER_FG_RGB,
		       PATTERN_COUNTER_BG_RGB);
	}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			if (got[y * w + x] != exp[y * w + x] && bad++ < 5)
				printf("pixel %u,%u: 0x%06x, want 0x%06x\n", x, y,
				       got[y * w + x], exp[y * w + x]);
	printf("%s %ux%u frame %u (want %u): %u pixels differ\n", mode, w, h, frame,
	       want_frame, bad);
	return bad || frame != want_frame ? 1 : 0;
}
C
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$top/guests/ramfb-demo" -o "$tmp/check" "$tmp/check.c" ||
	fail "pixel checker does not build against pattern.h"

# --- VNC client: RFB 3.8, no auth, raw encoding; writes width, height (LE
# u32) and the XRGB8888 pixels ---
cat >"$tmp/vnc.py" <<'PY'
import os, sys
sys.path.insert(0, os.environ['TESTS_INTEGRATION'])
import rfb

s, w, h = rfb.connect(sys.argv[1])
rfb.save(sys.argv[2], *rfb.frame(s, w, h))
PY

# Boots the demo with args, waits for the serial line saying frame N is on
# screen (the guest then idles), grabs the screen and checks it.
check_mode() {
	local mode=$1 frame=$2 args=$3 line=$4 i
	qemu_start "${QEMU_MICROVM[@]}" -kernel "$guest" -append "$args" -device ramfb
	for i in $(seq 1 300); do
		grep -qx "$line" "$tmp/serial.txt" 2>/dev/null && break
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/serial.txt" "$tmp/qemu.err" 2>/dev/null || true
	grep -qx "ramfb-demo: frame 1 1024x768 mode=$mode" "$tmp/serial.txt" ||
		fail "$args: no first-frame line on serial"
	grep -qx "$line" "$tmp/serial.txt" || fail "$args: no line '$line' on serial"
	python3 "$tmp/vnc.py" "$tmp/vnc.sock" "$tmp/$mode.fb" || fail "$args: VNC grab failed"
	qemu_stop
	"$tmp/check" "$mode" "$tmp/$mode.fb" "$frame" || fail "$args: screen differs from pattern.h"
}

check_mode still 1 "mode=still" "ramfb-demo: frame 1 1024x768 mode=still"
check_mode small 30 "mode=small frames=30 hold" "ramfb-demo: done frames=30"
check_mode anim 30 "mode=anim frames=30 hold" "ramfb-demo: done frames=30"

# frames=N ends the run through the test-exit port: status (0 << 1) | 1.
qemu_run_stdio 60 "$tmp/frames.out" "${QEMU_MICROVM[@]}" -kernel "$guest" \
	-append "mode=anim fps=0 frames=50" -device ramfb
cat "$tmp/frames.out"
[ "$rc" -eq 1 ] || fail "frames=50: exit status $rc, want 1"
printf 'ramfb-demo: frame 1 1024x768 mode=anim\nramfb-demo: done frames=50\n' |
	cmp - "$tmp/frames.out" || fail "frames=50: unexpected serial output"

# Without a ramfb device the demo says so and exits with GUEST_EXIT_NO_DEVICE.
qemu_run_stdio 60 "$tmp/nodev.out" "${QEMU_MICROVM[@]}" -kernel "$guest"
cat "$tmp/nodev.out"
[ "$rc" -eq 5 ] || fail "no ramfb: exit status $rc, want 5"
grep -q "^ramfb-demo: error no etc/ramfb in the fw_cfg directory" "$tmp/nodev.out" ||
	fail "no ramfb: missing error line"
echo "ramfb-demo draws pattern.h exactly on QEMU in every mode"
