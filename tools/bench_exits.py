#!/usr/bin/env python3
"""Exit round trips per kind of device access, fbvm beside QEMU (make bench).

    tools/bench_exits.py BUILD

Boots guests/exits (see guests/exits/exits.c) on fbvm and on QEMU's PC
machine (-M pc: the std VGA needs a PCI bus and firmware that assigns its
BARs; QEMU's RTC there registers port 0x70 for coalesced I/O), runs
alternate, BENCH_EXITS_RUNS (5) of each. Each run prints, per kind, the
median of `rounds` timed sequences of `count` accesses (rdtsc, calibrated
against the PIT); the table shows the median of those over the runs, in
microseconds per access (or access pair), and fbvm/QEMU. Neither VMM has a
display client (fbvm --vnc none, QEMU -display none).
Environment: BENCH_EXITS_RUNS (5), BENCH_EXITS_COUNT (500).
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FBVM = os.path.join(BUILD, "fbvm")
GUEST = os.path.join(BUILD, "guests", "exits.elf")
QEMU = shutil.which("qemu-system-x86_64")
RUNS = int(os.environ.get("BENCH_EXITS_RUNS", "5"))
COUNT = int(os.environ.get("BENCH_EXITS_COUNT", "500"))
KINDS = ["unclaimed-port", "serial-thr", "cmos-pair", "i8042-status", "i8042-cmd-pair",
         "fwcfg-data", "vga-mmio"]
WHAT = {
    "unclaimed-port": "unclaimed port read (0x2F8)",
    "serial-thr": "serial THR write (loopback)",
    "cmos-pair": "CMOS index + data (seconds)",
    "i8042-status": "i8042 status read",
    "i8042-cmd-pair": "i8042 command 0x20 + data read",
    "fwcfg-data": "fw_cfg data byte",
    "vga-mmio": "MMIO read, std VGA BAR2",
}
RUN_TIMEOUT = 120


def run(vmm, tmp):
    serial = os.path.join(tmp, "%s.serial" % vmm)
    cmdline = "count=%d" % COUNT
    if vmm == "fbvm":
        cmd = [FBVM, "run", "--kernel", GUEST, "--cmdline", cmdline, "--vnc", "none",
               "--serial", "file:" + serial]
    else:
        cmd = [QEMU, "-accel", "kvm", "-M", "pc", "-nodefaults", "-m", "256",
               "-device", "VGA", "-display", "none", "-serial", "file:" + serial,
               "-device", "isa-debug-exit,iobase=0x501,iosize=1",
               "-kernel", GUEST, "-append", cmdline]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "%s: timed out after %d s" % (vmm, RUN_TIMEOUT)
    with open(serial, errors="replace") as f:
        text = f.read()
    if p.returncode != 1 or "exits: done" not in text:
        return None, "%s: exit status %d, serial: %s" % (vmm, p.returncode, text.strip()[-300:])
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^exits: (\S+) ns=(\d+)", text, re.M)}, None


def main():
    if not os.path.exists(GUEST):
        print("bench_exits: %s not built" % GUEST)
        return 1
    tmp = tempfile.mkdtemp(prefix="fbvm-exits.")
    results = {"fbvm": [], "qemu": []}
    errors = []
    try:
        for _ in range(RUNS):
            for vmm in ("fbvm", "qemu"):
                if vmm == "qemu" and not QEMU:
                    continue
                r, err = run(vmm, tmp)
                if r:
                    results[vmm].append(r)
                else:
                    errors.append(err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(vmm, kind):
        v = [r[kind] for r in results[vmm] if kind in r]
        return statistics.median(v) / 1000 if v else None

    print()
    print("Exit round trips (us per access or pair; guests/exits, median of %d runs x 5 rounds x %d;"
          % (RUNS, COUNT))
    print("fbvm --vnc none vs QEMU -M pc, no display client; target: fbvm <= QEMU)")
    print()
    fmt = "| %-38s | %8s | %8s | %9s | %-4s |"
    print(fmt % ("access", "fbvm", "QEMU", "fbvm/QEMU", "met"))
    print("|%s|%s|%s|%s|%s|" % ("-" * 40, "-" * 10, "-" * 10, "-" * 11, "-" * 6))
    status = 0
    for kind in KINDS:
        f, q = med("fbvm", kind), med("qemu", kind)
        ratio = f / q if f and q else None
        met = "-" if ratio is None else ("yes" if ratio <= 1.0 else "NO")
        print(fmt % (WHAT[kind], "%.1f" % f if f else "-", "%.1f" % q if q else "-",
                     "%.2f" % ratio if ratio else "-", met))
    print()
    print("runs (us, for repeatability):")
    for vmm in ("fbvm", "qemu"):
        for kind in KINDS:
            v = [r[kind] / 1000 for r in results[vmm] if kind in r]
            print("  %-15s %-5s %s" % (kind, vmm, " ".join("%.1f" % x for x in v)))
    for e in errors:
        print("error: " + e)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
