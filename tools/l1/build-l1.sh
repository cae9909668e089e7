#!/bin/bash
# Builds what tools/l1/run-l1.sh boots: an L1 Linux for hosts whose /dev/kvm
# is PVM (or absent), run under QEMU TCG, which emulates AMD SVM with nested
# paging, so L1's kvm_amd offers a hardware-style /dev/kvm to fbvm.
#   BUILD/l1/vmlinuz            Debian's kernel (the one tools/linux-guest.sh
#                               fetches into BUILD/linux/cache)
#   BUILD/l1/initramfs.cpio.gz  static busybox, the modules below taken from
#                               the same linux-image package, and an /init
#                               that mounts the host's / read-only over
#                               virtio-9p, chroots into it and runs a command
# The modules are loaded in dependency order: the order is worked out here
# from each .ko's own "depends=" (what depmod writes into modules.dep, which
# the package does not ship; it is made at install time).
# Rebuilt only when this script or the kernel package changed.
# Exit status 3: the packages could not be downloaded.
# Usage: tools/l1/build-l1.sh BUILD
set -euo pipefail

WANT_MODULES="virtio_pci 9pnet_virtio 9p kvm_amd"

die() { echo "build-l1: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 BUILD"
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1/l1"
build=$(cd "$1" && pwd)
out=$build/l1

# Debian's kernel and busybox-static, downloaded once (status 3 passes on).
if [ ! -f "$build/linux/vmlinuz" ] || [ "$top/tools/linux-guest.sh" -nt "$build/linux/vmlinuz" ]; then
	"$top/tools/linux-guest.sh" "$build" >&2 || exit $?
fi
cache=$build/linux/cache
kernel_deb=$(find "$cache" -maxdepth 1 -name 'linux-image-[0-9]*.deb' | LC_ALL=C sort | tail -n1)
busybox_deb=$(find "$cache" -maxdepth 1 -name 'busybox-static_*.deb' | LC_ALL=C sort | tail -n1)
[ -n "$kernel_deb" ] && [ -n "$busybox_deb" ] || die "no kernel or busybox .deb in $cache"

if [ -f "$out/initramfs.cpio.gz" ] && [ "$out/initramfs.cpio.gz" -nt "$0" ] &&
   [ "$out/initramfs.cpio.gz" -nt "$kernel_deb" ] && [ -f "$out/vmlinuz" ]; then
	exit 0
fi

work=$(mktemp -d "$out/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Every module path in the package, by module name ('-' and '_' are one).
dpkg-deb -c "$kernel_deb" | awk '{print $NF}' | grep '\.ko$' >"$work/all-ko"
ko_path() {
	local name=${1//-/_} p base
	while read -r p; do
		base=${p##*/}; base=${base%.ko}
		[ "${base//-/_}" = "$name" ] && { echo "$p"; return 0; }
	done <"$work/all-ko"
	return 1
}

# A module's dependencies: the "depends=" string in its .modinfo section.
depends_of() { tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '; }

# Extract the wanted modules, then their dependencies, until none is missing.
mkdir -p "$work/pkg"
declare -A path_of=()
pending=$WANT_MODULES
while [ -n "$pending" ]; do
	paths=()
	for m in $pending; do
		p=$(ko_path "$m") || die "module $m is not in $kernel_deb"
		path_of[$m]=$p
		paths+=("$p")
	done
	dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$work/pkg" "${paths[@]}"
	pending=
	for m in "${!path_of[@]}"; do
		for d in $(depends_of "$work/pkg/${path_of[$m]}"); do
			d=${d//-/_}
			[ -n "${path_of[$d]:-}" ] || case " $pending " in *" $d "*) ;; *) pending="$pending $d" ;; esac
		done
	done
done

# Dependency order: a module after everything it depends on.
order=()
declare -A placed=()
place() {
	local m=$1 d
	[ -z "${placed[$m]:-}" ] || return 0
	placed[$m]=1
	for d in $(depends_of "$work/pkg/${path_of[$m]}"); do
		place "${d//-/_}"
	done
	order+=("$m")
}
for m in $WANT_MODULES; do place "$m"; done

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,host,modules}
dpkg-deb -x "$busybox_deb" "$work/busybox"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
for applet in sh mount mkdir insmod cat echo chroot poweroff sync sleep sed tr ip hostname ln; do
	ln -s busybox "$root/bin/$applet"
done
for m in "${order[@]}"; do
	cp "$work/pkg/${path_of[$m]}" "$root/modules/$m.ko"
	echo "$m" >>"$root/modules/order"
done
[ "$(id -u)" != 0 ] || mknod -m 600 "$root/dev/console" c 5 1

cat >"$root/init" <<'INIT'
#!/bin/sh
# L1 for fbvm's tests (tools/l1/run-l1.sh): load the modules, mount the
# host's / (read-only) and BUILD (writable) over virtio-9p, put tmpfs where
# programs write (HOME is in /tmp), chroot and run BUILD/l1/run/command; its exit status goes
# to BUILD/l1/run/status, then power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "l1: $*" >/dev/console; }
give_up() { say "$*"; poweroff -f; sleep 5; }
for m in $(cat /modules/order); do
	insmod "/modules/$m.ko" || say "insmod $m failed"
done
# Tests talk to fbvm's VNC server on 127.0.0.1.
ip link set lo up || say "cannot bring up lo"
hostname l1
build=$(sed -n 's/.*l1\.build=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$build" ] || give_up "no l1.build= on the command line"
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts,ro,cache=loose" hostroot /host || give_up "cannot mount the host's / over 9p"
# A view of the host's / that the tmpfs below do not cover: the source tree
# may lie under /tmp (a CI clone) and is bound back from here.
mkdir -p /hostro
mount -o bind /host /hostro || give_up "cannot bind the host's / a second time"
tree=$(sed -n 's/.*l1\.tree=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
# What udev would add: bash's <(...) needs /dev/fd.
ln -s /proc/self/fd /host/dev/fd
ln -s /proc/self/fd/0 /host/dev/stdin
ln -s /proc/self/fd/1 /host/dev/stdout
ln -s /proc/self/fd/2 /host/dev/stderr
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
for d in /tmp /run /var/tmp /var/log /var/cache /var/lib/xkb; do
	[ -d "/host$d" ] && mount -t tmpfs -o mode=1777 tmpfs "/host$d"
done
# The source tree and BUILD last: either may lie under one of those tmpfs.
if [ -n "$tree" ] && [ ! -d "/host$tree/tools/l1" ]; then
	mkdir -p "/host$tree" 2>/dev/null
	mount -o bind "/hostro$tree" "/host$tree" || give_up "cannot bind $tree"
fi
mkdir -p "/host$build" 2>/dev/null
mount -t 9p -o "$opts" build "/host$build" || give_up "cannot mount $build over 9p"
say "kvm: $(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null | sed 's/^/npt=/')" 
chroot /host /bin/bash "$build/l1/run/command" </dev/console >/dev/console 2>&1
echo $? >"/host$build/l1/run/status"
sync
poweroff -f
sleep 10
INIT
chmod 755 "$root/init"

find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$root/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) |
	gzip -9n >"$work/initramfs.cpio.gz"
cp "$build/linux/vmlinuz" "$out/vmlinuz"
mv "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
echo "build-l1: $out/initramfs.cpio.gz, modules: ${order[*]}" >&2
