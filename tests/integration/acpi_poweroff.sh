#!/bin/bash
# Boots guests/poweroff, which walks the ACPI tables from
# hvm_start_info.rsdp_paddr to the FADT's PM1a control block and the DSDT's
# \_S5 and powers off through it: fbvm must exit 0 and say why, with the
# tables it describes (RSDP revision 2 -> XSDT -> FACP, APIC). The same
# guest on QEMU's PC machine (SeaBIOS tables, PIIX4 PM; its PVH option ROM
# fills rsdp_paddr) powers off with status 0 too.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
guest="$GUESTS/poweroff.elf"

run_limited 60 "$FBVM" run --vnc none --kernel "$guest" --stats --serial stdio \
	</dev/null >"$tmp/fbvm.out" 2>"$tmp/fbvm.err"
echo "fbvm: exit $rc, serial:"; cat "$tmp/fbvm.out"
[ "$rc" -eq 0 ] || fail "fbvm: exit status $rc, want 0 (ACPI power off): $(cat "$tmp/fbvm.err")"
grep -qF 'acpi: guest requested S5 power off' "$tmp/fbvm.err" ||
	fail "fbvm does not log the power off: $(cat "$tmp/fbvm.err")"
grep -qE '^acpi-pm: .*poweroffs=1 ' "$tmp/fbvm.err" || fail "--stats lacks acpi-pm poweroffs=1"
expect_line() {
	grep -qxF "$1" "$tmp/fbvm.out" || fail "fbvm serial lacks the line: $1"
}
expect_line 'poweroff: RSDP at 0xe0000 revision 2 oem "FBVM  "'
grep -qE '^poweroff: XSDT at 0x[0-9a-f]+ lists FACP APIC$' "$tmp/fbvm.out" ||
	fail "fbvm: the XSDT does not list exactly FACP and APIC"
expect_line 'poweroff: FACP revision 6 sci=9 PM1a_CNT=0x604'
grep -qE '^poweroff: DSDT at 0x[0-9a-f]+ \\_S5 SLP_TYP=0$' "$tmp/fbvm.out" || fail "fbvm: no \\_S5 = 0"
expect_line 'poweroff: writing 0x2001 (SLP_TYP=0 | SLP_EN) to port 0x604'
echo "ok: fbvm powered off through ACPI with status 0"

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing (make deps installs it)"
# QEMU's PC machine runs SeaBIOS emulated here: several seconds to the guest.
run_limited 180 qemu-system-x86_64 -machine pc,accel=kvm:tcg -nodefaults -m 256 \
	-kernel "$guest" -device isa-debug-exit,iobase=0x501,iosize=1 -display none \
	-serial stdio </dev/null >"$tmp/qemu.out" 2>"$tmp/qemu.err"
echo "qemu: exit $rc, serial:"; cat "$tmp/qemu.out"
[ "$rc" -eq 0 ] || fail "QEMU: exit status $rc, want 0: $(cat "$tmp/qemu.err")"
grep -qE '^poweroff: writing 0x[0-9a-f]+ \(SLP_TYP=0 \| SLP_EN\) to port 0x604$' "$tmp/qemu.out" ||
	fail "QEMU: the guest did not power off through PM1a_CNT 0x604"
echo "ok: QEMU powers the same guest off with status 0"
