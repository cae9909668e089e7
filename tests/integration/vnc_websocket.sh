#!/bin/bash
# WebSocket (noVNC) viewers on their own port, QEMU's convention:
# --vnc 127.0.0.1:PORT,websocket=WSPORT. A Python WebSocket RFB client
# (written here, RFC 6455, masked frames as a browser sends them) upgrades
# (Sec-WebSocket-Accept checked against its own SHA-1), gets the RFB version
# in a binary frame, handshakes with messages split across frames and across
# continuation fragments, gets a ping answered, receives a raw full-screen
# update of guests/ramfb-demo mode=still and checks the colour bars. Then
# the hostile kinds: an upgrade that stops halfway (closed after 1 s), a
# frame over the 1 MiB limit, a text frame, an unmasked frame, and an HTTP
# request on the RFB port: each is closed with a log line, and a good
# vncprobe viewer on the RFB port keeps being served.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

port=$(free_port)
wsport=$(free_port)
[ "$wsport" != "$port" ] || wsport=$((port + 1))
start_fbvm ws "$guest" "127.0.0.1:$port,websocket=$wsport" --cmdline "mode=still"
wait_serial ws "frame 1"
grep -q "^vnc: WebSocket clients (noVNC) on 127.0.0.1:$wsport" "$tmp/ws.err" ||
	fail "no log line for the WebSocket port"

python3 - "$port" "$wsport" <<'PY' || fail "the WebSocket client failed"
import base64, hashlib, os, socket, struct, sys, time
port, wsport = int(sys.argv[1]), int(sys.argv[2])

def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError('closed after %d of %d bytes' % (len(b), n))
        b += c
    return b

def frame(payload, opcode=2, fin=True, mask=True):
    h = bytes([(0x80 if fin else 0) | opcode])
    m = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack('>H', n)
    else:
        h += bytes([m | 127]) + struct.pack('>Q', n)
    if not mask:
        return h + payload
    key = os.urandom(4)
    return h + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

