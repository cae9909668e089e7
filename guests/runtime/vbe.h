/*
 * Bochs VBE "dispi" registers of QEMU's std VGA (shared/specs/interfaces.md
 * section 3; QEMU include/hw/display/bochs-vbe.h): an index/data pair at
 * I/O ports 0x1CE/0x1CF, or the same registers flat in the device's MMIO
 * BAR (BAR2) at +0x500 + index * 2. Mode setting follows Linux's bochs-drm
 * (drivers/gpu/drm/tiny/bochs.c, bochs_hw_setmode) step by step.
 */
#ifndef GUEST_VBE_H
#define GUEST_VBE_H

#include <stdint.h>

#define VBE_DISPI_IOPORT_INDEX  0x01CE
#define VBE_DISPI_IOPORT_DATA   0x01CF

/* Offsets inside the std VGA's MMIO BAR (BAR2). */
#define VBE_MMIO_VGA_PORTS      0x400   /* VGA ports 0x3C0-0x3DF, byte access */
#define VBE_MMIO_DISPI          0x500   /* dispi register i at +0x500 + 2 * i */
#define VBE_MMIO_QEXT_SIZE      0x600   /* u32: size of the qext region */
#define VBE_MMIO_QEXT_BYTEORDER 0x604   /* u32: framebuffer byte order */
#define VBE_MMIO_MIN_BYTES      0x516   /* through the last dispi register */
#define VBE_QEXT_LITTLE_ENDIAN  0x1E1E1E1Eu

#define VBE_DISPI_INDEX_ID              0x0
#define VBE_DISPI_INDEX_XRES            0x1
#define VBE_DISPI_INDEX_YRES            0x2
#define VBE_DISPI_INDEX_BPP             0x3
#define VBE_DISPI_INDEX_ENABLE          0x4
#define VBE_DISPI_INDEX_BANK            0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH      0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT     0x7
#define VBE_DISPI_INDEX_X_OFFSET        0x8
#define VBE_DISPI_INDEX_Y_OFFSET        0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xA

#define VBE_DISPI_ID0           0xB0C0
#define VBE_DISPI_ID5           0xB0C5

#define VBE_DISPI_DISABLED      0x00
#define VBE_DISPI_ENABLED       0x01
#define VBE_DISPI_GETCAPS       0x02
#define VBE_DISPI_8BIT_DAC      0x20
#define VBE_DISPI_LFB_ENABLED   0x40
#define VBE_DISPI_NOCLEARMEM    0x80

/* VGA ports bochs-drm touches to unblank (attribute controller). */
#define VGA_ATT_W               0x3C0
#define VGA_IS1_RC              0x3DA   /* input status 1 (colour): resets the flip-flop */
#define VGA_AR_ENABLE_DISPLAY   0x20

struct vbe {
	/* BAR2 base (identity-mapped) to use MMIO, or NULL for I/O ports. */
	volatile uint8_t *mmio;
};

uint16_t vbe_read(const struct vbe *v, unsigned index);
void vbe_write(const struct vbe *v, unsigned index, uint16_t value);

/* bochs_hw_blank(false): read 0x3DA, write 0x20 to 0x3C0 (or their MMIO
 * aliases at +0x400). */
void vbe_unblank(const struct vbe *v);

/*
 * bochs_hw_setmode(): unblank, ENABLE 0, BPP 32, XRES, YRES, BANK 0,
 * VIRT_WIDTH = XRES, VIRT_HEIGHT = fb_size / stride (clamped to 0xFFFF,
 * the register's width), X_OFFSET 0, Y_OFFSET 0, ENABLE = ENABLED |
 * LFB_ENABLED. fb_size is the usable VRAM in bytes.
 */
void vbe_set_mode(const struct vbe *v, uint16_t xres, uint16_t yres, uint64_t fb_size);

#endif
