#!/bin/bash
# The same guest screen on fbvm and on QEMU (the reference: microvm with
# ramfb, QEMU's own VNC server): guests/ramfb-demo holding a known frame
# (mode=still, and frame 5 of mode=anim) is read over VNC from both with
# tools/vncprobe (raw encoding, exact pixels) and saved as PNG; the two
# pictures must be pixel-identical (libpng writes identical files for
# identical pixels). Each side is read only once the guest said on its serial
# line that the frame is complete, and the probe waits for pixels that only
# that frame has, so a loaded host cannot make either side show an earlier
# frame.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (make deps installs it)"
guest="$GUESTS/ramfb-demo.elf"
mkdir -p "$BUILD/logs"
qemu_pid=
qemu_cleanup() { [ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null; vnc_cleanup; }
trap qemu_cleanup EXIT

# A port QEMU can express as a display number (port - 5900).
qemu_port() {
	local p
	while p=$(free_port); [ "$p" -lt 5900 ]; do :; done
	echo "$p"
}

# frame_expects CMDLINE: --expect options for pixels of the frame the guest
# holds (pattern.h) that no earlier frame has, so a probe does not stop at one.
frame_expects() {
	case $1 in
	mode=still) still_expects 1024 768 ;;
	# Frame 5 of anim: the last field pixel is pattern_anim_rgb(1023, 767, 5)
	# and the counter's last digit is a 5 (its top row is lit where a 4's is
	# not: bit 6, scale 4, at counter x 16 + 8 + 5 * 32, y 192 + 16 + 8).
	"mode=anim frames=5 hold")
		bar_expects 1024 768
		printf -- '--expect 1023,767,130903 --expect 188,216,FFFFFF ' ;;
	*) fail "no frame_expects for '$1'" ;;
	esac
}

# wait_file FILE TEXT: until FILE has TEXT (the guest's serial line; 30 s).
wait_file() {
	for _ in $(seq 600); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$1"
	fail "guest never printed '$2' to $1"
}

for cmdline in "mode=still" "mode=anim frames=5 hold"; do
	name=$(echo "$cmdline" | tr ' =' '__')
	case $cmdline in
	*frames=5*) ready="ramfb-demo: done frames=5" ;;
	*) ready="ramfb-demo: frame 1 " ;;
	esac
	# fbvm
	port=$(free_port)
	start_fbvm "fbvm-$name" "$guest" "127.0.0.1:$port" --cmdline "$cmdline"
	wait_file "$tmp/fbvm-$name.serial" "$ready"
	# shellcheck disable=SC2046
	probe "fbvm-$name" --encodings raw --wait-size 1024x768 $(frame_expects "$cmdline") \
		--png "$tmp/fbvm-$name.png" --timeout 20 "127.0.0.1:$port"
	stop_fbvm
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/fbvm-$name.probe"; fail "fbvm ($cmdline): no picture"; }

	# QEMU
	port=$(qemu_port)
	qemu-system-x86_64 -machine microvm,accel=kvm:tcg,pit=on,pic=on,rtc=on -nodefaults \
		-kernel "$guest" -append "$cmdline" -device ramfb -display none \
		-vnc "127.0.0.1:$((port - 5900))" -serial "file:$tmp/qemu-$name.serial" \
		-device isa-debug-exit,iobase=0x501,iosize=1 </dev/null >"$tmp/qemu-$name.err" 2>&1 &
	qemu_pid=$!
	wait_file "$tmp/qemu-$name.serial" "$ready"
	# QEMU switches its VNC surface to the ramfb's size on its next display
	# refresh, up to 3 s after the guest set it up (its idle refresh interval);
	# a viewer connecting during that switch is dropped ("Rect too large",
	# see vncprobe --reconnect), so the probe connects again.
	# shellcheck disable=SC2046
	probe "qemu-$name" --encodings raw --wait-size 1024x768 $(frame_expects "$cmdline") \
		--reconnect --png "$tmp/qemu-$name.png" --timeout 30 "127.0.0.1:$port"
	kill -TERM "$qemu_pid" 2>/dev/null || true
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/qemu-$name.probe" "$tmp/qemu-$name.err"; fail "QEMU ($cmdline): no picture"; }

	cp "$tmp/fbvm-$name.png" "$BUILD/logs/vnc_matches_qemu_fbvm_$name.png"
	cp "$tmp/qemu-$name.png" "$BUILD/logs/vnc_matches_qemu_qemu_$name.png"
	if ! cmp -s "$tmp/fbvm-$name.png" "$tmp/qemu-$name.png"; then
		python3 - "$tmp/fbvm-$name.png" "$tmp/qemu-$name.png" <<'PY' || true
import sys, zlib, struct
def pixels(path):
    data = open(path, 'rb').read()
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR': w, h = struct.unpack('>II', body[:8])
        if kind == b'IDAT': idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    return w, raw
(w, a), (_, b) = pixels(sys.argv[1]), pixels(sys.argv[2])
print('first differences (libpng filters rows, so this is approximate):',
      [i for i in range(min(len(a), len(b))) if a[i] != b[i]][:10])
PY
		fail "$cmdline: fbvm and QEMU pictures differ (both in $BUILD/logs)"
	fi
	echo "$cmdline: fbvm and QEMU show the same 1024x768 picture"
done
