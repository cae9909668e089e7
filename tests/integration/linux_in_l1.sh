#!/bin/bash
# The Linux guest tests (those calling need_hardware_kvm) on hosts whose
# /dev/kvm is PVM or absent: tools/l1/run-l1.sh boots one L1 Linux under
# QEMU TCG (-cpu max emulates AMD SVM with nested paging, so L1's kvm_amd
# offers hardware-style KVM) and runs them all inside it through
# tests/run-integration.sh, sharing the host's / read-only and BUILD
# writable. A test that fails there runs once more (tests/l1-inner.sh: L1
# is an emulator, and a Linux guest in it sometimes hangs at boot); one that
# fails twice fails. Their logs are in BUILD/logs/l1/, L1's console in
# BUILD/logs/l1-console.log. Where KVM is hardware-virtualised the tests run
# directly and this one skips; it skips too where QEMU is missing or
# Debian's kernel cannot be downloaded.
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
l1_secs=900   # bound on the whole L1 run; the tests take about 4 min here

if [ -e /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ]; then
	skip "KVM here is hardware-virtualised: the Linux tests run directly"
fi
command -v qemu-system-x86_64 >/dev/null ||
	skip "neither hardware-virtualised KVM nor qemu-system-x86_64: the Linux tests cannot run here"
# last_fail LOG: the reason of the last FAIL: line in an inner test's log.
last_fail() { grep -a 'FAIL: ' "$1" | tail -n 1 | sed 's/^FAIL: //'; }

tests=$(grep -l '^need_hardware_kvm' "$top"/tests/integration/*.sh | xargs -n1 basename | sed 's/\.sh$//' | tr '\n' ' ')
[ -n "$tests" ] || fail "no test calls need_hardware_kvm"
echo "linux_in_l1: running inside L1: $tests"

rm -rf "$BUILD/logs/l1"
mkdir -p "$BUILD/logs/l1"
results=$BUILD/logs/l1/results.txt
set +e
"$top/tools/l1/run-l1.sh" --timeout "$l1_secs" "$BUILD" \
	env INTEGRATION_TESTS="$tests" LOGS="$BUILD/logs/l1" RESULTS="$results" \
	"$top/tests/l1-inner.sh" "$BUILD"
rc=$?
set -e
case $rc in
0) ;;
3) skip "Debian's kernel for L1 could not be downloaded" ;;
124) fail "L1 did not finish within $l1_secs s (console: $BUILD/logs/l1-console.log, logs: $BUILD/logs/l1/)" ;;
125) tail -n 30 "$BUILD/logs/l1-console.log"; fail "L1 did not run the tests (console: $BUILD/logs/l1-console.log)" ;;
*)
	reasons=
	for name in $(awk '$4 == 1 {print $2}' "$results" 2>/dev/null); do
		reasons="$reasons $name: $(last_fail "$BUILD/logs/l1/retry/integration-$name.log") (first: $(last_fail "$BUILD/logs/l1/integration-$name.log"));"
	done
	fail "Linux tests failed inside L1:${reasons:- (no results)} (logs: $BUILD/logs/l1/)" ;;
esac
# Every test must have passed inside: a skip there means L1 offered no usable KVM.
skipped=$(awk '$5 == 1 {print $2}' "$results" | tr '\n' ' ')
[ -z "$skipped" ] || fail "skipped inside L1: $skipped(see $BUILD/logs/l1/)"
passed=$(awk '$3 == 1' "$results" | wc -l)
if [ -f "$results.first" ]; then
	for name in $(awk '$4 == 1 {print $2}' "$results.first"); do
		echo "linux_in_l1: $name failed once inside L1 and passed again:" \
			"$(last_fail "$BUILD/logs/l1/integration-$name.log")"
	done
fi
echo "linux_in_l1: $passed Linux tests passed inside L1"
