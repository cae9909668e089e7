# Helpers for the tests that boot a demo guest on QEMU, the reference
# (guest_*_demo_on_qemu.sh), sourced after common.bash. Their Python parts
# read the screen with rfb.py.

QEMU_MICROVM=(-machine microvm,accel=kvm:tcg,pit=on,pic=on,rtc=on -nodefaults)

# need_qemu_guest ELF: QEMU, python3 and the guest are there; sets $guest,
# $tmp (removed at exit, with any QEMU still running) and $qemu_pid.
need_qemu_guest() {
	guest=$1
	command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (make deps installs it)"
	command -v python3 >/dev/null || fail "python3 missing (make deps installs it)"
	[ -f "$guest" ] || fail "$guest not built"
	tmp=$(mktemp -d)
	qemu_pid=
	trap qemu_cleanup EXIT
}
qemu_cleanup() { [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; rm -rf "$tmp"; }

# qemu_start ARGS...: starts QEMU in the background with ARGS (machine,
# devices, kernel), no display, its VNC server on $tmp/vnc.sock, the
# test-exit port and the serial port in $tmp/serial.txt; sets $qemu_pid.
qemu_start() {
	rm -f "$tmp/vnc.sock" "$tmp/mon.sock" "$tmp/serial.txt"
	qemu-system-x86_64 "$@" -display none -vnc "unix:$tmp/vnc.sock" \
		-device isa-debug-exit,iobase=0x501,iosize=1 -serial "file:$tmp/serial.txt" \
		</dev/null 2>"$tmp/qemu.err" &
	qemu_pid=$!
}

qemu_stop() {
	kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=
}

# qemu_run_stdio SECS OUT ARGS...: runs QEMU with ARGS, no display, the
# test-exit port and the serial port in OUT, for up to SECS; sets $rc.
qemu_run_stdio() {
	local secs=$1 out=$2
	shift 2
	run_limited "$secs" qemu-system-x86_64 "$@" -display none \
		-device isa-debug-exit,iobase=0x501,iosize=1 -serial stdio \
		</dev/null >"$out" 2>/dev/null
}
