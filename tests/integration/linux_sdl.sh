#!/bin/bash
# Debian's kernel (tools/linux-guest.sh) in the SDL window beside VNC, on an
# X server of the test's own (Xvfb): xdotool types `echo typed-in-sdl >
# /dev/ttyS0` + Return into the window with real X key events (XTEST) and
# the line comes out on fbvm's serial console; the window (a real
# screenshot, xwd -root) and a VNC client (tools/vncprobe) then show the
# same 1024x768 frame pixel for pixel, and that frame is the text console
# (the cursor is off on the command line, so the picture holds still).
# `poweroff` typed in the window ends fbvm with linux_common.bash's status;
# --stats shows every thread under half its stack.
# Needs hardware-virtualised KVM; on PVM hosts linux_in_l1.sh runs it
# inside an L1 under QEMU TCG.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/sdl_common.bash"
. "$(dirname "$0")/linux_common.bash"
need_kvm
need_hardware_kvm
need_vnc_tools
need_x_tools
need_linux_guest
mkdir -p "$BUILD/logs"
start_xvfb

port=$(free_port)
start_fbvm sdl "$LINUX_KERNEL" "127.0.0.1:$port" --sdl --initrd "$LINUX_INITRD" --mem 512M \
	--cmdline "$LINUX_CMDLINE vt.global_cursor_default=0"
boot_to_shell sdl
find_window "vmlinuz 1024x768 "
window_geometry
echo "window $wid at ($win_x,$win_y) ${win_w}x$win_h"
[ "$win_w" -eq 1024 ] && [ "$win_h" -eq 768 ] || fail "window is ${win_w}x$win_h, want 1024x768"
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
sleep 0.2

xdotool type --delay 40 "echo typed-in-sdl > /dev/ttyS0"
xdotool key Return
wait_serial_for sdl "typed-in-sdl" 30
echo "typed in the SDL window, seen on ttyS0"

# The same frame in the window and over VNC, once the console is drawn.
end=$((SECONDS + 20))
while :; do
	console_png sdl "$tmp/sdl-vnc.png" "$port"
	screenshot linux_sdl_window
	python3 "$TESTS_INTEGRATION/linux_pixels.py" same "$tmp/sdl-vnc.png" "$tmp/linux_sdl_window.ppm" \
		"$win_x" "$win_y" >"$tmp/same.txt" && break
	[ "$SECONDS" -lt "$end" ] ||
		{ cat "$tmp/same.txt"; fail "the window and VNC differ (window: $BUILD/logs/linux_sdl_window.png, VNC: $BUILD/logs/linux_sdl.png)"; }
	sleep 0.5
done
cat "$tmp/same.txt"
echo "the SDL window and VNC show the same frame"

xdotool type --delay 40 poweroff
xdotool key Return
wait_fbvm_exit 60
cp "$tmp/sdl.serial" "$BUILD/logs/linux_sdl.serial"
cp "$tmp/sdl.err" "$BUILD/logs/linux_sdl.err"
[ "$rc" -eq "$LINUX_POWEROFF_RC" ] || { tail -n 20 "$tmp/sdl.serial" "$tmp/sdl.err"; fail "'poweroff' ended fbvm with $rc, want $LINUX_POWEROFF_RC"; }
grep -q "$LINUX_POWEROFF_LINE" "$tmp/sdl.serial" || fail "no '$LINUX_POWEROFF_LINE' on serial"
echo "'poweroff' typed in the window ended fbvm with status $rc"
check_stacks sdl 50
echo "every thread under 50% of its stack"
