#!/bin/bash
# COM1 input end to end: piped stdin and a real terminal (a pty) reach the
# echo guest; on a terminal Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A x quits
# with status 0 and restores the terminal settings, even when the guest never
# reads its serial port.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
exec python3 - "$FBVM" "$GUESTS" <<'PY'
import os, pty, subprocess, sys, termios, time

sys.path.insert(0, os.environ["TESTS_INTEGRATION"])
from pty_helpers import fail, read_until

fbvm, guests = sys.argv[1], sys.argv[2]
echo = os.path.join(guests, "echo.elf")
ticks = os.path.join(guests, "ticks.elf")

# 1. Piped stdin: bytes pass through untouched (no escape handling off a tty).
p = subprocess.Popen([fbvm, "run", "--vnc", "none", "--kernel", echo], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
read_until(p.stdout.fileno(), b"echo: ready\n")
p.stdin.write(b"ab\x01q"); p.stdin.flush()
out = p.stdout.read().decode()
rc = p.wait(timeout=30)
for line in ("echo: got 61", "echo: got 62", "echo: got 01", "echo: got 71"):
    if line not in out:
        fail("piped: missing %r in %r" % (line, out))
if rc != 1:
    fail("piped: exit status %d, want 1 (guest pass)" % rc)
print("ok: piped stdin reaches the guest in order, exit 1")

# 2. A terminal: raw mode, Ctrl-A Ctrl-A, Ctrl-A x, settings restored.
def run_on_pty(kernel, cmdline=""):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([fbvm, "run", "--vnc", "none", "--kernel", kernel, "--cmdline", cmdline],
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    return p, master, slave, before

p, master, slave, before = run_on_pty(echo)
read_until(master, b"echo: ready")
os.write(master, b"a")
read_until(master, b"echo: got 61")
os.write(master, b"\x01\x01")
read_until(master, b"echo: got 01")
if termios.tcgetattr(slave)[3] & termios.ECHO:
    fail("pty: ECHO still on while the guest runs (not raw)")
os.write(master, b"\x01x")
rc = p.wait(timeout=30)
if rc != 0:
    fail("pty: Ctrl-A x gave exit status %d, want 0" % rc)
if termios.tcgetattr(slave) != before:
    fail("pty: terminal settings not restored after Ctrl-A x")
print("ok: terminal raw while running, Ctrl-A Ctrl-A sends 0x01, Ctrl-A x exits 0, settings restored")

# 3. A guest that never reads COM1: typing fills the FIFO, Ctrl-A x still quits.
p, master, slave, before = run_on_pty(ticks, "hz=100 ticks=100000")
read_until(master, b"ticks: waiting")
os.write(master, b"x" * 6000)
time.sleep(0.3)
os.write(master, b"\x01x")
t0 = time.time()
rc = p.wait(timeout=30)
if rc != 0:
    fail("busy guest: Ctrl-A x gave exit status %d, want 0" % rc)
if termios.tcgetattr(slave) != before:
    fail("busy guest: terminal settings not restored")
print("ok: Ctrl-A x quits in %.2fs while the guest ignores COM1" % (time.time() - t0))

# 4. SIGTERM: a clean stop with status 128 + 15, terminal restored.
p, master, slave, before = run_on_pty(echo)
read_until(master, b"echo: ready")
p.terminate()
rc = p.wait(timeout=30)
if rc != 143:
    fail("SIGTERM gave exit status %d, want 143" % rc)
if termios.tcgetattr(slave) != before:
    fail("SIGTERM: terminal settings not restored")
print("ok: SIGTERM stops with 143 and restores the terminal")
PY
