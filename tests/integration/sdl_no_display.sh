#!/bin/bash
# --sdl without a usable display is a start-up error: exit status 2, one
# line on stderr, nothing on stdout, and the guest never ran (guests/hello
# prints at once, so its serial file stays empty). Two ways to have no
# display: neither DISPLAY nor WAYLAND_DISPLAY set, and a DISPLAY no X
# server answers on. Also: --sdl=bogus is a command-line error.
set -eu
. "$(dirname "$0")/common.bash"
need_kvm
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
hello="$GUESTS/hello.elf"
[ -f "$hello" ] || fail "$hello not built"

# expect_no_window WANT ENV...: runs fbvm --sdl under env ENV...
expect_no_window() {
	local want=$1
	shift
	rm -f "$tmp/serial"
	set +e
	env "$@" "$FBVM" run --kernel "$hello" --sdl --vnc none --serial "file:$tmp/serial" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "$*: exit status $rc, want 2 (stderr: $(cat "$tmp/err"))"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: want one line on stderr, got: $(cat "$tmp/err")"
	grep -qF -- "$want" "$tmp/err" || fail "$*: stderr '$(cat "$tmp/err")' lacks '$want'"
	[ ! -s "$tmp/out" ] || fail "$*: wrote to stdout: $(cat "$tmp/out")"
	[ ! -s "$tmp/serial" ] || fail "$*: the guest ran: $(cat "$tmp/serial")"
	echo "ok: $(cat "$tmp/err")"
}

expect_no_window "fbvm: --sdl: no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)" \
	-u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER
expect_no_window "fbvm: --sdl: no display to open a window on" \
	-u SDL_VIDEODRIVER DISPLAY= WAYLAND_DISPLAY=

# A display number nobody serves: no socket, no lock file.
for n in $(seq 150 200); do
	[ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { free=$n; break; }
done
expect_no_window "fbvm: --sdl: cannot use the display (DISPLAY=:$free): " \
	-u WAYLAND_DISPLAY -u SDL_VIDEODRIVER DISPLAY=":$free"

set +e
"$FBVM" run --kernel "$hello" --sdl=bogus </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(cat "$tmp/err")" = "fbvm: --sdl=bogus: must be --sdl, --sdl=fit or --sdl=integer" ] ||
	fail "--sdl=bogus: status $rc, stderr '$(cat "$tmp/err")'"
echo "ok: $(cat "$tmp/err")"
