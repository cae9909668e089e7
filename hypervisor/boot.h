/*
 * What a kernel loader is asked to do and what it hands back: the types
 * shared by every loader (PVH ELF in loader_pvh.c; a Linux bzImage loader
 * uses the same ones). The vCPU setup reads only struct boot_entry.
 */
#ifndef FBVM_BOOT_H
#define FBVM_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* Inputs beside the kernel image. The loader copies what it needs into guest
 * memory; nothing here has to outlive the load call. */
struct boot_request {
	const char *cmdline;     /* NUL-terminated; NULL means empty */
	const uint8_t *initrd;   /* NULL when there is no initrd */
	size_t initrd_size;      /* bytes; non-zero exactly when initrd != NULL */
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
};

#endif
