/*
 * QEMU fw_cfg on x86 I/O ports (QEMU docs/specs/fw_cfg.rst; our
 * shared/specs/interfaces.md section 1): selector 0x510 (16-bit LE write),
 * data 0x511 (byte reads), DMA address 0x514/0x518 (big-endian halves).
 * Integer items (key 1) are little-endian; the file directory (key 0x19) and
 * DMA descriptors are big-endian.
 */
#ifndef GUEST_FWCFG_H
#define GUEST_FWCFG_H

#include <stdint.h>

#define FWCFG_PORT_SELECTOR     0x510
#define FWCFG_PORT_DATA         0x511
#define FWCFG_PORT_DMA_HIGH     0x514
#define FWCFG_PORT_DMA_LOW      0x518   /* writing it starts the transfer */

#define FWCFG_KEY_SIGNATURE     0x0000  /* "QEMU" */
#define FWCFG_KEY_ID            0x0001  /* u32 LE feature bits */
#define FWCFG_KEY_FILE_DIR      0x0019

#define FWCFG_FEATURE_TRADITIONAL 0x1
#define FWCFG_FEATURE_DMA       0x2

#define FWCFG_DMA_ERROR         0x01
#define FWCFG_DMA_READ          0x02
#define FWCFG_DMA_SKIP          0x04
#define FWCFG_DMA_SELECT        0x08
#define FWCFG_DMA_WRITE         0x10

#define FWCFG_FILE_NAME_BYTES   56

/* Checks the "QEMU" signature and reads the feature bits: 0, or -ENODEV
 * when no fw_cfg answers. */
int fwcfg_probe(void);
/* Feature bits read by fwcfg_probe() (0 before it succeeded). */
uint32_t fwcfg_features(void);

/* Traditional interface: select an item (offset 0), read bytes from it. */
void fwcfg_select(uint16_t key);
void fwcfg_read(void *buf, uint32_t len);

/* DMA transfers of len bytes at offset 0 of item key: 0, -ENOTSUP without
 * the DMA feature, -EIO when the device sets the error bit, -ETIMEDOUT
 * when it never completes. */
int fwcfg_dma_read(uint16_t key, void *buf, uint32_t len);
int fwcfg_dma_write(uint16_t key, const void *buf, uint32_t len);

/* Looks name up in the file directory (by DMA when offered, else through
 * the data port): 0 and *select, *size; -ENOENT when absent; -ENODEV
 * without fw_cfg; -EIO on a malformed directory or DMA error. */
int fwcfg_find_file(const char *name, uint16_t *select, uint32_t *size);

#endif
