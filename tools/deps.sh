#!/bin/sh
# Installs the Debian packages fbvm needs to build and test, only when one is
# missing: with everything present it touches no network and changes nothing.
set -eu

PACKAGES="
gcc make pkg-config python3 time
libvncserver-dev libsdl2-dev zlib1g-dev libcmocka-dev libpng-dev libjson-c-dev nettle-dev
qemu-system-x86 vncsnapshot netpbm tigervnc-viewer tigervnc-tools
xvfb x11-apps xdotool
chromium novnc
man-db
acpica-tools
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
