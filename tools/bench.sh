#!/bin/bash
# `make bench`: repeatable measurements printed as a table, with ratios
# against QEMU (the baseline) where one exists. Usage: bench.sh BUILD
set -u
BUILD=$(cd "${1:-build}" && pwd)
FBVM="$BUILD/fbvm"
RUNS=${BENCH_RUNS:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

if [ ! -r /dev/kvm ]; then
	echo "bench: /dev/kvm is not available; nothing to measure"
	exit 0
fi

# Median wall time in ms of a command run $RUNS times (its output discarded).
median_ms() {
	local times=()
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s%N)
		"$@" </dev/null >/dev/null 2>&1
		t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000000 )))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

# Peak RSS in KiB of one run.
peak_rss_kib() {
	/usr/bin/time -f '%M' -o "$tmp/rss" "$@" </dev/null >/dev/null 2>&1
	cat "$tmp/rss"
}

hello="$BUILD/guests/hello.elf"
qemu_hello=(qemu-system-x86_64 -accel kvm -M microvm,pit=on,pic=on,rtc=on -nodefaults
	-m 256 -kernel "$hello" -device isa-debug-exit,iobase=0x501,iosize=1
	-display none -serial stdio)

f_boot=$(median_ms "$FBVM" run --kernel "$hello")
q_boot=$(median_ms "${qemu_hello[@]}")
f_rss=$(peak_rss_kib "$FBVM" run --kernel "$hello")
q_rss=$(peak_rss_kib "${qemu_hello[@]}")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '\nfbvm bench (median of %d runs; baseline: QEMU %s, microvm machine)\n\n' "$RUNS" \
	"$(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p')"
printf '| %-44s | %10s | %10s | %12s |\n' "measurement" "fbvm" "QEMU" "fbvm/QEMU"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "$(printf -- '-%.0s' {1..12})" \
	"$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..14})"
printf '| %-44s | %10s | %10s | %12s |\n' "hello: start to test-exit (ms)" "$f_boot" "$q_boot" "$(ratio "$f_boot" "$q_boot")"
printf '| %-44s | %10s | %10s | %12s |\n' "hello: peak RSS (KiB, 256 MiB guest)" "$f_rss" "$q_rss" "$(ratio "$f_rss" "$q_rss")"
echo
"$FBVM" run --kernel "$hello" --stats </dev/null 2>&1 >/dev/null | sed -n '/^thread\|^ *[a-z0-9]* *[0-9]* KiB\|stack/p' | sed 's/^/    /'
