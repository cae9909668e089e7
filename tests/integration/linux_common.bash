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
