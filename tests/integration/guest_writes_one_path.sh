#!/bin/bash
# fbvm writes guest memory only through guest_mem_write & co., which mark the
# pages for the display tracker (KVM's dirty log sees vCPU writes only):
# tools/check_guest_writes.sh passes on this tree, and catches each kind of
# bypass planted in a copy of it (a device memset through a cast pointer, a
# raw region mapping, a write span never closed, a device-held VRAM pointer,
# -Wcast-qual dropped). The compiler half is checked too: a device that
# casts away guest_mem_ptr()'s const does not build.
set -eu
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
check="$top/tools/check_guest_writes.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$check" "$top" || fail "the tree writes guest memory outside guest_mem_write & co."

plant() {   # plant NAME FILE SED_EXPR EXPECTED_TEXT
	local name=$1 file=$2 expr=$3 want=$4 out
	rm -rf "$tmp/tree"; mkdir -p "$tmp/tree"
	for d in hypervisor devices display vnc sdl control stack Makefile; do
		[ -e "$top/$d" ] && cp -r "$top/$d" "$tmp/tree/"
	done
	sed -i "$expr" "$tmp/tree/$file"
	cmp -s "$top/$file" "$tmp/tree/$file" && fail "$name: the plant did not change $file"
	if out=$("$check" "$tmp/tree"); then
		echo "$out"; fail "$name: not caught"
	fi
	echo "$out" | grep -q "$want" || { echo "$out"; fail "$name: caught, but not as '$want'"; }
	echo "$name: caught: $(echo "$out" | head -n1)"
}

plant "cast memset in fw_cfg" devices/fw_cfg.c \
	's|^\tfw->offset += n;$|\tmemset((uint8_t *)guest_mem_ptr(fw->mem, address, length), 0, length);\n&|' \
	"casts a guest_mem_ptr() result"
plant "uintptr_t laundering in ramfb" devices/ramfb.c \
	'0,/guest_mem_ptr(rf->mem/s|guest_mem_ptr(rf->mem|(void *)(uintptr_t)guest_mem_ptr(rf->mem|' \
	"casts a guest_mem_ptr() result"
plant "raw region mapping in the tracker" display/tracker.c \
	's|^\tt->stats.refreshes++;$|&\n\tt->mem->regions[0].host_base[0] = 0;|' \
	"host mapping"
plant "span never closed in the PVH loader" hypervisor/loader_pvh.c \
	'0,/guest_mem_write_end(mem, ph.paddr, ph.memsz);/s|guest_mem_write_end(mem, ph.paddr, ph.memsz);||' \
	"write span(s) opened"
plant "VRAM pointer kept by the VGA" devices/vga.h \
	's|^\tuint64_t vram_bytes;$|\tuint8_t *vram;\n&|' \
	"keeps a host pointer to device memory"
plant "-Wcast-qual dropped" Makefile 's| -Wcast-qual$||' "Wcast-qual"

# The compiler half: with the Makefile's flags, casting the const away fails.
cat >"$tmp/cast.c" <<'C'
#include "hypervisor/guest_mem.h"
#include <string.h>
void device_clear(const struct guest_mem *m) { memset((void *)guest_mem_ptr(m, 0, 4), 0, 4); }
C
if gcc -std=gnu11 -Wall -Wextra -Werror -Wcast-qual -I"$top" -c -o "$tmp/cast.o" "$tmp/cast.c" 2>"$tmp/cast.err"; then
	fail "a cast that drops guest_mem_ptr()'s const compiled under -Wcast-qual"
fi
grep -q "discards .const. qualifier" "$tmp/cast.err" || { cat "$tmp/cast.err"; fail "unexpected compiler error"; }
echo "compiler: casting away guest_mem_ptr()'s const is an error under -Wcast-qual"
