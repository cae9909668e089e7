#!/bin/bash
# The SDL window beside VNC: guests/ramfb-demo (mode=still, 1024x768) under
# fbvm run --sdl --vnc, on an X server of the test's own (Xvfb). A real
# screenshot of the X screen (xwd -root) must show the colour bars, field,
# square and counter box of ramfb-demo/pattern.h with their exact colours
# in the window, 1:1; a VNC client (tools/vncprobe) must read the same
# pixels; the title names the VM, its resolution and the grab key; closing
# the window ends fbvm with status 0. Then, with --vnc none (the window
# refreshes the tracker itself) and --sdl=integer, a 320x240 guest in a
# window resized to 700x500 must appear at 2x, centred, with a black border.
# Last, guests/vga-demo switches the std VGA from 800x600 to 640x480: the
# window follows to 640x480 and shows the new mode's bars 1:1.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/sdl_common.bash"
need_kvm
need_vnc_tools
need_x_tools
demo="$GUESTS/ramfb-demo.elf"
[ -f "$demo" ] || fail "$demo not built"
start_xvfb

# ---- 1024x768 beside VNC, 1:1
port=$(free_port)
start_fbvm still "$demo" "127.0.0.1:$port" --cmdline "mode=still" --sdl
wait_serial still "ramfb-demo: frame 1 1024x768 mode=still"
wait_err still "sdl: showing 1024x768 in a 1024x768 window"
find_window "ramfb-demo.elf 1024x768 "
window_geometry
echo "window $wid at ($win_x,$win_y) ${win_w}x$win_h"
[ "$win_w" -eq 1024 ] && [ "$win_h" -eq 768 ] || fail "window is ${win_w}x$win_h, want 1024x768"
title=$(xdotool getwindowname "$wid")
[ "$title" = "ramfb-demo.elf 1024x768 - fbvm - Ctrl-Alt-G grabs input" ] ||
	fail "title '$title'"
echo "title: $title"

# shellcheck disable=SC2046
expect_screen sdl_window "$win_x" "$win_y" 1 1 $(still_expects 1024 768)
echo "the window shows ramfb-demo's still frame, exact colours, 1:1"

# shellcheck disable=SC2046
probe vnc --encodings raw $(still_expects 1024 768) "127.0.0.1:$port"
cat "$tmp/vnc.probe"
[ "$probe_rc" -eq 0 ] || fail "vncprobe exit $probe_rc: VNC does not show the same frame"
echo "VNC shows the same frame at the same time"

close_window "$wid"
set +e
timeout 20 tail --pid="$fbvm_pid" -f /dev/null
wait "$fbvm_pid"
rc=$?
set -e
fbvm_pid=
[ "$rc" -eq 0 ] || { cat "$tmp/still.err"; fail "closing the window: exit status $rc, want 0"; }
grep -q "^stats: sdl: updates=" "$tmp/still.err" || fail "no sdl stats"
grep "^stats: sdl\|^stats: display-share\|^console" "$tmp/still.err" || true
echo "closing the window ended fbvm with status 0"

# ---- --vnc none, --sdl=integer, 320x240 in a 700x500 window: 2x
"$FBVM" run --kernel "$demo" --cmdline "mode=still width=320 height=240" --vnc none \
	--sdl=integer --serial "file:$tmp/small.serial" --stats </dev/null >/dev/null 2>"$tmp/small.err" &
fbvm_pid=$!
wait_serial small "ramfb-demo: frame 1 320x240 mode=still"
wait_err small "sdl: showing 320x240"
find_window "ramfb-demo.elf 320x240 "
xdotool windowsize --sync "$wid" 700 500 || xdotool windowsize "$wid" 700 500
window_geometry
[ "$win_w" -eq 700 ] && [ "$win_h" -eq 500 ] || fail "window is ${win_w}x$win_h, want 700x500"
# 2x = 640x480, centred: 30 px of border left and right, 10 above and below.
# (At 320x240 the counter box covers most of the square: bars, field corner,
# the square's left edge; border pixels in guest units, -15 = 30 px left.)
ox=$((win_x + 30)) oy=$((win_y + 10))
# shellcheck disable=SC2046
expect_screen sdl_integer "$ox" "$oy" 2 1 $(bar_expects 320 240) \
	--expect 319,239,202020 --expect 160,60,202020 --expect 8,118,FFFFFF \
	--expect 8,181,FFFFFF --expect 16,76,000000 \
	--expect -15,-5,000000 --expect 334,244,000000 --expect -1,120,000000
echo "--sdl=integer: 320x240 shown at 2x, centred in a 700x500 window"
stop_fbvm
[ "$fbvm_rc" -eq 143 ] || { cat "$tmp/small.err"; fail "SIGTERM: exit status $fbvm_rc, want 143"; }
grep -q "^stats: sdl: .* refreshes=[1-9]" "$tmp/small.err" ||
	{ grep "^stats: sdl" "$tmp/small.err"; fail "the window did not refresh the tracker itself"; }
echo "with --vnc none the window refreshed the tracker itself; SIGTERM gave 143"

# ---- a mode change: the window follows
"$FBVM" run --kernel "$GUESTS/vga-demo.elf" --cmdline "modes=800x600,640x480 hold_ms=500 frames=2 hold" \
	--vnc none --sdl --serial "file:$tmp/vga.serial" </dev/null >/dev/null 2>"$tmp/vga.err" &
fbvm_pid=$!
wait_serial vga "vga-demo: done frames=2"
wait_err vga "sdl: showing 800x600 in a 800x600 window"
wait_err vga "sdl: showing 640x480 in a 640x480 window"
find_window "vga-demo.elf 640x480 "
window_geometry
[ "$win_w" -eq 640 ] && [ "$win_h" -eq 480 ] || fail "after the mode change the window is ${win_w}x$win_h"
# shellcheck disable=SC2046
expect_screen sdl_mode_change "$win_x" "$win_y" 1 1 $(bar_expects 640 480)
stop_fbvm
echo "the window followed the guest's mode change to 640x480"
