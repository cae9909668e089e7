# Helpers for the VNC integration tests (tests/integration/vnc_*.sh), sourced
# after common.bash. Each test boots its guest on its own free port, so tests
# never collide with each other or with a VNC server already on 5900.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VNCPROBE="$BUILD/tools/vncprobe"
PATTERN_H="$TOP/guests/ramfb-demo/pattern.h"

need_vnc_tools() {
	[ -x "$VNCPROBE" ] || fail "$VNCPROBE not built (make tools)"
	command -v python3 >/dev/null || fail "python3 missing (make deps installs it)"
}

tmp=$(mktemp -d)
fbvm_pid=
vnc_cleanup() {
	[ -n "$fbvm_pid" ] && kill -KILL "$fbvm_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap vnc_cleanup EXIT

# A TCP port nobody listens on right now (the kernel's choice).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_fbvm NAME KERNEL VNC_ARG [fbvm options...]: boots in the background,
# serial to $tmp/NAME.serial, stderr to $tmp/NAME.err; sets fbvm_pid and waits
# until the VNC server listens (or fbvm died).
start_fbvm() {
	local name=$1 kernel=$2 vnc=$3
	shift 3
	"$FBVM" run --kernel "$kernel" --vnc "$vnc" --serial "file:$tmp/$name.serial" --stats "$@" \
		</dev/null >/dev/null 2>"$tmp/$name.err" &
	fbvm_pid=$!
	for _ in $(seq 200); do
		grep -q "^vnc: listening on" "$tmp/$name.err" 2>/dev/null && return 0
		kill -0 "$fbvm_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/$name.err"
	fail "fbvm ($name) did not start its VNC server"
}

# wait_serial NAME TEXT: until the guest printed TEXT (10 s).
wait_serial() {
	for _ in $(seq 200); do
		grep -q "$2" "$tmp/$1.serial" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$tmp/$1.serial" "$tmp/$1.err"
	fail "guest never printed '$2'"
}

# stop_fbvm: SIGTERM, wait (20 s at most); sets fbvm_rc.
stop_fbvm() {
	kill -TERM "$fbvm_pid" 2>/dev/null || true
	set +e
	timeout 20 tail --pid="$fbvm_pid" -f /dev/null
	wait "$fbvm_pid" 2>/dev/null
	fbvm_rc=$?
	set -e
	fbvm_pid=
}

# probe NAME ARGS...: vncprobe with a time limit; output in $tmp/NAME.probe,
# exit status in probe_rc.
probe() {
	local name=$1
	shift
	set +e
	timeout --kill-after=5 60 "$VNCPROBE" "$@" >"$tmp/$name.probe" 2>&1
	probe_rc=$?
	set -e
}

probe_value() { sed -n "s/^$2=//p" "$tmp/$1.probe" | tail -n1; }

# bar_expects W H: --expect options for the centre of each colour bar of
# guests/ramfb-demo/pattern.h at W x H (bar i: columns [i*W/8, (i+1)*W/8),
# rows [0, H/4)).
bar_expects() {
	local w=$1 h=$2 i x0 x1
	local rgb=(FFFFFF FFFF00 00FFFF 00FF00 FF00FF FF0000 0000FF 000000)
	for i in 0 1 2 3 4 5 6 7; do
		x0=$((i * w / 8)); x1=$(((i + 1) * w / 8))
		printf -- '--expect %d,%d,%s ' $(((x0 + x1) / 2)) $((h / 8)) "${rgb[$i]}"
		printf -- '--expect %d,%d,%s ' "$x0" 0 "${rgb[$i]}"
		printf -- '--expect %d,%d,%s ' $((x1 - 1)) $((h / 4 - 1)) "${rgb[$i]}"
	done
}

# still_expects W H: bars plus field, square and counter box of mode=still.
still_expects() {
	local w=$1 h=$2 top=$(($2 / 4))
	local sq_y=$((top + (h - top - 64) / 2))
	bar_expects "$w" "$h"
	printf -- '--expect %d,%d,202020 ' $((w - 1)) $((h - 1))     # field
	printf -- '--expect %d,%d,202020 ' $((w / 2)) "$top"
	printf -- '--expect %d,%d,FFFFFF ' 8 "$sq_y"                  # square at frame 1: x = 8
	printf -- '--expect %d,%d,FFFFFF ' 71 $((sq_y + 63))
	printf -- '--expect %d,%d,202020 ' 72 "$sq_y"
	printf -- '--expect %d,%d,000000 ' 16 $((top + 16))           # counter box corner
}
