/*
 * QEMU-compatible fw_cfg on x86 (QEMU docs/specs/fw_cfg.rst): selector 0x510,
 * data 0x511, DMA address 0x514 (big-endian halves). Devices add items
 * through this API; only items declared writable accept guest writes.
 */
#ifndef FBVM_FW_CFG_H
#define FBVM_FW_CFG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bus;
struct guest_mem;

#define FW_CFG_PORT_SELECTOR 0x510
#define FW_CFG_PORT_DATA     0x511
#define FW_CFG_PORT_DMA      0x514

/* Well-known selectors (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_MAX_FILES  32
#define FW_CFG_FILE_NAME_BYTES 56   /* including the NUL */

/* Called on the vCPU thread after a guest DMA write changed bytes
 * [offset, offset + len) of the item; data is the whole item. */
typedef void (*fw_cfg_write_cb)(void *opaque, const uint8_t *data, size_t size,
				size_t offset, size_t len);

struct fw_cfg_file {
	char name[FW_CFG_FILE_NAME_BYTES];
	uint8_t *data;          /* owned by fw_cfg (a copy) */
	uint32_t size;
	uint16_t select;
	fw_cfg_write_cb write_cb;  /* NULL: read-only */
	void *opaque;
};

struct fw_cfg {
	pthread_mutex_t lock;
	struct guest_mem *mem;
	struct fw_cfg_file files[FW_CFG_MAX_FILES];  /* sorted by name */
	unsigned int file_count;
	uint8_t *dir;            /* FILE_DIR contents, rebuilt when a file is added */
	uint32_t dir_size;
	uint16_t selector;
	uint32_t offset;         /* read/write position in the selected item */
	uint32_t dma_addr_high;  /* latched high half of the DMA address */
	/* Counters for --stats. */
	uint64_t dma_transfers;
	uint64_t dma_errors;
	uint64_t ignored_accesses;
};

/* Registers the ports on bus; DMA reaches guest RAM only through mem. */
int fw_cfg_init(struct fw_cfg *fw, struct bus *bus, struct guest_mem *mem);
void fw_cfg_destroy(struct fw_cfg *fw);

/*
 * Adds file `name` (at most 55 bytes) with a copy of size bytes of data;
 * write_cb non-NULL makes it writable by guest DMA (in place, never resized).
 * Files get selectors FW_CFG_FILE_FIRST + their index in name order, as in
 * QEMU. Call before the vCPUs start. 0, -EEXIST, -ENAMETOOLONG, -ENOSPC.
 */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t size,
		    fw_cfg_write_cb write_cb, void *opaque);

void fw_cfg_print_stats(struct fw_cfg *fw, FILE *out);

#endif
