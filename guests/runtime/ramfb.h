/*
 * Guest side of QEMU's ramfb: a 28-byte big-endian config written to the
 * fw_cfg file "etc/ramfb" by DMA (shared/specs/interfaces.md section 2).
 */
#ifndef GUEST_RAMFB_H
#define GUEST_RAMFB_H

#include <stdint.h>

#define RAMFB_FILE_NAME         "etc/ramfb"
#define RAMFB_CONFIG_BYTES      28
#define RAMFB_FOURCC_XRGB8888   0x34325258u     /* DRM 'XR24' */

struct ramfb_mode {
	uint64_t addr;          /* guest-physical address of pixel (0, 0) */
	uint32_t width;
	uint32_t height;
	uint32_t stride;        /* bytes per row */
};

/*
 * Finds etc/ramfb and writes an XRGB8888 config for mode. Returns 0, or:
 * -ENODEV no fw_cfg ("QEMU" signature), -ENOTSUP fw_cfg without DMA,
 * -ENOENT no etc/ramfb (no ramfb device), -EINVAL etc/ramfb is not 28 bytes,
 * -EIO/-ETIMEDOUT the DMA write failed (the device rejected the write).
 */
int ramfb_configure(const struct ramfb_mode *mode);

#endif
