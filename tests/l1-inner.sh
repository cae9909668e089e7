#!/bin/bash
# What linux_in_l1.sh runs inside the L1: tests/run-integration.sh for the
# tests in INTEGRATION_TESTS, then once more for those that failed. L1 is
# QEMU TCG emulating SVM, and a Linux guest there sometimes hangs in early
# boot (about 1 boot in 30 on our machines, README "Linux tests in an L1"):
# a test that fails twice fails. RESULTS gets each test's final result;
# RESULTS.first the first round's; the retry's logs are in LOGS/retry.
set -u
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tests/run-integration.sh" "$build"
rc=$?
[ "$rc" -eq 0 ] && exit 0
failed=$(awk '$4 == 1 {print $2}' "$RESULTS" | tr '\n' ' ')
[ -n "$failed" ] || exit "$rc"
echo "l1-inner: failed in the first round: $failed; running them once more"
mv "$RESULTS" "$RESULTS.first"
awk '$4 != 1' "$RESULTS.first" >"$RESULTS"
INTEGRATION_TESTS="$failed" LOGS="$LOGS/retry" "$top/tests/run-integration.sh" "$build"
