/*
 * QEMU-compatible fw_cfg on x86 (QEMU docs/specs/fw_cfg.rst): selector 0x510,
 * data 0x511, DMA address 0x514 (big-endian halves). Devices add items
 * through this API; only items declared writable accept guest writes.
 *
 * Items: SIGNATURE ("QEMU"), ID (u32 LE: traditional + DMA = 3), FILE_DIR
 * (QEMU's layout and size: u32 BE count, then FW_CFG_MAX_FILES 64-byte
 * entries, unused ones zero) and the files. Every other selector reads as an
 * empty item. Guest DMA reaches guest RAM only through guest_mem_ptr() (reads)
 * and guest_mem_write()/guest_mem_fill() (writes, marked for the display).
 *
 * Threads: the guest reaches the device on vCPU threads; one mutex guards the
 * state. Files are added before the vCPUs start.
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
/* QEMU's default file_slots (FW_CFG_FILE_SLOTS_DFLT): keys 0x20..0x3F. */
#define FW_CFG_MAX_FILES  32
#define FW_CFG_FILE_NAME_BYTES 56   /* including the NUL */
#define FW_CFG_DIR_ENTRY_BYTES 64
/* QEMU sizes FILE_DIR for every slot, used or not; so do we. */
#define FW_CFG_DIR_BYTES  (4 + FW_CFG_DIR_ENTRY_BYTES * FW_CFG_MAX_FILES)

/*
 * Called on the vCPU thread after a guest DMA write stored bytes
 * [offset, offset + len) of the item (never a partial or failed write);
 * data is the whole item, size its size. Runs with the fw_cfg lock held:
 * it must not call fw_cfg functions. The bytes stay as written even if the
 * callback rejects them (QEMU semantics: the item is plain storage).
 */
typedef void (*fw_cfg_write_cb)(void *opaque, const uint8_t *data, size_t size,
				size_t offset, size_t len);

struct fw_cfg_file {
	char name[FW_CFG_FILE_NAME_BYTES];
	uint8_t *data;          /* owned by fw_cfg (a copy); NULL when size is 0 */
	uint8_t *initial;       /* a writable file's content as added, for fw_cfg_reset() */
	uint32_t size;
	uint16_t select;
	fw_cfg_write_cb write_cb;  /* NULL: read-only */
	void *opaque;
};

struct fw_cfg {
	pthread_mutex_t lock;
	struct guest_mem *mem;   /* NULL until fw_cfg_init succeeds */
	struct fw_cfg_file files[FW_CFG_MAX_FILES];  /* sorted by name */
	unsigned int file_count;
	uint8_t dir[FW_CFG_DIR_BYTES];  /* FILE_DIR contents, rebuilt when a file is added */
	/* Guest-visible state, guarded by lock; set by the reset in fw_cfg_init. */
	uint16_t selector;
	uint32_t offset;         /* position in the selected item, never past its end */
	uint32_t dma_addr_high;  /* latched high half of the DMA address */
	/* Counters for --stats. */
	uint64_t dma_transfers;
	uint64_t dma_errors;
	uint64_t ignored_accesses;
};

/* Registers the ports on bus; DMA reaches guest RAM only through mem.
 * 0, or -EEXIST / -ENOSPC from the bus (nothing registered then). */
int fw_cfg_init(struct fw_cfg *fw, struct bus *bus, struct guest_mem *mem);
/* Frees the files. Safe after a failed init and on a zeroed struct. */
void fw_cfg_destroy(struct fw_cfg *fw);

/*
 * Adds file `name` (1..55 bytes) with a copy of size bytes of data;
 * write_cb non-NULL makes it writable by guest DMA (in place, never resized).
 * Files get selectors FW_CFG_FILE_FIRST + their index in name order, as in
 * QEMU, so adding a file renumbers those after it. Call after fw_cfg_init,
 * before the vCPUs start. 0, -EEXIST, -ENAMETOOLONG, -ENOSPC, -EINVAL (empty
 * name, NULL data with size > 0), -ENOMEM; on failure nothing changes.
 */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t size,
		    fw_cfg_write_cb write_cb, void *opaque);

/* Power-on state, as QEMU's fw_cfg_reset: the signature selected, offset
 * and DMA address latch 0; and every writable file back to the content it
 * was added with (a guest's writes, such as a ramfb config, do not survive
 * a reset). Counters survive. Any thread. */
void fw_cfg_reset(struct fw_cfg *fw);

void fw_cfg_print_stats(struct fw_cfg *fw, FILE *out);

#endif
