#!/bin/bash
# The vnc thread's stack, measured (issue 6): for every encoding libvncserver
# offers, boots guests/ramfb-demo (an animation: every frame changes), serves
# it to tools/vncprobe asking for only that encoding for two seconds, stops
# fbvm and reads the high-water mark `fbvm run --stats` prints for the vnc
# thread. Each must stay under 50% of the thread's stack (STACK_VNC_BYTES);
# the vCPU thread's too. Then the largest measurement must not exceed the
# static bound tools/stackcheck.py computes for the thread: a measurement
# above it would mean the analysis misses a path.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
top=$(cd "$(dirname "$0")/../.." && pwd)
guest="$GUESTS/ramfb-demo.elf"
probe="$BUILD/tools/vncprobe"
[ -f "$guest" ] || fail "$guest not built"
[ -x "$probe" ] || fail "$probe not built"
tmp=$(mktemp -d)
fbvm_pid=
cleanup() { [ -n "$fbvm_pid" ] && kill -KILL "$fbvm_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

LIMIT_PCT=50

# name | libvncclient encodings string | extra vncprobe options
encodings=(
	"raw|raw|"
	"copyrect|copyrect|"
	"hextile|hextile|"
	"zlib|zlib|"
	"zlibhex|zlibhex|"
	"tight|tight|"
	"tight+jpeg|tight|--quality 5"
	"zrle|zrle|"
	"zywrle|zywrle|--quality 5"
	"ultra|ultra|"
	"rre|rre|"
	"corre|corre|"
)

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# "NAME STACK_KIB HW_KIB PCT% STATE" line of thread NAME in a --stats report.
thread_line() { awk -v n="$1" '$1 == n && $4 ~ /%$/ { print; exit }' "$2"; }

printf '%-11s %8s %12s %10s %8s %10s %8s\n' encoding updates bytes "vnc KiB" "vnc %" \
	"vcpu0 KiB" "vcpu0 %"
max_hw=0
failed=0
for entry in "${encodings[@]}"; do
	IFS='|' read -r name enc opts <<<"$entry"
	port=$(free_port)
	err="$tmp/$name.err"
	"$FBVM" run --kernel "$guest" --serial none --stats --vnc "127.0.0.1:$port" \
		</dev/null >/dev/null 2>"$err" &
	fbvm_pid=$!
	# shellcheck disable=SC2086 # opts is a word list
	run_limited 30 "$probe" --encodings "$enc" $opts --seconds 2 --timeout 15 \
		"127.0.0.1:$port" >"$tmp/$name.out" 2>&1
	probe_rc=$rc
	kill -TERM "$fbvm_pid" 2>/dev/null || true
	set +e
	timeout 20 tail --pid="$fbvm_pid" -f /dev/null
	wait "$fbvm_pid" 2>/dev/null
	set -e
	fbvm_pid=
	updates=$(sed -n 's/^updates=//p' "$tmp/$name.out")
	bytes=$(sed -n 's/^bytes=//p' "$tmp/$name.out")
	if [ "$probe_rc" -ne 0 ] || [ "${updates:-0}" -lt 1 ]; then
		echo "vncprobe ($name) exited $probe_rc:"; cat "$tmp/$name.out"
		echo "fbvm stderr:"; cat "$err"
		fail "$name: no updates received"
	fi
	vnc=$(thread_line vnc "$err")
	vcpu=$(thread_line vcpu0 "$err")
	[ -n "$vnc" ] || { cat "$err"; fail "$name: no vnc line in fbvm --stats"; }
	[ -n "$vcpu" ] || { cat "$err"; fail "$name: no vcpu0 line in fbvm --stats"; }
	read -r _ vnc_stack vnc_hw vnc_pct _ <<<"$vnc"
	read -r _ _ vcpu_hw vcpu_pct _ <<<"$vcpu"
	printf '%-11s %8s %12s %10s %8s %10s %8s\n' "$name" "$updates" "$bytes" "$vnc_hw" \
		"$vnc_pct" "$vcpu_hw" "$vcpu_pct"
	for t in "vnc $vnc_pct" "vcpu0 $vcpu_pct"; do
		set -- $t
		if awk -v p="${2%\%}" -v l="$LIMIT_PCT" 'BEGIN { exit !(p >= l) }'; then
			echo "FAIL: $name: thread $1 used $2 of its stack (limit $LIMIT_PCT%)"
			failed=1
		fi
	done
	max_hw=$(awk -v a="$max_hw" -v b="$vnc_hw" 'BEGIN { print (b > a) ? b : a }')
done
echo "vnc thread: largest high-water ${max_hw} KiB of ${vnc_stack} KiB"
[ "$failed" -eq 0 ] || fail "a thread used ${LIMIT_PCT}% of its stack or more"

# The measurement against the static bound (needs the .ci files of a build
# with tools/stack.mk; without them there is nothing to compare).
if ls "$BUILD"/vnc/*.ci >/dev/null 2>&1; then
	set +e
	python3 "$top/tools/stackcheck.py" --build "$BUILD" >"$tmp/stackcheck.out" 2>&1
	set -e
	bound=$(awk '$1 == "vnc" && $NF ~ /^(ok|OVER)/ { print $6; exit }' "$tmp/stackcheck.out")
	[ -n "$bound" ] || { cat "$tmp/stackcheck.out"; fail "no vnc row in stackcheck's table"; }
	echo "vnc thread: static bound ${bound} KiB (tools/stackcheck.py)"
	if awk -v m="$max_hw" -v b="$bound" 'BEGIN { exit !(m > b) }'; then
		fail "measured ${max_hw} KiB exceeds the static bound ${bound} KiB: the analysis misses a path"
	fi
else
	echo "no .ci files in $BUILD: static bound not compared"
fi
echo "PASS: every encoding under ${LIMIT_PCT}% of the vnc stack"
