# The control-socket half of tests/integration/control_socket.sh: drives a
# running fbvm (guest: kbd-demo mouse=1) only through its --control socket
# and checks every reply. Standard library only.
#
#   control_socket.py SOCKET SERIAL VNCPROBE VNC_ADDR TMPDIR PHASE
#
# PHASE "drive": greeting, query-status, type, send-key, pointer, wait-screen
# (region, change, timeout), screendump (file and inline) against a VNC
# client's frame, events, the bad-input table, pipelining, a client that
# never reads, the client limit, a too-long line. PHASE "reset":
# system_reset in place (RESET, no STOP; the guest boots again, its screen
# and keys work, a VNC viewer keeps its connection), twice in a row, and
# while another client types. PHASE "quit": quit and STOP.
# PHASE "resize" (guest: vga-demo switching modes): the RESIZE event.
import base64, json, os, re, select, socket, struct, subprocess, sys, threading, time, zlib

sock_path, serial_path, vncprobe, vnc_addr, tmp, phase = sys.argv[1:7]


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


class Client:
    """One connection: JSON lines, replies matched by id, events kept."""

    def __init__(self, greeting=True):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(sock_path)
        self.s.settimeout(20)
        self.buf = b''
        self.events = []
        self.next_id = 100
        if greeting:
            g = self.line()
            if 'QMP' not in g:
                fail('no greeting: %r' % g)

    def line(self):
        while b'\n' not in self.buf:
            c = self.s.recv(1 << 20)
            if not c:
                raise EOFError('control socket closed')
            self.buf += c
        l, self.buf = self.buf.split(b'\n', 1)
        return json.loads(l)

    def send_raw(self, data):
        self.s.sendall(data)

    def reply(self, want_id=None):
        while True:
            r = self.line()
            if 'event' in r:
                self.events.append(r)
                continue
            if want_id is not None and r.get('id') != want_id:
                fail('reply for id %r, want %r: %r' % (r.get('id'), want_id, r))
            return r

    def cmd(self, execute, **args):
        self.next_id += 1
        req = {'execute': execute, 'id': self.next_id}
        if args:
            req['arguments'] = args
        self.send_raw(json.dumps(req).encode() + b'\n')
        return self.reply(self.next_id)

    def ok(self, execute, **args):
        r = self.cmd(execute, **args)
        if 'return' not in r:
            fail('%s %r: %r' % (execute, args, r))
        return r['return']

    def err(self, execute, **args):
        r = self.cmd(execute, **args)
        if 'error' not in r:
            fail('%s %r succeeded: %r' % (execute, args, r))
        return r['error']

    def wait_event(self, name, secs=10):
        end = time.time() + secs
        while time.time() < end:
            for e in self.events:
                if e['event'] == name:
                    self.events.remove(e)
                    return e
            self.s.settimeout(max(0.05, end - time.time()))
            try:
                r = self.line()
            except socket.timeout:
                break
            if 'event' in r:
                self.events.append(r)
        fail('no %s event (have %r)' % (name, self.events))


def decode_png(data):
    """(w, h, rows of RGB bytes) of an 8-bit RGB PNG, any filter."""
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        fail('not a PNG')
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, color = struct.unpack('>IIBB', body[:10])
            if (depth, color) != (8, 2):
                fail('PNG is not 8-bit RGB')
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw, rows, prev, bpp = zlib.decompress(idat), [], bytearray(w * 3), 3
    for y in range(h):
        f, line = raw[y * (w * 3 + 1)], bytearray(raw[y * (w * 3 + 1) + 1:(y + 1) * (w * 3 + 1)])
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def serial_lines():
    """The guest's 'scancode XX' and 'mouse XX XX XX' lines, in order."""
    with open(serial_path) as f:
        return [m.group(1) for m in map(SERIAL_RE.match, f) if m]


SERIAL_RE = re.compile(r'^kbd-demo: (scancode [0-9a-f]{2}|mouse [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2})$')


def wait_serial(want, secs=10):
    end = time.time() + secs
    got = []
    while time.time() < end:
        got = serial_lines()
        if got[:len(want)] == want and len(got) >= len(want):
            return got
        time.sleep(0.02)
    fail('guest serial:\n%s\nwant:\n%s' % ('\n'.join(got), '\n'.join(want)))


