#include "loader.h"

#include <errno.h>
#include <stdio.h>

#include "loader_linux.h"
#include "loader_pvh.h"

int loader_load(struct guest_mem *mem, const uint8_t *image, size_t size,
		const struct boot_request *req, struct boot_entry *out,
		char *err, size_t err_len)
{
	if (image && pvh_probe(image, size))
		return pvh_load(mem, image, size, req, out, err, err_len);
	if (image && linux_probe(image, size))
		return linux_load(mem, image, size, req, out, err, err_len);
	if (err && err_len)
		snprintf(err, err_len,
			 "unknown kernel image format in a %zu-byte file: neither a PVH ELF"
			 " (7f 45 4c 46 at offset 0) nor a Linux bzImage (\"HdrS\" at offset"
			 " 0x202)", image ? size : 0);
	return -ENOEXEC;
}
