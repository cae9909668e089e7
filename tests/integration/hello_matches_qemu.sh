#!/bin/bash
# Boots guests/hello on fbvm and on QEMU (the reference): the same serial
# output and the same exit status.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
guest="$GUESTS/hello.elf"

run_limited 60 "$FBVM" run --vnc none --kernel "$guest" --cmdline "greeting=ci" --serial stdio \
	</dev/null >"$tmp/fbvm.out" 2>"$tmp/fbvm.err"
fbvm_rc=$rc
echo "fbvm: exit $fbvm_rc, serial:"; cat "$tmp/fbvm.out"; cat "$tmp/fbvm.err"

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (make deps installs it)"
# QEMU's PC machine runs SeaBIOS emulated here: several seconds to the guest.
run_limited 180 qemu-system-x86_64 -machine accel=kvm:tcg -nodefaults -m 256 \
	-kernel "$guest" -append "greeting=ci" \
	-device isa-debug-exit,iobase=0x501,iosize=1 -display none -serial stdio \
	</dev/null >"$tmp/qemu.out" 2>"$tmp/qemu.err"
qemu_rc=$rc
echo "qemu: exit $qemu_rc, serial:"; cat "$tmp/qemu.out"; cat "$tmp/qemu.err"

[ -s "$tmp/fbvm.out" ] || fail "fbvm printed nothing"
cmp "$tmp/fbvm.out" "$tmp/qemu.out" || fail "serial output differs between fbvm and QEMU"
[ "$fbvm_rc" -eq "$qemu_rc" ] || fail "exit status: fbvm $fbvm_rc, QEMU $qemu_rc"
[ $((fbvm_rc % 2)) -eq 1 ] || fail "exit status $fbvm_rc is not a test-exit status"
echo "same output and exit status ($fbvm_rc) on fbvm and QEMU"
