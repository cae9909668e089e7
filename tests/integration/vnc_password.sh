#!/bin/bash
# --vnc-password-file and --vnc-insecure, with real viewers (boots
# guests/ramfb-demo mode=still):
#  - the file's rules: missing, unreadable, a directory, readable or writable
#    by group or others, an empty first line: exit status 2 and one line
#    "fbvm: --vnc-password-file PATH: ...", the guest never runs;
#  - a non-loopback --vnc without a password or --vnc-insecure: exit 2, one
#    line naming both options; with --vnc-insecure it starts (and warns);
#  - a password longer than 8 characters: one warning line; viewers that
#    truncate it the same way get in;
#  - libvncclient (tools/vncprobe --password-file), vncsnapshot -passwd (a
#    vncpasswd -f file) and TigerVNC's vncviewer -passwd under Xvfb see the
#    exact pixels with the right password; wrong or no password is refused
#    and logged with the client's address;
#  - the password is nowhere in fbvm's output, --stats or its argv/environ.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/sdl_common.bash"
need_kvm
need_vnc_tools
command -v vncsnapshot >/dev/null || fail "vncsnapshot missing (make deps installs it)"
command -v vncpasswd >/dev/null || fail "vncpasswd missing (make deps installs tigervnc-tools)"
command -v jpegtopnm >/dev/null || fail "jpegtopnm missing (netpbm; make deps installs it)"
guest="$GUESTS/ramfb-demo.elf"
secret="s3cr3tPW-and-then-some"      # VNC authentication uses "s3cr3tPW"

umask 077
printf '%s\n' "$secret" >"$tmp/pw"
printf '%s\n' "${secret:0:8}" >"$tmp/pw8"          # what viewers actually use
printf 'wrong-one\n' >"$tmp/wrong"
printf '%s\n' "${secret:0:8}" | vncpasswd -f >"$tmp/pw.vnc"
printf 'wrong-one\n' | vncpasswd -f >"$tmp/wrong.vnc"

# expect_refusal WANT ARGS...: exit 2, exactly one line on stderr containing
# WANT, nothing on stdout, the guest never ran.
expect_refusal() {
	local want=$1
	shift
	rm -f "$tmp/refused.serial"
	run_limited 20 "$FBVM" run --kernel "$guest" --serial "file:$tmp/refused.serial" "$@" \
		</dev/null >"$tmp/refused.out" 2>"$tmp/refused.err"
	[ "$rc" -eq 2 ] || { cat "$tmp/refused.err"; fail "fbvm $*: exit status $rc, want 2"; }
	[ "$(wc -l <"$tmp/refused.err")" -eq 1 ] ||
		fail "fbvm $*: want one line on stderr, got: $(cat "$tmp/refused.err")"
	grep -qF -- "$want" "$tmp/refused.err" ||
		fail "fbvm $*: stderr '$(cat "$tmp/refused.err")' lacks '$want'"
	[ ! -s "$tmp/refused.out" ] || fail "fbvm $*: wrote to stdout"
	[ ! -s "$tmp/refused.serial" ] || fail "fbvm $*: the guest ran"
	echo "refused: $(cat "$tmp/refused.err")"
}

# ---- the file's rules and the listening rule
port=$(free_port)
mkdir "$tmp/dir"
: >"$tmp/empty"
printf '\nsecond line\n' >"$tmp/emptyline"
expect_refusal "fbvm: --vnc-password-file $tmp/missing: No such file or directory" \
	--vnc "127.0.0.1:$port" --vnc-password-file "$tmp/missing"
expect_refusal "fbvm: --vnc-password-file $tmp/dir: not a regular file" \
	--vnc "127.0.0.1:$port" --vnc-password-file "$tmp/dir"
for mode in 644 640 604 620 602; do
	cp "$tmp/pw" "$tmp/pw$mode"
	chmod "$mode" "$tmp/pw$mode"
	expect_refusal "fbvm: --vnc-password-file $tmp/pw$mode: mode 0$mode lets group or others read or write it" \
		--vnc "127.0.0.1:$port" --vnc-password-file "$tmp/pw$mode"
