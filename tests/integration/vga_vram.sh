#!/bin/bash
# --vram: guests/vga-demo finds the std VGA's BAR0 where memmap.h says each
# size goes (the highest size-aligned base below BAR2 at 0xFEBF0000), with
# the size the guest reads back from BAR sizing and VIDEO_MEMORY_64K, and
# draws a mode in it; --stats reports the device memory and the PCI, VGA
# and CMOS counters. 1M is below what bochs-drm (and vga-demo) accept: the
# guest refuses it, as Linux would. With a Linux bzImage (when fetched),
# --display vga needs VRAM for its 1024x768 boot mode: a clear usage error.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
guest="$GUESTS/vga-demo.elf"
[ -f "$guest" ] || fail "$guest not built"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# check_vram ARG KIB GPA: boots with --vram ARG (default when empty), wants
# BAR0 at GPA holding KIB KiB.
check_vram() {
	local arg=$1 kib=$2 gpa=$3
	run_limited 60 "$FBVM" run --kernel "$guest" --vnc none --serial "file:$tmp/serial" --stats \
		${arg:+--vram "$arg"} --cmdline "modes=640x480 hold_ms=0 exit" </dev/null 2>"$tmp/err"
	[ "$rc" -eq 1 ] || { cat "$tmp/serial" "$tmp/err"; fail "--vram ${arg:-default}: exit $rc, want 1"; }
	grep -qx "vga-demo: vram $gpa $kib KiB, mmio 0xfebf0000 4 KiB, id 0xb0c5, regs=mmio qext" \
		"$tmp/serial" || { cat "$tmp/serial"; fail "--vram ${arg:-default}: want BAR0 $gpa, $kib KiB"; }
	grep -q "^stats: device memory: vga-vram $kib KiB at $gpa$" "$tmp/err" ||
		{ cat "$tmp/err"; fail "--vram ${arg:-default}: no device memory line"; }
	grep -q "^vga: .* current=640x480@$gpa " "$tmp/err" ||
		{ cat "$tmp/err"; fail "--vram ${arg:-default}: the VGA does not show 640x480 at $gpa"; }
	grep -q "^pci: functions=2 " "$tmp/err" || { cat "$tmp/err"; fail "no pci stats line"; }
	grep -q "^cmos: " "$tmp/err" || { cat "$tmp/err"; fail "no cmos stats line"; }
	echo "ok: --vram ${arg:-default}: BAR0 $gpa, $kib KiB"
}

check_vram "" 16384 0xfd000000
check_vram 4M 4096 0xfe400000
check_vram 8M 8192 0xfe000000
check_vram 32M 32768 0xfc000000
check_vram 128M 131072 0xf0000000
check_vram 256M 262144 0xe0000000

run_limited 60 "$FBVM" run --kernel "$guest" --vnc none --serial "file:$tmp/serial" --vram 1M \
	</dev/null 2>"$tmp/err"
grep -q "vga-demo: error BAR0 is 1024 KiB, less than 4 MiB of video memory" "$tmp/serial" ||
	{ cat "$tmp/serial" "$tmp/err"; fail "--vram 1M: the guest did not see 1 MiB"; }
echo "ok: --vram 1M: the guest sees 1024 KiB and refuses it as bochs-drm does"

kernel="$BUILD/linux/vmlinuz"
if [ -f "$kernel" ]; then
	run_limited 20 "$FBVM" run --kernel "$kernel" --vnc none --serial none --vram 2M \
		</dev/null 2>"$tmp/err"
	[ "$rc" -eq 2 ] || { cat "$tmp/err"; fail "Linux with --vram 2M: exit $rc, want 2"; }
	grep -qx "fbvm: --display vga: the 1024x768 boot mode needs 3072 KiB of VRAM; --vram 2M is too small (use 4M or more)" \
		"$tmp/err" || { cat "$tmp/err"; fail "Linux with --vram 2M: unexpected message"; }
	echo "ok: Linux with --display vga --vram 2M: $(cat "$tmp/err")"
else
	echo "note: $kernel not fetched (make linux-guest): Linux --vram check not run"
fi
