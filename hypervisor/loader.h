/*
 * Kernel loading by content: a PVH ELF (loader_pvh.c) or a Linux bzImage
 * (loader_linux.c). The machine calls this, not a loader directly.
 */
#ifndef FBVM_LOADER_H
#define FBVM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "guest_mem.h"

/*
 * Looks at the image: ELF magic at offset 0 goes to pvh_load(), the "HdrS"
 * setup-header magic at 0x202 to linux_load(); anything else is -ENOEXEC
 * ("unknown kernel image format ..."). Otherwise returns what the chosen
 * loader returns, with its contract: 0 and *out filled, or a negative errno,
 * one sentence in err (when err_len > 0) and guest memory unspecified.
 */
int loader_load(struct guest_mem *mem, const uint8_t *image, size_t size,
		const struct boot_request *req, struct boot_entry *out,
		char *err, size_t err_len);

#endif
