#!/bin/bash
# The control socket, driven as a test harness would: guests/kbd-demo (every
# scancode byte and mouse packet echoed on serial, painted on ramfb) under
# fbvm --control, with nothing but the socket (control_socket.py, and the
# `fbvm ctl` shell client): type, send-key, pointer, wait-screen, screendump
# (checked pixel for pixel against tools/vncprobe's frame), events, the
# bad-input table, 1000 pipelined commands, a client that never reads, the
# 8-client limit, a line over 64 KiB; then system_reset in place (the guest
# boots again: banner, fresh screen, keys echoed; a VNC viewer stays; twice
# in a row; while keys are typed), quit (status 0); a reset from 800x600
# back to 640x480 that a VNC viewer follows; and, in a second VM (vmmouse=1: the absolute pointer), pointer
# corners and `fbvm ctl ... quit` (status 0). Also: the
# socket is mode 0600, a stale socket is replaced, anything else at PATH is
# refused (status 2), and --log-format json writes one JSON object a line.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/kbd-demo.elf"
[ -f "$guest" ] || fail "$guest not built"
sock="$tmp/vm.sock"

# wait_exit: until fbvm ends (20 s); sets rc.
wait_exit() {
	set +e
	timeout 20 tail --pid="$fbvm_pid" -f /dev/null
	wait "$fbvm_pid"
	rc=$?
	set -e
	fbvm_pid=
}

# fbvm ctl: bad arguments exit 2, a socket nobody listens on 3.
set +e
"$FBVM" ctl 2>"$tmp/ctl-usage.err"; rc1=$?
"$FBVM" ctl "$tmp/none.sock" wait-screen --region 1,2 --color '#000000' 2>>"$tmp/ctl-usage.err"; rc2=$?
"$FBVM" ctl "$tmp/none.sock" frobnicate 2>>"$tmp/ctl-usage.err"; rc3=$?
"$FBVM" ctl "$tmp/none.sock" query-status 2>>"$tmp/ctl-usage.err"; rc4=$?
set -e
[ "$rc1 $rc2 $rc3 $rc4" = "2 2 2 3" ] || { cat "$tmp/ctl-usage.err"; fail "fbvm ctl statuses $rc1 $rc2 $rc3 $rc4, want 2 2 2 3"; }
grep -q "unknown command 'frobnicate'" "$tmp/ctl-usage.err" && grep -q "must be X,Y,W,H" "$tmp/ctl-usage.err" &&
	grep -q "none.sock: No such file or directory" "$tmp/ctl-usage.err" || { cat "$tmp/ctl-usage.err"; fail "fbvm ctl error lines"; }
echo "fbvm ctl: bad arguments exit 2, no socket exits 3, each with one line"

# Anything at PATH but a stale socket of ours is refused.
touch "$tmp/file"
set +e
"$FBVM" run --kernel "$guest" --vnc none --control "$tmp/file" --serial none 2>"$tmp/refuse.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--control on a regular file: status $rc, want 2"
grep -q "exists and is not a socket" "$tmp/refuse.err" || { cat "$tmp/refuse.err"; fail "no reason given"; }
echo "--control on a regular file: status 2: $(cat "$tmp/refuse.err")"

# The first VM logs in JSON: start_fbvm's wait for the text line would not see it.
port=$(free_port)
"$FBVM" run --kernel "$guest" --vnc "127.0.0.1:$port" --serial "file:$tmp/kbd.serial" --stats \
	--cmdline "mouse=1" --control "$sock" --log-format json </dev/null >/dev/null 2>"$tmp/kbd.err" &
fbvm_pid=$!
for _ in $(seq 200); do
	grep -q '"component":"vnc".*"message":"listening on' "$tmp/kbd.err" 2>/dev/null && break
	sleep 0.05
done
wait_serial kbd "kbd-demo: ready"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), want 600"
echo "socket $sock has mode 600"

# A second fbvm on the same PATH while the first listens: refused.
set +e
"$FBVM" run --kernel "$guest" --vnc none --control "$sock" --serial none 2>"$tmp/busy.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "another process is listening" "$tmp/busy.err" ||
	{ cat "$tmp/busy.err"; fail "a second fbvm on a live socket: status $rc"; }

python3 "$(dirname "$0")/control_socket.py" "$sock" "$tmp/kbd.serial" "$BUILD/tools/vncprobe" \
	"127.0.0.1:$port" "$tmp" drive || { cat "$tmp/kbd.err"; fail "driving the socket"; }

# The shell client: the same commands from `fbvm ctl`.
"$FBVM" ctl "$sock" query-status | grep -q '"status":"running"' || fail "fbvm ctl query-status"
"$FBVM" ctl "$sock" raw '{"execute": "query-status", "id": "mine"}' | grep -q '"control-clients":1' ||
	fail "fbvm ctl raw"