class WS:
    def __init__(self, proto='binary'):
        self.s = socket.create_connection(('127.0.0.1', wsport))
        self.s.settimeout(5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ('GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
               % key)
        if proto:
            req += 'Sec-WebSocket-Protocol: %s\r\n' % proto
        self.s.sendall((req + '\r\n').encode())
        resp = b''
        while b'\r\n\r\n' not in resp:
            c = self.s.recv(1)
            if not c:
                raise EOFError('no upgrade response')
            resp += c
        want = base64.b64encode(hashlib.sha1(
            (key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
        assert resp.startswith(b'HTTP/1.1 101 '), resp
        assert ('Sec-WebSocket-Accept: %s\r\n' % want).encode() in resp, resp
        self.buf = b''
    def read_frame(self):
        h = recvn(self.s, 2)
        op, n = h[0] & 0x0f, h[1] & 0x7f
        assert not (h[1] & 0x80), 'server frames are not masked'
        if n == 126:
            n = struct.unpack('>H', recvn(self.s, 2))[0]
        elif n == 127:
            n = struct.unpack('>Q', recvn(self.s, 8))[0]
        return op, recvn(self.s, n)
    def recv(self, n):
        while len(self.buf) < n:
            op, p = self.read_frame()
            assert op == 2, 'opcode %d where RFB bytes were due' % op
            self.buf += p
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def send(self, data, **kw):
        self.s.sendall(frame(data, **kw))

ws = WS()
assert ws.recv(12) == b'RFB 003.008\n'
ws.send(b'RFB 003.0')                           # the version in two frames
ws.send(b'08\n')
n = ws.recv(1)[0]
assert 1 in ws.recv(n), 'no security type None'
ws.send(b'\x01')
assert ws.recv(4) == b'\x00\x00\x00\x00'
ws.send(b'\x01')
si = ws.recv(24)
w, h = struct.unpack('>HH', si[:4])
ws.recv(struct.unpack('>I', si[20:24])[0])
print('WebSocket viewer: %dx%d desktop' % (w, h))
# SetEncodings(raw) as two fragments (binary + continuation), then a ping.
enc = b'\x02\x00\x00\x01' + struct.pack('>i', 0)
ws.send(enc[:3], fin=False)
ws.send(enc[3:], opcode=0)
ws.send(b'hello', opcode=9)
# A FramebufferUpdateRequest split across two frames.
req = b'\x03\x00' + struct.pack('>HHHH', 0, 0, w, h)
ws.send(req[:4])
ws.send(req[4:])
pong = False
while True:                                     # the pong, then RFB bytes
    op, p = ws.read_frame()
    if op == 10:
        assert p == b'hello', p
        pong = True
        continue
    assert op == 2, op
    ws.buf += p
    break
assert pong, 'no pong before the update'
hdr = ws.recv(4)
assert hdr[0] == 0, 'message type %d, want FramebufferUpdate' % hdr[0]
fb = bytearray(w * h * 4)
for _ in range(struct.unpack('>H', hdr[2:4])[0]):
    x, y, rw, rh, e = struct.unpack('>HHHHi', ws.recv(12))
    assert e == 0, 'encoding %d' % e
    data = ws.recv(rw * rh * 4)
    for row in range(rh):
        o = ((y + row) * w + x) * 4
        fb[o:o + rw * 4] = data[row * rw * 4:(row + 1) * rw * 4]
bars = ['FFFFFF', 'FFFF00', '00FFFF', '00FF00', 'FF00FF', 'FF0000', '0000FF', '000000']
for i, want in enumerate(bars):
    x, y = (i * w // 8 + (i + 1) * w // 8) // 2, h // 8
    b, g, r = fb[(y * w + x) * 4:(y * w + x) * 4 + 3]    # server format: B,G,R,X
    got = '%02X%02X%02X' % (r, g, b)
    assert got == want, 'bar %d at %d,%d: %s, want %s' % (i, x, y, got, want)
print('WebSocket viewer: bars exact; ping answered; fragments and split messages joined')
ws.send(b'', opcode=8)
op, _ = ws.read_frame()
assert op == 8, 'close not answered'

def closed(s, within):
    s.settimeout(within)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True

# Hostile: half an upgrade (closed after 1 s), oversize/text/unmasked frames.
t0 = time.monotonic()
s = socket.create_connection(('127.0.0.1', wsport))
s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n')
closed(s, 5)
print('half upgrade: closed after %.1f s' % (time.monotonic() - t0))
for what, data in [('oversize', frame(b'x' * (1 << 20), opcode=2)[:14] + b'x' * 100000),
                   ('text', frame(b'RFB 003.008\n', opcode=1)),
                   ('unmasked', frame(b'RFB 003.008\n', mask=False))]:
    ws = WS()
    ws.recv(12)
    if what == 'oversize':
        # A 64-bit length over the limit: refused at its header.
        ws.s.sendall(bytes([0x82, 0xff]) + struct.pack('>Q', (1 << 20) + 9) + b'\0\0\0\0' +
                     b'x' * 1000)
    else:
        ws.s.sendall(data)
    closed(ws.s, 5)
    print('%s frame: closed' % what)
s = socket.create_connection(('127.0.0.1', port))
s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n')
closed(s, 5)
print('HTTP on the RFB port: closed')
PY

for what in "not a WebSocket upgrade request\|no protocol version in 1000 ms" \
	"an oversize WebSocket frame" "WebSocket text frames" "a malformed WebSocket frame" \
	"not an RFB client (an HTTP request"; do
	grep -q "^vnc: warning: client .* dropped: .*\($what\)" "$tmp/ws.err" ||
		{ cat "$tmp/ws.err"; fail "no log line for: $what"; }
done
# shellcheck disable=SC2046
probe good --encodings raw --updates 1 $(bar_expects 1024 768) --timeout 10 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/good.probe"; fail "the RFB port no longer serves"; }
stop_fbvm
[ "$fbvm_rc" -eq 143 ] || fail "fbvm exit status $fbvm_rc after SIGTERM, want 143"
echo "hostile WebSocket clients were closed with log lines; RFB viewers still served"
