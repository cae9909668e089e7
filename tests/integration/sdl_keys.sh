#!/bin/bash
# Keyboard and mouse from the SDL window to the guest: guests/kbd-demo
# (i8042 + AT keyboard brought up as Linux does, every scancode byte and
# mouse packet echoed on serial) runs under fbvm run --sdl --vnc on an X
# server of the test's own (Xvfb); xdotool types into the focused window
# with real X key events (XTEST). Expected bytes: a (1e 9e), Shift+1
# (2a 02 aa 82: xdotool lets go of Shift first), Return (1c 9c), the codes
# the VNC test (vnc_keys.sh) and the QEMU reference record; pointer moves in the window become relative PS/2
# packets (Y flipped; the guest never enables vmmouse, so the absolute
# pointer falls back to PS/2 motion), a click two more. Ctrl-Alt-G grabs (the title says
# how to release) and releases: the guest sees Ctrl and Alt, never the G.
# Escape then ends the guest (exit_on=01, status 1).
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/sdl_common.bash"
need_kvm
need_vnc_tools
need_x_tools
guest="$GUESTS/kbd-demo.elf"
[ -f "$guest" ] || fail "$guest not built"
start_xvfb

port=$(free_port)
start_fbvm kbd "$guest" "127.0.0.1:$port" --cmdline "exit_on=01 mouse=1" --sdl
wait_serial kbd "kbd-demo: ready"
wait_err kbd "sdl: showing 640x480"
find_window "kbd-demo.elf 640x480 "
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
sleep 0.2

xdotool key --delay 50 a shift+1 Return
wait_serial kbd "kbd-demo: scancode 9c"

# Into the window (its first position only sets the origin), 10 right and
# 20 down, then a left click.
xdotool mousemove --window "$wid" 100 100
sleep 0.2
xdotool mousemove --window "$wid" 110 120
sleep 0.2
xdotool click 1
wait_serial kbd "kbd-demo: mouse 08 00 00"

xdotool key ctrl+alt+g
for _ in $(seq 50); do
	title=$(xdotool getwindowname "$wid")
	case $title in *"input grabbed, Ctrl-Alt-G releases") break ;; esac
	sleep 0.1
done
[ "$title" = "kbd-demo.elf 640x480 - fbvm - input grabbed, Ctrl-Alt-G releases" ] ||
	fail "after Ctrl-Alt-G the title is '$title'"
echo "grabbed: $title"
xdotool key ctrl+alt+g
for _ in $(seq 50); do
	title=$(xdotool getwindowname "$wid")
	case $title in *"Ctrl-Alt-G grabs input") break ;; esac
	sleep 0.1
done
[ "$title" = "kbd-demo.elf 640x480 - fbvm - Ctrl-Alt-G grabs input" ] ||
	fail "after the second Ctrl-Alt-G the title is '$title'"
echo "released: $title"

xdotool key Escape
set +e
timeout 20 tail --pid="$fbvm_pid" -f /dev/null
wait "$fbvm_pid"
rc=$?
set -e
fbvm_pid=

want="scancode 1e
scancode 9e
scancode 2a
scancode 02
scancode aa
scancode 82
scancode 1c
scancode 9c
mouse 28 0a ec
mouse 09 00 00
mouse 08 00 00
scancode 1d
scancode 38
scancode 9d
scancode b8
scancode 1d
scancode 38
scancode 9d
scancode b8
scancode 01"
got=$(sed -n -e 's/^kbd-demo: \(scancode .*\)/\1/p' \
	-e 's/^kbd-demo: \(mouse [0-9a-f][0-9a-f] .*\)/\1/p' "$tmp/kbd.serial")
if [ "$got" != "$want" ]; then
	echo "guest received:"; echo "$got"; echo "expected:"; echo "$want"
	cat "$tmp/kbd.err"
	fail "the guest did not receive what was typed into the window"
fi
echo "guest received the expected scancodes and mouse packets"
[ "$rc" -eq 1 ] || { cat "$tmp/kbd.err"; fail "exit status $rc after Escape, want 1"; }
grep "^stats: sdl: keys" "$tmp/kbd.err"
grep -q "^stats: sdl: keys=1[78] unknown_scancodes=0 stray_releases=0 .* pointer=5 grabs=2$" \
	"$tmp/kbd.err" || fail "sdl key counters"
echo "Escape ended the guest (status 1)"
