#!/bin/bash
# No VNC client can slow another (issue 9): while tools/vncprobe watches
# guests/ramfb-demo mode=small (one 64x64 block changes 60 times a second),
# tests/integration/vnc_abuse.py runs each kind of hostile client of issue 9's
# table and of its fuzzer findings for a few seconds (at most 40 connections
# held, new ones up to 300/s, loopback only): random bytes, connect-and-close
# floods, half a version, the 2-byte "GE" that hung libvncserver for good,
# half a message, a 4 GiB clipboard announcement, absurd update requests, bpp
# 7, 65535 encodings, fewer encodings than announced, a trickled 1 MiB
# clipboard, an HTTP request on the RFB port, a message over the 1 MiB
# limit, a client that never reads its updates; on the WebSocket port an
# upgrade stopped halfway, an oversize frame, half a message in a frame, one
# byte per frame every 500 ms after a lone ping; then all of them at once,
# in raw and in tight. The good viewer's rate of changing updates during each
# must be at least 95% of its rate alone just before or after (vnc/io.h:
# fbvm's I/O thread gives libvncserver only complete messages and drains its
# output, so nothing on the vnc loop waits for a client). Then the 17th
# viewer is refused with a reason and a log line, a connection that sends
# nothing is closed after 1 s, a new viewer is still served, and SIGTERM
# ends fbvm within a second.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"
abuse="$(dirname "$0")/vnc_abuse.py"
seconds=2

port=$(free_port)
wsport=$(free_port)
[ "$wsport" != "$port" ] || wsport=$((port + 1))
start_fbvm abuse "$guest" "127.0.0.1:$port,websocket=$wsport" --cmdline "mode=small"
wait_serial abuse "frame 1"

# rate NAME ENC: changing updates per second seen by a good viewer in $seconds.
rate() {
	probe "$1" --encodings "$2" --seconds "$seconds" --count-changes --timeout 20 \
		"127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$1.probe"; fail "$1: the good viewer failed"; }
	python3 -c "print('%.1f' % ($(probe_value "$1" changed_updates) / $seconds))"
}

# check KIND ENC: the good viewer's rate in ENC beside abuse KIND, against
# its rate alone just before and just after (the lower of the two). This
# host's other load moves rates by more than 5% between two runs, a stall
# by far more (one 100 ms wait per connection took the rate from 61 to
# 15): a kind passes when one of three tries is within 5%.
alone_prev=
check() {
	local kind=$1 enc=$2 before after r pid attempt
	for attempt in 1 2 3; do
		before=${alone_prev:-$(rate "alone-$kind-$enc-$attempt" "$enc")}
		# Niced: on a 2-core host the abusers' own CPU would otherwise be
		# measured, not fbvm's loop.
		nice -n 19 python3 "$abuse" "$port" "$wsport" "$kind" "$((seconds + 1))" >"$tmp/$kind.abuse" 2>&1 &
		pid=$!
		sleep 0.5
		r=$(rate "during-$kind-$enc-$attempt" "$enc")
		wait $pid || { cat "$tmp/$kind.abuse"; fail "$kind: the abuse client failed"; }
		kill -0 "$fbvm_pid" 2>/dev/null || { cat "$tmp/abuse.err"; fail "fbvm died during $kind"; }
		after=$(rate "after-$kind-$enc-$attempt" "$enc")
		alone_prev=$after
		[ "$(probe_value "after-$kind-$enc-$attempt" changed_updates)" -gt 0 ] ||
			fail "the good viewer alone saw no change (the guest draws 60/s)"
		printf '%-16s %-5s %6s updates/s (alone %s before, %s after; %s)\n' "$kind" "$enc" \
			"$r" "$before" "$after" "$(cat "$tmp/$kind.abuse")"
		python3 -c "import sys; sys.exit(0 if $r >= 0.95 * min($before, $after) else 1)" &&
			return 0
	done
	fail "$kind: the good viewer got $r updates/s, under 95% of its rate alone, three times"
}

for kind in ${VNC_ABUSE_KINDS:-random connect-close half-version ge half-request cut-4g absurd-requests bpp7 \
	encodings-65535 encodings-short trickle http-on-rfb-port big-message slow-reader \
	ws-half-upgrade ws-oversize ws-half-message ws-trickle}; do
	check "$kind" raw
done
check mix raw
alone_prev=      # another encoding: measure its rate alone afresh
check mix tight

for what in "not an RFB" "not a WebSocket upgrade\|no protocol version" "an oversize WebSocket frame" "bytes of a message for 1000 ms" \
	"message type 6 refused" "bytes of updates unread"; do
	grep -q "^vnc: warning: client .* dropped: .*$what" "$tmp/abuse.err" ||
		fail "no 'dropped: ... $what' log line"
done

# The 17th viewer: refused in RFB terms (no security types, a reason).
python3 - "$port" <<'PY' || fail "the 17th viewer was not refused with a reason"
import socket, sys, time
port = int(sys.argv[1])
def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b
def open_viewer():
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(5)
    recvn(s, 12); s.sendall(b'RFB 003.008\n')
    return s
silent = socket.create_connection(('127.0.0.1', port)); silent.settimeout(5)
held = []
for _ in range(16):
    s = open_viewer(); n = recvn(s, 1)[0]; recvn(s, n)
    s.sendall(b'\x01'); recvn(s, 4); s.sendall(b'\x01'); recvn(s, 24)
    held.append(s)
s = open_viewer()
n = recvn(s, 1)[0]
reason = recvn(s, int.from_bytes(recvn(s, 4), 'big')) if n == 0 else b''
print('17th viewer: %d security types, reason %r' % (n, reason))
if n != 0 or reason != b'too many clients':
    sys.exit(1)
# A connection that never sends its version is closed (after 1 s).
recvn(silent, 12)
try:
    end = silent.recv(1)
except ConnectionResetError:
    end = b''
print('silent connection: closed by the server (%r)' % end)
sys.exit(0 if end == b'' else 1)
PY
grep -q "^vnc: warning: client .* refused: 16 clients connected already" "$tmp/abuse.err" ||
	fail "no log line for the refused 17th viewer"
grep -q "^vnc: warning: client .* dropped: no protocol version in 1000 ms" "$tmp/abuse.err" ||
	fail "no log line for the silent connection"

# Afterwards a new viewer is served and the guest still draws.
probe after --encodings raw --updates 10 --count-changes --timeout 10 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/after.probe"; fail "a new viewer is not served"; }
[ "$(probe_value after changed_updates)" -ge 5 ] || fail "the guest stopped drawing"

# SIGTERM ends fbvm within a second, with abusers connected.
nice -n 19 python3 "$abuse" "$port" "$wsport" mix 3 >/dev/null 2>&1 &
mix=$!
sleep 1
t0=$(date +%s%N)
kill -TERM "$fbvm_pid"
set +e
wait "$fbvm_pid"
fbvm_rc=$?
set -e
ms=$((($(date +%s%N) - t0) / 1000000))
fbvm_pid=
wait $mix || true
echo "SIGTERM during the mix: fbvm ended in $ms ms, status $fbvm_rc"
[ "$fbvm_rc" -eq 143 ] || fail "fbvm exit status $fbvm_rc after SIGTERM, want 143"
[ "$ms" -lt 1000 ] || fail "fbvm took $ms ms to end after SIGTERM"
grep "^stats: vnc: io" "$tmp/abuse.err"
