#!/bin/bash
# guests/exits (the exit-cost benchmark guest, tools/bench_exits.py) on fbvm
# and on QEMU: it times every kind of access and then checks the CMOS: with
# KVM's coalesced I/O fbvm queues writes to the RTC index port 0x70 in the
# kernel, as QEMU does, and must apply each before the data access that
# follows (registers A, D, B read in turn hold their own values; the seconds
# advance). fbvm's --stats must show the index writes replayed from the ring.
# No timing is checked here (make bench does that).
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
guest="$GUESTS/exits.elf"
[ -f "$guest" ] || fail "$guest not built"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kinds="unclaimed-port serial-thr cmos-pair i8042-status i8042-cmd-pair fwcfg-data vga-mmio"

run_limited 60 "$FBVM" run --kernel "$guest" --cmdline "count=50 rounds=1" --vnc none \
	--serial "file:$tmp/fbvm.serial" --stats </dev/null >/dev/null 2>"$tmp/fbvm.err"
cat "$tmp/fbvm.serial"
[ "$rc" -eq 1 ] || { cat "$tmp/fbvm.err"; fail "fbvm: exit status $rc, want 1"; }
for k in $kinds; do
	grep -q "^exits: $k ns=[0-9]" "$tmp/fbvm.serial" || fail "fbvm: no $k timing"
done
grep -q "^exits: cmos check ok$" "$tmp/fbvm.serial" || fail "fbvm: CMOS check failed"
line=$(grep "^stats: coalesced_io:" "$tmp/fbvm.err") || fail "fbvm: no coalesced_io stats"
echo "$line"
if echo "$line" | grep -q " on zones=1 "; then
	replayed=$(echo "$line" | sed -n 's/.* replayed=\([0-9]*\) .*/\1/p')
	# 50 timed pairs + 64 x 3 check reads + 2 seconds reads.
	[ "$replayed" -ge 244 ] || fail "fbvm: only $replayed index writes replayed, want >= 244"
	echo "$line" | grep -q " bad_entries=0$" || fail "fbvm: bad ring entries"
else
	echo "note: KVM offers no coalesced PIO here; every CMOS access exits"
fi

if command -v qemu-system-x86_64 >/dev/null; then
	run_limited 60 qemu-system-x86_64 -machine microvm,accel=kvm:tcg,pit=on,pic=on,rtc=on \
		-nodefaults -m 256 -display none -serial "file:$tmp/qemu.serial" \
		-device isa-debug-exit,iobase=0x501,iosize=1 -kernel "$guest" \
		-append "count=50 rounds=1" </dev/null >/dev/null 2>&1
	[ "$rc" -eq 1 ] || { cat "$tmp/qemu.serial"; fail "QEMU: exit status $rc, want 1"; }
	grep -q "^exits: cmos check ok$" "$tmp/qemu.serial" || fail "QEMU: CMOS check failed"
	echo "QEMU (microvm, no std VGA): cmos check ok, $(grep -c ' ns=' "$tmp/qemu.serial") kinds timed"
fi
