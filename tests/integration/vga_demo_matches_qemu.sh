#!/bin/bash
# guests/vga-demo on fbvm's std VGA, read by a real VNC client
# (tools/vncprobe, raw encoding, exact pixels), and the same guest on QEMU
# (-M pc -vga none -device VGA, QEMU's own VNC server) as the reference:
#  1. a client connected while the guest shows 1024x768 follows the mode
#     switch to 800x600 (a desktop resize) and then sees 800x600's pixels;
#  2. each mode, grabbed while the guest holds it, has pattern.h's pixels at
#     25 points and is saved as PNG;
#  3. QEMU's screen at each mode, grabbed the same way, gives byte-identical
#     PNGs (libpng writes identical files for identical pixels;
#     guest_vga_demo_on_qemu.sh checks QEMU's pictures against pattern.h
#     pixel by pixel, so equal files mean fbvm's are exact too);
#  4. the I/O-port register path (regs=io) and two more modes on fbvm.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/vga_common.bash"
need_kvm
need_vnc_tools
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (make deps installs it)"
guest="$GUESTS/vga-demo.elf"
[ -f "$guest" ] || fail "$guest not built"
mkdir -p "$BUILD/logs"
qemu_pid=
qemu_cleanup() { [ -n "$qemu_pid" ] && kill -KILL "$qemu_pid" 2>/dev/null; vnc_cleanup; }
trap qemu_cleanup EXIT
# Each mode stays this long before the next: room for a grab, even on QEMU.
hold_ms=8000

# A port QEMU can express as a display number (port - 5900).
qemu_port() {
	local p
	while p=$(free_port); [ "$p" -lt 5900 ]; do :; done
	echo "$p"
}

# grab NAME W H ADDR: the picture at W x H must match pattern.h; PNG in $tmp/NAME.png.
grab() {
	local name=$1 w=$2 h=$3 addr=$4
	# shellcheck disable=SC2046
	probe "$name" --encodings raw --wait-size "${w}x$h" $(vga_expects "$w" "$h") \
		--png "$tmp/$name.png" --timeout 30 "$addr"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$name.probe"; fail "$name: ${w}x$h not shown as pattern.h"; }
}

# --- fbvm ---
port=$(free_port)
start_fbvm fbvm "$guest" "127.0.0.1:$port" --cmdline "hold_ms=$hold_ms hold"
# 1. A client from the first mode on, waiting for the second. It connects
# once the guest set that mode (before, a loaded host can let it connect to
# the screen from before the guest's first mode).
wait_serial fbvm "vga-demo: mode 1024x768"
# shellcheck disable=SC2046
timeout --kill-after=5 60 "$VNCPROBE" --encodings raw --wait-size 800x600 $(vga_expects 800 600) \
	--timeout 40 "127.0.0.1:$port" >"$tmp/follow.probe" 2>&1 &
follow_pid=$!
# 2. Each mode while it is held.
grab fbvm-1024x768 1024 768 "127.0.0.1:$port"
grep -q "vga-demo: mode 800x600" "$tmp/fbvm.serial" &&
	fail "the second mode came before the first grab finished (raise hold_ms)"
wait_serial fbvm "vga-demo: done frames=2"
grab fbvm-800x600 800 600 "127.0.0.1:$port"
set +e
wait "$follow_pid"
follow_rc=$?
set -e
[ "$follow_rc" -eq 0 ] || cat "$tmp/follow.probe"
[ "$follow_rc" -eq 0 ] || fail "the client connected at 1024x768 did not end at 800x600 with pattern.h's pixels"
[ "$(sed -n 's/^desktop_size=//p' "$tmp/follow.probe" | head -n1)" = 1024x768 ] ||
	{ cat "$tmp/follow.probe"; fail "the following client did not start at 1024x768"; }
[ "$(sed -n 's/^desktop_size=//p' "$tmp/follow.probe" | tail -n1)" = 800x600 ] ||
	fail "the following client did not end at 800x600"
[ "$(probe_value follow resizes)" -ge 1 ] || fail "the following client saw no desktop resize"
echo "one client followed the resize 1024x768 -> 800x600 and saw pattern.h"
stop_fbvm
grep -q "^vga: .*surfaces=[1-9]" "$tmp/fbvm.err" || { cat "$tmp/fbvm.err"; fail "no vga stats line"; }
grep -q "vga-demo: vram 0xfd000000 16384 KiB, mmio 0xfebf0000 4 KiB, id 0xb0c5, regs=mmio qext" \
	"$tmp/fbvm.serial" || { cat "$tmp/fbvm.serial"; fail "VRAM or MMIO not where memmap.h says"; }

# --- QEMU: the PC machine (SeaBIOS assigns the BARs; seconds under PVM) ---
port=$(qemu_port)
qemu-system-x86_64 -machine pc,accel=kvm:tcg -nodefaults -vga none -device VGA \
	-kernel "$guest" -append "hold_ms=$hold_ms hold" -display none \
	-vnc "127.0.0.1:$((port - 5900))" -serial "file:$tmp/qemu.serial" \
	-device isa-debug-exit,iobase=0x501,iosize=1 </dev/null >"$tmp/qemu.err" 2>&1 &
qemu_pid=$!
wait_qemu_line() {
	for _ in $(seq 1200); do
		grep -q "$1" "$tmp/qemu.serial" 2>/dev/null && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/qemu.serial" "$tmp/qemu.err" 2>/dev/null || true
	fail "QEMU: guest never printed '$1'"
}
wait_qemu_line "vga-demo: mode 1024x768"
grab qemu-1024x768 1024 768 "127.0.0.1:$port"
grep -q "vga-demo: mode 800x600" "$tmp/qemu.serial" &&
	fail "QEMU: the second mode came before the first grab finished (raise hold_ms)"
wait_qemu_line "vga-demo: done frames=2"
grab qemu-800x600 800 600 "127.0.0.1:$port"
kill -TERM "$qemu_pid" 2>/dev/null || true
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=

# 3. Byte-identical PNGs.
for mode in 1024x768 800x600; do
	cp "$tmp/fbvm-$mode.png" "$BUILD/logs/vga_demo_fbvm_$mode.png"
	cp "$tmp/qemu-$mode.png" "$BUILD/logs/vga_demo_qemu_$mode.png"
	cmp -s "$tmp/fbvm-$mode.png" "$tmp/qemu-$mode.png" ||
		fail "$mode: fbvm and QEMU pictures differ (both in $BUILD/logs/vga_demo_*_$mode.png)"
	echo "$mode: fbvm and QEMU show the same picture"
done

# 4. The ports path, other modes, ending through the test-exit port.
port=$(free_port)
start_fbvm io "$guest" "127.0.0.1:$port" --cmdline "regs=io modes=640x480,1280x1024 hold_ms=$hold_ms hold"
wait_serial io "vga-demo: mode 640x480"
grab io-640x480 640 480 "127.0.0.1:$port"
wait_serial io "vga-demo: done frames=2"
grab io-1280x1024 1280 1024 "127.0.0.1:$port"
stop_fbvm
grep -q "regs=io$" "$tmp/io.serial" || { cat "$tmp/io.serial"; fail "regs=io not used"; }
echo "vga-demo on fbvm: resize followed, pattern.h exact, identical to QEMU; ports path too"
