#!/bin/bash
# Checks that fbvm writes guest memory only through hypervisor/guest_mem.c's
# write functions (guest_mem_write, guest_mem_fill, guest_mem_write_begin/
# _end), which mark the pages for the display tracker: KVM's dirty log sees
# vCPU writes only, so any other host-side write would never reach a viewer.
#   tools/check_guest_writes.sh [SOURCE_ROOT]     (default: this tree)
# Prints each violation as FILE:LINE: reason and exits 1 when there is one.
# Rules, for the C sources under hypervisor/ devices/ display/ vnc/ sdl/
# control/ stack/:
#  1. A region's host mapping (host_base, mapping) is used only in
#     hypervisor/guest_mem.c, and in hypervisor/machine.c to hand it to KVM.
#  2. No cast of what guest_mem_ptr()/guest_mem_ram_ptr() return (they are
#     const; -Wcast-qual also stops this at compile time under hypervisor/
#     and devices/, and the Makefile must keep that flag).
#  3. Each file that opens write spans closes as many (guest_mem_write_end
#     marks the pages).
#  4. No device keeps a host pointer to device memory (uint8_t *vram).
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
bad=0
report() { echo "$1: $2"; bad=1; }

srcs=$(find hypervisor devices display vnc sdl control stack -name '*.[ch]' 2>/dev/null | sort)
[ -n "$srcs" ] || { echo "no sources under $root"; exit 2; }

for f in $srcs; do
	case $f in hypervisor/guest_mem.c | hypervisor/guest_mem.h) continue ;; esac
	while IFS=: read -r line _; do
		[ -n "$line" ] || continue
		if [ "$f" = hypervisor/machine.c ] &&
			sed -n "${line}p" "$f" | grep -q 'dirty_log_map_slot(.*->host_base)'; then
			continue
		fi
		report "$f:$line" "uses a guest memory region's host mapping (write through guest_mem_write & co.)"
	done < <(grep -nE '(\.|->)(host_base|mapping|written_words|written)\b' "$f")
	while IFS=: read -r line _; do
		[ -n "$line" ] && report "$f:$line" "casts a guest_mem_ptr() result (read-only; write through guest_mem_write & co.)"
	done < <(grep -nE '\(\s*[A-Za-z_][A-Za-z0-9_ ]*\*\s*\)\s*(\(\s*u?intptr_t\s*\)\s*)?guest_mem_(ram_)?ptr\s*\(' "$f")
	begins=$(grep -cE 'guest_mem_(ram_)?write_begin\s*\(' "$f")
	ends=$(grep -cE 'guest_mem_write_end\s*\(' "$f")
	[ "$begins" -eq "$ends" ] ||
		report "$f:1" "$begins write span(s) opened, $ends closed with guest_mem_write_end()"
	case $f in devices/*)
		while IFS=: read -r line _; do
			[ -n "$line" ] && report "$f:$line" "keeps a host pointer to device memory"
		done < <(grep -nE 'uint8_t\s*\*\s*vram\b' "$f") ;;
	esac
done
grep -qE '^\$\(BUILD\)/hypervisor/%\.o \$\(BUILD\)/devices/%\.o: CFLAGS \+= -Wcast-qual' Makefile ||
	report Makefile "-Wcast-qual is no longer set for hypervisor/ and devices/"
[ "$bad" -eq 0 ] && echo "guest memory writes: one path (guest_mem_write & co.), $(echo "$srcs" | wc -w) files checked"
exit "$bad"