done
expect_refusal "fbvm: --vnc-password-file $tmp/empty: the first line is empty" \
	--vnc "127.0.0.1:$port" --vnc-password-file "$tmp/empty"
expect_refusal "fbvm: --vnc-password-file $tmp/emptyline: the first line is empty" \
	--vnc "127.0.0.1:$port" --vnc-password-file "$tmp/emptyline"
if [ "$(id -u)" != 0 ]; then
	cp "$tmp/pw" "$tmp/unreadable"
	chmod 000 "$tmp/unreadable"
	expect_refusal "fbvm: --vnc-password-file $tmp/unreadable: Permission denied" \
		--vnc "127.0.0.1:$port" --vnc-password-file "$tmp/unreadable"
else
	echo "unreadable file: not tested as root (root reads any file)"
fi
expect_refusal "fbvm: --vnc 0.0.0.0:$port: listening beyond this host needs --vnc-password-file PATH, or --vnc-insecure" \
	--vnc "0.0.0.0:$port"
expect_refusal "fbvm: --vnc-password-file: needs a VNC server (not --vnc none)" \
	--vnc none --vnc-password-file "$tmp/pw"

# --vnc-insecure: starts, and says so.
start_fbvm insecure "$guest" "0.0.0.0:$port" --cmdline "mode=still" --vnc-insecure
grep -q "^vnc: warning: no password (--vnc-insecure): anyone who reaches 0.0.0.0:$port controls" \
	"$tmp/insecure.err" || { cat "$tmp/insecure.err"; fail "--vnc-insecure: no warning"; }
probe insecure --updates 1 --timeout 10 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/insecure.probe"; fail "--vnc-insecure: client not served"; }
stop_fbvm
echo "--vnc-insecure: listens on 0.0.0.0 without a password, with a warning"

# ---- a server with a password
port=$(free_port)
while [ "$port" -lt 5900 ]; do port=$(free_port); done   # vncsnapshot takes a display number
start_fbvm pw "$guest" "127.0.0.1:$port" --cmdline "mode=still" --vnc-password-file "$tmp/pw"
wait_serial pw "frame 1 1024x768 mode=still"
grep -q "^vnc: warning: --vnc-password-file $tmp/pw: the password is longer than 8 characters; VNC authentication uses only the first 8$" \
	"$tmp/pw.err" || { cat "$tmp/pw.err"; fail "no warning about the 8-character limit"; }
[ "$(grep -c 'longer than 8' "$tmp/pw.err")" -eq 1 ] || fail "the 8-character warning is not one line"

# libvncclient: right password (the whole line, and its first 8), exact pixels.
for f in pw pw8; do
	# shellcheck disable=SC2046
	probe "right-$f" --password-file "$tmp/$f" --wait-size 1024x768 $(still_expects 1024 768) \
		--timeout 10 "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/right-$f.probe"; fail "vncprobe with the password ($f) not served"; }
done
echo "vncprobe --password-file: exact pixels with the password and with its first 8 characters"

# No password, wrong password: refused (status 5), failures logged with the address.
probe nopw --updates 1 --timeout 5 "127.0.0.1:$port"
[ "$probe_rc" -eq 5 ] || { cat "$tmp/nopw.probe"; fail "vncprobe without a password: status $probe_rc, want 5"; }
probe wrong --password-file "$tmp/wrong" --updates 1 --timeout 5 "127.0.0.1:$port"
[ "$probe_rc" -eq 5 ] || { cat "$tmp/wrong.probe"; fail "vncprobe with a wrong password: status $probe_rc, want 5"; }
grep -qE "^vnc: warning: client 127\.0\.0\.1:[0-9]+ failed VNC authentication \(1 in a row from its address\)$" \
	"$tmp/pw.err" || { cat "$tmp/pw.err"; fail "the failed authentication was not logged with the address"; }
echo "vncprobe without or with a wrong password: refused, logged with the address"

# vncsnapshot -passwd (vncpasswd's obfuscated format), raw, lossless transmission.
set +e
timeout 30 vncsnapshot -quiet -quality 100 -nojpeg -encodings raw -passwd "$tmp/pw.vnc" \
	"127.0.0.1:$((port - 5900))" "$tmp/snap.jpg" >"$tmp/snap.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$tmp/snap.log"; fail "vncsnapshot -passwd: exit $rc"; }
