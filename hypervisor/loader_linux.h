/*
 * Linux bzImage direct boot through the x86 64-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst "64-bit Boot Protocol" and zero-page.rst;
 * layouts from arch/x86/include/uapi/asm/bootparam.h and
 * include/uapi/linux/screen_info.h).
 *
 * Guest-physical layout, all inside [MEMMAP_BOOT_INFO_BASE,
 * MEMMAP_BOOT_INFO_END) except the kernel and the initrd:
 *
 *   0x0000 - 0x0fff   page 0 (real-mode IVT / BIOS data area), zeroed: the
 *                     decompressor reads the EBDA and base-memory words there
 *   0x1000 - 0x1fff   zero page (struct boot_params)
 *   0x2000 - 0x201f   GDT: null, null, 0x10 64-bit code, 0x18 data
 *   0x3000 - 0x3fff   PML4  \
 *   0x4000 - 0x4fff   PDPT   } identity map of 0 .. 4 GiB with 2 MiB pages
 *   0x5000 - 0x8fff   4 PDs /
 *   0x9000 - 0xffff   kernel command line (NUL-terminated)
 *   load .. load + init_size
 *                     the kernel: protected-mode code copied to load, which is
 *                     pref_address (relocatable kernels: aligned up to
 *                     kernel_alignment), so where it is loaded is where it runs
 *   initrd            highest page-aligned place in low RAM, at or above
 *                     1 MiB, below initrd_addr_max, clear of the kernel and of
 *                     a framebuffer reserved in RAM
 */
#ifndef FBVM_LOADER_LINUX_H
#define FBVM_LOADER_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "guest_mem.h"

#define LINUX_ZERO_PAGE_GPA      0x1000ull
#define LINUX_GDT_GPA            0x2000ull
#define LINUX_GDT_ENTRIES        4u
#define LINUX_PML4_GPA           0x3000ull
#define LINUX_PDPT_GPA           0x4000ull
#define LINUX_PD_GPA             0x5000ull  /* LINUX_PD_COUNT pages */
#define LINUX_PD_COUNT           4u         /* one per GiB */
#define LINUX_CMDLINE_GPA        0x9000ull
#define LINUX_BOOT_INFO_END      0x10000ull
/* Room for the command line and its NUL; the kernel's own cmdline_size
 * (2047 for x86 defconfigs) is the tighter limit in practice. */
#define LINUX_CMDLINE_MAX_BYTES  (LINUX_BOOT_INFO_END - LINUX_CMDLINE_GPA)
/* What the identity map covers: all of low RAM and the device hole. */
#define LINUX_IDENTITY_MAP_BYTES (LINUX_PD_COUNT * GiB(1))
/* Nothing of ours goes below 1 MiB but the boot structures: the kernel keeps
 * the legacy area for itself (and the decompressor puts its trampoline
 * just below 640 KiB). */
#define LINUX_LOAD_MIN_GPA       0x100000ull

/* Selectors boot.rst requires at entry (__BOOT_CS, __BOOT_DS). */
#define LINUX_BOOT_CS            0x10
#define LINUX_BOOT_DS            0x18

/* Setup-header facts, validated (see linux_parse_header()). */
struct linux_header {
	uint16_t version;          /* boot protocol, e.g. 0x020f for 2.15 */
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint32_t kernel_alignment; /* a power of two */
	uint32_t initrd_addr_max;  /* highest byte the initrd may occupy */
	uint32_t cmdline_size;     /* longest command line, without the NUL */
	uint32_t init_size;        /* bytes from the load address the kernel needs */
	uint64_t pref_address;
	uint32_t header_end;       /* 0x202 + byte at 0x201: setup-header bytes to copy */
	uint64_t kernel_offset;    /* file offset of the protected-mode code */
	uint64_t kernel_bytes;     /* its size: syssize * 16 */
	uint64_t load_gpa;         /* where it goes: the kernel's runtime start */
};

/* True when image carries the "HdrS" setup-header magic at 0x202: used to
 * pick a loader by content. Says nothing about whether linux_load() will
 * accept it. */
bool linux_probe(const uint8_t *image, size_t size);

/*
 * Reads and validates the setup header of a bzImage: magic and boot_flag,
 * protocol 2.12 or later with XLF_KERNEL_64, a header length inside the file
 * and inside boot_params' room for it, a setup area and syssize inside the
 * file, kernel_alignment a power of two, init_size covering the code, and a
 * load address (pref_address; a relocatable kernel's aligned up, never below
 * 1 MiB) that does not wrap. Does not look at guest memory. 0, or -ENOEXEC
 * with one sentence in err.
 */
int linux_parse_header(const uint8_t *image, size_t size, struct linux_header *hdr,
		       char *err, size_t err_len);

/*
 * Loads a bzImage for its 64-bit entry point: copies the protected-mode code
 * to hdr.load_gpa (which with init_size must lie in low RAM), the initrd and
 * the command line, writes the zero page (setup header, type_of_loader 0xFF,
 * vid_mode 0xFFFF, command line and ramdisk pointers, an e820 map of RAM, the
 * legacy area and the device hole as reserved, and req->framebuffer as
 * reserved when it sits in RAM; screen_info for that framebuffer), the GDT
 * and identity page tables at the LINUX_*_GPA addresses above. On success
 * fills *out (BOOT_MODE_LINUX64, entry = load + 0x200, boot_info_gpa = zero
 * page, page_table_gpa, gdt_gpa/limit) and returns 0. On failure returns a
 * negative errno (-ENOEXEC malformed or unsupported image, -ENOSPC does not
 * fit in guest RAM, -E2BIG command line too long, -EINVAL bad request),
 * writes one sentence naming the problem to err (when err_len > 0) and leaves
 * guest memory in an unspecified state.
 */
int linux_load(struct guest_mem *mem, const uint8_t *image, size_t image_size,
	       const struct boot_request *req, struct boot_entry *out,
	       char *err, size_t err_len);

#endif
