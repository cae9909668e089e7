/*
 * Xen PVH direct boot of ELF kernels, the ABI QEMU, Firecracker and
 * cloud-hypervisor share (Xen docs/misc/pvh.pandoc; structures from
 * xen/include/public/arch-x86/hvm/start_info.h).
 */
#ifndef FBVM_LOADER_PVH_H
#define FBVM_LOADER_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "guest_mem.h"

/* Guest-physical layout of what pvh_load() writes inside
 * [MEMMAP_BOOT_INFO_BASE, MEMMAP_BOOT_INFO_END). */
#define PVH_START_INFO_GPA      0x1000ull  /* struct hvm_start_info, 56 bytes */
#define PVH_MODLIST_GPA         0x1100ull  /* one struct hvm_modlist_entry */
#define PVH_MEMMAP_GPA          0x1200ull  /* struct hvm_memmap_table_entry[] */
#define PVH_MEMMAP_MAX_ENTRIES  16
#define PVH_CMDLINE_GPA         0x2000ull
/* Matches the buffer QEMU's PVH option ROM copies the command line into
 * (pc-bios/optionrom/pvh_main.c CMDLINE_BUFSIZE): 4095 bytes plus the NUL. */
#define PVH_CMDLINE_MAX_BYTES   4096u
#define PVH_BOOT_INFO_END       (PVH_CMDLINE_GPA + PVH_CMDLINE_MAX_BYTES)

/* Bounds the program-header table we read; real kernels have fewer than 10. */
#define PVH_MAX_PHDRS           64

/* True when image starts with the ELF magic: used to pick a loader by content.
 * Says nothing about whether pvh_load() will accept it. */
bool pvh_probe(const uint8_t *image, size_t size);

/*
 * Loads an x86 ELF kernel carrying a XEN_ELFNOTE_PHYS32_ENTRY note: copies
 * each PT_LOAD segment to its p_paddr and zeroes its bss, places the initrd
 * (one PVH module) at the highest page-aligned address of low RAM clear of the
 * image, and writes hvm_start_info (version 1, with a memory map), the module
 * list and the command line at the PVH_*_GPA addresses above. On success
 * fills *out (BOOT_MODE_PVH32, entry = the note's address, boot_info_gpa =
 * PVH_START_INFO_GPA) and returns 0. On failure returns a negative errno
 * (-ENOEXEC malformed or unsupported image, -ENOSPC does not fit in guest RAM,
 * -E2BIG command line too long, -EINVAL bad request), writes one sentence
 * naming the problem to err (when err_len > 0), and leaves guest memory in an
 * unspecified state.
 */
int pvh_load(struct guest_mem *mem, const uint8_t *image, size_t image_size,
	     const struct boot_request *req, struct boot_entry *out,
	     char *err, size_t err_len);

#endif
