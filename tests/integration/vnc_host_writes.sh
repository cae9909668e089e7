#!/bin/bash
# What fbvm itself writes into the shown framebuffer reaches a viewer that is
# already connected. guests/kbd-demo with dma=1 fills a 32-line band of its
# screen with a fw_cfg DMA read on each key press (a host-side write, which
# KVM's dirty log never sees) and repaints it with the CPU on the release.
# For ramfb (guest RAM) and the std VGA (VRAM), and for every encoding, a
# tools/vncprobe viewer connects, sees the band in the background colour,
# presses a key and must then receive the band: "QEMU" in its first pixel,
# black after. Disconnecting releases the key (the band is repainted) before
# the next encoding's viewer connects.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
need_kvm
need_vnc_tools
guest="$GUESTS/kbd-demo.elf"
[ -f "$guest" ] || fail "$guest not built"

w=640 h=480
band_y=$((h - 64))   # kbd_pattern_band_y() in guests/kbd-demo/pattern.h
# Lossless encodings: exact pixels anywhere. Lossy ones (tight with JPEG,
# ZYWRLE): the inside of the black band, where a flat block decodes exactly.
exact="--expect 0,$band_y,4D4551 --expect 1,$band_y,000000 --expect 320,$((band_y + 16)),000000"
exact="$exact --expect 639,$((band_y + 31)),000000 --expect 320,$((band_y - 1)),202020"
exact="$exact --expect 320,$((band_y + 32)),202020"
inner="--expect 320,$((band_y + 16)),000000 --expect 100,$((band_y + 12)),000000"

for display in ramfb vga; do
	port=$(free_port)
	start_fbvm "$display" "$guest" "127.0.0.1:$port" --cmdline "dma=1 display=$display"
	wait_serial "$display" "kbd-demo: ready"
	i=0
	for enc in raw copyrect hextile zlib zlibhex tight zrle ultra rre corre "tight q" zywrle; do
		i=$((i + 1))
		case $enc in
		"tight q") args="--encodings tight --quality 5 $inner" ;;
		zywrle)    args="--encodings zywrle $inner" ;;
		*)         args="--encodings $enc $exact" ;;
		esac
		# shellcheck disable=SC2086 # word lists
		probe "$display-$i" $args --key +0x61 --timeout 15 "127.0.0.1:$port"
		if [ "$probe_rc" -ne 0 ]; then
			cat "$tmp/$display-$i.probe" "$tmp/$display.serial"
			fail "$display $enc: the DMA-filled band never reached the connected viewer"
		fi
		echo "$display $enc: band received $(probe_value "$display-$i" met_ms) ms after connecting" \
			"($(probe_value "$display-$i" updates) updates)"
		# The viewer's disconnect released the key: wait for the repaint.
		for _ in $(seq 200); do
			[ "$(grep -c "band repainted" "$tmp/$display.serial")" -ge "$i" ] && break
			sleep 0.05
		done
		[ "$(grep -c "band repainted" "$tmp/$display.serial")" -ge "$i" ] ||
			fail "$display $enc: the band was not repainted after the viewer left"
	done
	[ "$(grep -c "kbd-demo: dma band ok" "$tmp/$display.serial")" -eq "$i" ] ||
		fail "$display: the guest did not read back its DMA band $i times"
	stop_fbvm
	pages=$(sed -n 's/^stats: tracker: .* host_written_pages=\([0-9]*\) .*/\1/p' "$tmp/$display.err")
	echo "$display: tracker took $pages host-written pages"
	[ "${pages:-0}" -ge $((i * 20)) ] || fail "$display: host_written_pages=$pages, want the bands' pages"
done
