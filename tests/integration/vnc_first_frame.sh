#!/bin/bash
# A new viewer's first update is the current screen (issue 9; issue 10 found
# it black on a slow host: the shadow was refreshed only once a viewer was
# there, and the first update could go out before that). fbvm now refreshes
# the shadow before handing a new viewer to libvncserver. guests/ramfb-demo
# mode=anim frames=40 hold draws 40 frames while nobody watches and keeps
# the 40th; a raw RFB client written here asks for one full update as its
# very first request and compares it with a full update 300 ms later: they
# must be the same picture, and not black. Then again for a second viewer
# arriving while the first is still connected (the refresh schedule has
# backed off by then), and for a third after both left.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

port=$(free_port)
start_fbvm first "$guest" "127.0.0.1:$port" --cmdline "mode=anim frames=40 hold"
wait_serial first "done frames=40"
sleep 0.5

python3 - "$port" <<'PY' || fail "a first update was not the current screen"
import socket, struct, sys, time
port = int(sys.argv[1])

def recvn(s, n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return bytes(b)

def viewer():
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(10)
    recvn(s, 12); s.sendall(b'RFB 003.008\n')
    recvn(s, recvn(s, 1)[0]); s.sendall(b'\x01'); recvn(s, 4); s.sendall(b'\x01')
    si = recvn(s, 24); recvn(s, struct.unpack('>I', si[20:24])[0])
    w, h = struct.unpack('>HH', si[:4])
    s.sendall(b'\x02\x00\x00\x01' + struct.pack('>i', 0))        # raw only
    return s, w, h

def full_update(s, w, h):
    s.sendall(b'\x03\x00' + struct.pack('>HHHH', 0, 0, w, h))
    fb = bytearray(w * h * 4)
    hdr = recvn(s, 4)
    assert hdr[0] == 0, 'message type %d' % hdr[0]
    for _ in range(struct.unpack('>H', hdr[2:4])[0]):
        x, y, rw, rh, e = struct.unpack('>HHHHi', recvn(s, 12))
        assert e == 0, 'encoding %d' % e
        data = recvn(s, rw * rh * 4)
        for row in range(rh):
            o = ((y + row) * w + x) * 4
            fb[o:o + rw * 4] = data[row * rw * 4:(row + 1) * rw * 4]
    return bytes(fb)

def check(name):
    s, w, h = viewer()
    first = full_update(s, w, h)
    time.sleep(0.3)
    later = full_update(s, w, h)
    black = first.count(0) == len(first) or all(first[i:i + 3] == b'\0\0\0'
                                                 for i in range(0, len(first), 4 * 997))
    diff = sum(1 for i in range(0, len(first), 4) if first[i:i + 3] != later[i:i + 3])
    print('%s: first update %dx%d, %d pixels differ from 300 ms later%s'
          % (name, w, h, diff, ', black' if black else ''))
    assert not black and diff == 0
    return s

a = check('first viewer')
time.sleep(1.5)                                   # the schedule backs off
b = check('second viewer, the first still connected')
a.close(); b.close()
time.sleep(0.5)
check('third viewer, after both left').close()
PY
stop_fbvm
