#!/bin/bash
# Boots guests/ramfb-demo on fbvm and reads the screen over VNC with
# tools/vncprobe (libvncclient, 32 bpp with red at bit 16, so pixels are
# exact): every lossless encoding shows the colour bars, field, square and
# counter box of pattern.h at exactly the right places (mode=still, 1024x768
# and 800x600), and in mode=anim consecutive updates differ while the bars stay
# exact. The picture of each still run is kept in BUILD/logs for a human look.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/ramfb-demo.elf"
mkdir -p "$BUILD/logs"

for geometry in 1024x768 800x600; do
	w=${geometry%x*}; h=${geometry#*x}
	port=$(free_port)
	start_fbvm still "$guest" "127.0.0.1:$port" --cmdline "mode=still width=$w height=$h"
	wait_serial still "frame 1 ${w}x${h} mode=still"
	for enc in raw copyrect hextile zlib zrle tight rre corre; do
		# shellcheck disable=SC2046 # word lists
		probe "still-$enc" --encodings "$enc" --wait-size "$geometry" $(still_expects "$w" "$h") \
			--png "$BUILD/logs/vnc_pixels_${geometry}_$enc.png" --timeout 15 "127.0.0.1:$port"
		if [ "$probe_rc" -ne 0 ]; then
			cat "$tmp/still-$enc.probe"
			fail "$geometry $enc: pixels differ from pattern.h (vncprobe exit $probe_rc)"
		fi
		echo "$geometry $enc: $(grep -c ' ok$' "$tmp/still-$enc.probe") pixels exact," \
			"first update after $(probe_value "still-$enc" first_update_ms) ms"
	done
	stop_fbvm
	grep -q "^vnc: client .* connected" "$tmp/still.err" || fail "no 'client connected' log line"
	grep -q "^vnc: client .* disconnected" "$tmp/still.err" || fail "no 'client disconnected' log line"
done

port=$(free_port)
start_fbvm anim "$guest" "127.0.0.1:$port" --cmdline "mode=anim"
wait_serial anim "frame 1 1024x768 mode=anim"
# shellcheck disable=SC2046
probe anim --encodings raw --updates 40 --count-changes $(bar_expects 1024 768) --timeout 15 \
	"127.0.0.1:$port"
cat "$tmp/anim.probe"
[ "$probe_rc" -eq 0 ] || fail "anim: vncprobe exit $probe_rc"
changed=$(probe_value anim changed_updates)
[ "$changed" -ge 30 ] || fail "anim: only $changed of 40 updates changed the picture"
stop_fbvm
echo "anim: $changed of $(probe_value anim updates) updates changed the picture; bars exact"
