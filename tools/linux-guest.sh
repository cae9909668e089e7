#!/bin/bash
# Builds the Linux guest that `make run-linux` and the Linux integration tests
# boot, from Debian packages, installing nothing on the host:
#   BUILD/linux/vmlinuz             Debian's x86_64 kernel (a bzImage)
#   BUILD/linux/initramfs.cpio.gz   static busybox with an /init that mounts
#                                   /proc, /sys and /dev, prints a banner on
#                                   every console and has busybox init run a
#                                   shell on the framebuffer console (tty1)
#                                   and on the serial port (ttyS0)
#   BUILD/linux/kernel-release      the kernel's release string
# The .debs are kept in BUILD/linux/cache: once there, no network is used.
# Needs apt-get, apt-cache, dpkg-deb, tar and gzip (on every Debian); the
# archive is written by the guest's own busybox cpio, so no cpio package.
# Exit status 3: the packages could not be downloaded (no network or apt),
# so a test can skip rather than fail.
# Usage: tools/linux-guest.sh BUILD
set -euo pipefail

KERNEL_META=linux-image-amd64
BUSYBOX_PKG=busybox-static
EXIT_NO_PACKAGES=3

die() { echo "linux-guest: $*" >&2; exit 1; }
no_packages() { echo "linux-guest: $*" >&2; exit "$EXIT_NO_PACKAGES"; }

[ $# -eq 1 ] || die "usage: $0 BUILD"
mkdir -p "$1/linux/cache"
out=$(cd "$1/linux" && pwd)
cache=$out/cache
for tool in apt-get apt-cache dpkg-deb tar gzip; do
	command -v "$tool" >/dev/null || no_packages "$tool not found: this needs a Debian host"
done

# As root, apt hands downloads to the _apt user, who cannot write into
# every build tree; download as whoever runs this instead.
APT_OPTS=(-q -o "APT::Sandbox::User=$(id -un)")
updated=
apt_update_once() {
	[ -z "$updated" ] || return 1
	updated=1
	echo "linux-guest: refreshing the package lists (apt-get update)" >&2
	apt-get "${APT_OPTS[@]}" update >&2
}

# The versioned package the metapackage points at, e.g. linux-image-6.1.0-56-amd64.
kernel_package() {
	apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null |
		sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -n1 || true
}

# Sets $deb to the cached .deb of package $1, downloading it when absent;
# the package lists are refreshed only when a download fails.
fetch() {
	local pkg=$1
	deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | LC_ALL=C sort | tail -n1)
	[ -n "$deb" ] && return 0
	if ! (cd "$cache" && apt-get "${APT_OPTS[@]}" download "$pkg" >&2); then
		if ! apt_update_once ||
		   ! (cd "$cache" && apt-get "${APT_OPTS[@]}" download "$pkg" >&2); then
			no_packages "cannot download $pkg with apt-get"
		fi
	fi
	deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | LC_ALL=C sort | tail -n1)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache"
}

# A kernel already in the cache is used as it is, so a rebuild is offline.
kernel_deb=$(find "$cache" -maxdepth 1 -name 'linux-image-[0-9]*.deb' | LC_ALL=C sort | tail -n1)
if [ -z "$kernel_deb" ]; then
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then
		apt_update_once || true
		pkg=$(kernel_package)
	fi
	[ -n "$pkg" ] || no_packages "apt-cache knows no $KERNEL_META"
	fetch "$pkg"
	kernel_deb=$deb
fi
fetch "$BUSYBOX_PKG"
busybox_deb=$deb

work=$(mktemp -d "$out/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Only the kernel image: the package's modules are hundreds of MiB.
dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -m -C "$work" --wildcards './boot/vmlinuz-*'
vmlinuz=$(find "$work/boot" -name 'vmlinuz-*' | head -n1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kernel_deb"
release=${vmlinuz##*/vmlinuz-}

dpkg-deb -x "$busybox_deb" "$work/busybox"
bb=$work/busybox/bin/busybox
[ -x "$bb" ] || die "no /bin/busybox in $busybox_deb"

root=$work/root
mkdir -p "$root"/{bin,dev,etc,proc,root,sys,tmp}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
# The kernel opens /dev/console for /init before devtmpfs is mounted.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$root/dev/console" c 5 1
fi

cat >"$root/init" <<'EOF'
#!/bin/sh
# fbvm's Linux guest: mount the kernel's filesystems, greet every console,
# then busybox init (/etc/inittab) keeps a shell on tty1 and on ttyS0.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
banner="fbvm linux guest: $(uname -sr), busybox shell on tty1 and ttyS0; 'poweroff' stops it"
for console in $(cat /sys/class/tty/console/active); do
	echo "$banner" >"/dev/$console" 2>/dev/null || true
done
exec /bin/init
EOF
chmod 755 "$root/init"

cat >"$root/etc/inittab" <<'EOF'
# busybox init: a shell on the framebuffer console and on the serial port,
# started again when it exits; poweroff and reboot run the shutdown lines.
::sysinit:/bin/hostname fbvm
tty1::respawn:-/bin/sh
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/bin/reboot
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
EOF

cat >"$root/etc/profile" <<'EOF'
export PATH=/bin
export PS1='\h:\w\$ '
EOF
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

# Fixed times, sorted names, root ownership (inode numbers still vary).
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) |
	gzip -9n >"$work/initramfs.cpio.gz"

mv "$vmlinuz" "$out/vmlinuz"
mv "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
echo "$release" >"$out/kernel-release"
echo "linux-guest: $out/vmlinuz ($release), $out/initramfs.cpio.gz" \
	"($(stat -c %s "$out/initramfs.cpio.gz") bytes)"
