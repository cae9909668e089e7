#include "guest_mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GUEST_MEM_PAGE_SHIFT 12
#define GUEST_MEM_PAGE_MASK 0xFFFull

/* 64-bit words of a `written` bitmap for size bytes. */
static size_t written_words(uint64_t size)
{
	uint64_t pages = (size + GUEST_MEM_PAGE_MASK) >> GUEST_MEM_PAGE_SHIFT;

	return (size_t)((pages + 63) / 64);
}

int guest_mem_init(struct guest_mem *mem, uint64_t ram_bytes)
{
	uint64_t low, high;
	void *map;

	memset(mem, 0, sizeof(*mem));
	if (ram_bytes < MEMMAP_RAM_MIN || ram_bytes > MEMMAP_RAM_MAX ||
	    (ram_bytes & GUEST_MEM_PAGE_MASK))
		return -EINVAL;
	low = ram_bytes < MEMMAP_LOW_RAM_MAX ? ram_bytes : MEMMAP_LOW_RAM_MAX;
	high = ram_bytes - low;
	/* 64 GiB of RAM needs 2 MiB of bitmap; calloc maps it lazily. */
	mem->written_words = calloc(written_words(low) + written_words(high), sizeof(uint64_t));
	if (!mem->written_words)
		return -ENOMEM;
	map = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		free(mem->written_words);
		mem->written_words = NULL;
		return -ENOMEM;
	}
	/* Guest RAM is large and sparse: keep it out of core dumps. */
	madvise(map, ram_bytes, MADV_DONTDUMP);

	mem->mapping = map;
	mem->mapping_bytes = ram_bytes;
	mem->ram_bytes = ram_bytes;
	mem->regions[0] = (struct guest_mem_region){
		.gpa = 0, .size = low, .host_base = map, .name = "ram", .written = mem->written_words };
	mem->count = 1;
	if (high) {
		mem->regions[1] = (struct guest_mem_region){
			.gpa = MEMMAP_HIGH_RAM_BASE, .size = high, .host_base = (uint8_t *)map + low,
			.name = "ram", .written = mem->written_words + written_words(low) };
		mem->count = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->device_count; i++) {
		munmap(mem->devices[i].host_base, mem->devices[i].size);
		free(mem->devices[i].written);
	}
	free(mem->written_words);
	if (mem->mapping)
		munmap(mem->mapping, mem->mapping_bytes);
	memset(mem, 0, sizeof(*mem));
}

static void mark_all_written(const struct guest_mem_region *r)
{
	uint64_t words = written_words(r->size);

	for (uint64_t i = 0; i < words; i++)
		atomic_store_explicit(&r->written[i], ~(uint64_t)0, memory_order_relaxed);
}

int guest_mem_clear(struct guest_mem *mem)
{
	if (mem->mapping && madvise(mem->mapping, mem->mapping_bytes, MADV_DONTNEED) < 0)
		return -errno;
	for (unsigned int i = 0; i < mem->device_count; i++)
		if (madvise(mem->devices[i].host_base, mem->devices[i].size, MADV_DONTNEED) < 0)
			return -errno;
	for (unsigned int i = 0; i < mem->count; i++)
		mark_all_written(&mem->regions[i]);
	for (unsigned int i = 0; i < mem->device_count; i++)
		mark_all_written(&mem->devices[i]);
	return 0;
}

/* [base, base + size) and r overlap; base + size does not wrap. */
static bool overlaps(const struct guest_mem_region *r, uint64_t base, uint64_t size)
{
	return base < r->gpa + r->size && r->gpa < base + size;
}

int guest_mem_add_device(struct guest_mem *mem, const char *name, uint64_t gpa, uint64_t size,
			 uint8_t **host)
{
	uint64_t end;
	void *map;

	if (size == 0 || ((gpa | size) & GUEST_MEM_PAGE_MASK) ||
	    __builtin_add_overflow(gpa, size, &end) || end > MEMMAP_HIGH_RAM_BASE)
		return -EINVAL;
	for (unsigned int i = 0; i < mem->count; i++)
		if (overlaps(&mem->regions[i], gpa, size))
			return -EINVAL;
	for (unsigned int i = 0; i < mem->device_count; i++)
		if (overlaps(&mem->devices[i], gpa, size))
			return -EINVAL;
	if (mem->device_count >= GUEST_MEM_MAX_DEVICE_REGIONS)
		return -ENOSPC;
	_Atomic uint64_t *written = calloc(written_words(size), sizeof(uint64_t));
	if (!written)
		return -ENOMEM;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		free(written);
		return -ENOMEM;
	}
	madvise(map, size, MADV_DONTDUMP);
	mem->devices[mem->device_count++] = (struct guest_mem_region){
		.gpa = gpa, .size = size, .host_base = map, .name = name, .written = written };
	if (host)
		*host = map;
	return 0;
}

