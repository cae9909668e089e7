#!/bin/bash
# Boots guests/ticks (PIT channel 0, 8259, the ring-3 hlt idle) and
# guests/fault (CPU exception reports) on fbvm and on QEMU microvm (the
# reference): the same serial output and exit status. A fatal line is
# compared up to its error code: RIP and RSP are fixed, but RFLAGS reads
# IOPL 0 under PVM and IOPL 3 under TCG.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (make deps installs it)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# compare NAME GUEST CMDLINE WANT_STATUS
compare() {
	local name=$1 guest="$GUESTS/$2.elf" cmdline=$3 want=$4
	run_limited 60 "$FBVM" run --vnc none --kernel "$guest" --cmdline "$cmdline" --serial stdio \
		</dev/null >"$tmp/$name.fbvm" 2>"$tmp/$name.fbvm.err"
	local fbvm_rc=$rc
	echo "$name: fbvm exit $fbvm_rc:"; cat "$tmp/$name.fbvm" "$tmp/$name.fbvm.err"
	run_limited 60 qemu-system-x86_64 -machine microvm,accel=kvm:tcg,pit=on,pic=on,rtc=on \
		-nodefaults -kernel "$guest" -append "$cmdline" \
		-device isa-debug-exit,iobase=0x501,iosize=1 -display none -serial stdio \
		</dev/null >"$tmp/$name.qemu" 2>"$tmp/$name.qemu.err"
	local qemu_rc=$rc
	echo "$name: qemu exit $qemu_rc:"; cat "$tmp/$name.qemu"
	[ "$qemu_rc" -eq "$want" ] || fail "$name: QEMU exit status $qemu_rc, want $want"
	[ "$fbvm_rc" -eq "$want" ] || fail "$name: fbvm exit status $fbvm_rc, want $want"
	sed -i 's/^\(fatal: cpu exception .* error=0x[0-9a-f]*\) .*/\1/' "$tmp/$name.fbvm" "$tmp/$name.qemu"
	cmp "$tmp/$name.fbvm" "$tmp/$name.qemu" || fail "$name: serial output differs between fbvm and QEMU"
}

compare ticks ticks "hz=100 ticks=20" 1
grep -qx "ticks: done ticks=20" "$tmp/ticks.qemu" || fail "ticks: no done line"
compare fault-ud fault "fault=ud" 7
grep -qx "fatal: cpu exception vector=6 name=#UD error=0x0" "$tmp/fault-ud.qemu" ||
	fail "fault=ud: no #UD report"
compare fault-pf fault "fault=pf" 7
grep -qx "fatal: cpu exception vector=14 name=#PF error=0x6" "$tmp/fault-pf.qemu" ||
	fail "fault=pf: no #PF report"
echo "ticks and fault behave the same on fbvm and QEMU"
