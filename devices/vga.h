/*
 * QEMU's standard VGA ("-device VGA", docs/specs/standard-vga.rst) reduced
 * to what a linear-framebuffer guest uses: the Bochs VBE "dispi" registers
 * at ports 0x1CE/0x1CF and in BAR2, the PCI function 1234:1111 at 00:02.0
 * with BAR0 = VRAM and BAR2 = 4 KiB of registers, and the few legacy VGA
 * registers Linux's bochs-drm touches to blank and unblank. No text mode,
 * no planar or palettised scan-out, no 0xA0000 window, no VGA BIOS.
 *
 * The guest draws into VRAM directly: VRAM is host memory the board maps as
 * its own KVM memslot (with dirty logging) at BAR0; the device only reads
 * its geometry from the registers and publishes a display surface. It
 * writes VRAM only to clear the visible area when a mode is enabled.
 *
 * Threads: registers are reached from vCPU threads (ports, MMIO, PCI
 * callbacks); one mutex serialises them. Lock order: PCI host, then VGA,
 * then the display.
 */
#ifndef FBVM_VGA_H
#define FBVM_VGA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/display.h"
#include "hypervisor/log.h"

struct bus;
struct guest_mem;
struct pci_host;

/* Ports (QEMU hw/display/vga.c vga_init, x86). 0x1D0 is the non-x86 data
 * alias; it is claimed only because a word access at 0x1CF covers it. */
#define VBE_DISPI_IOPORT_INDEX 0x01CE
#define VBE_DISPI_IOPORT_DATA  0x01CF
#define VGA_IOPORT_BASE        0x03C0
#define VGA_IOPORT_COUNT       0x20     /* 0x3C0-0x3DF */

/* Dispi register indices (QEMU include/hw/display/bochs-vbe.h; Linux bochs.c). */
#define VBE_DISPI_INDEX_ID               0x0
#define VBE_DISPI_INDEX_XRES             0x1
#define VBE_DISPI_INDEX_YRES             0x2
#define VBE_DISPI_INDEX_BPP              0x3
#define VBE_DISPI_INDEX_ENABLE           0x4
#define VBE_DISPI_INDEX_BANK             0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH       0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT      0x7
#define VBE_DISPI_INDEX_X_OFFSET         0x8
#define VBE_DISPI_INDEX_Y_OFFSET         0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xA   /* read-only, computed */
#define VBE_DISPI_INDEX_NB               0xA   /* registers stored: 0x0-0x9 */

#define VBE_DISPI_ID0 0xB0C0
#define VBE_DISPI_ID5 0xB0C5   /* what the ID register reads after reset */

#define VBE_DISPI_ENABLED     0x01
#define VBE_DISPI_GETCAPS     0x02
#define VBE_DISPI_8BIT_DAC    0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM  0x80

/* QEMU's limits (bochs-vbe.h), which still bound the virtual width and the
 * panning offsets. */
#define VBE_DISPI_MAX_XRES 16000
#define VBE_DISPI_MAX_YRES 12000
#define VBE_DISPI_MAX_BPP  32
/* Our visible-mode limits: what frontends can show. GETCAPS reports these
 * rather than QEMU's 16000x12000, and XRES/YRES are clamped to them. */
#define VGA_MAX_XRES DISPLAY_MAX_WIDTH
#define VGA_MAX_YRES DISPLAY_MAX_HEIGHT

/* PCI identity (QEMU hw/display/vga-pci.c, include/hw/pci/pci_ids.h). */
#define VGA_PCI_DEVICE          2       /* 00:02.0, as on QEMU's PC machine */
#define VGA_PCI_VENDOR_ID       0x1234
#define VGA_PCI_DEVICE_ID       0x1111
#define VGA_PCI_REVISION        2       /* QEMU extended registers present */
#define VGA_PCI_CLASS           0x030000
#define VGA_PCI_SUBSYS_VENDOR   0x1AF4
#define VGA_PCI_SUBSYS_ID       0x1100
#define VGA_PCI_VRAM_BAR        0
#define VGA_PCI_MMIO_BAR        2

/* BAR2 layout (docs/specs/standard-vga.rst). */
#define VGA_MMIO_BYTES          0x1000
#define VGA_MMIO_VGA_PORTS      0x400   /* ports 0x3C0-0x3DF */
#define VGA_MMIO_DISPI          0x500   /* dispi register i at 0x500 + 2 * i */
#define VGA_MMIO_DISPI_BYTES    0x16    /* 0xB registers */
#define VGA_MMIO_QEXT           0x600
#define VGA_MMIO_QEXT_BYTES     8
#define VGA_QEXT_REG_SIZE       0x600   /* reads VGA_MMIO_QEXT_BYTES */
#define VGA_QEXT_REG_BYTEORDER  0x604
#define VGA_QEXT_LITTLE_ENDIAN  0x1e1e1e1e
#define VGA_QEXT_BIG_ENDIAN     0xbebebebe

/* VRAM sizes accepted: a power of two (BAR0), QEMU's 1 MiB minimum, and at
 * most 256 MiB so BAR0 fits the hole below 4 GiB. */
#define VGA_VRAM_MIN_BYTES      (1ull << 20)
#define VGA_VRAM_MAX_BYTES      (256ull << 20)
#define VGA_VRAM_DEFAULT_BYTES  (16ull << 20)

#define VGA_AR_COUNT 0x15      /* attribute controller registers */