jpegtopnm "$tmp/snap.jpg" >"$tmp/snap.ppm" 2>/dev/null || fail "jpegtopnm cannot read snap.jpg"
python3 - "$tmp/snap.ppm" <<'PY' || fail "vncsnapshot -passwd: the picture differs from pattern.h"
import sys
data = open(sys.argv[1], 'rb').read()
fields, pos = [], 0
while len(fields) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    start = pos
    while not data[pos:pos + 1].isspace():
        pos += 1
    fields.append(data[start:pos])
pos += 1
w, h = int(fields[1]), int(fields[2])
assert (w, h) == (1024, 768), (w, h)
bars = [0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000]
for i, c in enumerate(bars):
    x, y = 64 + 128 * i, 96
    j = pos + (y * w + x) * 3
    got = tuple(data[j:j + 3])
    want = ((c >> 16) & 255, (c >> 8) & 255, c & 255)
    # vncsnapshot writes only JPEG: within 4 of each bar's colour.
    if max(abs(a - b) for a, b in zip(got, want)) > 4:
        sys.exit('bar %d: %s, want %s' % (i, got, want))
print('vncsnapshot -passwd: the 8 colour bars as pattern.h draws them')
PY
set +e
timeout 30 vncsnapshot -quiet -passwd "$tmp/wrong.vnc" "127.0.0.1:$((port - 5900))" \
	"$tmp/wrong.jpg" >"$tmp/wrongsnap.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && [ ! -s "$tmp/wrong.jpg" ] || fail "vncsnapshot with a wrong password: exit $rc, a picture"
echo "vncsnapshot with a wrong password: refused (exit $rc)"

# TigerVNC's viewer under Xvfb, raw encoding in full colour: exact pixels.
if command -v vncviewer >/dev/null && command -v Xvfb >/dev/null && command -v xdotool >/dev/null &&
	command -v xwd >/dev/null && command -v xwdtopnm >/dev/null; then
	start_xvfb
	vncviewer -passwd "$tmp/pw.vnc" -AutoSelect=0 -PreferredEncoding=raw -FullColor=1 \
		-Shared=1 "127.0.0.1::$port" >"$tmp/tiger.log" 2>&1 &
	tiger_pid=$!
	find_window "fbvm"
	window_geometry
	# shellcheck disable=SC2046
	expect_screen tigervnc "$win_x" "$win_y" 1 1 $(still_expects 1024 768)
	kill "$tiger_pid" 2>/dev/null || true
	wait "$tiger_pid" 2>/dev/null || true
	echo "TigerVNC vncviewer -passwd: exact pixels"
else
	echo "TigerVNC: not tested (make deps installs tigervnc-viewer, xvfb, x11-apps, xdotool, netpbm)"
fi

# The password is nowhere but in its file.
tr '\0' ' ' <"/proc/$fbvm_pid/cmdline" >"$tmp/cmdline"
tr '\0' '\n' <"/proc/$fbvm_pid/environ" >"$tmp/environ"
stop_fbvm
for f in pw.err pw.serial cmdline environ; do
	! grep -qF "${secret:0:8}" "$tmp/$f" || fail "the password appears in $f"
done
grep -qE "^stats: vnc: auth passed=[0-9]+ failed=[0-9]+ refused=" "$tmp/pw.err" ||
	fail "--stats: no auth line"
passed=$(sed -n 's/^stats: vnc: auth passed=\([0-9]*\) failed=\([0-9]*\).*/\1/p' "$tmp/pw.err")
failed=$(sed -n 's/^stats: vnc: auth passed=\([0-9]*\) failed=\([0-9]*\).*/\2/p' "$tmp/pw.err")
[ "$failed" -ge 2 ] && [ "$passed" -ge 3 ] || fail "--stats: passed=$passed failed=$failed"
echo "the password is in no log line, --stats line, argv or environment (passed=$passed failed=$failed)"