"$FBVM" ctl "$sock" type 'x\n' || fail "fbvm ctl type"
"$FBVM" ctl "$sock" send-key --hold 20 shift a || fail "fbvm ctl send-key"
"$FBVM" ctl "$sock" screendump "$tmp/ctl.png" || fail "fbvm ctl screendump"
"$FBVM" ctl "$sock" screendump - >"$tmp/ctl-stdout.png" || fail "fbvm ctl screendump -"
cmp -s <(head -c 8 "$tmp/ctl.png") <(printf '\x89PNG\r\n\x1a\n') || fail "not a PNG"
"$FBVM" ctl "$sock" wait-screen --region 0,0,8,8 --color '#202020' --timeout 2000 >/dev/null ||
	fail "fbvm ctl wait-screen region"
set +e
# A new connection's first refresh may still find the keys' drawing: once
# the screen is quiet, a change wait times out.
for _ in $(seq 20); do
	"$FBVM" ctl "$sock" wait-screen --change --timeout 200 >/dev/null 2>"$tmp/ctl.err"
	rc=$?
	[ "$rc" -ne 0 ] && break
done
"$FBVM" ctl "$sock" type 'café' 2>>"$tmp/ctl.err"
rc2=$?
set -e
[ "$rc" -eq 1 ] && grep -q "did not change in 200 ms" "$tmp/ctl.err" || { cat "$tmp/ctl.err"; fail "fbvm ctl wait-screen timeout: $rc"; }
[ "$rc2" -eq 1 ] && grep -q "text\[3\]: character 0xc3 cannot be typed" "$tmp/ctl.err" || { cat "$tmp/ctl.err"; fail "fbvm ctl type of an unmappable character: $rc2"; }
tail -n 12 "$tmp/kbd.serial" | grep -q "scancode 2a" || fail "fbvm ctl send-key shift a did not arrive"
echo "fbvm ctl: query-status, raw, type, send-key, screendump (file and stdout), wait-screen; errors exit 1"

python3 "$(dirname "$0")/control_socket.py" "$sock" "$tmp/kbd.serial" "$BUILD/tools/vncprobe" \
	"127.0.0.1:$port" "$tmp" reset || { cat "$tmp/kbd.err"; fail "system_reset"; }
kill -0 "$fbvm_pid" || fail "fbvm ended after system_reset"
"$FBVM" ctl "$sock" quit
wait_exit
[ "$rc" -eq 0 ] || { cat "$tmp/kbd.err"; fail "status $rc after system_reset and quit, want 0"; }
[ ! -e "$sock" ] || fail "the socket outlived fbvm"
grep -q "^stats: ran .* resets=4$" "$tmp/kbd.err" || { grep "^stats: ran" "$tmp/kbd.err"; fail "resets=4 in --stats"; }
echo "system_reset x4 in place, then quit: status 0, socket removed"

# --log-format json: every log line is one JSON object (stats lines aside).
python3 - "$tmp/kbd.err" <<'PY' || fail "--log-format json"
import json, sys
n, clients = 0, set()
for line in open(sys.argv[1]):
    if not line.startswith('{'):
        break   # the --stats report at exit is text
    try:
        o = json.loads(line)
    except ValueError:
        sys.exit('not JSON: %r' % line)
    assert {'time', 'level', 'component', 'thread', 'message'} <= set(o), o
    n += 1
    if o['component'] in ('control', 'vnc') and 'client' in o:
        clients.add(o['component'])
assert clients == {'control', 'vnc'}, clients
print('--log-format json: %d log lines, each one JSON object; client fields from vnc and control' % n)
PY
grep -q "^stats: control: .*refused=1 dropped=1 .*key_holds=[1-9]" "$tmp/kbd.err" || { grep "^stats: control" "$tmp/kbd.err"; fail "control stats (a refused client, a dropped one, held presses)"; }
grep -q "keys_dropped=0 " "$tmp/kbd.err" || { grep "keys_dropped" "$tmp/kbd.err"; fail "the PS/2 keyboard dropped keys"; }
grep -E "^(stats: control|thread|control|vnc) " "$tmp/kbd.err"

# Before the guest shows anything, screendump is an error, not a black picture.
start_fbvm noscreen "$guest" "127.0.0.1:$port" --control "$sock" --cmdline "screen=0"
wait_serial noscreen "kbd-demo: ready"
"$FBVM" ctl "$sock" query-status | grep -q '"device":"none"' || fail "query-status without a display"
set +e
"$FBVM" ctl "$sock" screendump "$tmp/none.png" 2>"$tmp/none.err"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "no frame yet" "$tmp/none.err" && [ ! -e "$tmp/none.png" ] ||
	{ cat "$tmp/none.err"; fail "screendump before the first frame: status $rc"; }
"$FBVM" ctl "$sock" quit
wait_exit
echo "screendump before the first frame: $(cat "$tmp/none.err")"

