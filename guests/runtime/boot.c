#include "guest.h"

static const struct hvm_start_info *boot_info;

int boot_init(uint64_t start_info_paddr)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)start_info_paddr;

	/* The structure must lie in the identity-mapped 4 GiB, like everything
	 * a PVH loader hands over (Xen places it below 4 GiB). */
	if (!si || start_info_paddr > 0xFFFFFFFFull - sizeof(*si) ||
	    si->magic != HVM_START_MAGIC)
		return -EINVAL;
	boot_info = si;
	return 0;
}

const struct hvm_start_info *boot_start_info(void)
{
	return boot_info;
}

int boot_ram_covers(uint64_t addr, uint64_t len)
{
	const struct hvm_memmap_table_entry *map;
	uint64_t end;

	if (!boot_info || boot_info->version < 1 || !boot_info->memmap_paddr ||
	    !boot_info->memmap_entries)
		return -ENOENT;
	if (len == 0 || __builtin_add_overflow(addr, len, &end))
		return 0;
	map = (const struct hvm_memmap_table_entry *)(uintptr_t)boot_info->memmap_paddr;
	for (uint32_t i = 0; i < boot_info->memmap_entries; i++) {
		uint64_t e_end;

		if (map[i].type != HVM_MEMMAP_TYPE_RAM ||
		    __builtin_add_overflow(map[i].addr, map[i].size, &e_end))
			continue;
		if (addr >= map[i].addr && end <= e_end)
			return 1;
	}
	return 0;
}
