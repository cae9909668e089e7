#!/bin/bash
# A real browser viewer: noVNC (Debian's novnc package) in headless Chromium
# against fbvm's WebSocket port (--vnc 127.0.0.1:PORT,websocket=WSPORT),
# serving guests/ramfb-demo mode=still. python3's http.server serves
# /usr/share/novnc; Chromium loads vnc_lite.html?host=127.0.0.1&port=WSPORT
# and takes a screenshot: it must show the eight colour bars of pattern.h
# (thousands of pixels near each bar's colour: noVNC may ask for JPEG), and
# fbvm must log the viewer's connect. Skipped without chromium or novnc
# (tools/deps.sh installs both).
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
command -v chromium >/dev/null || skip "chromium not installed (make deps)"
[ -f /usr/share/novnc/vnc_lite.html ] || skip "novnc not installed (make deps)"
command -v pngtopnm >/dev/null || skip "pngtopnm not installed (make deps)"
guest="$GUESTS/ramfb-demo.elf"

port=$(free_port)
wsport=$(free_port)
[ "$wsport" != "$port" ] || wsport=$((port + 1))
httpport=$(free_port)
start_fbvm novnc "$guest" "127.0.0.1:$port,websocket=$wsport" --cmdline "mode=still"
wait_serial novnc "frame 1"
python3 -m http.server --bind 127.0.0.1 --directory /usr/share/novnc "$httpport" \
	>"$tmp/http.log" 2>&1 &
http=$!
trap 'kill $http 2>/dev/null; vnc_cleanup' EXIT
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $httpport))" 2>/dev/null && break
	sleep 0.05
done

url="http://127.0.0.1:$httpport/vnc_lite.html?host=127.0.0.1&port=$wsport"
# Chromium as root needs --no-sandbox; its own profile in $tmp.
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$tmp/profile" --window-size=1100,900 --virtual-time-budget=8000 \
	--screenshot="$tmp/novnc.png" "$url" >"$tmp/chromium.log" 2>&1 ||
	{ tail -20 "$tmp/chromium.log"; fail "chromium failed"; }
[ -s "$tmp/novnc.png" ] || { tail -20 "$tmp/chromium.log"; fail "no screenshot"; }
pngtopnm "$tmp/novnc.png" >"$tmp/novnc.ppm"

python3 - "$tmp/novnc.ppm" <<'PY' || fail "the noVNC screenshot does not show the colour bars"
import sys
data = open(sys.argv[1], 'rb').read()
# P6 header: magic, width, height, maxval, then RGB bytes.
parts, pos = [], 0
while len(parts) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    end = pos
    while not data[end:end + 1].isspace():
        end += 1
    parts.append(data[pos:end]); pos = end
pos += 1
w, h = int(parts[1]), int(parts[2])
px = data[pos:pos + w * h * 3]
bars = {'white': (255, 255, 255), 'yellow': (255, 255, 0), 'cyan': (0, 255, 255),
        'green': (0, 255, 0), 'magenta': (255, 0, 255), 'red': (255, 0, 0),
        'blue': (0, 0, 255), 'black': (0, 0, 0)}
counts = dict.fromkeys(bars, 0)
for i in range(0, len(px), 3 * 7):           # every 7th pixel
    r, g, b = px[i], px[i + 1], px[i + 2]
    for name, (R, G, B) in bars.items():
        if abs(r - R) <= 24 and abs(g - G) <= 24 and abs(b - B) <= 24:
            counts[name] += 1
print('screenshot %dx%d; sampled pixels near each bar colour: %s' % (w, h, counts))
# One bar is 128x192 pixels: over 3000 sampled of 24576.
sys.exit(0 if all(n >= 1000 for n in counts.values()) else 1)
PY
grep -q "^vnc: client 127.0.0.1:[0-9]* connected" "$tmp/novnc.err" ||
	{ cat "$tmp/novnc.err"; fail "fbvm logged no viewer"; }
stop_fbvm
echo "noVNC in Chromium showed the guest's colour bars over fbvm's WebSocket port"
