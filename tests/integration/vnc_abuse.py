#!/usr/bin/env python3
"""Hostile VNC clients for tests/integration/vnc_abuse.sh (issue 9's table and
the fuzzer's findings), on loopback, bounded: at most HELD connections open at
once, new ones at most RATE per second, for SECONDS.

    vnc_abuse.py PORT WSPORT KIND SECONDS

KIND is one of the names in KINDS, or "mix" (all of them at once, each in its
own thread). Prints "KIND: N connections" at the end.
"""
import base64
import os
import socket
import struct
import sys
import threading
import time

from rfb import handshake, recvn

HELD = 40
RATE = 300


def conn(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(3)
    s.connect(('127.0.0.1', port))
    return s


def set_encodings(*encs):
    return bytes([2, 0]) + len(encs).to_bytes(2, 'big') + b''.join(
        e.to_bytes(4, 'big', signed=True) for e in encs)


def update_request(incremental, x, y, w, h):
    return bytes([3, incremental]) + b''.join(v.to_bytes(2, 'big') for v in (x, y, w, h))


# Each kind: what one connection does; returns the socket to hold (or None).
def k_random(port):
    s = conn(port); s.sendall(os.urandom(512)); s.close()


def k_connect_close(port):
    conn(port).close()


def k_half_version(port):
    s = conn(port); recvn(s, 12); s.sendall(b'RFB 003'); return s


def k_ge(port):
    # The fuzzer's 2-byte hang: bytes arriving after libvncserver's first peek.
    s = conn(port); time.sleep(0.02); s.sendall(b'GE'); return s


def k_half_request(port):
    s = conn(port); handshake(s); s.sendall(b'\x03\x00'); return s


def k_cut_4g(port):
    s = conn(port); handshake(s); s.sendall(b'\x06\x00\x00\x00\xff\xff\xff\xff'); return s


def k_absurd_requests(port):
    s = conn(port); handshake(s)
    s.sendall(update_request(0, 60000, 60000, 65535, 65535) * 200)
    return s


def k_bpp7(port):
    s = conn(port); handshake(s)
    s.sendall(bytes([0, 0, 0, 0, 7, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]))
    return s


def k_encodings_65535(port):
    s = conn(port); handshake(s); s.sendall(b'\x02\x00\xff\xff' + b'\x00' * 1000); return s


def k_encodings_short(port):
    # Announces more encodings than it sends.
    s = conn(port); handshake(s); s.sendall(b'\x02\x00\x00\x10' + b'\x00' * 8); return s


def k_trickle(port):
    s = conn(port); handshake(s)
    s.sendall(b'\x06\x00\x00\x00\x00\x10\x00\x00')      # 1 MiB of clipboard, trickled
    for _ in range(6):
        time.sleep(0.5)
        s.sendall(b'abcd')
    return s


def k_http_on_rfb_port(port):
    s = conn(port); s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); return s


WSPORT = 0


def ws_conn():
    s = conn(WSPORT)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
               'Sec-WebSocket-Key: %s\r\n\r\n' % key).encode())
    r = b''
    while not r.endswith(b'\r\n\r\n'):
        r += recvn(s, 1)
    return s


def ws_frame(payload, opcode=2, fin=True):
    m = os.urandom(4)
    n = len(payload)
    h = bytes([(0x80 if fin else 0) | opcode])
    h += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('>H', n)
    return h + m + bytes(b ^ m[i % 4] for i, b in enumerate(payload))


def k_ws_half_upgrade(port):
    s = conn(WSPORT); s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); return s


def k_ws_oversize(port):
    s = ws_conn()
    s.sendall(bytes([0x82, 0xff]) + struct.pack('>Q', 1 << 40) + b'\0' * 4 + b'x' * 4096)
    return s


def k_ws_half_message(port):
    # The version, then 2 of a FramebufferUpdateRequest's 10 bytes in a frame.
    s = ws_conn(); s.sendall(ws_frame(b'RFB 003.008\n') + ws_frame(b'\x01') + ws_frame(b'\x01'))
    s.sendall(ws_frame(b'\x03\x00'))
    return s


def k_ws_trickle(port):
    # One byte per frame every 500 ms, and a lone ping.
    s = ws_conn(); s.sendall(ws_frame(b'ping', opcode=9))
    for b in b'RFB 003.008\n'[:6]:
        s.sendall(ws_frame(bytes([b])))
        time.sleep(0.5)
    return s


def k_big_message(port):
    # Over the 1 MiB limit: refused at its header.
    s = conn(port); handshake(s); s.sendall(b'\x06\x00\x00\x00\x00\x20\x00\x00' + b'x' * 4096)
    return s


def k_slow_reader(port):
    s = conn(port, rcvbuf=4096); handshake(s)
    s.sendall(set_encodings(0))
    try:
        for _ in range(60):
            s.sendall(update_request(0, 0, 0, 1024, 768))
            time.sleep(0.05)
    except OSError:
        pass
    return s


KINDS = {
    'random': k_random,
    'connect-close': k_connect_close,
    'half-version': k_half_version,
    'ge': k_ge,
    'half-request': k_half_request,
    'cut-4g': k_cut_4g,
    'absurd-requests': k_absurd_requests,
    'bpp7': k_bpp7,
    'encodings-65535': k_encodings_65535,
    'encodings-short': k_encodings_short,
    'trickle': k_trickle,
    'http-on-rfb-port': k_http_on_rfb_port,
    'ws-half-upgrade': k_ws_half_upgrade,
    'ws-oversize': k_ws_oversize,
    'ws-half-message': k_ws_half_message,
    'ws-trickle': k_ws_trickle,
    'big-message': k_big_message,
    'slow-reader': k_slow_reader,
}
# Kinds whose connections take time of their own: fewer of them at once.
SLOW_KINDS = {'trickle': 4, 'slow-reader': 2, 'ws-trickle': 4}


def run(port, kind, seconds, held_max, count):
    fn = KINDS[kind]
    held = []
    end = time.monotonic() + seconds
    interval = 1.0 / RATE
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            s = fn(port)
            count[0] += 1
            if s is not None:
                held.append(s)
        except (OSError, EOFError):
            count[0] += 1
        while len(held) > held_max:
            held.pop(0).close()
        rest = interval - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
    for s in held:
        s.close()


def main():
    global WSPORT
    port, WSPORT, kind, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    kinds = list(KINDS) if kind == 'mix' else [kind]
    threads, counts = [], {}
    for k in kinds:
        counts[k] = [0]
        held = SLOW_KINDS.get(k, HELD if len(kinds) == 1 else max(1, HELD // len(kinds)))
        t = threading.Thread(target=run, args=(port, k, seconds, held, counts[k]))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    print('%s: %d connections' % (kind, sum(c[0] for c in counts.values())))


if __name__ == '__main__':
    main()
