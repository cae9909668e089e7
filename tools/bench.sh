#!/bin/bash
# `make bench`: repeatable measurements printed as a table, fbvm beside QEMU
# (the baseline) with their ratio, the target and whether fbvm meets it.
# Usage: bench.sh BUILD
#
# The measurements are in tools/bench_vmm.py (its header says how each row
# is measured); it boots guests/hello, guests/ramfb-demo and guests/kbd-demo
# on both VMMs and drives them with tools/vncprobe. About 4 minutes (253 s
# on a busy 2-core host; all of make bench took 10 minutes there).
# Environment: BENCH_RUNS (hello runs, 5), BENCH_FIRST_RUNS (5),
# BENCH_CONNECT_RUNS (10), BENCH_VNC_RUNS (3), BENCH_SECONDS (anim run
# length, 4), BENCH_STATIC_SECONDS (10), BENCH_SMALL_SECONDS (3),
# BENCH_VIEWERS_SECONDS (16-viewer run length, 6), BENCH_LATENCY_N (100),
# BENCH_EXITS_RUNS (5), BENCH_EXITS_COUNT (500).
# Then tools/bench_exits.py BUILD adds the exit round trips per kind of
# device access, tools/bench_control.py BUILD the control socket's rows
# (screendump, type, wait-screen; BENCH_CONTROL_RUNS, 30) and
# tools/bench_sdl.sh BUILD, when present, the SDL frontend's.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench: /dev/kvm is not available; nothing to measure"
	exit 0
fi

# bench_vmm.py kills what it starts on exit and on signals; this is for the
# case it is itself killed.
bench_pid=
cleanup() { [ -n "$bench_pid" ] && kill -TERM "$bench_pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 "$TOP/tools/bench_vmm.py" "$BUILD" &
bench_pid=$!
wait "$bench_pid"
status=$?
bench_pid=

# Exit round trips per kind of device access (guests/exits), fbvm beside
# QEMU's PC machine.
python3 "$TOP/tools/bench_exits.py" "$BUILD" || status=1

# Issue 4's "start to the Linux framebuffer console's first pixels" needs a
# kernel that boots in useful time: hardware-virtualised KVM only.
if [ -e /sys/module/kvm_pvm ]; then
	echo
	echo "Linux framebuffer console, start to first pixels: n/a on this host (kvm_pvm:" \
		"guest ring 0 is emulated, a stock kernel cannot boot in useful time)"
fi

python3 "$TOP/tools/bench_control.py" "$BUILD" || status=1

if [ -x "$TOP/tools/bench_sdl.sh" ]; then
	"$TOP/tools/bench_sdl.sh" "$BUILD" || status=1
fi
exit "$status"
