#!/bin/bash
# The layout rules the README's Layout table states, checked on the sources
# (no build, no KVM): the two frontends and the control socket share
# display/ and never include each other, and stack/ (stack safety) depends
# on no device or frontend, so any part of fbvm can start threads and be
# covered by the fault report.
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

# forbid DIR PATTERN WHY: no #include in DIR's sources may match PATTERN.
forbid() {
	local dir=$1 pattern=$2 why=$3 hits
	[ -d "$dir" ] || fail "$dir is missing"
	hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<][^\">]*$pattern" \
		"$dir"/*.[ch] || true)
	[ -z "$hits" ] || fail "$why:
$hits"
	echo "ok: nothing in $dir/ includes $pattern ($(ls "$dir"/*.[ch] | wc -l) files)"
}

forbid sdl 'vnc/' "sdl/ includes vnc/: the frontends share display/, not each other"
forbid vnc 'sdl/' "vnc/ includes sdl/: the frontends share display/, not each other"
forbid stack '(vnc|sdl|devices|display)/' "stack/ must not depend on a frontend or a device"
forbid control '(vnc|sdl)/' "control/ includes a frontend: it shares display/ and devices/input.h with them"
forbid vnc 'control/' "vnc/ includes control/: the board (hypervisor/machine.c) wires them"
forbid sdl 'control/' "sdl/ includes control/: the board (hypervisor/machine.c) wires them"

# The checker itself must catch a violation.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/sdl" && printf '#include "vnc/vnc.h"\n' >"$tmp/sdl/x.c"
if (cd "$tmp" && forbid sdl 'vnc/' "planted") >/dev/null 2>&1; then
	fail "the check missed a planted #include \"vnc/vnc.h\" in sdl/"
fi
echo "ok: a planted sdl/ -> vnc/ include is caught"

# Every source file over ~800 lines says why at its top (issue 13): a reader
# should find one job per file, or the reason it is one file.
long=$(git ls-files '*.c' '*.h' '*.py' '*.sh' '*.bash' '*.S' | while read -r f; do
	[ "$(wc -l <"$f")" -gt 800 ] || continue
	head -n 40 "$f" | grep -q "Over 800 lines" || echo "$f ($(wc -l <"$f") lines)"
done)
[ -z "$long" ] || fail "files over 800 lines without the reason ('Over 800 lines ...') at their top:
$long"
echo "ok: every source file over 800 lines states why at its top"
