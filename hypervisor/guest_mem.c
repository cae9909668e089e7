#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int guest_mem_init(struct guest_mem *mem, uint64_t ram_bytes)
{
	uint64_t low, high;
	void *map;

	memset(mem, 0, sizeof(*mem));
	if (ram_bytes < MEMMAP_RAM_MIN || ram_bytes > MEMMAP_RAM_MAX || (ram_bytes & 0xFFF))
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
	mem->regions[0] = (struct guest_mem_region){ .gpa = 0, .size = low, .host = map };
	mem->count = 1;
	if (high) {
		mem->regions[1] = (struct guest_mem_region){
			.gpa = MEMMAP_HIGH_RAM_BASE, .size = high, .host = (uint8_t *)map + low };
		mem->count = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->mapping)
		munmap(mem->mapping, mem->mapping_bytes);
	memset(mem, 0, sizeof(*mem));
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		return NULL;
	for (unsigned int i = 0; i < mem->count; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
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

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->count ? mem->regions[0].gpa + mem->regions[0].size : 0;
}
