#!/bin/bash
# Each way a guest can end the VM gives its documented exit status and a
# message naming the reason; --stats reports every thread's stack.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
stops="$GUESTS/stops.elf"

expect_stop() {
	local action=$1 want=$2 message=$3
	run_limited 30 "$FBVM" run --vnc none --kernel "$stops" --cmdline "$action" </dev/null \
		>"$tmp/out" 2>"$tmp/err"
	[ "$rc" -eq "$want" ] || fail "$action: exit status $rc, want $want ($(cat "$tmp/err"))"
	if [ -n "$message" ]; then
		grep -qF "$message" "$tmp/err" || fail "$action: stderr lacks '$message': $(cat "$tmp/err")"
	fi
	echo "ok: $action -> $rc $(head -c 200 "$tmp/err")"
}

expect_stop reset 4 "guest reset: port 0xCF9"
expect_stop kbdreset 4 "i8042"
expect_stop triple 6 "triple fault"
# The state it died in: stops.S faults with an empty IDT.
grep -qE '^vcpu0: error: triple fault at rip=0x[0-9a-f]+ rsp=0x[0-9a-f]+ .* idt=0x0/0 gdt=' "$tmp/err" ||
	fail "triple: no register line with the empty IDT: $(cat "$tmp/err")"
expect_stop halt 8 "HLT with interrupts disabled"
expect_stop other 33 ""

# The same image boots on QEMU (reference): its default path is the test exit.
run_limited 120 qemu-system-x86_64 -machine accel=kvm:tcg -M microvm,pit=on,pic=on,rtc=on \
	-nodefaults -m 256 -kernel "$stops" -append other \
	-device isa-debug-exit,iobase=0x501,iosize=1 -display none -serial stdio </dev/null \
	>"$tmp/qemu.out" 2>&1
[ "$rc" -eq 33 ] || fail "QEMU: stops 'other' exit status $rc, want 33: $(cat "$tmp/qemu.out")"
echo "ok: QEMU gives 33 too"

# --stats: a report at exit with each thread's stack size and high-water mark.
run_limited 30 "$FBVM" run --vnc none --kernel "$GUESTS/hello.elf" --stats </dev/null >"$tmp/out" 2>"$tmp/err"
[ "$rc" -eq 1 ] || fail "hello --stats: exit status $rc"
cat "$tmp/err"
grep -qE '^stats: kvm: ' "$tmp/err" || fail "--stats does not say which KVM it found"
grep -qE '^main +[0-9]+ +[0-9.]+ ' "$tmp/err" || fail "--stats lacks the main thread's stack line"
grep -qE '^vcpu0 +256 +[0-9.]+ ' "$tmp/err" || fail "--stats lacks vcpu0's 256 KiB stack line"
echo "ok: --stats lists the threads' stacks"
