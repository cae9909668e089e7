#!/bin/bash
# Every key a client sent before it disconnected reaches the guest, as on
# QEMU: a script that types over a short VNC connection (vncdotool, a
# test's own client) and closes at once loses nothing, even when the
# server is writing an update to it as it goes (vnc/io.c hands what was
# sent to libvncserver, then half-closes the pair). vnc_keys_on_close.py
# opens 20 connections, one after the other, that each send 10 presses
# and releases of 'a' and close without reading; guests/kbd-demo echoes every scancode on serial,
# and fbvm's --stats counts the key events.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/kbd-demo.elf"
[ -f "$guest" ] || fail "$guest not built"

port=$(free_port)
start_fbvm kbd "$guest" "127.0.0.1:$port" --cmdline "exit_on=01"
wait_serial kbd "kbd-demo: ready"
# One connection at a time, each after the guest echoed the one before, so
# the PS/2 queue (256 bytes) never fills: a lost key is the close's.
sent=0
count() { grep -cE 'scancode (1e|9e)$' "$tmp/kbd.serial" || true; }
for i in $(seq 20); do
	n=$(python3 "$TESTS_INTEGRATION/vnc_keys_on_close.py" "$port" 10) || fail "connection $i: the client failed"
	sent=$((sent + n))
	end=$((SECONDS + 10))
	while got=$(count); [ "$got" -lt "$sent" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.05
	done
	[ "$got" -eq "$sent" ] || { stop_fbvm; grep -E '^stats: vnc: keys=|queue full' "$tmp/kbd.err" || true
		fail "connection $i: the guest saw $got of the $sent key events sent so far"; }
done
echo "the guest saw all $sent key events of 20 connections that closed at once"
stop_fbvm
stats=$(grep '^stats: vnc: keys=' "$tmp/kbd.err" || true)
echo "$stats"
grep -qE "^stats: vnc: keys=$sent " "$tmp/kbd.err" || fail "--stats counts other than $sent keys: $stats"
