/*
 * Guest memory the VMM backs with host memory: RAM, and device memory such
 * as the std VGA's VRAM (a PCI BAR) or the boot framebuffer fbvm sets up for
 * Linux guests. Also the one bounds-checked translation from guest-physical
 * addresses to host pointers: every device and loader goes through
 * guest_mem_ptr() or guest_mem_ram_ptr() (the same check over fewer
 * regions); nothing else computes host addresses from guest input.
 *
 * Host-side writes. KVM's dirty log records vCPU writes only, so what fbvm
 * itself writes into guest memory (fw_cfg DMA, a VGA mode set clearing VRAM,
 * loaders) would never reach a viewer already watching that memory. The read
 * translations therefore return const pointers (-Wcast-qual keeps anyone from
 * casting that away), and every host-side write goes through
 * guest_mem_write(), guest_mem_fill() or a guest_mem_write_begin()/_end()
 * span, which mark the pages they touch in a per-region bitmap (as QEMU's
 * cpu_physical_memory_set_dirty_range() does). The display tracker takes
 * those marks with guest_mem_take_written() and merges them with the KVM
 * dirty log of the same pages. tests/integration/guest_writes_one_path.sh
 * checks that no other path exists.
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
	uint8_t *host_base;  /* host mapping of the whole region: guest_mem.c and KVM slots only */
	const char *name;  /* "ram" or the device's, for logs */
	/* One bit per 4 KiB page the host wrote since the tracker last took it;
	 * atomic: vCPU threads set, the tracker's thread takes. */
	_Atomic uint64_t *written;
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
	_Atomic uint64_t *written_words;  /* RAM regions' `written` bitmaps, one allocation */
};

/* Maps ram_bytes of anonymous memory (MAP_NORESERVE) and lays it out: up to
 * 3 GiB at 0, the rest at 4 GiB. ram_bytes must be within MEMMAP_RAM_MIN..
 * MEMMAP_RAM_MAX and a multiple of 4 KiB (-EINVAL); -ENOMEM when the host
 * cannot map it. No device memory yet. */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_bytes);

/* Unmaps RAM and every device region. Safe twice. */
void guest_mem_destroy(struct guest_mem *mem);

/*
 * Power-on contents for an in-place reset (the vCPUs stopped): every RAM
 * and device-memory page zero again, as on the first boot, and marked
 * written so any reader of the host marks sees the change. MADV_DONTNEED on
 * the private anonymous mappings: the host gets the pages back and the
 * next touch maps a zero page (KVM's MMU notifier drops its mappings). 0 or
 * -errno.
 */
int guest_mem_clear(struct guest_mem *mem);

/*
 * Maps size bytes of zeroed anonymous memory (MAP_NORESERVE: untouched pages
 * cost nothing) as device memory at gpa, named `name` (a string that
 * outlives mem), and returns its host mapping in *host. gpa and size must be
 * 4 KiB aligned, size non-zero, the range must not wrap, must end at or
 * below 4 GiB (device memory lives in the hole) and must overlap neither RAM
 * nor another device region (-EINVAL); -ENOSPC when
 * GUEST_MEM_MAX_DEVICE_REGIONS are taken; -ENOMEM when the host cannot map
 * it. On failure nothing changes. host may be NULL: the board writes device
 * memory only through the write functions below; tests read it through
 * *host.
 */
int guest_mem_add_device(struct guest_mem *mem, const char *name, uint64_t gpa, uint64_t size,
			 uint8_t **host);

/* Host pointer for reading [gpa, gpa + len) when that whole range lies inside
 * one RAM region or one device region; NULL for len 0, a range touching a
 * hole or the end of a region, or one that wraps around the address space.
 * Read-only: writes go through the functions below. */
const void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* guest_mem_ptr() over RAM regions only: where loaders put images and boot
 * structures, which a guest's memory map must show as RAM. */
const void *guest_mem_ram_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copies len bytes from src to [gpa, gpa + len) (the range guest_mem_ptr()
 * accepts) and marks its pages written. 0, or -EFAULT (nothing written). */
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);

/* Sets [gpa, gpa + len) to byte and marks its pages written; 0 or -EFAULT. */
int guest_mem_fill(const struct guest_mem *mem, uint64_t gpa, uint8_t byte, uint64_t len);

/*
 * A span for writes that build a structure in place (loaders, boot info):
 * _begin returns a writable pointer for [gpa, gpa + len) (NULL as
 * guest_mem_ptr(); guest_mem_ram_write_begin over RAM only); the caller
 * writes, then calls guest_mem_write_end() with the same range, which marks
 * its pages. Marked after the bytes land, so a refresh that takes the mark
 * reads the new bytes (one that runs in between sees the page again next
 * time).
 */
void *guest_mem_write_begin(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
void *guest_mem_ram_write_begin(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
void guest_mem_write_end(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/*
 * For the display tracker: for each page i of [gpa, gpa + len) (gpa
 * page-aligned, the range inside one region) that the host wrote since the
 * previous take, sets bit i of bitmap (64-bit words, LSB first; other bits
 * are left as they are) and forgets the mark. Returns the number of pages
 * set; 0 for a range in no region. Costs one relaxed load per 64 pages when
 * nothing was written.
 */
uint64_t guest_mem_take_written(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
				uint64_t *bitmap);

/* Highest guest-physical address + 1 of RAM below 4 GiB. */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
