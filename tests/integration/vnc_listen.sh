#!/bin/bash
# Where fbvm listens, and failing clearly when it cannot:
#  - a --vnc port already in use: one line on stderr, exit status 2, and the
#    guest never ran (the socket is bound before any thread starts);
#  - malformed --vnc values: exit status 2 with the usage line;
#  - an IPv4 address opens no IPv6 socket, and [::1] listens on IPv6 only
#    (libvncserver would otherwise listen on every IPv6 interface);
#  - --vnc none: no socket at all, and the guest runs.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"

# Port in use.
port=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("ready", flush=True); time.sleep(30)' \
	"$port" >"$tmp/holder.out" &
holder=$!
for _ in $(seq 100); do grep -q ready "$tmp/holder.out" && break; sleep 0.05; done
run_limited 20 "$FBVM" run --kernel "$guest" --vnc "127.0.0.1:$port" --serial "file:$tmp/busy.serial" \
	</dev/null >/dev/null 2>"$tmp/busy.err"
kill "$holder" 2>/dev/null || true
cat "$tmp/busy.err"
[ "$rc" -eq 2 ] || fail "port in use: exit status $rc, want 2"
[ "$(cat "$tmp/busy.err")" = "fbvm: --vnc 127.0.0.1:$port: cannot listen: Address already in use" ] ||
	fail "port in use: want exactly one clear error line"
[ ! -s "$tmp/busy.serial" ] || fail "port in use: the guest ran anyway"
echo "port in use: exit 2 with a clear line, guest not started"

# Malformed values.
for bad in "5900" "localhost:5900" "::1:5900" "127.0.0.1:0" "[::1]:65536"; do
	run_limited 10 "$FBVM" run --kernel "$guest" --vnc "$bad" </dev/null >/dev/null 2>"$tmp/badarg.err"
	[ "$rc" -eq 2 ] || fail "--vnc $bad: exit status $rc, want 2"
	grep -qF "fbvm: --vnc $bad: must be ADDR:PORT" "$tmp/badarg.err" ||
		{ cat "$tmp/badarg.err"; fail "--vnc $bad: message"; }
done
echo "malformed --vnc values: exit 2 with the usage line"

# IPv4 only.
port=$(free_port)
start_fbvm v4 "$guest" "127.0.0.1:$port" --cmdline "mode=still"
grep -q "^vnc: listening on 127.0.0.1:$port (this host only)" "$tmp/v4.err" || fail "no listen line"
probe v4 --updates 1 --timeout 5 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || fail "IPv4 client not served"
have_ipv6=$(python3 -c 'import socket
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0)); print(1)
except OSError:
    print(0)')
if [ "$have_ipv6" = 1 ]; then
	probe v4-6 --updates 1 --timeout 1 "[::1]:$port"
	[ "$probe_rc" -eq 3 ] || fail "an IPv6 client reached a server bound to 127.0.0.1"
fi
stop_fbvm
echo "127.0.0.1: IPv4 served, nothing on IPv6"

# IPv6 loopback only.
if [ "$have_ipv6" = 1 ]; then
	port=$(free_port)
	start_fbvm v6 "$guest" "[::1]:$port" --cmdline "mode=still"
	grep -q "^vnc: listening on \[::1\]:$port (this host only)" "$tmp/v6.err" || fail "no IPv6 listen line"
	# shellcheck disable=SC2046
	probe v6 --wait-size 1024x768 $(bar_expects 1024 768) --timeout 10 "[::1]:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/v6.probe"; fail "IPv6 client not served"; }
	probe v6-4 --updates 1 --timeout 1 "127.0.0.1:$port"
	[ "$probe_rc" -eq 3 ] || fail "an IPv4 client reached a server bound to [::1]"
	stop_fbvm
	echo "[::1]: IPv6 served, nothing on IPv4"
else
	echo "[::1]: not tested, this host has no IPv6 loopback"
fi

# No VNC at all.
"$FBVM" run --kernel "$guest" --vnc none --cmdline "mode=still" --serial "file:$tmp/none.serial" \
	</dev/null >/dev/null 2>"$tmp/none.err" &
fbvm_pid=$!
wait_serial none "frame 1 1024x768 mode=still"
sockets=$(find /proc/"$fbvm_pid"/fd -lname 'socket:*' 2>/dev/null | wc -l)
stop_fbvm
[ "$sockets" -eq 0 ] || fail "--vnc none: fbvm holds $sockets sockets"
! grep -q "^vnc:" "$tmp/none.err" || fail "--vnc none: vnc log lines"
echo "none: no socket, the guest runs"
