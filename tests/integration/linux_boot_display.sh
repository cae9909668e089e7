#!/bin/bash
# The boot display fbvm sets up for a Linux bzImage before its first
# instruction, as firmware would: with --display vga the std VGA in
# 1024x768x32 (VRAM at BAR0), with --display ramfb a ramfb config pointing
# at 3 MiB of device memory at 3 GiB. Either way a VNC client sees a
# 1024x768 black screen from the start, while Debian's kernel runs its
# decompressor (under PVM it gets no further in test time; the screen_info
# describing these framebuffers is checked by test_machine.c, and the
# console on them by linux_shell.sh on hardware KVM). --stats says which
# device shows what, and where the device memory is. A PVH guest ignores
# --display: it programs its display itself.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/linux_common.bash"
need_kvm
need_vnc_tools
need_linux_guest

for display in vga ramfb; do
	port=$(free_port)
	start_fbvm "$display" "$LINUX_KERNEL" "127.0.0.1:$port" --display "$display" \
		--cmdline "earlyprintk=ttyS0 console=ttyS0 nokaslr"
	probe "$display" --encodings raw --wait-size 1024x768 --expect 0,0,000000 \
		--expect 1023,767,000000 --expect 512,384,000000 --timeout 20 "127.0.0.1:$port"
	wait_serial "$display" "KASLR disabled"
	stop_fbvm
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display.probe" "$tmp/$display.err"; fail "--display $display: no 1024x768 screen"; }
	case $display in
	vga)
		grep -q "^vga: .* current=1024x768@0xfd000000 stride=4096 format=0x34325258$" \
			"$tmp/$display.err" || { cat "$tmp/$display.err"; fail "--display vga: the VGA shows no 1024x768 mode in VRAM"; }
		grep -q "^ramfb: .* applied=0 " "$tmp/$display.err" ||
			{ cat "$tmp/$display.err"; fail "--display vga: ramfb was programmed"; }
		grep -q "^stats: device memory: boot-fb" "$tmp/$display.err" &&
			fail "--display vga: a ramfb boot framebuffer was mapped too"
		;;
	ramfb)
		grep -q "^ramfb: .* applied=1 .* current=1024x768@0xc0000000 stride=4096 " \
			"$tmp/$display.err" || { cat "$tmp/$display.err"; fail "--display ramfb: ramfb not at 0xc0000000"; }
		grep -q "^stats: device memory: boot-fb 3072 KiB at 0xc0000000$" "$tmp/$display.err" ||
			{ cat "$tmp/$display.err"; fail "--display ramfb: no boot-fb device memory"; }
		grep -q "^vga: .* surfaces=0 " "$tmp/$display.err" ||
			{ cat "$tmp/$display.err"; fail "--display ramfb: the VGA published a surface"; }
		;;
	esac
	echo "ok: --display $display: a VNC client sees the 1024x768 boot framebuffer from the start"
done

# A PVH guest: no boot framebuffer, nothing programmed; it uses ramfb itself.
port=$(free_port)
start_fbvm pvh "$GUESTS/ramfb-demo.elf" "127.0.0.1:$port" --display vga --cmdline "mode=still"
# shellcheck disable=SC2046
probe pvh --encodings raw --wait-size 1024x768 $(bar_expects 1024 768) --timeout 20 "127.0.0.1:$port"
stop_fbvm
[ "$probe_rc" -eq 0 ] || { cat "$tmp/pvh.probe"; fail "PVH guest with --display vga: no ramfb picture"; }
grep -q "^vga: .* surfaces=0 " "$tmp/pvh.err" || { cat "$tmp/pvh.err"; fail "PVH guest: VGA mode set"; }
echo "ok: a PVH guest ignores --display (ramfb-demo shows its own ramfb)"
