#!/bin/bash
# Runs tests/integration/*.sh. Each gets BUILD as $1 and exits 0 (pass),
# 77 (skip, with the reason as its last output line) or anything else (fail).
# INTEGRATION_TESTS="name ..." runs only those; LOGS puts the logs elsewhere
# (linux_in_l1.sh runs the Linux tests inside an L1 with both).
set -u
build=$1
results=${RESULTS:-$build/results.txt}
top=$(cd "$(dirname "$0")/.." && pwd)
logs=${LOGS:-$build/logs}
mkdir -p "$logs"
failed=0
for t in "$top"/tests/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	case " ${INTEGRATION_TESTS:-$name} " in *" $name "*) ;; *) continue ;; esac
	log="$logs/integration-$name.log"
	start=$(date +%s%N)
	bash "$t" "$build" >"$log" 2>&1
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	secs=$(printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)))
	case $rc in
	0)  echo "integration $name 1 0 0" >>"$results"
	    printf '  PASS  %-40s %6ss\n' "$name" "$secs" ;;
	77) echo "integration $name 0 0 1" >>"$results"
	    printf '  SKIP  %-40s %s\n' "$name" "$(tail -n1 "$log")" ;;
	*)  echo "integration $name 0 1 0" >>"$results"
	    # The reason first (the last FAIL: line, or the last line), then
	    # the log's tail: a CI summary that shows only part of this still
	    # says why.
	    reason=$(grep -a 'FAIL: ' "$log" | tail -n 1)
	    [ -n "$reason" ] || reason=$(tail -n 1 "$log")
	    printf '  FAIL  %s (exit %s, %ss): %s\n' "$name" "$rc" "$secs" "$reason"
	    echo "        log $log, its last 40 lines:"
	    tail -n 40 "$log" | tr -d '\r' | sed 's/^/        /'
	    failed=1 ;;
	esac
done
exit $failed