# A mode switch (vga-demo: 640x480, then 800x600 on the std VGA): RESIZE.
start_fbvm resize "$GUESTS/vga-demo.elf" "127.0.0.1:$port" --control "$sock" \
	--cmdline "modes=640x480,800x600 hold_ms=1000 frames=2 hold"
python3 "$(dirname "$0")/control_socket.py" "$sock" "$tmp/resize.serial" "$BUILD/tools/vncprobe" \
	"127.0.0.1:$port" "$tmp" resize || { cat "$tmp/resize.err"; fail "RESIZE"; }
wait_exit
[ "$rc" -eq 0 ] || fail "status $rc after quit, want 0"

# A reset back to the first mode: kbd-demo resize_on=1e switches ramfb to
# 800x600 after an 'a'; after system_reset it boots at 640x480 again. A VNC
# viewer connected at 800x600 follows on its connection (a desktop resize)
# and sees the new frame; the control socket gets RESIZE.
start_fbvm rreset "$guest" "127.0.0.1:$port" --control "$sock" --cmdline "resize_on=1e"
wait_serial rreset "kbd-demo: ready"
"$FBVM" ctl "$sock" type a
wait_serial rreset "kbd-demo: screen 800x600"
"$FBVM" ctl "$sock" query-status | grep -q '"width":800' || fail "kbd-demo did not switch to 800x600"
"$BUILD/tools/vncprobe" --encodings raw --timeout 30 --wait-size 640x480 --expect 0,0,202020 \
	"127.0.0.1:$port" >/dev/null 2>"$tmp/rreset.probe" &
probe=$!
for _ in $(seq 100); do
	grep -q "^vnc: client .* connected" "$tmp/rreset.err" && break
	sleep 0.05
done
grep -q "^vnc: client .* connected" "$tmp/rreset.err" || fail "vncprobe did not connect"
sleep 0.5
"$FBVM" ctl "$sock" system_reset >/dev/null
set +e
wait "$probe"
prc=$?
set -e
[ "$prc" -eq 0 ] || { cat "$tmp/rreset.probe" "$tmp/rreset.err"; fail "the VNC viewer did not follow the reset to 640x480"; }
"$FBVM" ctl "$sock" query-status | grep -q '"width":640' || fail "not 640x480 after the reset"
"$FBVM" ctl "$sock" quit
wait_exit
[ "$rc" -eq 0 ] || { cat "$tmp/rreset.err"; fail "status $rc after quit, want 0"; }
grep -q "^stats: vnc: .* clients=1 .* resizes=[1-9]" "$tmp/rreset.err" ||
	{ grep "^stats: vnc" "$tmp/rreset.err"; fail "the viewer had no desktop resize on one connection"; }
echo "system_reset from 800x600: the VNC viewer followed to 640x480 on its connection (desktop resize)"

# A stale socket (its fbvm killed) is replaced; quit through fbvm ctl.
start_fbvm stale "$guest" "127.0.0.1:$port" --control "$sock"
kill -KILL "$fbvm_pid"; wait "$fbvm_pid" 2>/dev/null || true
[ -S "$sock" ] || fail "no stale socket left behind"
start_fbvm quit "$guest" "127.0.0.1:$port" --control "$sock" --cmdline "vmmouse=1"
grep -q "replacing stale socket" "$tmp/quit.err" || { cat "$tmp/quit.err"; fail "stale socket not reported"; }
wait_serial quit "kbd-demo: ready"

# pointer through the absolute pointer (vmmouse, which kbd-demo vmmouse=1
# enables as Linux does): the guest reads the very pixels sent, corners
# included; a position past the screen is clamped to its last pixel.
for args in "0 0" "639 479 left" "320 240" "9999 9999 right,middle"; do
	# shellcheck disable=SC2086
	"$FBVM" ctl "$sock" pointer $args || fail "fbvm ctl pointer $args"
done
want="vmmouse abs 0,0 buttons=0
vmmouse abs 639,479 buttons=1
vmmouse abs 320,240 buttons=0
vmmouse abs 639,479 buttons=6"
for _ in $(seq 100); do
	got=$(sed -n 's/^kbd-demo: \(vmmouse abs [0-9,]* buttons=[0-9]*\) .*/\1/p' "$tmp/quit.serial")
	[ "$got" = "$want" ] && break
	sleep 0.05
done
[ "$got" = "$want" ] || { echo "$got"; fail "the guest did not read the pointer positions sent"; }
echo "pointer: the guest read (0,0), (639,479), (320,240) and a clamped (639,479) through vmmouse"
"$FBVM" ctl "$sock" quit || fail "fbvm ctl quit"
wait_exit
[ "$rc" -eq 0 ] || { cat "$tmp/quit.err"; fail "status $rc after quit, want 0"; }
echo "stale socket replaced; fbvm ctl quit: status 0"
