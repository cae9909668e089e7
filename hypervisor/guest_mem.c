#include "guest_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#define GUEST_MEM_PAGE_MASK 0xFFFull

int guest_mem_init(struct guest_mem *mem, uint64_t ram_bytes)
{
	uint64_t low, high;
	void *map;

	memset(mem, 0, sizeof(*mem));
	if (ram_bytes < MEMMAP_RAM_MIN || ram_bytes > MEMMAP_RAM_MAX ||
	    (ram_bytes & GUEST_MEM_PAGE_MASK))
		return -EINVAL;
	map = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	/* Guest RAM is large and sparse: keep it out of core dumps. */
	madvise(map, ram_bytes, MADV_DONTDUMP);

	low = ram_bytes < MEMMAP_LOW_RAM_MAX ? ram_bytes : MEMMAP_LOW_RAM_MAX;
	high = ram_bytes - low;
	mem->mapping = map;
	mem->mapping_bytes = ram_bytes;
	mem->ram_bytes = ram_bytes;
	mem->regions[0] = (struct guest_mem_region){
		.gpa = 0, .size = low, .host = map, .name = "ram" };
	mem->count = 1;
	if (high) {
		mem->regions[1] = (struct guest_mem_region){
			.gpa = MEMMAP_HIGH_RAM_BASE, .size = high, .host = (uint8_t *)map + low,
			.name = "ram" };
		mem->count = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->device_count; i++)
		munmap(mem->devices[i].host, mem->devices[i].size);
	if (mem->mapping)
		munmap(mem->mapping, mem->mapping_bytes);
	memset(mem, 0, sizeof(*mem));
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
	map = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	madvise(map, size, MADV_DONTDUMP);
	mem->devices[mem->device_count++] = (struct guest_mem_region){
		.gpa = gpa, .size = size, .host = map, .name = name };
	*host = map;
	return 0;
}

/* The one bounds check: [gpa, gpa + len) wholly inside one of regions[0..n). */
static void *region_ptr(const struct guest_mem_region *regions, unsigned int n, uint64_t gpa,
			uint64_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct guest_mem_region *r = &regions[i];
		/* Written so no sum can overflow: offset and len are each <= size. */
		if (gpa < r->gpa)
			continue;
		uint64_t offset = gpa - r->gpa;
		if (offset >= r->size || len > r->size - offset)
			continue;
		return r->host + offset;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	void *p;

	if (len == 0)
		return NULL;
	p = region_ptr(mem->regions, mem->count, gpa, len);
	return p ? p : region_ptr(mem->devices, mem->device_count, gpa, len);
}

void *guest_mem_ram_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return len ? region_ptr(mem->regions, mem->count, gpa, len) : NULL;
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->count ? mem->regions[0].gpa + mem->regions[0].size : 0;
}