/* Accesses that were ignored, adjusted or refused; one counter each. */
enum vga_event {
	VGA_EV_BAD_INDEX,          /* dispi index above 0xA */
	VGA_EV_READ_ONLY_WRITE,    /* VIRT_HEIGHT / VIDEO_MEMORY_64K written */
	VGA_EV_ID_REJECTED,        /* ID write outside 0xB0C0..0xB0C5 */
	VGA_EV_SANITIZED,          /* a geometry register adjusted to fit (QEMU vbe_fixup_regs) */
	VGA_EV_BANK_MASKED,        /* BANK beyond VRAM */
	VGA_EV_MODE_UNSUPPORTED,   /* enabled mode frontends cannot show: no surface */
	VGA_EV_MMIO_DISABLED,      /* BAR2 access with COMMAND.MEMORY clear */
	VGA_EV_MMIO_UNASSIGNED,    /* BAR2 offset with no register (EDID, gaps, qext sizes) */
	VGA_EV_VGA_PORT_IGNORED,   /* legacy VGA register not modelled */
	VGA_EV_BAR_MOVE_REFUSED,
	VGA_EV_COUNT,
};

struct vga {
	pthread_mutex_t lock;
	struct display *display;
	const struct guest_mem *mem;     /* VRAM is its device region; host writes go through it */
	uint64_t vram_bytes;
	uint64_t vram_gpa;               /* BAR0 */
	uint64_t mmio_gpa;               /* BAR2 */

	/* Guest-visible state, set by vga_reset(). */
	uint16_t index;                  /* dispi index (port 0x1CE) */
	uint16_t regs[VBE_DISPI_INDEX_NB];
	bool big_endian_fb;              /* qext byte order register */
	uint8_t msr;                     /* miscellaneous output (0x3C2 / 0x3CC) */
	uint8_t ar_index;                /* attribute index; bit 5 = palette address source */
	bool ar_flip_flop;               /* next 0x3C0 write is data */
	uint8_t ar[VGA_AR_COUNT];
	uint8_t st01;                    /* input status 1 (0x3DA) */
	uint8_t fcr;                     /* feature control */
	uint16_t pci_command;            /* mirrored from the PCI function */

	/* What the display shows now: shown.enabled false = no surface. */
	struct display_surface shown;
	int shown_state;                 /* why (vga.c enum vga_scanout) */

	/* Counters for --stats. */
	uint64_t dispi_reads;
	uint64_t dispi_writes;
	uint64_t surfaces_published;
	uint64_t vram_clears;
	uint64_t events[VGA_EV_COUNT];
	struct log_ratelimit log_rl;
};

/*
 * Resets the device and wires it: PCI function 00:02.0 on `pci` (BAR0 =
 * vram_bytes at vram_gpa, prefetchable; BAR2 = 4 KiB at MEMMAP_VGA_MMIO_BASE;
 * COMMAND = IO | MEMORY as firmware leaves a boot display), ports
 * 0x1CE-0x1D0 (16-bit accesses), 0x3C0-0x3DF (8/16-bit) and the BAR2 MMIO
 * region (1- to 4-byte accesses) on `bus`. VRAM is the device region of mem
 * at vram_gpa, vram_bytes long; the device writes it (mode-set clears) only
 * through guest_mem_fill(), so viewers see the clear. vram_bytes must be
 * a power of two within VGA_VRAM_MIN/MAX_BYTES and vram_gpa aligned to it,
 * below 4 GiB, clear of BAR2. Nothing is published until the guest (or
 * vga_set_mode) enables a mode. Returns 0, or -EINVAL (bad VRAM), -EEXIST
 * (a port, the MMIO range or the PCI slot is taken), -ENOSPC, with nothing
 * registered.
 */
int vga_init(struct vga *vga, struct bus *bus, struct pci_host *pci, struct display *display,
	     const struct guest_mem *mem, uint64_t vram_bytes, uint64_t vram_gpa);
void vga_destroy(struct vga *vga);

/*
 * Power-on state, written down in vga.c above vga_reset_locked(): dispi
 * registers 0 except ID = 0xB0C5, index 0, little-endian framebuffer,
 * legacy VGA registers as a VGA BIOS leaves colour text mode (MSR 0x67,
 * attribute index 0x20 = not blanked). A shown surface is withdrawn.
 * VRAM is not touched. Keeps the statistics.
 */
void vga_reset(struct vga *vga);

/*
 * The host-side mode set, as firmware sets a boot mode before a direct-boot
 * Linux takes over through screen_info: programs the registers the way
 * bochs-drm does (ENABLE 0, BPP, XRES, YRES, BANK 0, VIRT_WIDTH = width,
 * offsets 0, ENABLE = ENABLED | LFB_ENABLED, which clears the visible area)
 * and unblanks. bpp 32 (XRGB8888) or 24 (RGB888, width a multiple of 4);
 * width even, 2..VGA_MAX_XRES; height 1..VGA_MAX_YRES; the picture must fit
 * VRAM. Returns 0 with the published surface in *out (may be NULL), or
 * -EINVAL with nothing changed.
 */
int vga_set_mode(struct vga *vga, uint16_t width, uint16_t height, uint16_t bpp,
		 struct display_surface *out);

const char *vga_event_name(enum vga_event ev);

void vga_print_stats(struct vga *vga, FILE *out);

#endif
