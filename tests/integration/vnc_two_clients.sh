#!/bin/bash
# Two VNC clients at once, in different encodings, on guests/ramfb-demo
# mode=anim: both keep receiving a changing picture (one does not kick or
# starve the other), and the bars stay exact for both. The rate each gets is
# compared with one client's alone, measured first in the same run (the guest
# draws 60/s, but what a viewer gets on a busy 2-core host varies 3x from
# second to second, so no absolute rate is asserted; `make bench` has those).
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

port=$(free_port)
start_fbvm two "$guest" "127.0.0.1:$port" --cmdline "mode=anim"
# The baseline: one client alone, in the costlier encoding. Every probe has
# a hard time limit too (a probe stuck in a read must not hang the suite).
timeout --kill-after=5 60 "$VNCPROBE" --encodings "tight zlib" --seconds 3 --count-changes --timeout 15 \
	"127.0.0.1:$port" >"$tmp/solo.probe" 2>&1 || { rc=$?; cat "$tmp/solo.probe"; fail "solo client exit $rc"; }
# shellcheck disable=SC2046
timeout --kill-after=5 60 "$VNCPROBE" --encodings raw --seconds 3 --count-changes $(bar_expects 1024 768) --timeout 15 \
	"127.0.0.1:$port" >"$tmp/a.probe" 2>&1 &
a=$!
# shellcheck disable=SC2046
timeout --kill-after=5 60 "$VNCPROBE" --encodings "tight zlib" --seconds 3 --count-changes $(bar_expects 1024 768) \
	--timeout 15 "127.0.0.1:$port" >"$tmp/b.probe" 2>&1 &
b=$!
wait $a || { rc=$?; cat "$tmp/a.probe"; fail "client A (raw) exit $rc"; }
wait $b || { rc=$?; cat "$tmp/b.probe"; fail "client B (tight) exit $rc"; }
stop_fbvm
solo=$(sed -n 's/^changed_updates=//p' "$tmp/solo.probe")
echo "one client alone: $solo changing updates in 3 s"
[ "$solo" -ge 10 ] || fail "a lone client saw only $solo changing updates in 3 s"
declare -A changed
for c in a b; do
	u=$(sed -n 's/^updates=//p' "$tmp/$c.probe")
	ch=$(sed -n 's/^changed_updates=//p' "$tmp/$c.probe")
	gap=$(sed -n 's/^max_gap_ms=//p' "$tmp/$c.probe")
	changed[$c]=$ch
	echo "client $c: $u updates in 3 s, $ch changed the picture, longest gap $gap ms"
	# Sharing the server and the 2 cores may cost each some of its rate,
	# and the host's load changes between the two measurements (seen: the
	# pair got 0.6x to 3x of what one alone got), but not three quarters.
	[ $((ch * 4)) -ge "$solo" ] ||
		fail "client $c saw only $ch changing updates in 3 s, alone one saw $solo"
	[ "$gap" -le 1500 ] || fail "client $c waited $gap ms for an update"
done
# Neither is served at the other's expense: measured at the same time, the
# two got within a quarter of each other in every run (a server that skips one's updates 7 of
# 8 times gives it a fifth of the other's).
[ $((changed[a] * 2)) -ge "${changed[b]}" ] && [ $((changed[b] * 2)) -ge "${changed[a]}" ] ||
	fail "one client starves: a saw ${changed[a]}, b ${changed[b]} changing updates"
[ "$(grep -c "^vnc: client .* connected" "$tmp/two.err")" -eq 3 ] || fail "want three connect log lines (one alone, then two)"
