#!/usr/bin/env python3
"""Exit round trips per kind of device access, fbvm beside QEMU (make bench).

    tools/bench_exits.py BUILD

Boots guests/exits (see guests/exits/exits.c) on fbvm and on QEMU's PC
machine (-M pc: the std VGA needs a PCI bus and firmware that assigns its
BARs; QEMU's RTC there registers port 0x70 for coalesced I/O), runs
alternate, BENCH_EXITS_RUNS (5) of each. Each run prints, per kind, the
median of `rounds` timed sequences of `count` accesses (rdtsc, calibrated
against the PIT); the table shows the median of those over the runs, in
microseconds per access (or access pair), and fbvm/QEMU. First with no
display client (fbvm --vnc none, QEMU -display none), then with a VNC viewer
typing: tools/vncprobe connected to each VMM's VNC server sends a key event
every 10-15 ms for the whole run (the guest never reads them: IRQ 1 stays
masked, the keyboard's queue fills), the case where the keyboard device is
shared with the frontend thread.
Environment: BENCH_EXITS_RUNS (5), BENCH_EXITS_COUNT (500).
"""
import os
import random
import re
import socket
import shutil
import statistics
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FBVM = os.path.join(BUILD, "fbvm")
GUEST = os.path.join(BUILD, "guests", "exits.elf")
PROBE = os.path.join(BUILD, "tools", "vncprobe")
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


def free_port():
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(6000, 9999)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def run(vmm, tmp, typing):
    serial = os.path.join(tmp, "%s.serial" % vmm)
    cmdline = "count=%d" % COUNT
    port = free_port() if typing else None
    if vmm == "fbvm":
        cmd = [FBVM, "run", "--kernel", GUEST, "--cmdline", cmdline, "--vnc",
               "127.0.0.1:%d" % port if typing else "none", "--serial", "file:" + serial]
    else:
        cmd = [QEMU, "-accel", "kvm", "-M", "pc", "-nodefaults", "-m", "256",
               "-device", "VGA", "-display", "none", "-serial", "file:" + serial,
               "-device", "isa-debug-exit,iobase=0x501,iosize=1",
               "-kernel", GUEST, "-append", cmdline]
        if typing:
            cmd += ["-vnc", "127.0.0.1:%d" % (port - 5900)]
    probe = None
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        if typing:
            # No picture ever changes: every key "misses" after 5 ms and the
            # next follows 5-7.5 ms later. vncprobe retries until it connects.
            probe = subprocess.Popen([PROBE, "--encodings", "raw", "--latency", "100000",
                                      "--latency-timeout", "0.005", "--latency-pause", "5",
                                      "--retry-ms", "20", "--timeout", str(RUN_TIMEOUT),
                                      "127.0.0.1:%d" % port],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        p.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None, "%s: timed out after %d s" % (vmm, RUN_TIMEOUT)
    finally:
        if probe:
            probe.kill()
            probe.wait()
    with open(serial, errors="replace") as f:
        text = f.read()
    if p.returncode != 1 or "exits: done" not in text:
        return None, "%s: exit status %d, serial: %s" % (vmm, p.returncode, text.strip()[-300:])
    out = {}
    for m in re.finditer(r"^exits: (\S+) ns=(\d+) min=(\d+)", text, re.M):
        out[m.group(1)] = int(m.group(2))
        out[m.group(1) + ":min"] = int(m.group(3))
    return out, None


def main():
    if not os.path.exists(GUEST):
        print("bench_exits: %s not built" % GUEST)
        return 1
    tmp = tempfile.mkdtemp(prefix="fbvm-exits.")
    modes = (False, True) if os.path.exists(PROBE) else (False,)
    results = {(vmm, t): [] for vmm in ("fbvm", "qemu") for t in modes}
    errors = []
    try:
        for typing in modes:
            for _ in range(RUNS):
                for vmm in ("fbvm", "qemu"):
                    if vmm == "qemu" and not QEMU:
                        continue
                    r, err = run(vmm, tmp, typing)
                    if r:
                        results[vmm, typing].append(r)
                    else:
                        errors.append(err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(vmm, typing, kind):
        v = [r[kind] for r in results[vmm, typing] if kind in r]
        return statistics.median(v) / 1000 if v else None

    def best(vmm, typing, kind):
        v = [r[kind + ":min"] for r in results[vmm, typing] if kind + ":min" in r]
        return min(v) / 1000 if v else None

    print()
    print("Exit round trips (us per access or pair; guests/exits, median of %d runs x 5 rounds x %d;"
          % (RUNS, COUNT))
    print("fbvm vs QEMU -M pc; target: fbvm <= QEMU)")
    print("median: of the runs' median rounds; best: the fastest round of all runs, the")
    print("cost when nothing else competes for the CPU (the host is shared). met: best ratio.")
    fmt = "| %-38s | %8s | %8s | %6s | %8s | %8s | %6s | %-4s |"
    for typing in modes:
        print()
        print("no display client:" if not typing else
              "a VNC viewer connected, typing a key every 10-15 ms:")
        print(fmt % ("access", "fbvm", "QEMU", "ratio", "fbvm", "QEMU", "ratio", "met"))
        print(fmt % ("", "median", "median", "", "best", "best", "", ""))
        print("|%s|%s|%s|%s|%s|%s|%s|%s|" % ("-" * 40, "-" * 10, "-" * 10, "-" * 8, "-" * 10,
                                             "-" * 10, "-" * 8, "-" * 6))
        for kind in KINDS:
            f, q = med("fbvm", typing, kind), med("qemu", typing, kind)
            fb, qb = best("fbvm", typing, kind), best("qemu", typing, kind)
            ratio = f / q if f and q else None
            rb = fb / qb if fb and qb else None
            met = "-" if rb is None else ("yes" if rb <= 1.0 else "NO")
            print(fmt % (WHAT[kind], "%.1f" % f if f else "-", "%.1f" % q if q else "-",
                         "%.2f" % ratio if ratio else "-", "%.1f" % fb if fb else "-",
                         "%.1f" % qb if qb else "-", "%.2f" % rb if rb else "-", met))
    print()
    print("runs (us, for repeatability):")
    for typing in modes:
        for vmm in ("fbvm", "qemu"):
            for kind in KINDS:
                v = [r[kind] / 1000 for r in results[vmm, typing] if kind in r]
                print("  %-15s %-5s%s %s" % (kind, vmm, " typing" if typing else "",
                                             " ".join("%.1f" % x for x in v)))
    status = 0
    for e in errors:
        print("error: " + e)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
