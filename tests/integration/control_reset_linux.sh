#!/bin/bash
# The control socket's system_reset on a Linux guest (Debian's bzImage,
# tools/linux-guest.sh): the 64-bit boot protocol again after an in-place
# reset. The decompressor's nokaslr notice on COM1 (about two seconds in
# under PVM, linux_decompressor.sh) must come a second time after
# system_reset — so the kernel image, zero page, command line, page tables
# and GDT were loaded again into cleared RAM and the vCPU entered at the
# 64-bit entry once more — and the boot display must be back (1024x768 on
# the std VGA or ramfb in query-status) before fbvm quits with status 0.
# Once per boot display.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/linux_common.bash"
need_kvm
need_linux_guest
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

for display in vga ramfb; do
sock="$tmp/$display.sock"
"$FBVM" run --vnc none --kernel "$LINUX_KERNEL" --display "$display" --control "$sock" \
	--serial "file:$tmp/$display.serial" --cmdline "earlyprintk=ttyS0 console=ttyS0 nokaslr" \
	--stats </dev/null >/dev/null 2>"$tmp/$display.err" &
pid=$!
want="KASLR disabled: 'nokaslr' on cmdline."
# wait_notice N: until the notice was printed N times (60 s).
wait_notice() {
	for _ in $(seq 600); do
		n=$(grep -c "$want" "$tmp/$display.serial" 2>/dev/null || true)
		[ "${n:-0}" -ge "$1" ] && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/$display.err"; fail "--display $display: fbvm ended"; }
		sleep 0.1
	done
	tail -c 2000 "$tmp/$display.serial"
	fail "--display $display: the decompressor's notice did not come $1 time(s)"
}
wait_notice 1
t0=$(date +%s.%N)
"$FBVM" ctl "$sock" system_reset >/dev/null || fail "--display $display: system_reset"
wait_notice 2
secs=$(echo "$(date +%s.%N) - $t0" | bc)
"$FBVM" ctl "$sock" query-status >"$tmp/$display.status"
grep -q "\"device\":\"$display\"" "$tmp/$display.status" && grep -q '"width":1024' "$tmp/$display.status" &&
	grep -q '"height":768' "$tmp/$display.status" ||
	{ cat "$tmp/$display.status"; fail "--display $display: no boot display after the reset"; }
"$FBVM" ctl "$sock" quit >/dev/null
set +e
timeout 20 tail --pid="$pid" -f /dev/null
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$tmp/$display.err"; fail "--display $display: status $rc after quit, want 0"; }
grep -q "resets=1$" "$tmp/$display.err" || fail "--display $display: --stats resets"
pid=
echo "ok: --display $display: system_reset, the decompressor's notice again after ${secs%???????} s, boot display $display 1024x768, quit: status 0"
done
