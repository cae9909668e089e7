#!/bin/bash
# Debian's kernel with the busybox initramfs (tools/linux-guest.sh) boots to
# its shell on the framebuffer console, for each boot display (--display vga
# and ramfb): a VNC client (tools/vncprobe) sees the 1024x768 console with
# text on it, types `echo typed-over-vnc > /dev/ttyS0` + Enter into the
# shell on tty1 with RFB key events (the '>' as Shift + '.', as a viewer
# sends it), and the line comes out on fbvm's serial console. Then it types
# `poweroff` (vga) or `reboot` (ramfb), and fbvm must end with the status
# README.md documents, as QEMU's -no-reboot: power-off goes through ACPI
# (drivers/acpi/sleep.c acpi_power_off: \_S5 written to the FADT's PM1a
# control block), prints "reboot: Power down", and fbvm ends with 0; reboot
# writes the FADT's reset register (0xCF9 <- 0x06, arch/x86/kernel/reboot.c
# BOOT_ACPI, tried first), so fbvm ends with 4 (reset).
# Needs hardware-virtualised KVM: skips on PVM hosts, where guest ring 0 is
# emulated and the kernel cannot boot in test time.
set -eu
. "$(dirname "$0")/common.bash"
. "$(dirname "$0")/vnc_common.bash"
. "$(dirname "$0")/linux_common.bash"
need_kvm
need_hardware_kvm
need_vnc_tools
need_linux_guest
mkdir -p "$BUILD/logs"
boot_s=120

# wait_serial_for NAME TEXT SECS: like wait_serial, with a longer limit
# counted on the clock (not in polls: on a slow host each poll costs more),
# giving up early when fbvm exits.
wait_serial_for() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -q "$2" "$tmp/$1.serial" 2>/dev/null && return 0
		kill -0 "$fbvm_pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 40 "$tmp/$1.serial" "$tmp/$1.err" 2>/dev/null || true
	fail "$1: the guest never printed '$2'"
}

# keys TEXT: --key options typing TEXT (printable ASCII) as a viewer on a US
# keyboard does: capitals and shifted symbols inside Shift down/up (fbvm maps
# a keysym to its key; the viewer sends Shift itself).
keys() {
	local text=$1 i c
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		case $c in
		[A-Z] | ['>~!@#$%^&*()_+{}|:"<?']) printf -- '--key +0xffe1 --key 0x%x --key -0xffe1 ' "'$c" ;;
		*) printf -- '--key 0x%x ' "'$c" ;;
		esac
	done
}

# lit_pixels PNG: how many pixels are not black (vncprobe writes 8-bit RGB).
lit_pixels() {
	python3 - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
        assert depth == 8 and ctype == 2, 'want 8-bit RGB'
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
raw, stride, prev, lit = zlib.decompress(idat), w * 3, bytearray(w * 3), 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - 3] if i >= 3 else 0
        b, c = prev[i], prev[i - 3] if i >= 3 else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    lit += sum(1 for x in range(w) if line[3 * x] | line[3 * x + 1] | line[3 * x + 2])
    prev = line
print(lit)
PY
}

for display in vga ramfb; do
	case $display in
	vga) action=poweroff want_rc=0 want_line="reboot: Power down" ;;
	ramfb) action=reboot want_rc=4 want_line="reboot: Restarting system" ;;
	esac
	port=$(free_port)
	start=$(date +%s)
	start_fbvm "$display" "$LINUX_KERNEL" "127.0.0.1:$port" --display "$display" \
		--initrd "$LINUX_INITRD" --mem 512M --cmdline "console=ttyS0 console=tty0"
	wait_serial_for "$display" "fbvm linux guest:" "$boot_s"
	wait_serial_for "$display" "fbvm:/# " 30
	sleep 2   # init starts the tty1 shell beside the serial one; keys for a closed tty are lost
	echo "--display $display: shell prompt on ttyS0 after $(($(date +%s) - start)) s"

	# The framebuffer console: 1024x768 with the kernel's log and a prompt on it.
	probe "$display-before" --encodings raw --wait-size 1024x768 --png "$tmp/$display-before.png" \
		--timeout 20 "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-before.probe"; fail "--display $display: no 1024x768 screen"; }
	lit=$(lit_pixels "$tmp/$display-before.png")
	cp "$tmp/$display-before.png" "$BUILD/logs/linux_shell_$display.png"
	[ "$lit" -gt 1000 ] || fail "--display $display: the console is blank ($lit lit pixels; $BUILD/logs/linux_shell_$display.png)"

	# Typed over VNC into the shell on tty1, out on ttyS0.
	# shellcheck disable=SC2046
	probe "$display-type1" --encodings raw --updates 1 $(keys "echo typed-over-vnc ") "127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-type1.probe"; fail "--display $display: typing failed"; }
	# shellcheck disable=SC2046
	probe "$display-type2" --encodings raw --updates 1 $(keys "> /dev/ttyS0") --key 0xff0d \
		"127.0.0.1:$port"
	[ "$probe_rc" -eq 0 ] || { cat "$tmp/$display-type2.probe"; fail "--display $display: typing failed"; }
	# Typed on tty1, so only the echo's output reaches ttyS0 (maybe right
	# after the serial shell's prompt, on its line).
	wait_serial_for "$display" "typed-over-vnc" 30
	probe "$display-after" --encodings raw --wait-size 1024x768 --png "$tmp/$display-after.png" \
		--timeout 20 "127.0.0.1:$port"
	cmp -s "$tmp/$display-before.png" "$tmp/$display-after.png" &&
		fail "--display $display: typing did not change the framebuffer console"
	echo "--display $display: typed over VNC on the framebuffer console, seen on ttyS0"

	# poweroff / reboot end fbvm with the documented status.
	# shellcheck disable=SC2046
	probe "$display-$action" --encodings raw --updates 1 $(keys "$action") --key 0xff0d \
		"127.0.0.1:$port"
	set +e
	timeout 60 tail --pid="$fbvm_pid" -f /dev/null
	wait "$fbvm_pid"
	rc=$?
	set -e
	fbvm_pid=
	cp "$tmp/$display.serial" "$BUILD/logs/linux_shell_$display.serial"
	[ "$rc" -eq "$want_rc" ] || { tail -n 20 "$tmp/$display.serial" "$tmp/$display.err"; fail "--display $display: '$action' ended fbvm with $rc, want $want_rc"; }
	grep -q "$want_line" "$tmp/$display.serial" || fail "--display $display: no '$want_line' on serial"
	echo "--display $display: '$action' ended fbvm with status $rc ($want_line)"
done
