#!/bin/bash
# What the SDL window (fbvm run --sdl) costs: process CPU of fbvm (all its
# threads, from /proc/PID/task/*/schedstat, nanosecond resolution) and of
# the X server drawing it, over BENCH_SDL_SECS (10) seconds after a settle
# time, for guests/ramfb-demo with a static screen (mode=still) and animated
# (mode=anim, 60 fps), each beside a run without the window. The X server is
# Xvfb on a free display number, started and stopped here.
# Usage: tools/bench_sdl.sh BUILD   (called by tools/bench.sh)
set -u
BUILD=$(cd "${1:-build}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBVM="$BUILD/fbvm"
DEMO="$BUILD/guests/ramfb-demo.elf"
SECS=${BENCH_SDL_SECS:-10}
SETTLE=${BENCH_SDL_SETTLE:-3}

if [ ! -r /dev/kvm ]; then
	echo "bench_sdl: /dev/kvm is not available; nothing to measure"
	exit 0
fi
if ! command -v Xvfb >/dev/null; then
	echo "bench_sdl: Xvfb is missing (make deps installs xvfb); nothing to measure"
	exit 0
fi

tmp=$(mktemp -d)
xvfb_pid=
fbvm_pid=
cleanup() {
	[ -n "$fbvm_pid" ] && kill -KILL "$fbvm_pid" 2>/dev/null
	[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# A display number with neither a socket nor a lock file.
for n in $(seq 90 140); do
	[ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { disp=$n; break; }
done
Xvfb ":$disp" -screen 0 1600x1200x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do
	[ -e "/tmp/.X11-unix/X$disp" ] && break
	sleep 0.05
done
export DISPLAY=":$disp"

# Nanoseconds on a CPU so far of a process's threads (those named $2 only,
# when given).
cpu_ns() {
	local sum=0 t v
	for t in /proc/"$1"/task/*; do
		[ -z "${2:-}" ] || [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] || continue
		read -r v _ <"$t/schedstat" 2>/dev/null || continue
		sum=$((sum + v))
	done
	echo "$sum"
}

row() { printf '| %-54s | %10s | %10s | %10s |\n' "$@"; }

# measure LABEL FBVM-ARGS...: one row: fbvm (all threads), its vCPU, Xvfb.
measure() {
	local label=$1
	shift
	"$FBVM" run --kernel "$DEMO" --serial none "$@" </dev/null >/dev/null 2>"$tmp/err" &
	fbvm_pid=$!
	sleep "$SETTLE"
	if ! kill -0 "$fbvm_pid" 2>/dev/null; then
		row "$label" "failed" "-" "-"
		sed 's/^/    /' "$tmp/err"
		fbvm_pid=
		return
	fi
	local f0 v0 x0 t0 f1 v1 x1 t1
	f0=$(cpu_ns "$fbvm_pid"); v0=$(cpu_ns "$fbvm_pid" vcpu0); x0=$(cpu_ns "$xvfb_pid")
	t0=$(date +%s%N)
	sleep "$SECS"
	f1=$(cpu_ns "$fbvm_pid"); v1=$(cpu_ns "$fbvm_pid" vcpu0); x1=$(cpu_ns "$xvfb_pid")
	t1=$(date +%s%N)
	kill -TERM "$fbvm_pid"
	wait "$fbvm_pid" 2>/dev/null
	fbvm_pid=
	row "$label" $(awk -v f=$((f1 - f0)) -v v=$((v1 - v0)) -v x=$((x1 - x0)) -v t=$((t1 - t0)) \
		'BEGIN { printf "%.3f %.3f %.3f", 100 * f / t, 100 * v / t, 100 * x / t }')
}

printf '\nSDL window: CPU in %% of one core over %s s (Xvfb, ramfb-demo 1024x768)\n\n' "$SECS"
row "ramfb-demo" "fbvm" "its vcpu0" "X server"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..56})" "$(printf -- '-%.0s' {1..12})" \
	"$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..12})"
measure "still, no window (--vnc none)" --cmdline mode=still --vnc none
measure "still, window (--sdl --vnc none)" --cmdline mode=still --vnc none --sdl
measure "still, window + VNC server, no client" --cmdline mode=still --sdl \
	--vnc "127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
measure "anim 60 fps, no window (--vnc none)" --cmdline "mode=anim fps=60" --vnc none
measure "anim 60 fps, window (--sdl --vnc none)" --cmdline "mode=anim fps=60" --vnc none --sdl
measure "small (64x64 block) 60 fps, window (--sdl --vnc none)" --cmdline "mode=small fps=60" \
	--vnc none --sdl
echo
echo "fbvm counts every thread; the window's own work (tracker refresh, scaling,"
echo "XShmPutImage of the changed rects) is fbvm minus its vcpu0. With a window,"
echo "vcpu0 also pays KVM dirty logging (a write-protect fault on the first write"
echo "to each framebuffer page after a refresh), as it does while a VNC client watches."

# Key-to-photon in the window: tools/sdl_latency.py sends 'a' through XTest
# (press and release alternate) and reads the window's pixels back until the
# block kbd-demo paints for that byte shows; BENCH_SDL_LATENCY_N (100)
# samples, 60-90 ms apart, the same schedule as make bench's VNC row.
KBD="$BUILD/guests/kbd-demo.elf"
LAT_N=${BENCH_SDL_LATENCY_N:-100}
# latency LABEL FBVM-ARGS...: one row, p50 and p99 in ms.
latency() {
	local label=$1 wid= out
	shift
	"$FBVM" run --kernel "$KBD" --serial "file:$tmp/kbd.serial" --sdl "$@" </dev/null >/dev/null \
		2>"$tmp/err" &
	fbvm_pid=$!
	for _ in $(seq 200); do
		grep -q "kbd-demo: ready" "$tmp/kbd.serial" 2>/dev/null && break
		sleep 0.05
	done
	for _ in $(seq 100); do
		wid=$(xdotool search --name "^kbd-demo" 2>/dev/null | head -n1 || true)
		[ -n "$wid" ] && break
		sleep 0.05
	done
	if [ -z "$wid" ] || ! grep -q "kbd-demo: ready" "$tmp/kbd.serial"; then
		row "$label" "failed" "-" "-"
		sed 's/^/    /' "$tmp/err"
	else
		xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
		sleep 0.3
		out=$(python3 "$TOP/tools/sdl_latency.py" "$wid" "$LAT_N")
		row "$label" "$(echo "$out" | sed -n 's/^latency_p50_ms=//p')" \
			"$(echo "$out" | sed -n 's/^latency_p99_ms=//p')" \
			"$(echo "$out" | sed -n 's/^latency_missed=//p')"
	fi
	kill -TERM "$fbvm_pid" 2>/dev/null
	wait "$fbvm_pid" 2>/dev/null
	fbvm_pid=
	rm -f "$tmp/kbd.serial"
}
if command -v xdotool >/dev/null && [ -f "$KBD" ]; then
	printf '\nSDL window: key-to-photon (ms, %s key events, kbd-demo 640x480; target p50 <= 5, p99 <= 10)\n\n' "$LAT_N"
	row "kbd-demo" "p50" "p99" "missed"
	printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..56})" "$(printf -- '-%.0s' {1..12})" \
		"$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..12})"
	latency "window (--sdl --vnc none: the window refreshes)" --vnc none
	latency "window + VNC server (the vnc thread refreshes)" \
		--vnc "127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
else
	echo "SDL key-to-photon: not measured (xdotool or kbd-demo missing)"
fi
