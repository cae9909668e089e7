#!/bin/bash
# libvncserver runs in non-threaded mode: with clients connected and served
# in several encodings the fbvm process has exactly the threads fbvm started
# itself — main, vcpu0, vnc (/proc/PID/task) — and no thread libvncserver
# made with a default stack. The kernel's KVM worker (kvm-nx-lpage-recovery,
# a vhost task the kernel attaches to a VM's process on some hosts) is not
# ours and is reported, not counted. With --vnc none there is no vnc thread.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

threads() {   # names of our threads, sorted, one line
	local t names=()
	for t in /proc/"$fbvm_pid"/task/*; do
		names+=("$(cat "$t/comm")")
	done
	printf '%s\n' "${names[@]}" | grep -v '^kvm-' | sort | tr '\n' ' '
	printf '%s\n' "${names[@]}" | grep '^kvm-' >>"$tmp/kernel-workers" || true
}

port=$(free_port)
start_fbvm threads "$guest" "127.0.0.1:$port" --cmdline "mode=anim"
pids=()
for enc in raw tight zrle hextile; do
	"$VNCPROBE" --encodings "$enc" --seconds 2 --timeout 10 "127.0.0.1:$port" \
		>"$tmp/$enc.probe" 2>&1 &
	pids+=($!)
done
sleep 1
during=$(threads)
for p in "${pids[@]}"; do wait "$p" || fail "a vncprobe failed"; done
after=$(threads)
stop_fbvm
echo "with 4 clients: $during"
echo "after they left: $after"
[ "$during" = "fbvm vcpu0 vnc " ] || fail "threads with clients: '$during', want main (fbvm), vcpu0, vnc"
[ "$after" = "fbvm vcpu0 vnc " ] || fail "threads after clients: '$after'"

port=$(free_port)
"$FBVM" run --kernel "$guest" --vnc none --serial "file:$tmp/none.serial" --cmdline "mode=still" \
	</dev/null >/dev/null 2>"$tmp/none.err" &
fbvm_pid=$!
wait_serial none "frame 1"
none=$(threads)
stop_fbvm
echo "--vnc none: $none"
[ "$none" = "fbvm vcpu0 " ] || fail "threads with --vnc none: '$none', want main (fbvm), vcpu0"
[ -s "$tmp/kernel-workers" ] && echo "(not counted: the kernel's $(sort -u "$tmp/kernel-workers" | tr '\n' ' ')thread)"
exit 0
