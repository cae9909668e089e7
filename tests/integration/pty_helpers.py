# Shared helpers for the Python parts of the integration tests that drive
# fbvm on a pipe or a pty (sdl_close.sh, serial_console.sh). The tests import
# it with sys.path set to tests/integration ($TESTS_INTEGRATION, exported by
# common.bash).
import os, select, sys, time


def fail(msg):
    print("FAIL:", msg); sys.exit(1)


def read_until(fd, want, secs=30):
    buf = b""
    end = time.time() + secs
    while want not in buf:
        left = end - time.time()
        if left <= 0:
            fail("timed out waiting for %r; got %r" % (want, buf))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                fail("EOF waiting for %r; got %r" % (want, buf))
            buf += chunk
    return buf
