#!/bin/bash
# The absolute pointer end to end: guests/kbd-demo with vmmouse=1 enables
# VMware's vmmouse as Linux's driver does (GETVERSION, ENABLE, version,
# REQUEST_ABSOLUTE: ring-3 `inl` at port 0x5658, fbvm's register exit) and
# echoes each packet as the pixel libinput would compute
# (value * width / 65536). It must read exactly the pixels a real viewer
# sent:
#   1. tools/vncprobe PointerEvents: both corners, the centre, a position
#      beyond the screen (clamped), buttons and a wheel step;
#   2. after the guest switches its ramfb screen from 640x480 to 800x600
#      (resize_on: the 'r' key), the new corners;
#   3. the relative fallback: without vmmouse=1 the same corners arrive as
#      PS/2 motion, the distance between them;
#   4. the SDL window under Xvfb, moved and clicked with xdotool (when Xvfb
#      and xdotool are there), also after the resize; then grabbed
#      (Ctrl-Alt-G), where raw motion arrives as relative vmmouse packets.
# QEMU's -device vmmouse runs the same guest in guest_kbd_demo_on_qemu.sh.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/kbd-demo.elf"
[ -f "$guest" ] || fail "$guest not built"

# The guest's vmmouse lines (and screen changes), in order.
guest_lines() {
	sed -n -e 's/^kbd-demo: \(vmmouse .*\)/\1/p' -e 's/^kbd-demo: \(screen .*\)/\1/p' \
		-e 's/^kbd-demo: \(mouse [0-9a-f][0-9a-f] .*\)/\1/p' "$tmp/$1.serial"
}

expect_lines() {
	local got
	got=$(guest_lines "$1")
	if [ "$got" != "$2" ]; then
		echo "guest read:"; echo "$got"; echo "expected:"; echo "$2"
		cat "$tmp/$1.err"
		fail "$3"
	fi
}

# --- 1 and 2: VNC, absolute ---
port=$(free_port)
start_fbvm abs "$guest" "127.0.0.1:$port" --cmdline "exit_on=01 vmmouse=1 resize_on=13 calls=1000"
wait_serial abs "kbd-demo: ready"
grep -qx "kbd-demo: vmmouse version 6 absolute" "$tmp/abs.serial" ||
	fail "the guest did not enable vmmouse"
# The timing line (calls=N; numbers for the README come from calls=20000).
grep "^kbd-demo: 1000 vmmouse calls [0-9]* ms, 1000 port reads [0-9]* ms$" "$tmp/abs.serial" ||
	fail "no timing line for calls=1000"
probe p1 --encodings raw --updates 1 --pointer 0,0,0 --pointer 639,479,1 --pointer 320,240,0 \
	--pointer 5000,5000,4 --pointer 10,10,8 --pointer 10,10,0 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/p1.probe"; fail "vncprobe exit $probe_rc"; }
wait_serial abs "vmmouse abs 10,10 "
# raw is (2x+1) * 65536 / 2w: the centre of the pixel.
want1="vmmouse version 6 absolute
vmmouse abs 0,0 buttons=0 wheel=0 raw=51,68
vmmouse abs 639,479 buttons=1 wheel=0 raw=65484,65467
vmmouse abs 320,240 buttons=0 wheel=0 raw=32819,32836
vmmouse abs 639,479 buttons=4 wheel=0 raw=65484,65467
vmmouse abs 10,10 buttons=0 wheel=1 raw=1075,1433"
expect_lines abs "$want1" "the guest did not read the pixels the VNC client sent"
echo "640x480: the guest read the corners, centre, clamp, buttons and wheel exactly"

probe key --encodings raw --updates 1 --key 0x72 "127.0.0.1:$port"
wait_serial abs "kbd-demo: screen 800x600"
# The server has the new size once a client is told it.
probe size --encodings raw --updates 1 --wait-size 800x600 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/size.probe"; fail "VNC did not follow the guest to 800x600"; }
probe p2 --encodings raw --updates 1 --pointer 799,599,0 --pointer 0,0,2 --pointer 400,300,0 \
	"127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/p2.probe"; fail "vncprobe exit $probe_rc"; }
wait_serial abs "vmmouse abs 400,300 "
expect_lines abs "$want1
screen 800x600
vmmouse abs 799,599 buttons=0 wheel=0 raw=65495,65481
vmmouse abs 0,0 buttons=2 wheel=0 raw=40,54
vmmouse abs 400,300 buttons=0 wheel=0 raw=32808,32822" \
	"the guest did not read the pixels sent after the resolution change"
