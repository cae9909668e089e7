#!/bin/bash
# Closing the SDL window on a real terminal: fbvm run --sdl with the serial
# console on a pty (raw mode while it runs) boots guests/echo, the window is
# closed the way a window manager closes it (WM_DELETE_WINDOW), and fbvm
# exits with status 0, as Ctrl-A x does, with the terminal's settings
# restored. With the window open, typed bytes still reach the guest and
# Ctrl-A x still quits: the serial console runs on the console thread.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/sdl_common.bash"
need_kvm
need_x_tools
start_xvfb

# Not exec: the EXIT trap stops Xvfb.
python3 - "$FBVM" "$GUESTS" <<'PY'
import os, pty, subprocess, sys, termios, time

sys.path.insert(0, os.environ["TESTS_INTEGRATION"])
from pty_helpers import fail, read_until

fbvm, guests = sys.argv[1], sys.argv[2]
echo = os.path.join(guests, "echo.elf")
helpers = os.path.join(os.environ["TESTS_INTEGRATION"], "sdl_common.bash")

def find_window(name):
    for _ in range(100):
        out = subprocess.run(["xdotool", "search", "--name", "^" + name],
                             capture_output=True, text=True).stdout.split()
        if out:
            return out[0]
        time.sleep(0.1)
    fail("no window titled %r" % name)

def close_window(wid):
    # sdl_common.bash's close_window, without the rest of the helpers.
    script = open(helpers).read()
    start = script.index("close_window() {")
    subprocess.run(["bash", "-c", script[start:] + "\nclose_window " + wid], check=True)

def run_on_pty():
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    # fbvm's log lines (stderr) would interleave with the guest's output.
    p = subprocess.Popen([fbvm, "run", "--vnc", "none", "--sdl", "--kernel", echo],
                         stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, close_fds=True)
    return p, master, slave, before

# 1. Typing still reaches the guest; closing the window: status 0, terminal restored.
p, master, slave, before = run_on_pty()
read_until(master, b"echo: ready")
wid = find_window("echo.elf")
os.write(master, b"a")
read_until(master, b"echo: got 61")
if termios.tcgetattr(slave)[3] & termios.ECHO:
    fail("ECHO still on while the guest runs (not raw)")
close_window(wid)
rc = p.wait(timeout=30)
if rc != 0:
    fail("closing the window gave exit status %d, want 0" % rc)
if termios.tcgetattr(slave) != before:
    fail("terminal settings not restored after the window was closed")
print("ok: typed bytes reach the guest beside the window; closing it exits 0, terminal restored")

# 2. Ctrl-A x with the window open.
p, master, slave, before = run_on_pty()
read_until(master, b"echo: ready")
find_window("echo.elf")
os.write(master, b"\x01x")
rc = p.wait(timeout=30)
if rc != 0:
    fail("Ctrl-A x with the window open gave exit status %d, want 0" % rc)
if termios.tcgetattr(slave) != before:
    fail("Ctrl-A x: terminal settings not restored")
print("ok: Ctrl-A x quits with the window open, status 0, terminal restored")

# 3. SIGINT with the window open: 128 + 2, the window gone with the process.
p, master, slave, before = run_on_pty()
read_until(master, b"echo: ready")
find_window("echo.elf")
p.send_signal(2)
rc = p.wait(timeout=30)
if rc != 130:
    fail("SIGINT with the window open gave exit status %d, want 130" % rc)
if termios.tcgetattr(slave) != before:
    fail("SIGINT: terminal settings not restored")
print("ok: SIGINT stops with 130 and restores the terminal")
PY
