/*
 * Guest memory the VMM backs with host memory: RAM, and device memory such
 * as the std VGA's VRAM (a PCI BAR) or the boot framebuffer fbvm sets up for
 * Linux guests. Also the one bounds-checked translation from guest-physical
 * addresses to host pointers: every device and loader goes through
 * guest_mem_ptr() or guest_mem_ram_ptr() (the same check over fewer
 * regions); nothing else computes host addresses from guest input.
 *
 * What may reach device memory: everything a device does for the guest
 * (fw_cfg DMA, ramfb's framebuffer, the display tracker reading a surface),
 * as in QEMU, where DMA and ramfb reach any RAM-backed region of the system
 * address space, a VGA BAR included. Loaders place images in RAM only
 * (guest_mem_ram_ptr()), and the memory maps given to guests (e820, PVH)
 * list only `regions`: device memory lies in the hole below 4 GiB, which
 * they mark reserved.
 */
#ifndef FBVM_GUEST_MEM_H
#define FBVM_GUEST_MEM_H

#include <stdint.h>

#include "memmap.h"

#define GUEST_MEM_MAX_REGIONS 2
/* VRAM and the Linux boot framebuffer, with room to spare. */
#define GUEST_MEM_MAX_DEVICE_REGIONS 4

struct guest_mem_region {
	uint64_t gpa;    /* guest-physical base */
	uint64_t size;   /* bytes */
	uint8_t *host;   /* host mapping of the whole region */
	const char *name;  /* "ram" or the device's, for logs */
};

struct guest_mem {
	/* RAM in address order: below 3 GiB, then from 4 GiB. */
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned int count;
	/* Device memory, in the order added; each its own host mapping. */
	struct guest_mem_region devices[GUEST_MEM_MAX_DEVICE_REGIONS];
	unsigned int device_count;
	uint64_t ram_bytes;
	uint8_t *mapping;    /* one host mapping backing all RAM regions */
	uint64_t mapping_bytes;
};

/* Maps ram_bytes of anonymous memory (MAP_NORESERVE) and lays it out: up to
 * 3 GiB at 0, the rest at 4 GiB. ram_bytes must be within MEMMAP_RAM_MIN..
 * MEMMAP_RAM_MAX and a multiple of 4 KiB (-EINVAL); -ENOMEM when the host
 * cannot map it. No device memory yet. */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_bytes);

/* Unmaps RAM and every device region. Safe twice. */
void guest_mem_destroy(struct guest_mem *mem);

/*
 * Maps size bytes of zeroed anonymous memory (MAP_NORESERVE: untouched pages
 * cost nothing) as device memory at gpa, named `name` (a string that
 * outlives mem), and returns its host mapping in *host. gpa and size must be
 * 4 KiB aligned, size non-zero, the range must not wrap, must end at or
 * below 4 GiB (device memory lives in the hole) and must overlap neither RAM
 * nor another device region (-EINVAL); -ENOSPC when
 * GUEST_MEM_MAX_DEVICE_REGIONS are taken; -ENOMEM when the host cannot map
 * it. On failure nothing changes.
 */
int guest_mem_add_device(struct guest_mem *mem, const char *name, uint64_t gpa, uint64_t size,
			 uint8_t **host);

/* Host pointer for [gpa, gpa + len) when that whole range lies inside one RAM
 * region or one device region; NULL for len 0, a range touching a hole or
 * the end of a region, or one that wraps around the address space. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* guest_mem_ptr() over RAM regions only: where loaders put images and boot
 * structures, which a guest's memory map must show as RAM. */
void *guest_mem_ram_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 of RAM below 4 GiB. */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