echo "800x600: the guest read the corners and centre exactly"
probe esc --encodings raw --updates 1 --key 0xff1b "127.0.0.1:$port"
set +e
timeout 20 tail --pid="$fbvm_pid" -f /dev/null
wait "$fbvm_pid"
rc=$?
set -e
fbvm_pid=
[ "$rc" -eq 1 ] || { cat "$tmp/abs.err"; fail "exit status $rc after Escape, want 1"; }
grep "^vmmouse:" "$tmp/abs.err"
grep -q "^vmmouse: mode=absolute calls=1029 abs_packets=8 rel_packets=0 packets_dropped=0 ps2_events=0 bad_magic=0 unknown_commands=0 bad_reads=0 restricts=0$" \
	"$tmp/abs.err" || fail "vmmouse counters"
grep -q "^stats: vcpu0: .* reg_syncs=[1-9]" "$tmp/abs.err" || fail "no register exits counted"

# --- 3: VNC, relative fallback (the guest never enables vmmouse) ---
port=$(free_port)
start_fbvm rel "$guest" "127.0.0.1:$port" --cmdline "exit_on=01 mouse=1"
wait_serial rel "kbd-demo: ready"
probe p3 --encodings raw --updates 1 --pointer 0,0,0 --pointer 639,479,0 --pointer 639,479,1 \
	--pointer 639,479,0 "127.0.0.1:$port"
wait_serial rel "kbd-demo: mouse 08 00 00"
stop_fbvm
# The first position is the origin; the corner-to-corner move arrives as
# PS/2 packets (at most 127 counts each, Y up) adding up to +639, -479:
# six, then the click's two.
sum=$(guest_lines rel | python3 -c '
import sys
n = dx = dy = 0
for line in sys.stdin:
    f = line.split()
    if f[0] != "mouse":
        continue
    b, x, y = (int(v, 16) for v in f[1:4])
    dx += x - 256 if b & 0x10 else x
    dy += y - 256 if b & 0x20 else y
    n += 1
print(n, dx, dy)')
[ "$sum" = "8 639 -479" ] || { guest_lines rel; fail "relative fallback: packets/dx/dy $sum, want 8 639 -479"; }
grep -q "^vmmouse: mode=off .* abs_packets=0 .* ps2_events=4 " "$tmp/rel.err" ||
	{ grep "^vmmouse:" "$tmp/rel.err"; fail "fallback counters"; }
echo "fallback: the corner-to-corner move arrived as PS/2 motion (6 packets, then the click)"

# --- 4: the SDL window ---
if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null; then
	echo "SDL part skipped: Xvfb or xdotool missing (make deps installs them)"
	exit 0
fi
. "$(dirname "$0")/sdl_common.bash"
start_xvfb
port=$(free_port)
start_fbvm sdl "$guest" "127.0.0.1:$port" --cmdline "exit_on=01 vmmouse=1 resize_on=13" --sdl
wait_serial sdl "kbd-demo: ready"
wait_err sdl "sdl: showing 640x480"
find_window "kbd-demo.elf 640x480 "
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
sleep 0.2
xdotool mousemove --window "$wid" 0 0
wait_serial sdl "vmmouse abs 0,0 buttons=0"
xdotool mousemove --window "$wid" 639 479
wait_serial sdl "vmmouse abs 639,479 buttons=0"
xdotool click 1
wait_serial sdl "vmmouse abs 639,479 buttons=1"
xdotool key r
wait_serial sdl "kbd-demo: screen 800x600"
wait_err sdl "sdl: showing 800x600"
find_window "kbd-demo.elf 800x600 "
sleep 0.2
xdotool mousemove --window "$wid" 799 599
wait_serial sdl "vmmouse abs 799,599 buttons=0"
xdotool mousemove --window "$wid" 0 0
wait_serial sdl "vmmouse abs 0,0 buttons=0 wheel=0 raw=40,54"
xdotool key ctrl+alt+g
wait_err sdl "sdl: input grabbed"
sleep 0.2
xdotool mousemove_relative 5 7
wait_serial sdl "vmmouse rel 5,7 buttons=0 wheel=0"
xdotool mousemove_relative -- -3 -2
wait_serial sdl "vmmouse rel -3,-2 buttons=0 wheel=0"
xdotool key ctrl+alt+g
wait_err sdl "sdl: input released"
xdotool key Escape
set +e
timeout 20 tail --pid="$fbvm_pid" -f /dev/null
wait "$fbvm_pid"
rc=$?
set -e
fbvm_pid=
[ "$rc" -eq 1 ] || { cat "$tmp/sdl.err"; fail "SDL: exit status $rc after Escape, want 1"; }
# Every packet the window caused before the grab lies on a pixel that was
# pointed at (after it, the host pointer is wherever the grab left it).
bad=$(guest_lines sdl | sed '/^vmmouse rel/,$d' | grep "^vmmouse abs" |
	grep -v -e " 0,0 " -e " 639,479 " -e " 799,599 " || true)
[ -z "$bad" ] || { guest_lines sdl; fail "SDL: the guest read positions nobody pointed at: $bad"; }
echo "SDL window: the guest read the corners exactly, before and after the resize; grabbed motion came as relative packets"
