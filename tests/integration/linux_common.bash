# Helpers for the Linux guest tests (tests/integration/linux_*.sh), sourced
# after common.bash.
LINUX_KERNEL="$BUILD/linux/vmlinuz"
LINUX_INITRD="$BUILD/linux/initramfs.cpio.gz"

# need_linux_guest: Debian's kernel and the busybox initramfs
# (tools/linux-guest.sh), fetched once (make linux-guest or an earlier run)
# and again when the script changed; skips when they cannot be downloaded.
need_linux_guest() {
	local top rc=0
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	mkdir -p "$BUILD/logs"
	if [ ! "$LINUX_KERNEL" -nt "$top/tools/linux-guest.sh" ] || [ ! -f "$LINUX_INITRD" ]; then
		set +e
		"$top/tools/linux-guest.sh" "$BUILD" >"$BUILD/logs/linux-guest.log" 2>&1
		rc=$?
		set -e
	fi
	case $rc in
	0) ;;
	3) skip "Debian's kernel could not be downloaded: $(tail -n1 "$BUILD/logs/linux-guest.log")" ;;
	*) cat "$BUILD/logs/linux-guest.log"; fail "tools/linux-guest.sh exited $rc" ;;
	esac
}

# need_hardware_kvm: runs the test where KVM is hardware-virtualised (VMX or
# SVM; inside the L1 that linux_in_l1.sh starts, too). On PVM hosts
# (kvm_pvm), where guest ring 0 is emulated at about 0.5 M instructions/s and
# a stock kernel cannot boot in test time, and where /dev/kvm is absent, it
# skips: linux_in_l1.sh runs the test there inside an L1 under QEMU TCG.
need_hardware_kvm() {
	if [ -e /sys/module/kvm_pvm ]; then
		skip "KVM here is PVM (guest ring 0 emulated): linux_in_l1.sh runs this test inside an L1 under QEMU TCG"
	fi
	[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
		skip "/dev/kvm is not available: linux_in_l1.sh runs this test inside an L1 under QEMU TCG"
}

# What a Linux guest's poweroff and reboot end fbvm with (README, exit
# status): with ACPI (hypervisor/acpi_tables.c) Linux powers off through the
# FADT's PM1a control block, status 0, and prints "reboot: Power down";
# reboot writes the FADT's reset register first (arch/x86/kernel/reboot.c
# BOOT_ACPI: 0x06 to port 0xCF9, "guest reset: port 0xCF9 hard reset"),
# status 4, as the i8042 pulse it falls back to would give.
LINUX_POWEROFF_RC=0
LINUX_POWEROFF_LINE="reboot: Power down"
LINUX_REBOOT_RC=4
LINUX_REBOOT_LINE="reboot: Restarting system"
# The command line the tests boot with: the kernel's log on both consoles.
LINUX_CMDLINE="console=ttyS0 console=tty0"
# Seconds from fbvm's start to the guest's banner: about 25 s inside the L1
# that linux_in_l1.sh starts on a busy host, 2 s on hardware KVM.
LINUX_BOOT_SECS=150

# wait_serial_for NAME TEXT SECS: until the guest printed TEXT on serial
# ($tmp/NAME.serial, vnc_common.bash's start_fbvm), a limit counted on the
# clock (not in polls: on a slow host each poll costs more), giving up
# early when fbvm exits.
wait_serial_for() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -q "$2" "$tmp/$1.serial" 2>/dev/null && return 0
		kill -0 "$fbvm_pid" 2>/dev/null || break
		sleep 0.1
	done
	linux_failure_evidence "$1"
	fail "$1: the guest never printed '$2'"
}

# linux_failure_evidence NAME: what the screen showed (a PNG in BUILD/logs,
# when a VNC port is known), then fbvm stopped with SIGTERM so its --stats
# (keys delivered or dropped, devices) are in the log, then the tails.
linux_failure_evidence() {
	if [ -n "${port:-}" ] && kill -0 "${fbvm_pid:-0}" 2>/dev/null; then
		probe "$1-failed" --encodings raw --seconds 2 --png "$BUILD/logs/linux_$1-failed.png" \
			--timeout 10 "127.0.0.1:$port"
		echo "$1: the screen at the failure: $BUILD/logs/linux_$1-failed.png (vncprobe exit $probe_rc)"
	fi
	if [ -n "${fbvm_pid:-}" ] && kill -0 "$fbvm_pid" 2>/dev/null; then
		stop_fbvm
		fbvm_pid=
	fi
	tail -n 60 "$tmp/$1.serial" "$tmp/$1.err" 2>/dev/null || true
}

