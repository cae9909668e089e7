#!/bin/bash
# A third-party client: Debian's vncsnapshot (TightVNC 1.2.8 based; it asks
# for its own pixel format, red at bit 0, so fbvm's translation is exercised)
# takes snapshots of guests/ramfb-demo mode=still — once with raw lossless
# transmission, once with its default tight + JPEG — whose colour bars, field
# and square must match pattern.h. vncsnapshot only writes JPEG files, which
# are lossy even at quality 100: colours are compared at the centre of large
# uniform areas within a tolerance (4 for raw transmission, 24 with JPEG
# transmission on top), read back with netpbm's jpegtopnm.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
command -v vncsnapshot >/dev/null || fail "vncsnapshot missing (make deps installs it)"
command -v jpegtopnm >/dev/null || fail "jpegtopnm missing (netpbm; make deps installs it)"
guest="$GUESTS/ramfb-demo.elf"
mkdir -p "$BUILD/logs"

port=$(free_port)
while [ "$port" -lt 5900 ]; do port=$(free_port); done   # vncsnapshot takes a display number
start_fbvm snap "$guest" "127.0.0.1:$port" --cmdline "mode=still"
wait_serial snap "frame 1 1024x768 mode=still"

check() {   # check NAME TOLERANCE
	python3 - "$tmp/$1.ppm" "$2" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
tol = int(sys.argv[2])
# P6 header: magic, width, height, maxval, each followed by whitespace.
fields, pos = [], 0
while len(fields) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    start = pos
    while not data[pos:pos + 1].isspace():
        pos += 1
    fields.append(data[start:pos])
pos += 1
w, h = int(fields[1]), int(fields[2])
assert fields[0] == b'P6' and (w, h) == (1024, 768), (fields, w, h)
px = data[pos:]
def rgb(x, y):
    i = (y * w + x) * 3
    return px[i], px[i + 1], px[i + 2]
want = []
bars = [0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000]
for i, c in enumerate(bars):
    want.append((64 + 128 * i, 96, c))
want += [(900, 700, 0x202020), (512, 300, 0x202020), (40, 480, 0xFFFFFF), (20, 212, 0x000000)]
worst = 0
for x, y, c in want:
    got = rgb(x, y)
    exp = ((c >> 16) & 255, (c >> 8) & 255, c & 255)
    d = max(abs(a - b) for a, b in zip(got, exp))
    worst = max(worst, d)
    if d > tol:
        sys.exit('pixel %d,%d: %s, want %s (tolerance %d)' % (x, y, got, exp, tol))
print('%d sample pixels within %d of pattern.h (worst %d)' % (len(want), tol, worst))
PY
}

for kind in raw jpeg; do
	opts=()
	[ "$kind" = raw ] && opts=(-nojpeg -encodings raw)
	set +e
	timeout 30 vncsnapshot -quiet -quality 100 "${opts[@]}" "127.0.0.1:$((port - 5900))" \
		"$tmp/$kind.jpg" >"$tmp/$kind.log" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || { cat "$tmp/$kind.log"; fail "vncsnapshot ($kind) exit $rc"; }
	jpegtopnm "$tmp/$kind.jpg" >"$tmp/$kind.ppm" 2>/dev/null || fail "jpegtopnm cannot read $kind.jpg"
	cp "$tmp/$kind.jpg" "$BUILD/logs/vnc_vncsnapshot_$kind.jpg"
	tolerance=4
	[ "$kind" = jpeg ] && tolerance=24
	echo -n "vncsnapshot $kind: "
	check "$kind" "$tolerance" || fail "vncsnapshot ($kind): colours differ from pattern.h"
done
stop_fbvm
