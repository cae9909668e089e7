/*
 * Guest RAM and the one bounds-checked translation from guest-physical
 * addresses to host pointers. Every device and loader goes through
 * guest_mem_ptr(); nothing else computes host addresses from guest input.
 */
#ifndef FBVM_GUEST_MEM_H
#define FBVM_GUEST_MEM_H

#include <stdint.h>

#include "memmap.h"

#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;    /* guest-physical base */
	uint64_t size;   /* bytes */
	uint8_t *host;   /* host mapping of the whole region */
};

struct guest_mem {
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int count;
	uint64_t ram_bytes;
	uint8_t *mapping;    /* one host mapping backing all regions */
	uint64_t mapping_bytes;
};

/* Maps ram_bytes of anonymous memory (MAP_NORESERVE) and lays it out: up to
 * 3 GiB at 0, the rest at 4 GiB. ram_bytes must be within MEMMAP_RAM_MIN..
 * MEMMAP_RAM_MAX and a multiple of 4 KiB (-EINVAL); -ENOMEM when the host
 * cannot map it. */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_bytes);
void guest_mem_destroy(struct guest_mem *mem);

/* Host pointer for [gpa, gpa + len) when that whole range lies inside one RAM
 * region; NULL for len 0, a range touching a hole or the end of RAM, or one
 * that wraps around the address space. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 of RAM below 4 GiB. */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
