# Helpers for the SDL window tests (tests/integration/sdl_*.sh), sourced
# after common.bash and vnc_common.bash. Each test starts its own X server
# (Debian's Xvfb) on a free display number and stops it at exit; screenshots
# are real ones of the X screen (xwd -root), read with netpbm.

# Larger than any window the tests open, so a window never leaves the screen.
XVFB_SCREEN=1600x1200x24

need_x_tools() {
	local t
	for t in Xvfb xwd xdotool xwdtopnm pnmtopng python3; do
		command -v "$t" >/dev/null || skip "$t is missing (make deps installs xvfb, x11-apps, xdotool, netpbm)"
	done
}

xvfb_pid=
sdl_cleanup() {
	vnc_cleanup
	if [ -n "$xvfb_pid" ]; then
		kill "$xvfb_pid" 2>/dev/null
		wait "$xvfb_pid" 2>/dev/null
	fi
}
trap sdl_cleanup EXIT

# start_xvfb: an X server of its own on the first display number with
# neither a socket nor a lock file; exports DISPLAY.
start_xvfb() {
	local n disp=
	for n in $(seq 70 140); do
		if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then
			disp=$n
			break
		fi
	done
	[ -n "$disp" ] || fail "no free X display number in 70..140"
	Xvfb ":$disp" -screen 0 "$XVFB_SCREEN" -nolisten tcp -noreset >"$tmp/xvfb.log" 2>&1 &
	xvfb_pid=$!
	for _ in $(seq 200); do
		[ -e "/tmp/.X11-unix/X$disp" ] && DISPLAY=":$disp" xdotool getmouselocation >/dev/null 2>&1 &&
			break
		kill -0 "$xvfb_pid" 2>/dev/null || { cat "$tmp/xvfb.log"; fail "Xvfb :$disp did not start"; }
		sleep 0.05
	done
	export DISPLAY=":$disp"
	unset WAYLAND_DISPLAY SDL_VIDEODRIVER
	# Park the pointer outside where windows open, so they get no motion
	# until a test moves it.
	xdotool mousemove 0 0
	echo "Xvfb on $DISPLAY"
}

# wait_err NAME TEXT: until fbvm's stderr has TEXT (10 s).
wait_err() {
	for _ in $(seq 200); do
		grep -q "$2" "$tmp/$1.err" 2>/dev/null && return 0
		kill -0 "$fbvm_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$tmp/$1.err"
	fail "fbvm never logged '$2'"
}

# find_window TITLE-PREFIX: sets wid (10 s).
find_window() {
	wid=
	for _ in $(seq 100); do
		wid=$(xdotool search --name "^$1" 2>/dev/null | head -n1 || true)
		[ -n "$wid" ] && return 0
		sleep 0.1
	done
	xdotool search --name . getwindowname %@ 2>/dev/null || true
	fail "no window titled '$1...'"
}

# window_geometry: sets win_x win_y win_w win_h of $wid (relative to the
# root window: there is no window manager to reparent it).
window_geometry() {
	eval "$(xdotool getwindowgeometry --shell "$wid" | sed -n 's/^\(X\|Y\|WIDTH\|HEIGHT\)=\([0-9-]*\)$/\1=\2/p')"
	win_x=$X win_y=$Y win_w=$WIDTH win_h=$HEIGHT
}

# screenshot NAME: the whole X screen as $tmp/NAME.ppm and, for people,
# $BUILD/logs/NAME.png.
screenshot() {
	xwd -root -silent >"$tmp/$1.xwd"
	xwdtopnm "$tmp/$1.xwd" >"$tmp/$1.ppm" 2>/dev/null
	mkdir -p "$BUILD/logs"
	pnmtopng "$tmp/$1.ppm" >"$BUILD/logs/$1.png" 2>/dev/null
}

# check_pixels NAME OX OY SCALE_NUM SCALE_DEN EXPECTS...: each "--expect
# X,Y,RRGGBB" (guest coordinates, vnc_common.bash's bar_expects and
# still_expects) must be the colour of the screenshot at the window pixel
# showing it: (OX + X * NUM / DEN, OY + Y * NUM / DEN), the centre of the
# block an integer scale makes. Prints the mismatches; status 1 if any.
check_pixels() {
	local name=$1 ox=$2 oy=$3 num=$4 den=$5
	shift 5
	python3 - "$tmp/$name.ppm" "$ox" "$oy" "$num" "$den" "$@" <<'PY'
import os, sys

sys.path.insert(0, os.environ["TESTS_INTEGRATION"])
from ppm import read_ppm

path, ox, oy, num, den = sys.argv[1], *map(int, sys.argv[2:6])
pixel = read_ppm(path)[2]

bad = 0
args = [a for a in sys.argv[6:] if a != "--expect"]
for spec in args:
    x, y, rgb = spec.split(",")
    # The centre of the block of window pixels that shows guest pixel x.
    sx = ox + (2 * int(x) + 1) * num // (2 * den)
    sy = oy + (2 * int(y) + 1) * num // (2 * den)
    got = "%02X%02X%02X" % pixel(sx, sy)
    if got != rgb.upper():
        print("pixel guest (%s,%s) at screen (%d,%d): %s, want %s" % (x, y, sx, sy, got, rgb))
        bad += 1
print("%d of %d pixels as expected" % (len(args) - bad, len(args)))
sys.exit(1 if bad else 0)
PY
}

# expect_screen NAME OX OY NUM DEN EXPECTS...: screenshots until the pixels
# match (the window draws asynchronously), 10 s at most.
expect_screen() {
	local name=$1
	shift
	for _ in $(seq 50); do
		screenshot "$name"
		check_pixels "$name" "$@" >"$tmp/$name.check" && { cat "$tmp/$name.check"; return 0; }
		sleep 0.2
	done
	cat "$tmp/$name.check"
	fail "the window does not show the expected picture (screenshot: $BUILD/logs/$name.png)"
}

# close_window WID: what a window manager sends when the user clicks the
# close button: a WM_DELETE_WINDOW client message (ICCCM 4.2.8.1).
close_window() {
	python3 - "$1" <<'PY'
import ctypes, sys

x11 = ctypes.CDLL("libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XInternAtom.restype = ctypes.c_ulong
x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                           ctypes.c_void_p]
x11.XFlush.argtypes = [ctypes.c_void_p]
x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

class XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]

class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]

CLIENT_MESSAGE = 33
dpy = x11.XOpenDisplay(None)
if not dpy:
    sys.exit("cannot open the X display")
wid = int(sys.argv[1])
ev = XEvent()
ev.xclient.type = CLIENT_MESSAGE
ev.xclient.window = wid
ev.xclient.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
ev.xclient.format = 32
ev.xclient.data[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
ev.xclient.data[1] = 0   # CurrentTime
if not x11.XSendEvent(dpy, wid, 0, 0, ctypes.byref(ev)):
    sys.exit("XSendEvent failed")
x11.XFlush(dpy)
x11.XCloseDisplay(dpy)
PY
}