# ---- brute force: 1000 wrong guesses against a good viewer's update rate
# The attacker connects from another loopback address (all of 127/8 is this
# host), one connection at a time, 100 a second, and sends its
# ProtocolVersion as soon as it connects (before the server's). Every
# connection costs the vnc loop what libvncserver 0.9.14's accept path
# costs: it waits up to 100 ms for a WebSocket upgrade from a client that
# waits for the server to speak, and counts open file descriptors up to the
# soft RLIMIT_NOFILE with one fcntl() each (2.2 ms per connection measured
# at this host's 20000; 0.1 ms at the usual 1024). Those are issue 9's
# accept rework and vnc_bad_clients.sh's subject; the pipelined version and
# fbvm running with the usual soft limit of 1024 keep this test on the
# password path. The good viewer (vncprobe with the
# password, from 127.0.0.1) watches mode=small (one 64x64 block per frame at
# 60 fps) for 5 s alone, 10 s during the attack and 5 s alone again; during
# the attack it must keep 95% of the mean of its two rates alone, and no
# guess may get in. The machine is shared, so a round
# whose rates are disturbed by other load is repeated (3 rounds at most,
# each attacker from a fresh address); the security assertions hold in
# every round. Then, while the attacker's address waits, a viewer from
# 127.0.0.1 gets in and the attacker is refused: the back-off is per address.
cat >"$tmp/brute.py" <<'PY'
import os, socket, sys, time
port, src, attempts, rate, limit_s = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5])
out = {'refused': 0, 'failed': 0, 'succeeded': 0, 'errors': 0}

def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

start = time.monotonic()
for i in range(attempts):
    now = time.monotonic()
    if now - start > limit_s:
        break
    # Pace: attempt i no earlier than i / rate seconds after the start.
    if i / rate > now - start:
        time.sleep(i / rate - (now - start))
    s = socket.socket()
    s.settimeout(5)
    try:
        s.bind((src, 0))
        s.connect(('127.0.0.1', port))
        s.sendall(b'RFB 003.008\n')
        recvn(s, 12)
        try:
            n = recvn(s, 1)[0]
        except (EOFError, ConnectionResetError):
            out['refused'] += 1          # closed after the version: waiting
            continue
        types = recvn(s, n)
        assert 2 in types and 1 not in types, types   # VNC auth only, never None
        s.sendall(b'\x02')
        recvn(s, 16)                     # the challenge
        s.sendall(os.urandom(16))        # a wrong guess
        result = int.from_bytes(recvn(s, 4), 'big')
        out['succeeded' if result == 0 else 'failed'] += 1
    except (OSError, EOFError, AssertionError) as e:
        out['errors'] += 1
        print('attempt %d: %r' % (i, e), file=sys.stderr)
    finally:
        s.close()
out['attempts'] = sum(out.values())
out['seconds'] = round(time.monotonic() - start, 2)
print(' '.join('%s=%s' % kv for kv in out.items()))
PY

port=$(free_port)
[ "$(ulimit -S -n)" -le 1024 ] || ulimit -S -n 1024
start_fbvm bf "$guest" "127.0.0.1:$port" --cmdline "mode=small" --vnc-password-file "$tmp/pw"
wait_serial bf "frame 1 1024x768 mode=small"
rate_of() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / float(sys.argv[2])))" \
	"$(probe_value "$1" steady_updates)" "$(probe_value "$1" steady_seconds)"; }
