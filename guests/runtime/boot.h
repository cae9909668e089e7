/* What the loader handed over: hvm_start_info and its memory map. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdint.h>

#include "pvh.h"

/* Validated by the runtime before main(); never NULL in main(). */
const struct hvm_start_info *boot_start_info(void);

/*
 * Whether [addr, addr + len) lies inside one RAM entry of the boot memory
 * map: 1 yes, 0 no, -ENOENT when the loader gave no memory map
 * (hvm_start_info version 0 or no entries). len 0 or a range that wraps
 * is "no".
 */
int boot_ram_covers(uint64_t addr, uint64_t len);

/* Called once by the runtime with EBX from the PVH entry: 0 or -EINVAL. */
int boot_init(uint64_t start_info_paddr);

#endif