# boot_to_shell NAME: after start_fbvm, until the busybox shells run on
# ttyS0 and tty1.
boot_to_shell() {
	local start=$SECONDS
	wait_serial_for "$1" "fbvm linux guest:" "$LINUX_BOOT_SECS"
	wait_serial_for "$1" "fbvm:/# " 60
	# init starts the tty1 shell beside the serial one; keys typed before
	# it reads the tty are lost.
	sleep 2
	echo "$1: shell prompt on ttyS0 after $((SECONDS - start)) s"
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

# ext_keys TEXT: the same as QEMU Extended Key Events (keysym and the key's
# QEMU number, its scan code set 1 code), for letters (capitals inside
# Shift down/up), digits, space, '-', '.', '/', '>' (Shift + '.') and '\n'
# (Return).
ext_keys() {
	local text=$1 i c q
	local -A qnum=([a]=0x1e [b]=0x30 [c]=0x2e [d]=0x20 [e]=0x12 [f]=0x21 [g]=0x22 [h]=0x23
		[i]=0x17 [j]=0x24 [k]=0x25 [l]=0x26 [m]=0x32 [n]=0x31 [o]=0x18 [p]=0x19 [q]=0x10
		[r]=0x13 [s]=0x1f [t]=0x14 [u]=0x16 [v]=0x2f [w]=0x11 [x]=0x2d [y]=0x15 [z]=0x2c
		[1]=0x02 [2]=0x03 [3]=0x04 [4]=0x05 [5]=0x06 [6]=0x07 [7]=0x08 [8]=0x09 [9]=0x0a
		[0]=0x0b [-]=0x0c [.]=0x34 [/]=0x35 [' ']=0x39)
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		case $c in
		$'\n') printf -- '--ext-key 0xff0d,0x1c ' ;;
		'>') printf -- '--ext-key +0xffe1,0x2a --ext-key 0x3e,0x34 --ext-key -0xffe1,0x2a ' ;;
		[A-Z])
			q=${qnum[${c,,}]}
			printf -- '--ext-key +0xffe1,0x2a --ext-key 0x%x,%s --ext-key -0xffe1,0x2a ' "'$c" "$q" ;;
		*)
			q=${qnum[$c]:-}
			[ -n "$q" ] || fail "ext_keys: no key for '$c'"
			printf -- '--ext-key 0x%x,%s ' "'$c" "$q" ;;
		esac
	done
}

# wait_fbvm_exit SECS: until fbvm ends; sets rc to its exit status (124 and
# fbvm killed when it did not end in time).
wait_fbvm_exit() {
	local end=$((SECONDS + $1))
	while kill -0 "$fbvm_pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	if kill -0 "$fbvm_pid" 2>/dev/null; then
		kill -KILL "$fbvm_pid"
		wait "$fbvm_pid" 2>/dev/null || true
		rc=124
	else
		set +e
		wait "$fbvm_pid"
		rc=$?
		set -e
	fi
	fbvm_pid=
}

# check_stacks NAME PCT: every thread in fbvm's --stats table ($tmp/NAME.err)
# used under PCT% of its stack, and vcpu0 and vnc are among them. Prints
# the table.
check_stacks() {
	local err=$tmp/$1.err
	awk '$1 == "thread" && $2 == "stack" { on = 1 } on && NF == 0 { on = 0 } on' "$err" |
		sed '/^stats:/,$d'
	awk '$4 ~ /^[0-9.]+%$/ && $2 ~ /^[0-9]+$/' "$err" >"$tmp/$1.stacks"
	grep -q '^vcpu0 ' "$tmp/$1.stacks" || { cat "$err"; fail "$1: no vcpu0 stack line in --stats"; }
	grep -q '^vnc ' "$tmp/$1.stacks" || { cat "$err"; fail "$1: no vnc stack line in --stats"; }
	awk -v l="$2" '{ p = $4; sub(/%/, "", p); if (p + 0 >= l) { print "FAIL: " $1 " used " $4 " of its stack"; bad = 1 } }
		END { exit bad }' "$tmp/$1.stacks" || fail "$1: a thread used $2% of its stack or more"
}

# console_png NAME PNG PORT: a VNC client's picture of the framebuffer
# console, in PNG, that looks like text on fbcon (linux_pixels.py console);
# a copy in BUILD/logs/linux_NAME.png. The viewer switches to tty2 and back
# (Alt+F2, Alt+F1), so Linux redraws the whole of tty1 while it watches:
# the picture is then the console as drawn after it connected, whatever a
# new viewer's first update holds (the vnc_*.sh tests check that). Tried
# again until it looks right, 30 s at most (the console draws
# asynchronously).
console_png() {
	local end=$((SECONDS + 30))
	while :; do
		probe "$1" --encodings raw --wait-size 1024x768 \
			--key +0xffe9 --key 0xffbf --key -0xffe9 --key +0xffe9 --key 0xffbe --key -0xffe9 \
			--seconds 3 --png "$2" --timeout 20 "127.0.0.1:$3"
		[ "$probe_rc" -eq 0 ] || { cat "$tmp/$1.probe"; fail "$1: no 1024x768 screen over VNC"; }
		cp "$2" "$BUILD/logs/linux_$1.png"
		python3 "$TESTS_INTEGRATION/linux_pixels.py" console "$2" >"$tmp/$1.pixels" && break
		[ "$SECONDS" -lt "$end" ] ||
			fail "$1: the VNC picture is not a text console: $(cat "$tmp/$1.pixels") ($BUILD/logs/linux_$1.png)"
		sleep 0.5
	done
	echo "$1: console picture $(cat "$tmp/$1.pixels")"
}
