#!/bin/bash
# Debian's kernel with the busybox initramfs (tools/linux-guest.sh) boots to
# its shell on the framebuffer console, for each boot display (--display vga
# and ramfb). A VNC client (tools/vncprobe) sees the 1024x768 console with
# text on it (pixels: fbcon's grey on black, linux_pixels.py), types
# `echo typed-over-vnc > /dev/ttyS0` + Enter into the shell on tty1 with
# plain RFB key events (the '>' as Shift + '.', as a viewer sends it), and
# then `echo ext-key-typed > /dev/ttyS0` with QEMU Extended Key Events;
# both lines come out on fbvm's serial console and the picture changes.
# Then it types `poweroff` (vga) or `reboot` (ramfb), and fbvm must end
# with the status README.md documents (linux_common.bash: 0 through ACPI
# S5, 4 through the keyboard controller's reset). fbvm's --stats must count
# the keys and show every thread under half its stack (high-water marks
# with Linux as the guest).
# Needs hardware-virtualised KVM; on PVM hosts linux_in_l1.sh runs it
# inside an L1 under QEMU TCG.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/linux_common.bash"
need_kvm
need_hardware_kvm
need_vnc_tools
need_linux_guest
mkdir -p "$BUILD/logs"

for display in vga ramfb; do
	case $display in
	vga) action=poweroff want_rc=$LINUX_POWEROFF_RC want_line=$LINUX_POWEROFF_LINE ;;
	ramfb) action=reboot want_rc=$LINUX_REBOOT_RC want_line=$LINUX_REBOOT_LINE ;;
	esac
	port=$(free_port)
	start_fbvm "$display" "$LINUX_KERNEL" "127.0.0.1:$port" --display "$display" \
		--initrd "$LINUX_INITRD" --mem 512M --cmdline "$LINUX_CMDLINE"
	boot_to_shell "$display"

	# The framebuffer console: 1024x768 with the kernel's log and a prompt.
	console_png "shell_$display-before" "$tmp/$display-before.png" "$port"

	# Typed over VNC into the shell on tty1, out on ttyS0 (maybe right
	# after the serial shell's prompt, on its line).
	# shellcheck disable=SC2046
	probe "$display-type1" --encodings raw --updates 1 $(keys "echo typed-over-vnc ") "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-type1.probe"; fail "--display $display: typing failed"; }
	# shellcheck disable=SC2046
	probe "$display-type2" --encodings raw --updates 1 $(keys "> /dev/ttyS0") --key 0xff0d \
		"127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-type2.probe"; fail "--display $display: typing failed"; }
	wait_serial_for "$display" "typed-over-vnc" 30
	echo "--display $display: typed over VNC (keysyms) on the framebuffer console, seen on ttyS0"

	# shellcheck disable=SC2046
	probe "$display-ext1" --encodings raw --updates 1 $(ext_keys 'echo ext-key-typed ') "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-ext1.probe"; fail "--display $display: Extended Key Events failed"; }
	# shellcheck disable=SC2046
	probe "$display-ext2" --encodings raw --updates 1 $(ext_keys $'> /dev/ttyS0\n') "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-ext2.probe"; fail "--display $display: Extended Key Events failed"; }
	wait_serial_for "$display" "ext-key-typed" 30
	echo "--display $display: typed with Extended Key Events, seen on ttyS0"

	console_png "shell_$display-after" "$tmp/$display-after.png" "$port"
	cmp -s "$tmp/$display-before.png" "$tmp/$display-after.png" &&
		fail "--display $display: typing did not change the framebuffer console"

	# poweroff / reboot end fbvm with the documented status.
	# shellcheck disable=SC2046
	probe "$display-$action" --encodings raw --updates 1 $(keys "$action") --key 0xff0d \
		"127.0.0.1:$port"
	wait_fbvm_exit 60
	cp "$tmp/$display.serial" "$BUILD/logs/linux_shell_$display.serial"
	cp "$tmp/$display.err" "$BUILD/logs/linux_shell_$display.err"
	[ "$rc" -eq "$want_rc" ] || { tail -n 20 "$tmp/$display.serial" "$tmp/$display.err"; fail "--display $display: '$action' ended fbvm with $rc, want $want_rc"; }
	grep -q "$want_line" "$tmp/$display.serial" || fail "--display $display: no '$want_line' on serial"
	echo "--display $display: '$action' ended fbvm with status $rc ($want_line)"

	grep -E '^stats: vnc: keys=[1-9][0-9]* ext_keys=[1-9]' "$tmp/$display.err" ||
		fail "--display $display: --stats does not count both kinds of keys: $(grep '^stats: vnc: keys' "$tmp/$display.err")"
	check_stacks "$display" 50
	echo "--display $display: every thread under 50% of its stack"
done
