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

# need_hardware_kvm: skips on PVM hosts (kvm_pvm), where guest ring 0 is
# emulated at about 0.5 M instructions/s and a stock kernel cannot boot in
# test time.
need_hardware_kvm() {
	[ ! -e /sys/module/kvm_pvm ] ||
		skip "KVM here is PVM (kvm_pvm: guest ring 0 emulated): Debian's kernel cannot boot in test time; needs hardware-virtualised KVM"
}
