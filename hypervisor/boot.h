/*
 * What a kernel loader is asked to do and what it hands back: the types
 * shared by every loader (PVH ELF in loader_pvh.c; a Linux bzImage loader
 * uses the same ones). The vCPU setup reads only struct boot_entry.
 */
#ifndef FBVM_BOOT_H
#define FBVM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A linear XRGB8888 framebuffer (32 bits per pixel, blue in the lowest byte)
 * that fbvm set up before boot, for loaders that can describe it to the
 * kernel (Linux: screen_info as a VESA linear framebuffer, so the kernel's
 * simpledrm/simplefb/vesafb binds to it).
 */
struct boot_framebuffer {
	uint64_t gpa;          /* guest-physical base, 4 KiB aligned, non-zero */
	uint32_t width;        /* pixels, 1..65535 */
	uint32_t height;       /* pixels, 1..65535 */
	uint32_t stride;       /* bytes per line, width * 4 ..65535 */
	/* Bytes of the region the framebuffer lives in (VGA VRAM size, or the
	 * RAM set aside for ramfb), at least height * stride; 0 means exactly
	 * height * stride. Linux counts it in 64 KiB units, so the loader
	 * rounds it up to 64 KiB and everything up to there must belong to
	 * the framebuffer. */
	uint64_t size;
	/* true: the region is guest RAM (ramfb) and the loader marks it
	 * reserved in the memory map, or every framebuffer driver's ioremap
	 * fails on it. false: it lies in the device hole (a PCI BAR) and must
	 * not overlap RAM. */
	bool reserved_in_ram;
};

/* Inputs beside the kernel image. The loader copies what it needs into guest
 * memory; nothing here has to outlive the load call. */
struct boot_request {
	const char *cmdline;     /* NUL-terminated; NULL means empty */
	const uint8_t *initrd;   /* NULL when there is no initrd */
	size_t initrd_size;      /* bytes; non-zero exactly when initrd != NULL */
	/* NULL: no display to describe. The PVH loader ignores it (PVH guests
	 * find ramfb through fw_cfg themselves). */
	const struct boot_framebuffer *framebuffer;
	/* Guest-physical address of the ACPI RSDP the machine wrote (in the
	 * MEMMAP_ACPI_BASE area, which every memory map marks reserved), handed
	 * to the kernel: PVH hvm_start_info.rsdp_paddr, Linux
	 * boot_params.acpi_rsdp_addr. 0: no ACPI tables. */
	uint64_t acpi_rsdp_gpa;
};

/* The CPU state a loaded kernel expects at its first instruction. */
enum boot_mode {
	/* Xen PVH: 32-bit protected mode, paging off, flat segments,
	 * EBX = guest-physical address of struct hvm_start_info. */
	BOOT_MODE_PVH32,
	/* Linux x86 64-bit boot protocol: long mode, identity-mapped,
	 * RSI = guest-physical address of struct boot_params. */
	BOOT_MODE_LINUX64,
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t entry;          /* guest-physical address of the first instruction */
	uint64_t boot_info_gpa;  /* EBX for PVH, RSI for Linux */
	/* BOOT_MODE_LINUX64 only (0 otherwise): what the loader wrote for the
	 * CPU to use from the first instruction on. */
	uint64_t page_table_gpa; /* CR3: PML4 of the identity map */
	uint64_t gdt_gpa;        /* GDTR base */
	uint16_t gdt_limit;      /* GDTR limit: bytes - 1 */
};

#endif