viewer_alone() {   # viewer_alone NAME: 5 s, sets rate
	probe "$1" --password-file "$tmp/pw" --seconds 5 --timeout 20 "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$1.probe"; fail "the good viewer alone was not served"; }
	rate=$(rate_of "$1")
}
# brute_round N SRC: one round; sets ok=1 when the rate held.
brute_round() {
	local n=$1 src=$2 viewer brute viewer_rc before after attacked
	local refused failed succeeded errors attempts
	viewer_alone "alone$n"; before=$rate
	"$VNCPROBE" --password-file "$tmp/pw" --seconds 10.5 --timeout 30 "127.0.0.1:$port" \
		>"$tmp/attacked$n.probe" 2>&1 &
	viewer=$!
	sleep 0.3
	timeout 30 python3 "$tmp/brute.py" "$port" "$src" 1000 100 10.1 >"$tmp/brute$n.out" \
		2>"$tmp/attack$n.err" &
	brute=$!
	wait "$brute" || { cat "$tmp/attack$n.err"; fail "the brute-force client failed"; }
	set +e
	wait "$viewer"
	viewer_rc=$?
	set -e
	[ "$viewer_rc" -eq 0 ] || { cat "$tmp/attacked$n.probe"; fail "the good viewer lost its connection during the attack"; }
	attacked=$(rate_of "attacked$n")
	viewer_alone "again$n"; after=$rate
	echo "round $n, attacker $src: $(cat "$tmp/brute$n.out")"
	echo "round $n: good viewer $before updates/s alone, $attacked during the attack, $after alone again"
	eval "$(tr ' ' '\n' <"$tmp/brute$n.out" | grep -E '^(refused|failed|succeeded|errors|attempts)=[0-9]+$')"
	[ "$succeeded" -eq 0 ] || fail "a guess got in"
	[ "$errors" -eq 0 ] || { cat "$tmp/attack$n.err"; fail "$errors attempts ended in errors"; }
	[ "$attempts" -ge 900 ] || fail "only $attempts attempts in the time limit"
	# 3 free failures, then one each after the 1, 2 and 4 s waits: at most
	# 6 guesses are checked in 10.1 s; the rest is refused at connect.
	[ "$failed" -le 6 ] && [ "$refused" -ge $((attempts - 6)) ] ||
		fail "failed=$failed refused=$refused: the back-off let too many guesses through"
	ok=0
	python3 -c "import sys; a, b, c = map(float, sys.argv[1:]); sys.exit(0 if b >= 0.95 * (a + c) / 2 else 1)" \
		"$before" "$attacked" "$after" && ok=1
	return 0
}
ok=0
for n in 1 2 3; do
	brute_round "$n" "127.0.0.$((n + 1))"
	[ "$ok" -eq 1 ] && break
done
[ "$ok" -eq 1 ] || fail "the attack slowed the good viewer below 95% in 3 rounds"
echo "the good viewer kept at least 95% of its rate during the attack (round $n)"
# The last attacker's wait may have ended while the viewer watched alone:
# make it wait again (its next wait is 8 s), then a viewer from 127.0.0.1
# gets in and it does not.
src="127.0.0.$((n + 1))"
timeout 30 python3 "$tmp/brute.py" "$port" "$src" 3 50 5 >"$tmp/brute-last.out" 2>&1 ||
	{ cat "$tmp/brute-last.out"; fail "the attacker's last guesses failed"; }
probe after --password-file "$tmp/pw" --updates 1 --timeout 5 "127.0.0.1:$port"
[ "$probe_rc" -eq 0 ] || { cat "$tmp/after.probe"; fail "a viewer from another address could not connect while the attacker waits"; }
timeout 10 python3 "$tmp/brute.py" "$port" "$src" 1 1 5 >"$tmp/brute2.out" 2>&1 ||
	{ cat "$tmp/brute2.out"; fail "the attacker's last try failed"; }
grep -q "refused=1 " "$tmp/brute2.out" || { cat "$tmp/brute-last.out" "$tmp/brute2.out"; fail "the waiting address was not refused"; }
echo "while $src waits: a viewer from 127.0.0.1 gets in, $src is refused"
stop_fbvm
grep -q "^vnc: warning: client 127\.0\.0\.[234]:[0-9]* refused: its address failed VNC authentication" "$tmp/bf.err" ||
	fail "refusals were not logged"
logged=$(grep -c "client 127\.0\.0\.[234]:" "$tmp/bf.err")
# Unlimited, every refusal would be a line (about 1000 a round); the limit
# is 5 lines per 5 s per kind of event.
[ "$logged" -le $((100 * n)) ] || fail "$logged log lines about the attackers: not rate-limited"
grep "^stats: vnc: auth" "$tmp/bf.err"
echo "brute force: no guess got in; $logged log lines about the attackers"
