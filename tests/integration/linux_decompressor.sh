#!/bin/bash
# Debian's x86_64 bzImage (tools/linux-guest.sh) through fbvm's 64-bit Linux
# boot protocol: the kernel's decompressor must print its nokaslr notice on
# fbvm's COM1. That line comes only after the decompressor ran from the
# 64-bit entry with our page tables and GDT, found the zero page in RSI,
# followed cmd_line_ptr to our command line, and set up its early console on
# the UART from earlyprintk=. Under PVM (guest ring 0 emulated) that is about
# two seconds in; decompressing the rest would take far longer, so the test
# stops fbvm once the line is there. Once per boot display (--display ramfb
# and vga): each gives the kernel a different screen_info and e820 map in
# the zero page, and the decompressor must get past both.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/linux_common.bash"
need_kvm
need_linux_guest

for display in ramfb vga; do
python3 - "$FBVM" "$LINUX_KERNEL" "$display" <<'PY' || exit 1
import os, select, subprocess, sys, time

fbvm, kernel, display = sys.argv[1], sys.argv[2], sys.argv[3]
want = b"KASLR disabled: 'nokaslr' on cmdline."
limit_s = 60

def fail(msg):
    print("FAIL: --display %s:" % display, msg)
    sys.exit(1)

start = time.time()
p = subprocess.Popen([fbvm, "run", "--vnc", "none", "--kernel", kernel, "--display", display,
                      "--cmdline", "earlyprintk=ttyS0 console=ttyS0 nokaslr"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
out = b""
try:
    while want not in out:
        left = start + limit_s - time.time()
        if left <= 0:
            fail("no %r within %d s; serial output: %r" % (want, limit_s, out[-2000:]))
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r:
            continue
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            err = p.stderr.read().decode(errors="replace")
            fail("fbvm exited with status %s before %r; serial output %r; stderr: %s"
                 % (p.wait(), want, out[-2000:], err.strip()))
        out += chunk
    seen_s = time.time() - start
finally:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
print("ok: --display %s: decompressor printed %r on COM1 after %.1f s"
      % (display, want.decode(), seen_s))
PY
done
