#!/bin/bash
# Runs cmocka unit-test binaries; logs each to BUILD/logs and records results
# in $RESULTS (default BUILD/results.txt) for tests/summary.sh.
# Usage: run-unit.sh BUILD TEST_BINARY...
set -u
build=$1; shift
results=${RESULTS:-$build/results.txt}
mkdir -p "$build/logs"
failed=0
for t in "$@"; do
	name=$(basename "$t")
	log="$build/logs/$name.log"
	"$t" >"$log" 2>&1
	rc=$?
	passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	nfailed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	passed=${passed:-0}; nfailed=${nfailed:-0}; skipped=${skipped:-0}
	if [ "$rc" -ne 0 ] && [ "$nfailed" -eq 0 ]; then
		nfailed=1   # crashed or exited early: count it
	fi
	echo "unit $name $passed $nfailed $skipped" >>"$results"
	if [ "$rc" -eq 0 ] && [ "$nfailed" -eq 0 ]; then
		printf '  PASS  %-28s %3s passed' "$name ($build)" "$passed"
		[ "$skipped" -gt 0 ] && printf ', %s skipped' "$skipped"
		printf '\n'
	else
		printf '  FAIL  %s (exit %s) — log %s:\n' "$name ($build)" "$rc" "$log"
		tail -n 40 "$log" | sed 's/^/        /'
		failed=1
	fi
done
exit $failed