/* The one bounds check: [gpa, gpa + len) wholly inside one of regions[0..n). */
static const struct guest_mem_region *region_find(const struct guest_mem_region *regions,
						  unsigned int n, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct guest_mem_region *r = &regions[i];
		/* Written so no sum can overflow: offset and len are each <= size. */
		if (gpa < r->gpa)
			continue;
		uint64_t offset = gpa - r->gpa;
		if (offset >= r->size || len > r->size - offset)
			continue;
		return r;
	}
	return NULL;
}

/* RAM first, then device memory; NULL for len 0 or no region. */
static const struct guest_mem_region *find_any(const struct guest_mem *mem, uint64_t gpa,
					       uint64_t len)
{
	const struct guest_mem_region *r;

	if (len == 0)
		return NULL;
	r = region_find(mem->regions, mem->count, gpa, len);
	return r ? r : region_find(mem->devices, mem->device_count, gpa, len);
}

const void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = find_any(mem, gpa, len);

	return r ? r->host_base + (gpa - r->gpa) : NULL;
}

const void *guest_mem_ram_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = len ? region_find(mem->regions, mem->count, gpa, len)
					       : NULL;

	return r ? r->host_base + (gpa - r->gpa) : NULL;
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->count ? mem->regions[0].gpa + mem->regions[0].size : 0;
}

/* ---- host-side writes ---- */

/* Marks the pages of [gpa, gpa + len), a range inside r. Release order: a
 * tracker that takes the mark (acquire) then sees the bytes written before. */
static void mark_written(const struct guest_mem_region *r, uint64_t gpa, uint64_t len)
{
	uint64_t first = (gpa - r->gpa) >> GUEST_MEM_PAGE_SHIFT;
	uint64_t last = (gpa - r->gpa + len - 1) >> GUEST_MEM_PAGE_SHIFT;

	for (uint64_t w = first / 64; w <= last / 64; w++) {
		uint64_t lo = w * 64 > first ? 0 : first % 64;
		uint64_t hi = (w + 1) * 64 - 1 < last ? 63 : last % 64;
		uint64_t bits = (hi - lo == 63 ? ~0ull : ((1ull << (hi - lo + 1)) - 1)) << lo;

		atomic_fetch_or_explicit(&r->written[w], bits,
					 memory_order_release);
	}
}

void *guest_mem_write_begin(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = find_any(mem, gpa, len);

	return r ? r->host_base + (gpa - r->gpa) : NULL;
}

void *guest_mem_ram_write_begin(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = len ? region_find(mem->regions, mem->count, gpa, len)
					       : NULL;

	return r ? r->host_base + (gpa - r->gpa) : NULL;
}

void guest_mem_write_end(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = find_any(mem, gpa, len);

	if (r)
		mark_written(r, gpa, len);
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	const struct guest_mem_region *r = find_any(mem, gpa, len);

	if (!r)
		return -EFAULT;
	memcpy(r->host_base + (gpa - r->gpa), src, len);
	mark_written(r, gpa, len);
	return 0;
}

int guest_mem_fill(const struct guest_mem *mem, uint64_t gpa, uint8_t byte, uint64_t len)
{
	const struct guest_mem_region *r = find_any(mem, gpa, len);

	if (!r)
		return -EFAULT;
	memset(r->host_base + (gpa - r->gpa), byte, len);
	mark_written(r, gpa, len);
	return 0;
}

uint64_t guest_mem_take_written(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
				uint64_t *bitmap)
{
	const struct guest_mem_region *r = find_any(mem, gpa, len);
	uint64_t count = 0;

	if (!r || (gpa & GUEST_MEM_PAGE_MASK))
		return 0;
	uint64_t first = (gpa - r->gpa) >> GUEST_MEM_PAGE_SHIFT;
	uint64_t last = (gpa - r->gpa + len - 1) >> GUEST_MEM_PAGE_SHIFT;

	for (uint64_t w = first / 64; w <= last / 64; w++) {
		_Atomic uint64_t *word = &r->written[w];
		uint64_t lo = w * 64 > first ? 0 : first % 64;
		uint64_t hi = (w + 1) * 64 - 1 < last ? 63 : last % 64;
		uint64_t mask = (hi - lo == 63 ? ~0ull : ((1ull << (hi - lo + 1)) - 1)) << lo;

		/* The common case, nothing written: no read-modify-write. */
		if (!(atomic_load_explicit(word, memory_order_relaxed) & mask))
			continue;
		uint64_t bits = atomic_fetch_and_explicit(word, ~mask, memory_order_acquire) & mask;
		while (bits) {
			uint64_t page = w * 64 + (uint64_t)__builtin_ctzll(bits) - first;
			bits &= bits - 1;
			bitmap[page / 64] |= 1ull << (page % 64);
			count++;
		}
	}
	return count;
}