# Set-1 bytes a US keyboard sends, written out here (not from fbvm's tables).
def sc(*codes):
    return ['scancode %02x' % c for c in codes]


def slot_pixel_rgb(n):
    return [0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF][(n - 1) % 7]


def slot_region(n):
    x = 24 + ((n - 1) % 8) * 76
    return [x + 8, 96 + 8, 48, 48]


def drive():
    c = Client()
    st = c.ok('query-status')
    if st['status'] != 'running' or st['display']['device'] != 'ramfb' or \
       (st['display']['width'], st['display']['height']) != (640, 480) or \
       st['display']['format'] != 'XR24' or st['control-clients'] != 1:
        fail('query-status: %r' % st)
    print('query-status: %s' % json.dumps(st))

    # type: US layout with Shift; the reply comes once the keys are in.
    t0 = time.time()
    c.ok('type', text='Hi, 9!\n')
    typed_ms = (time.time() - t0) * 1000
    want = sc(0x2a, 0x23, 0xa3, 0xaa, 0x17, 0x97, 0x33, 0xb3, 0x39, 0xb9, 0x0a, 0x8a,
              0x2a, 0x02, 0x82, 0xaa, 0x1c, 0x9c)
    wait_serial(want)
    print('type: the guest echoed %d scancode bytes (reply after %.0f ms)' % (len(want), typed_ms))

    # A long text into a guest slower than the pacing (kbd-demo prints a
    # serial line per byte): presses wait for it, no key is lost.
    long_text = ('pack my box with five dozen liquor jugs ' * 10)[:400]
    t0 = time.time()
    c.ok('type', text=long_text)
    for ch in long_text:
        code = {' ': 0x39}.get(ch) or [0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17,
                                        0x24, 0x25, 0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13,
                                        0x1f, 0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c][ord(ch) - 97]
        want += sc(code, code | 0x80)
    wait_serial(want, secs=60)
    print('type of 400 characters into a slow guest: all 800 bytes arrived in order (%.1f s)'
          % (time.time() - t0))

    # An unmappable character: an error naming it, and nothing sent.
    e = c.err('type', text='ab\u00e9')
    if 'text[2]' not in e['desc'] or 'nothing was sent' not in e['desc']:
        fail('type of a non-ASCII character: %r' % e)

    # send-key: a chord with QEMU key names, released in reverse order.
    c.ok('send-key', keys=['ctrl', 'alt', 'delete'], **{'hold-time': 50})
    want += sc(0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d)
    wait_serial(want)
    print('send-key ctrl alt delete: the guest echoed it')

    # pointer: the guest has not enabled vmmouse (mouse=1 only), so the
    # device sends PS/2 motion from the previous position.
    c.ok('pointer', x=100, y=100)
    c.ok('pointer', x=110, y=120)
    c.ok('pointer', x=110, y=120, buttons=['left'])
    c.ok('pointer', x=110, y=120)
    want += ['mouse 28 0a ec', 'mouse 09 00 00', 'mouse 08 00 00']
    wait_serial(want)
    print('pointer: the guest got the mouse packets')

    # wait-screen region+color: the n-th scancode byte paints slot (n-1) % 8.
    n = len([l for l in want if l.startswith('scancode')])
    r = c.ok('wait-screen', region=slot_region(n), color='#%06x' % slot_pixel_rgb(n), timeout=5000)
    print('wait-screen region: matched after %d ms' % r['elapsed-ms'])
    e = c.err('wait-screen', region=slot_region(n), color='#123456', timeout=200)
    if 'timeout after 200 ms' not in e['desc'] or '#%06x' % slot_pixel_rgb(n) not in e['desc']:
        fail('wait-screen timeout: %r' % e)
    e = c.err('wait-screen', region=[600, 400, 100, 100], color='#000000')
    if 'not inside the 640x480 screen' not in e['desc']:
        fail('wait-screen outside: %r' % e)

    # wait-screen change: wakes when a key typed by another client shows.
    w = Client()
    w.next_id += 1
    w.send_raw(json.dumps({'execute': 'wait-screen', 'arguments': {'change': True, 'timeout': 5000},
                           'id': w.next_id}).encode() + b'\n')
    time.sleep(0.3)   # registered, and the screen is settled
    if select.select([w.s], [], [], 0)[0]:
        fail('wait-screen change returned before anything changed: %r' % w.line())
    t0 = time.time()
    c.ok('send-key', keys=['a'], **{'hold-time': 10})
    r = w.reply(w.next_id)
    if 'return' not in r:
        fail('wait-screen change: %r' % r)
    print('wait-screen change: woke %.0f ms after the key was sent' % ((time.time() - t0) * 1000))
    n += 2
    c.ok('wait-screen', region=slot_region(n), color='#%06x' % slot_pixel_rgb(n), timeout=5000)

    # screendump: the same pixels a VNC client gets.
    vnc_png = os.path.join(tmp, 'vnc.png')
    c.events.clear()
    # The frame once it shows the last key (the first updates carry no pixels).
    sx = slot_region(n)[0] + 16
    subprocess.run([vncprobe, '--encodings', 'raw', '--updates', '1', '--expect', '0,0,202020',
                    '--expect', '%d,128,%06X' % (sx, slot_pixel_rgb(n)), '--png', vnc_png,
                    vnc_addr], check=True, stdout=subprocess.DEVNULL, timeout=60)
    dump = os.path.join(tmp, 'dump.png')
    r = c.ok('screendump', file=dump)
    if (r['width'], r['height'], r['file']) != (640, 480, dump):
        fail('screendump: %r' % r)
    inline = c.ok('screendump')
    a, b, d = decode_png(open(vnc_png, 'rb').read()), decode_png(open(dump, 'rb').read()), \
        decode_png(base64.b64decode(inline['data']))
    if a != b or b != d:
        for name, p in (('vnc', a), ('file', b), ('inline', d)):
            diff = [(x // 3, y) for y in range(min(len(p[2]), len(b[2])))
                    for x in range(0, min(len(p[2][y]), len(b[2][y])), 3)
                    if p[2][y][x:x + 3] != b[2][y][x:x + 3]]
            print('%s: %dx%d, %d pixels differ from the file, first %r' % (
                name, p[0], p[1], len(diff), diff[:3]))
        fail('screendump differs from the VNC client\'s frame')
    rgb = b[2][128][sx * 3:sx * 3 + 3]
    if rgb.hex() != '%06x' % slot_pixel_rgb(n):
        fail('screendump pixel %s, want %06x' % (rgb.hex(), slot_pixel_rgb(n)))
    print('screendump: file and inline PNG equal the VNC client\'s frame (%d bytes)' % r['bytes'])
    c.wait_event('VNC_CONNECTED')
    c.wait_event('VNC_DISCONNECTED')
    print('events: VNC_CONNECTED and VNC_DISCONNECTED')

    # The bad-input table: each line gets an error and the connection stays usable.
    bad = [
        (b'{', 'GenericError', 'JSON parse error'),
        (b'not json', 'GenericError', 'JSON parse error'),
        (b'[1, 2]', 'GenericError', 'must be a JSON object'),
        (b'{"execute": "no-such-command", "id": 1}', 'CommandNotFound', 'no-such-command'),
        (b'{"execute": "quit", "arguments": {"force": true}, "id": 2}', 'GenericError',
         "unknown parameter 'force'"),
        (b'{"execute": "type", "arguments": {"text": 5}, "id": 3}', 'GenericError',
         "'text' must be a string"),
        (b'{"execute": "send-key", "arguments": {"keys": ["ctrl", "hyper"]}, "id": 4}',
         'GenericError', "unknown key 'hyper'"),
        (b'{"execute": "pointer", "arguments": {"x": -5, "y": 1}, "id": 5}', 'GenericError',
         'out of range'),
        (b'{"execute": "wait-screen", "arguments": {"color": "#fff"}, "id": 6}', 'GenericError',
         'wait-screen needs'),
        (b'{"execute": "screendump", "arguments": {"file": "/nonexistent/dir/x.png"}, "id": 7}',
         'GenericError', 'No such file or directory'),
    ]
    for line, cls, text in bad:
        c.send_raw(line + b'\n')
        r = c.reply()
        if 'error' not in r or r['error']['class'] != cls or text not in r['error']['desc']:
            fail('%r: %r' % (line, r))
    c.ok('query-status')
    print('bad inputs: %d error replies, connection still usable' % len(bad))

    # 1000 pipelined commands: 1000 replies, in order.
    c.send_raw(b''.join(json.dumps({'execute': 'query-status', 'id': i}).encode() + b'\n'
                        for i in range(1000)))
    for i in range(1000):
        r = c.reply()
        if r.get('id') != i or 'return' not in r:
            fail('pipelined reply %d: %r' % (i, r))
    print('1000 pipelined commands answered in order')

    # A client that never reads: it blocks nobody.
    lazy = Client()
    lazy.s.setblocking(False)
    sent = 0
    blob = b''.join(json.dumps({'execute': 'query-status', 'id': i}).encode() + b'\n'
                    for i in range(20000))
    try:
        while sent < len(blob):
            sent += lazy.s.send(blob[sent:])
    except BlockingIOError:
        pass
    t0 = time.time()
    for _ in range(20):
        c.ok('query-status')
    other_ms = (time.time() - t0) * 1000
    subprocess.run([vncprobe, '--encodings', 'raw', '--updates', '1', vnc_addr], check=True,
                   stdout=subprocess.DEVNULL, timeout=30)
    print('a client that never reads (%d bytes of commands in): 20 commands of another took'
          ' %.0f ms, a VNC client was served' % (sent, other_ms))
    if other_ms > 5000:
        fail('another client waited %.0f ms' % other_ms)
    # ... and once it has read nothing for 5 s past 256 KiB of replies, it
    # is dropped (its place is free again).
    t0 = time.time()
    while c.ok('query-status')['control-clients'] != 2:
        if time.time() - t0 > 15:
            fail('the client that never reads was not dropped')
        time.sleep(0.1)
    print('... and dropped after %.1f s of not reading' % (time.time() - t0))
    lazy.s.close()

    # At most 8 clients: the 9th is told so.
    extra = [Client() for _ in range(6)]   # c, w and these six: 8
    ninth = Client(greeting=False)
    r = ninth.line()
    if 'error' not in r or 'at most 8' not in r['error']['desc']:
        fail('9th client: %r' % r)
    for e in extra:
        e.s.close()
    w.s.close()
    ninth.s.close()
    for _ in range(100):   # until the server has seen them go
        if c.ok('query-status')['control-clients'] == 1:
            break
        time.sleep(0.02)
    print('9th client refused: %s' % r['error']['desc'])

    # A line over 64 KiB: an error, then that connection closes.
    big = Client()
    big.send_raw(b'{"execute": "type", "arguments": {"text": "' + b'a' * 70000 + b'"}}\n')
    r = big.line()
    if 'error' not in r or 'longer than 65536' not in r['error']['desc']:
        fail('long line: %r' % r)
    try:
        while big.s.recv(4096):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    c.ok('query-status')
    print('a line over 64 KiB: error, connection closed; others unaffected')
    c.s.close()


def ready_count():
    with open(serial_path) as f:
        return sum(1 for l in f if l.startswith('kbd-demo: ready'))


def wait_ready(above, secs=20):
    end = time.time() + secs
    while time.time() < end:
        if ready_count() > above:
            return
        time.sleep(0.02)
    fail('the guest did not boot again after system_reset (%d banners)' % ready_count())


def system_reset(c):
    """system_reset in place: a reply, RESET (guest false), no STOP."""
    c.ok('system_reset')
    e = c.wait_event('RESET')
    if e['data'].get('guest') is not False:
        fail('RESET after system_reset: %r' % e)
    if any(ev['event'] == 'STOP' for ev in c.events):
        fail('STOP after system_reset: %r' % c.events)


def check_fresh_screen(c):
    """kbd-demo's first picture again: every key slot in the background."""
    for n in range(1, 9):
        c.ok('wait-screen', region=slot_region(n), color='#202020', timeout=10000)


def type_a_after_reset(c):
    """'a' into the rebooted guest: its own counter starts again (slot 2,
    the release, in yellow) and both bytes are echoed."""
    before = len(serial_lines())
    c.ok('type', text='a')
    end = time.time() + 10
    while time.time() < end and serial_lines()[before:] != sc(0x1e, 0x9e):
        time.sleep(0.02)
    if serial_lines()[before:] != sc(0x1e, 0x9e):
        fail('after reset, typing a echoed %r' % serial_lines()[before:])
    c.ok('wait-screen', region=slot_region(2), color='#%06x' % slot_pixel_rgb(2), timeout=5000)
    c.ok('wait-screen', region=slot_region(1), color='#202020', timeout=5000)


def reset():
    c = Client()
    # A VNC viewer connected across the reset: it must see the new frame on
    # the same connection (no --reconnect), slot 2 yellow after the 'a'.
    sx = slot_region(2)[0] + 16
    viewer = subprocess.Popen([vncprobe, '--encodings', 'raw', '--timeout', '40',
                               '--expect', '0,0,202020',
                               '--expect', '%d,128,%06X' % (slot_region(1)[0] + 16, 0x202020),
                               '--expect', '%d,128,%06X' % (sx, slot_pixel_rgb(2)), vnc_addr],
                              stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    n = ready_count()
    t0 = time.time()
    system_reset(c)
    wait_ready(n)
    boot_ms = (time.time() - t0) * 1000
    check_fresh_screen(c)
    shot = c.ok('screendump')
    if (shot['width'], shot['height']) != (640, 480):
        fail('screendump after reset: %r' % shot)
    type_a_after_reset(c)
    if viewer.wait(timeout=40) != 0:
        fail('the VNC viewer did not see the rebooted guest\'s frame on its connection')
    if any(ev['event'] == 'VNC_DISCONNECTED' for ev in c.events[:-1]):
        fail('a VNC viewer was disconnected by the reset: %r' % c.events)
    print('system_reset: reply, RESET {"guest": false}, no STOP; the guest booted again in'
          ' %.0f ms, fresh screen, typing echoes; a VNC viewer kept its connection and saw'
          ' the new frame' % boot_ms)

    # Twice in a row: the second lands while the guest boots from the first.
    n = ready_count()
    system_reset(c)
    system_reset(c)
    wait_ready(n)
    check_fresh_screen(c)
    type_a_after_reset(c)
    print('system_reset twice in a row: the guest boots again, typing echoes')

    # While keys are being typed by another client.
    typist = Client()
    typist.next_id += 1
    typist.send_raw(json.dumps({'execute': 'type', 'id': typist.next_id,
                                'arguments': {'text': 'the quick brown fox ' * 10}}).encode() + b'\n')
    time.sleep(0.3)
    n = ready_count()
    system_reset(c)
    r = typist.reply(typist.next_id)
    if 'error' not in r or 'interrupted by system_reset' not in r['error']['desc']:
        fail('type during system_reset: %r' % r)
    wait_ready(n)
    time.sleep(0.5)
    type_a_after_reset(c)
    c.ok('query-status')
    print('system_reset while another client types: its type ends with "%s"; the guest boots'
          ' again, typing echoes' % r['error']['desc'])


def quit_vm():
    c = Client()
    c.ok('quit')
    e = c.wait_event('STOP')
    if e['data']['exit-status'] != 0:
        fail('STOP after quit: %r' % e)
    print('quit: STOP %s' % json.dumps(e['data']))


def resize():
    """vga-demo switches 640x480 -> 800x600: a RESIZE event, and the std VGA
    in query-status."""
    c = Client()
    e = c.wait_event('RESIZE', secs=20)
    if (e['data']['width'], e['data']['height']) != (800, 600):
        fail('RESIZE: %r' % e)
    st = c.ok('query-status')['display']
    if (st['device'], st['width'], st['height']) != ('vga', 800, 600):
        fail('query-status after the mode switch: %r' % st)
    shot = c.ok('screendump')
    if (shot['width'], shot['height']) != (800, 600):
        fail('screendump after the mode switch: %r' % shot)
    print('RESIZE event %s; query-status display %s; screendump 800x600'
          % (json.dumps(e['data']), json.dumps(st)))
    c.ok('quit')


{'drive': drive, 'reset': reset, 'quit': quit_vm, 'resize': resize}[phase]()
