#!/bin/bash
# Keyboard and mouse from a VNC client to the guest: guests/kbd-demo (i8042
# + AT keyboard brought up as Linux does, every scancode byte echoed on
# serial) receives, through fbvm's VNC server and i8042, what
# tools/vncprobe sends: RFB KeyEvents mapped by the US keysym table (a,
# Shift + exclam, Return), QEMU Extended Key Events: one whose keycode wins
# over its keysym (keysym q, key A: what an AZERTY client sends for its 'q'),
# then Shift + exclam and Return as physical keys (qnum 0x2a, 0x02, 0x1c), and
# PointerEvents that become PS/2 packets (absolute to relative, Y flipped:
# the guest never enables vmmouse, so the pointer falls back to PS/2).
# The expected bytes are the ones the QEMU reference test
# (guest_kbd_demo_on_qemu.sh) records. Escape then ends the guest (exit_on=01).
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/kbd-demo.elf"
[ -f "$guest" ] || fail "$guest not built"

port=$(free_port)
start_fbvm kbd "$guest" "127.0.0.1:$port" --cmdline "exit_on=01 mouse=1"
wait_serial kbd "kbd-demo: ready"
probe keys --encodings raw --updates 1 \
	--key 0x61 --key +0xffe1 --key 0x21 --key -0xffe1 --key 0xff0d --ext-key 0x71,0x1e \
	--ext-key +0xffe1,0x2a --ext-key 0x21,0x02 --ext-key -0xffe1,0x2a --ext-key 0xff0d,0x1c \
	--pointer 100,100,0 --pointer 110,120,0 --pointer 110,120,1 --pointer 110,120,0 \
	"127.0.0.1:$port"
cat "$tmp/keys.probe"
[ "$probe_rc" -eq 0 ] || fail "vncprobe exit $probe_rc"
grep -q "ext_key 0x71,0x1e sent" "$tmp/keys.probe" || fail "the server did not offer Extended Key Events"
wait_serial kbd "kbd-demo: mouse 08 00 00"

want="scancode 1e
scancode 9e
scancode 2a
scancode 02
scancode 82
scancode aa
scancode 1c
scancode 9c
scancode 1e
scancode 9e
scancode 2a
scancode 02
scancode 82
scancode aa
scancode 1c
scancode 9c
mouse 28 0a ec
mouse 09 00 00
mouse 08 00 00"
got=$(sed -n -e 's/^kbd-demo: \(scancode .*\)/\1/p' \
	-e 's/^kbd-demo: \(mouse [0-9a-f][0-9a-f] .*\)/\1/p' "$tmp/kbd.serial")
if [ "$got" != "$want" ]; then
	echo "guest received:"; echo "$got"; echo "expected:"; echo "$want"
	fail "the guest did not receive what the VNC client sent"
fi
echo "guest received the expected scancodes and mouse packets"

probe esc --encodings raw --updates 1 --key 0xff1b "127.0.0.1:$port"
set +e
timeout 20 tail --pid="$fbvm_pid" -f /dev/null
wait "$fbvm_pid"
rc=$?
set -e
fbvm_pid=
[ "$rc" -eq 1 ] || { cat "$tmp/kbd.serial" "$tmp/kbd.err"; fail "exit status $rc after Escape, want 1"; }
grep -q "^stats: vnc: keys=18 ext_keys=8 .* pointer=4$" "$tmp/kbd.err" || { grep "^stats: vnc" "$tmp/kbd.err"; fail "vnc key counters"; }
echo "Escape ended the guest (status 1)"
