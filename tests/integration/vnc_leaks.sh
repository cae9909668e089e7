#!/bin/bash
# No per-connection leak (issue 9): fbvm's RSS and open file descriptors are
# the same (RSS within 2 MiB) after 1000 more connections of each kind as
# after a warm-up of 200: RFB viewers that handshake to ServerInit and leave,
# WebSocket viewers the same through the upgrade (libvncserver 0.9.14 leaked
# 45 KB per WebSocket connection when it did the upgrade itself), 17th
# viewers refused while 16 are connected, garbage, and connections closed at
# once. guests/ramfb-demo mode=still.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

port=$(free_port)
wsport=$(free_port)
[ "$wsport" != "$port" ] || wsport=$((port + 1))
start_fbvm leaks "$guest" "127.0.0.1:$port,websocket=$wsport" --cmdline "mode=still"
wait_serial leaks "frame 1"

cat >"$tmp/cycles.py" <<'PY'
import base64, os, socket, struct, sys
port, wsport, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def recvn(s, k):
    b = b''
    while len(b) < k:
        c = s.recv(k - len(b))
        if not c:
            raise EOFError
        b += c
    return b

class Plain:
    def __init__(self):
        self.s = socket.create_connection(('127.0.0.1', port)); self.s.settimeout(5)
    def send(self, b): self.s.sendall(b)
    def recv(self, k): return recvn(self.s, k)

class WS:
    def __init__(self):
        self.s = socket.create_connection(('127.0.0.1', wsport)); self.s.settimeout(5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                        'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: binary\r\n\r\n' % key).encode())
        r = b''
        while not r.endswith(b'\r\n\r\n'):
            r += recvn(self.s, 1)
        self.buf = b''
    def send(self, b):
        m = os.urandom(4)
        self.s.sendall(bytes([0x82, 0x80 | len(b)]) + m + bytes(x ^ m[i % 4] for i, x in enumerate(b)))
    def recv(self, k):
        while len(self.buf) < k:
            h = recvn(self.s, 2); l = h[1] & 0x7f
            if l == 126: l = struct.unpack('>H', recvn(self.s, 2))[0]
            elif l == 127: l = struct.unpack('>Q', recvn(self.s, 8))[0]
            self.buf += recvn(self.s, l)
        out, self.buf = self.buf[:k], self.buf[k:]
        return out

def viewer(cls):
    c = cls()
    assert c.recv(12) == b'RFB 003.008\n'
    c.send(b'RFB 003.008\n'); c.recv(c.recv(1)[0]); c.send(b'\x01'); c.recv(4); c.send(b'\x01')
    si = c.recv(24); c.recv(struct.unpack('>I', si[20:24])[0])
    return c

held = []
for _ in range(n):
    viewer(Plain).s.close()
    viewer(WS).s.close()
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(os.urandom(64)); s.close()
    socket.create_connection(('127.0.0.1', port)).close()
for _ in range(16):
    held.append(viewer(Plain))
for _ in range(n):
    s = Plain(); s.recv(12); s.send(b'RFB 003.008\n')
    assert s.recv(1) == b'\x00', 'the 17th viewer was not refused'
    s.s.close()
for c in held:
    c.s.close()
PY

measure() {   # "RSS_KIB FDS" of fbvm, once the connections have settled
	sleep 1
	echo "$(awk '/^VmRSS:/ {print $2}' /proc/"$fbvm_pid"/status) $(ls /proc/"$fbvm_pid"/fd | wc -l)"
}
python3 "$tmp/cycles.py" "$port" "$wsport" 200 || { tail -n 20 "$tmp/leaks.err"; fail "warm-up cycles failed"; }
read -r rss0 fds0 <<<"$(measure)"
python3 "$tmp/cycles.py" "$port" "$wsport" 1000 || { tail -n 20 "$tmp/leaks.err"; fail "cycles failed"; }
read -r rss1 fds1 <<<"$(measure)"
echo "after 200 cycles of each kind: RSS $rss0 KiB, $fds0 fds; after 1000 more: RSS $rss1 KiB, $fds1 fds"
[ "$fds1" -eq "$fds0" ] || fail "open descriptors went from $fds0 to $fds1"
[ $((rss1 - rss0)) -le 2048 ] || fail "RSS grew by $((rss1 - rss0)) KiB over 5000 connections"
kill -0 "$fbvm_pid" || fail "fbvm died"
stop_fbvm
grep "^stats: vnc: io" "$tmp/leaks.err"
