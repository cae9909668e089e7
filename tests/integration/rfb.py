# A minimal RFB (VNC) 3.8 client for the integration tests that read QEMU's
# screen (guest_*_demo_on_qemu.sh) and the hostile clients of vnc_abuse.py and
# vnc_bad_clients.sh: no authentication, 32 bpp XRGB8888
# pixels, raw encoding (pixels are exact), optionally DesktopSize; plus the
# QEMU HMP monitor. The tests import it with sys.path set to
# tests/integration ($TESTS_INTEGRATION, exported by common.bash).
import socket, struct, sys, time, zlib

DESKTOP_SIZE = -223


def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError('VNC server closed the connection')
        b += c
    return b


def handshake(s):
    """RFB 3.8 with no authentication, shared flag set, up to ServerInit's
    name; returns the desktop's width and height."""
    recvn(s, 12)
    s.sendall(b'RFB 003.008\n')
    if 1 not in recvn(s, recvn(s, 1)[0]):
        raise ConnectionRefusedError('VNC server wants authentication')
    s.sendall(b'\x01')
    if struct.unpack('>I', recvn(s, 4))[0]:
        raise ConnectionRefusedError('VNC security handshake failed')
    s.sendall(b'\x01')
    w, h = struct.unpack('>HH', recvn(s, 4))
    recvn(s, 16)
    recvn(s, struct.unpack('>I', recvn(s, 4))[0])
    return w, h


def monitor(path, cmds):
    """Runs HMP commands on the QEMU monitor at unix socket path."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(10)
    def prompt():
        b = b''
        while not b.endswith(b'(qemu) '):
            b += s.recv(4096)
        return b
    prompt()
    for c in cmds:
        s.sendall(c.encode() + b'\n')
        prompt()


def connect(path, encodings=(0,), secs=10):
    """Handshakes with the VNC server at unix socket path; returns s, w, h."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(secs)
    try:
        w, h = handshake(s)
    except ConnectionRefusedError as e:
        sys.exit(str(e))
    # 32 bpp little-endian, red at bit 16: pixels arrive as XRGB8888 words.
    s.sendall(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
    s.sendall(struct.pack('>BxH', 2, len(encodings)) +
              b''.join(struct.pack('>i', e) for e in encodings))
    return s, w, h


def key(s, down, keysym):
    s.sendall(struct.pack('>BBxxI', 4, down, keysym))


def frame(s, w, h, want=None, secs=20):
    """Reads one full raw frame; returns w, h and the XRGB8888 pixels.

    With want=(w, h) (the connection asked for DesktopSize), keeps asking
    for full frames until one arrives at that size, for up to secs."""
    full = lambda: s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, w, h))
    full()
    fb, got = bytearray(w * h * 4), 0
    deadline = time.time() + secs
    while True:
        t = recvn(s, 1)[0]
        if t == 2:
            continue
        if t == 1:
            recvn(s, 5); recvn(s, struct.unpack('>H', recvn(s, 2))[0] * 6); continue
        if t == 3:
            recvn(s, struct.unpack('>xxxI', recvn(s, 7))[0]); continue
        if t != 0:
            sys.exit('unexpected VNC message %d' % t)
        for _ in range(struct.unpack('>xH', recvn(s, 3))[0]):
            x, y, rw, rh, enc = struct.unpack('>HHHHi', recvn(s, 12))
            if enc == DESKTOP_SIZE and want:
                w, h = rw, rh
                fb, got = bytearray(w * h * 4), 0
                continue
            if enc != 0:
                sys.exit('unexpected VNC encoding %d' % enc)
            data = recvn(s, rw * rh * 4)
            for r in range(rh):
                o = ((y + r) * w + x) * 4
                fb[o:o + rw * 4] = data[r * rw * 4:(r + 1) * rw * 4]
            got += rw * rh
        if not want:
            if got >= w * h:
                return w, h, fb
            continue
        if got >= w * h and (w, h) == want:
            return w, h, fb
        if time.time() > deadline:
            sys.exit('VNC screen stayed %dx%d, want %dx%d' % (w, h, want[0], want[1]))
        if got >= w * h or got == 0:
            time.sleep(0.05)
            got = 0
            full()


def save(out, w, h, fb):
    """Writes width, height (LE u32) and the XRGB8888 pixels."""
    open(out, 'wb').write(struct.pack('<II', w, h) + bytes(fb))


def png(path, w, h, fb):
    rows = b''.join(b'\0' + bytes(fb[(y * w + x) * 4 + c] for x in range(w) for c in (2, 1, 0))
                    for y in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                           + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
