#!/bin/bash
# Runs a command inside an L1 Linux under QEMU TCG and exits with its status:
# for hosts whose /dev/kvm is PVM (guest ring 0 emulated, too slow for a
# stock kernel) or absent. QEMU's TCG with -cpu max emulates AMD SVM with
# nested paging, so L1's kvm_amd offers a hardware-style /dev/kvm, and fbvm
# inside L1 boots Debian's kernel in seconds of guest time.
# L1 sees the host's / read-only and BUILD writable, both over virtio-9p at
# their own paths, with tmpfs on /tmp, /run and /var's scratch folders (so
# the caller's directory must lie elsewhere); so fbvm, its
# libraries and every test tool are the host's own and nothing is copied.
# The command runs as root in the caller's directory with a plain PATH and
# L1=1 in its environment; its output is this script's output and
# BUILD/logs/l1-console.log (L1's serial console).
# Exit status: the command's; 124 when --timeout passed; 125 when L1 ended
# without running it (log in BUILD/logs/l1-console.log); 3 when Debian's
# kernel could not be downloaded.
# Usage: tools/l1/run-l1.sh [--timeout SECS] BUILD COMMAND [ARGS...]
set -euo pipefail

secs=1200
if [ "${1:-}" = --timeout ]; then secs=$2; shift 2; fi
die() { echo "run-l1: $*" >&2; exit 125; }
[ $# -ge 2 ] || die "usage: $0 [--timeout SECS] BUILD COMMAND [ARGS...]"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
shift
case $build in *[!A-Za-z0-9/._+-]*) die "BUILD path '$build' has characters the kernel command line cannot carry" ;; esac
case $top in *[!A-Za-z0-9/._+-]*) die "source path '$top' has characters the kernel command line cannot carry" ;; esac
# L1 puts tmpfs on /tmp, /run and parts of /var and mounts the source tree
# (read-only) and BUILD (writable) back over them, so a clone anywhere works;
# the command must run inside one of those two.
case $PWD/ in
"$top"/* | "$build"/*) ;;
/tmp/* | /run/* | /var/tmp/* | /var/log/* | /var/cache/*) die "run from inside $top: L1 hides $PWD behind tmpfs" ;;
esac
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (tools/deps.sh installs qemu-system-x86)"

"$top/tools/l1/build-l1.sh" "$build" || exit $?
mkdir -p "$build/logs" "$build/l1/run"

# One L1 per BUILD at a time: they would share BUILD/l1/run.
exec 9>"$build/l1/lock"
flock -w "$secs" 9 || die "another L1 holds $build/l1/lock"

run=$build/l1/run
rm -f "$run/status"
{
	echo "# written by tools/l1/run-l1.sh; run by L1's /init in the chroot"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp/home TERM=dumb L1=1 LANG=C.UTF-8"
	echo "mkdir -p \"\$HOME\""
	printf 'cd -- %q\n' "$PWD"
	printf 'exec'; printf ' %q' "$@"; echo
} >"$run/command"

log=$build/logs/l1-console.log
start=$(date +%s)
set +e
timeout --kill-after=10 "$secs" nice -n 10 qemu-system-x86_64 \
	-accel tcg,thread=multi -M q35 -cpu max -smp 2 -m 3G \
	-nodefaults -display none -no-reboot -monitor none -serial stdio \
	-kernel "$build/l1/vmlinuz" -initrd "$build/l1/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=1 l1.build=$build l1.tree=$top" \
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev "local,id=build,path=$build,security_model=none,multidevs=remap" \
	-device virtio-9p-pci,fsdev=build,mount_tag=build \
	</dev/null 2>&1 | tee "$log"
qemu_rc=${PIPESTATUS[0]}
set -e
echo "run-l1: L1 ran $(($(date +%s) - start)) s (QEMU exit $qemu_rc)" | tee -a "$log"
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "run-l1: timed out after $secs s" | tee -a "$log" >&2
	exit 124
fi
[ -s "$run/status" ] || die "L1 ended without running the command (QEMU exit $qemu_rc; see $log)"
exit "$(cat "$run/status")"
