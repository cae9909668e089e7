#!/bin/bash
# Prints the closing line of `make check` from the recorded results.
set -u
results=$1
awk '{ p += $3; f += $4; s += $5 } END {
	printf "%d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n";
	exit (f > 0 || p == 0) }' "$results"
