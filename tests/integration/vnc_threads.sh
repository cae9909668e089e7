#!/bin/bash
# libvncserver runs in non-threaded mode: with clients of every kind
# connected (viewers in several encodings, a WebSocket viewer, a connection
# that has not sent its version, one holding half a message, one that does
# not read) the fbvm
# process has exactly the threads fbvm started itself — main, vcpu0, vnc,
# vnc-io (/proc/PID/task) — and no thread libvncserver made with a default
# stack; each of them is in fbvm's thread registry (fixed stack, guard,
# alternate signal stack: the --stats thread table lists it). The kernel's KVM worker (kvm-nx-lpage-recovery,
# a vhost task the kernel attaches to a VM's process on some hosts) is not
# ours and is reported, not counted. With --vnc none there is no vnc thread.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

threads() {   # names of our threads, sorted, one line
	local t names=()
	for t in /proc/"$fbvm_pid"/task/*; do
		names+=("$(cat "$t/comm")")
	done
	printf '%s\n' "${names[@]}" | grep -v '^kvm-' | sort | tr '\n' ' '
	printf '%s\n' "${names[@]}" | grep '^kvm-' >>"$tmp/kernel-workers" || true
}

port=$(free_port)
wsport=$(free_port)
[ "$wsport" != "$port" ] || wsport=$((port + 1))
start_fbvm threads "$guest" "127.0.0.1:$port,websocket=$wsport" --cmdline "mode=anim"
pids=()
for enc in raw tight zrle hextile; do
	"$VNCPROBE" --encodings "$enc" --seconds 2 --timeout 10 "127.0.0.1:$port" \
		>"$tmp/$enc.probe" 2>&1 &
	pids+=($!)
done
python3 - "$port" "$wsport" <<'PY' &
import base64, os, socket, sys, time
port, wsport = int(sys.argv[1]), int(sys.argv[2])
def conn():
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(5); return s
def handshake(s):
    s.recv(12); s.sendall(b'RFB 003.008\n'); n = s.recv(1)[0]; s.recv(n)
    s.sendall(b'\x01'); s.recv(4); s.sendall(b'\x01'); time.sleep(0.1)
silent = conn()                                  # no version
half = conn(); handshake(half); half.sendall(b'\x03\x00')   # 2 of 10 bytes
slow = socket.socket(); slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
slow.connect(('127.0.0.1', port)); handshake(slow)
slow.sendall(b'\x02\x00\x00\x01\x00\x00\x00\x00' + b'\x03\x00\x00\x00\x00\x00\x04\x00\x03\x00' * 20)
ws = socket.create_connection(('127.0.0.1', wsport)); ws.settimeout(5)  # a WebSocket viewer
ws.sendall(('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            'Sec-WebSocket-Key: %s\r\n\r\n' % base64.b64encode(os.urandom(16)).decode()).encode())
m = os.urandom(4)
time.sleep(0.1)
ws.sendall(bytes([0x82, 0x8c]) + m + bytes(b ^ m[i % 4] for i, b in enumerate(b'RFB 003.008\n')))
time.sleep(1.5)
PY
kinds=$!
sleep 0.7
during=$(threads)
wait $kinds || true
for p in "${pids[@]}"; do wait "$p" || fail "a vncprobe failed"; done
after=$(threads)
stop_fbvm
echo "with 4 clients: $during"
echo "after they left: $after"
[ "$during" = "fbvm vcpu0 vnc vnc-io " ] ||
	fail "threads with clients: '$during', want main (fbvm), vcpu0, vnc, vnc-io"
[ "$after" = "fbvm vcpu0 vnc vnc-io " ] || fail "threads after clients: '$after'"
# Registered: the --stats thread table (thread_print_stats) names each.
for t in main vcpu0 vnc vnc-io; do
	grep -Eq "^$t +[0-9]+ " "$tmp/threads.err" || { cat "$tmp/threads.err"; fail "thread $t is not in the registry"; }
done

port=$(free_port)
"$FBVM" run --kernel "$guest" --vnc none --serial "file:$tmp/none.serial" --cmdline "mode=still" \
	</dev/null >/dev/null 2>"$tmp/none.err" &
fbvm_pid=$!
wait_serial none "frame 1"
none=$(threads)
stop_fbvm
echo "--vnc none: $none"
[ "$none" = "fbvm vcpu0 " ] || fail "threads with --vnc none: '$none', want main (fbvm), vcpu0"
[ -s "$tmp/kernel-workers" ] && echo "(not counted: the kernel's $(sort -u "$tmp/kernel-workers" | tr '\n' ' ')thread)"
exit 0
