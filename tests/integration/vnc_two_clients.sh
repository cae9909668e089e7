#!/bin/bash
# Two VNC clients at once, in different encodings, on guests/ramfb-demo
# mode=anim: both keep receiving a changing picture at the guest's frame rate
# (one does not kick or starve the other), and the bars stay exact for both.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

port=$(free_port)
start_fbvm two "$guest" "127.0.0.1:$port" --cmdline "mode=anim"
# shellcheck disable=SC2046
"$VNCPROBE" --encodings raw --seconds 3 --count-changes $(bar_expects 1024 768) --timeout 15 \
	"127.0.0.1:$port" >"$tmp/a.probe" 2>&1 &
a=$!
# shellcheck disable=SC2046
"$VNCPROBE" --encodings "tight zlib" --seconds 3 --count-changes $(bar_expects 1024 768) \
	--timeout 15 "127.0.0.1:$port" >"$tmp/b.probe" 2>&1 &
b=$!
wait $a || { cat "$tmp/a.probe"; fail "client A (raw) exit $?"; }
wait $b || { cat "$tmp/b.probe"; fail "client B (tight) exit $?"; }
stop_fbvm
for c in a b; do
	u=$(sed -n 's/^updates=//p' "$tmp/$c.probe")
	ch=$(sed -n 's/^changed_updates=//p' "$tmp/$c.probe")
	gap=$(sed -n 's/^max_gap_ms=//p' "$tmp/$c.probe")
	echo "client $c: $u updates in 3 s, $ch changed the picture, longest gap $gap ms"
	[ "$ch" -ge 90 ] || fail "client $c saw only $ch changing updates in 3 s (guest draws 60/s)"
	[ "$gap" -le 500 ] || fail "client $c waited $gap ms for an update"
done
[ "$(grep -c "^vnc: client .* connected" "$tmp/two.err")" -eq 2 ] || fail "want two connect log lines"
