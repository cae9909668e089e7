#!/bin/bash
# The vCPU thread's stack, measured (issue 6): boots the guests that drive
# each device's exit handlers (hello: serial and the exit port; ticks: PIT
# and interrupts; ramfb-demo: fw_cfg DMA and ramfb; vga-demo: PCI and the
# VGA registers; kbd-demo: the i8042) and Debian's kernel when
# tools/linux-guest.sh has fetched it (its decompressor: the 64-bit boot
# path and the UART), then reads the vcpu0 high-water mark `fbvm run
# --stats` prints. Each must stay under 50% of STACK_VCPU_BYTES.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

LIMIT_PCT=50

# kernel file | command line | seconds before SIGTERM (guests that run on)
runs=(
	"$GUESTS/hello.elf||20"
	"$GUESTS/ticks.elf||20"
	"$GUESTS/ramfb-demo.elf|frames=3|20"
	"$GUESTS/vga-demo.elf|frames=3|20"
	"$GUESTS/kbd-demo.elf||3"
)
if [ -f "$BUILD/linux/vmlinuz" ]; then
	runs+=("$BUILD/linux/vmlinuz|earlyprintk=ttyS0 console=ttyS0 nokaslr|20")
fi

printf '%-16s %6s %10s %8s\n' guest status "vcpu0 KiB" "vcpu0 %"
failed=0
measured=0
for r in "${runs[@]}"; do
	IFS='|' read -r kernel cmdline secs <<<"$r"
	name=$(basename "$kernel")
	[ -f "$kernel" ] || fail "$kernel not built"
	set +e
	timeout -s TERM -k 10 "$secs" "$FBVM" run --kernel "$kernel" --cmdline "$cmdline" \
		--serial none --vnc none --stats </dev/null >/dev/null 2>"$tmp/$name.err"
	status=$?
	set -e
	if grep -q "unknown image format" "$tmp/$name.err"; then
		printf '%-16s %6s %s\n' "$name" "-" "not bootable by this fbvm yet: skipped"
		continue
	fi
	line=$(awk '$1 == "vcpu0" && $4 ~ /%$/ { print; exit }' "$tmp/$name.err")
	[ -n "$line" ] || { cat "$tmp/$name.err"; fail "$name: no vcpu0 line in fbvm --stats"; }
	read -r _ _ hw pct _ <<<"$line"
	printf '%-16s %6s %10s %8s\n' "$name" "$status" "$hw" "$pct"
	measured=$((measured + 1))
	if awk -v p="${pct%\%}" -v l="$LIMIT_PCT" 'BEGIN { exit !(p >= l) }'; then
		echo "FAIL: $name: vcpu0 used $pct of its stack (limit $LIMIT_PCT%)"
		failed=1
	fi
done
[ "$measured" -gt 0 ] || fail "no guest measured"
[ "$failed" -eq 0 ] || fail "a vCPU thread used ${LIMIT_PCT}% of its stack or more"
echo "PASS: vcpu0 under ${LIMIT_PCT}% of its stack in every guest"
