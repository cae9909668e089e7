#!/usr/bin/env python3
"""bench_control: what the control socket (fbvm run --control) costs, in
time a test harness waits. Called by tools/bench.sh; prints a table of
medians (and the spread) over BENCH_CONTROL_RUNS (30) repetitions.

  screendump 1024x768   round trip of `screendump` (inline base64 and to a
                        file), kbd-demo (a static screen, mostly background)
                        and ramfb-demo mode=anim (bars and a moving field,
                        60 fps), both at 1024x768 with --vnc none. A second
                        client keeps a wait-screen pending, so the refresher
                        runs every 16 ms and the shadow is always fresh:
                        the time is the copy and the PNG encoding, not a
                        wait for a refresh.
  type 100 characters   from sending `type` to its reply (every key in the
                        i8042), and to the guest's serial echo of the last
                        scancode byte (kbd-demo). Presses wait while the
                        guest has over 16 bytes unread, so on a host where
                        kbd-demo reads slower than one byte a millisecond
                        (it prints a serial line per byte) both show the
                        guest's pace, not the 2 ms a character of ours.
  wait-screen wake      a client waits for a change; another sends one key;
                        from sending the key to the waiter's reply: the
                        key's way in, the guest's drawing, then at most one
                        refresh (16 ms) and the wake.

Usage: bench_control.py BUILD
"""
import json, os, socket, statistics, subprocess, sys, tempfile, time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build')
RUNS = int(os.environ.get('BENCH_CONTROL_RUNS', '30'))


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile('rwb')
        self.n = 0
        self.f.readline()   # greeting

    def send(self, execute, **args):
        self.n += 1
        self.f.write(json.dumps({'execute': execute, 'arguments': args, 'id': self.n}).encode()
                     + b'\n')
        self.f.flush()
        return self.n

    def wait(self, n):
        while True:
            r = json.loads(self.f.readline())
            if r.get('id') == n:
                if 'error' in r:
                    raise RuntimeError(r['error']['desc'])
                return r['return']

    def cmd(self, execute, **args):
        return self.wait(self.send(execute, **args))


def boot(tmp, guest, cmdline, serial):
    sock = os.path.join(tmp, 'vm.sock')
    vm = subprocess.Popen([os.path.join(BUILD, 'fbvm'), 'run', '--kernel',
                           os.path.join(BUILD, 'guests', guest), '--cmdline', cmdline,
                           '--vnc', 'none', '--serial', 'file:' + serial, '--control', sock],
                          stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    return vm, sock


def stop(vm, sock):
    try:
        Client(sock).cmd('quit')
    except OSError:
        pass
    try:
        vm.wait(20)
    except subprocess.TimeoutExpired:
        vm.kill()


def row(what, samples, unit='ms'):
    samples = sorted(samples)
    print('%-46s median %7.2f %s   min %7.2f   max %7.2f   (n=%d)' % (
        what, statistics.median(samples), unit, samples[0], samples[-1], len(samples)))


def wait_serial(path, text, secs=20):
    end = time.time() + secs
    while time.time() < end:
        with open(path) as f:
            if text in f.read():
                return
        time.sleep(0.02)
    raise RuntimeError('guest never printed %r' % text)


def bench_screendump(tmp, guest, cmdline, ready, label):
    serial = os.path.join(tmp, label + '.serial')
    vm, sock = boot(tmp, guest, cmdline, serial)
    try:
        wait_serial(serial, ready)
        keeper = Client(sock)   # a pending wait keeps refreshes at 16 ms
        keeper.send('wait-screen', region=[0, 0, 1, 1], color='#123456', timeout=3600000)
        c = Client(sock)
        c.cmd('screendump')
        inline, to_file, size = [], [], 0
        for i in range(RUNS):
            t0 = time.perf_counter()
            r = c.cmd('screendump')
            inline.append((time.perf_counter() - t0) * 1000)
            size = r['bytes']
            t0 = time.perf_counter()
            c.cmd('screendump', file=os.path.join(tmp, 'dump.png'))
            to_file.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.02)
        row('screendump 1024x768 %s, inline' % label, inline)
        row('screendump 1024x768 %s, file (%d KiB PNG)' % (label, size // 1024), to_file)
    finally:
        stop(vm, sock)


def scancode_count(path):
    with open(path) as f:
        return sum(1 for l in f if l.startswith('kbd-demo: scancode '))


def bench_keys(tmp):
    serial = os.path.join(tmp, 'keys.serial')
    vm, sock = boot(tmp, 'kbd-demo.elf', '', serial)
    text = ('the quick brown fox jumps over the lazy dog 0123456789 ' * 2)[:99] + '\n'
    try:
        wait_serial(serial, 'kbd-demo: ready')
        c = Client(sock)
        reply, echo = [], []
        for i in range(max(3, RUNS // 3)):
            before = scancode_count(serial)
            t0 = time.perf_counter()
            c.cmd('type', text=text)
            reply.append((time.perf_counter() - t0) * 1000)
            while scancode_count(serial) < before + 2 * len(text):
                time.sleep(0.001)
            echo.append((time.perf_counter() - t0) * 1000)
        row('type 100 characters: reply (all keys sent)', reply)
        row('type 100 characters: guest echoed the last byte', echo)
        w = Client(sock)
        wake = []
        for i in range(RUNS):
            time.sleep(0.05)
            w.cmd('query-status')   # the baseline: changes since this command
            n = w.send('wait-screen', change=True, timeout=5000)
            time.sleep(0.05)
            t0 = time.perf_counter()
            k = c.send('send-key', keys=['a'], **{'hold-time': 0})
            w.wait(n)
            wake.append((time.perf_counter() - t0) * 1000)
            c.wait(k)
        row('wait-screen change: key sent -> waiter woken', wake)
    finally:
        stop(vm, sock)


def main():
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        print('bench_control: /dev/kvm is not available; nothing to measure')
        return 0
    print()
    print('control socket (--control), %d runs each:' % RUNS)
    with tempfile.TemporaryDirectory() as tmp:
        bench_screendump(tmp, 'kbd-demo.elf', 'width=1024 height=768', 'kbd-demo: ready',
                         'kbd-demo')
        bench_screendump(tmp, 'ramfb-demo.elf', 'mode=anim', 'ramfb-demo: frame 1', 'ramfb-demo anim')
        bench_keys(tmp)
    return 0


if __name__ == '__main__':
    sys.exit(main())
