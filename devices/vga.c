/*
 * Standard VGA: Bochs VBE dispi registers, the PCI function, and the bits
 * of legacy VGA bochs-drm uses.
 *
 * Over 800 lines on purpose: one device, one file (the project's rule). The
 * dispi registers, the PCI function and the legacy ports share one struct
 * and one lock, and much of the length is QEMU's semantics stated beside
 * the code that follows them.
 *
 * Dispi register semantics are QEMU's std VGA (hw/display/vga.c
 * vbe_ioport_read_data / vbe_ioport_write_data / vbe_fixup_regs), our
 * reference, so a guest reads back what it would read under QEMU:
 *  - ID reads 0xB0C5 after reset; writes of 0xB0C0..0xB0C5 are stored
 *    (version negotiation), anything else is ignored.
 *  - XRES, YRES, BPP, VIRT_WIDTH, X_OFFSET, Y_OFFSET store the value; while
 *    ENABLED is set every such write re-sanitises the geometry (below), so
 *    the registers always describe a picture inside VRAM. While disabled
 *    they hold whatever was written, in any order.
 *  - ENABLE stores the value. Setting ENABLED when it was clear resets
 *    VIRT_WIDTH, X_OFFSET and Y_OFFSET to 0, sanitises, and clears the
 *    visible area (YRES lines of VRAM) unless NOCLEARMEM. GETCAPS makes
 *    XRES/YRES/BPP read the maxima (VGA_MAX_XRES, VGA_MAX_YRES, 32).
 *    8BIT_DAC and LFB_ENABLED are stored only: there is no palette and the
 *    LFB (BAR0) is always mapped, as in QEMU.
 *  - BANK is masked to the VRAM size in 64 KiB units, as QEMU does since
 *    CVE-2016-3710; there is no 0xA0000 window here, so it selects nothing.
 *  - VIRT_HEIGHT writes are ignored (QEMU: no case for it); it reads the
 *    number of lines of VIRT_WIDTH that fit VRAM once a mode is enabled.
 *  - VIDEO_MEMORY_64K (0xA) reads VRAM size / 64 KiB; writes are ignored.
 *  - Indices above 0xA read 0 and ignore writes.
 *
 * Sanitising (QEMU vbe_fixup_regs; CVE-2014-3615 and CVE-2016-3712 are why
 * it exists), with three deliberate differences:
 *  - BPP 4/8/16/24/32 kept, 15 kept (16 for line size), anything else
 *    forced to 8.
 *  - XRES and VIRT_WIDTH are rounded down to a multiple of 2, not 8: QEMU's
 *    multiple of 8 turns 1366x768 into a 1360-pixel line under a 1366-pixel
 *    driver stride, a "staircase" picture (Simon Rowe's 2024 qemu-devel
 *    patch proposes 2). XRES 0 becomes 8.
 *  - XRES and YRES are clamped to VGA_MAX_XRES/VGA_MAX_YRES (4096, what
 *    frontends show) instead of 16000/12000, and GETCAPS reports those.
 *  VIRT_WIDTH is clamped to 16000 and raised to XRES; YRES 0 becomes 1 and
 *  YRES is clamped to the lines that fit VRAM; offsets are clamped to
 *  16000/12000, then Y_OFFSET (and if still needed X_OFFSET) is reset to 0
 *  when offset + YRES lines would pass the end of VRAM. VIRT_HEIGHT reads
 *  min(lines that fit, 0xFFFF) (QEMU truncates to 16 bits).
 *
 * Scan-out: while ENABLED is set and the attribute controller's palette
 * address source bit (0x3C0 index bit 5) is set, the surface is
 *   gpa    = BAR0 + Y_OFFSET * stride + X_OFFSET * bytes-per-pixel
 *   width  = XRES, height = YRES, stride = VIRT_WIDTH * bytes-per-pixel
 *   format = XRGB8888 for BPP 32, RGB888 for BPP 24 (little-endian pixels,
 *            as QEMU draws them); the offset is used exactly, where QEMU's
 *            start address drops its low 2 bits.
 * It is checked once more before publishing (display limits, stride a
 * multiple of 4, span inside VRAM with overflow-safe arithmetic). Whenever
 * the result differs from what is shown, a new surface is published, so a
 * page flip (new Y_OFFSET) or a new mode is a new generation.
 * No surface (an enabled = false publish, frontends show nothing) when:
 *  - ENABLED is clear: QEMU would fall back to VGA text or planar modes,
 *    which we do not emulate, so a disabled VBE shows nothing rather than a
 *    stale picture;
 *  - the screen is blanked (bochs-drm's pipe disable writes 0x3C0 = 0);
 *  - the mode cannot be shown: BPP other than 24/32 (no palette or RGB565
 *    conversion in the frontends), the big-endian byte order through qext
 *    (BGRX8888 in memory), or 24 bpp with a stride not a multiple of 4.
 *    Counted (VGA_EV_MODE_UNSUPPORTED) and logged when entered.
 *
 * BAR2 (docs/specs/standard-vga.rst), gated by COMMAND.MEMORY (clear: reads
 * all-ones, writes dropped, counted), accesses of 1 to 4 bytes that lie
 * inside one window:
 *  - 0x400-0x41F: VGA ports 0x3C0-0x3DF, byte by byte in address order
 *    (QEMU: a word write at an index port is the index byte, then the
 *    data byte at the next port).
 *  - 0x500-0x515: dispi register i at 0x500 + 2i, split the way QEMU's
 *    memory core splits for pci_vga_bochs_ops (valid 1..4, impl 2): pieces
 *    no larger than their alignment, each a 16-bit register access at
 *    offset / 2; a 1-byte piece reads the register's low byte and writes
 *    the byte zero-extended. Like QEMU, an MMIO access also sets the port
 *    index register.
 *  - 0x600: qext size (reads 8), 0x604: framebuffer byte order
 *    (0x1e1e1e1e little, 0xbebebebe big; other values ignored); 4-byte
 *    accesses only.
 *  - Everything else, including the EDID block QEMU has at 0x000 (bochs-drm
 *    then offers its built-in modes): reads all-ones, writes dropped,
 *    counted.
 *
 * Legacy VGA (ports 0x3C0-0x3DF and BAR2+0x400): attribute index/data with
 * its flip-flop (0x3C0/0x3C1), MSR (write 0x3C2, read 0x3CC; its colour bit
 * selects whether 0x3Dx responds, as in QEMU), input status 1 at 0x3DA
 * (retrace bits toggle to fool polling, reading resets the flip-flop),
 * feature control. Other registers (sequencer, graphics, CRTC, DAC) read 0
 * and ignore writes, counted. The ports are not gated by COMMAND.IO, nor
 * are 0x1CE/0x1CF: QEMU decodes them as ISA ports.
 *
 * PCI: BAR moves are refused (kvmtool's vesa does the same): VRAM is the
 * board's memslot and the bus cannot move a region. The BAR keeps reading
 * its assigned base and the refusal is counted and logged.
 */
#include "vga.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "devices/pci.h"
#include "hypervisor/bus.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/memmap.h"

#define VBE_DISPI_ID_LAST     VBE_DISPI_ID5
#define VBE_BANK_BYTES        0x10000u   /* BANK and VIDEO_MEMORY_64K unit */

/* Legacy VGA ports (Linux include/video/vga.h names). */
#define VGA_ATT_W   0x3C0     /* attribute index / data write */
#define VGA_ATT_R   0x3C1     /* attribute data read */
#define VGA_MIS_W   0x3C2     /* misc output write; reads input status 0 */
#define VGA_MIS_R   0x3CC     /* misc output read */
#define VGA_FTC_R   0x3CA     /* feature control read */
#define VGA_IS1_RC  0x3DA     /* input status 1 (colour); writes: feature control */
#define VGA_MIS_COLOR 0x01    /* MSR: I/O at 0x3Dx rather than 0x3Bx */
#define VGA_MIS_RESERVED 0x10
#define VGA_AR_PAS  0x20      /* attribute index: palette address source, 0 = blank */
#define VGA_AR_INDEX_MASK 0x3F
#define VGA_AR_REG_MASK   0x1F
#define ST01_DISP_ENABLE  0x01
#define ST01_V_RETRACE    0x08
#define VGA_FCR_MASK      0x10
/* MSR as a VGA BIOS leaves colour text mode 3: colour I/O, RAM enabled,
 * 28 MHz clock, odd/even page, sync polarities for 400 lines. */
#define VGA_MSR_RESET 0x67

enum vga_scanout {
	VGA_SCANOUT_DISABLED,      /* ENABLED clear */
	VGA_SCANOUT_BLANKED,       /* palette address source clear */
	VGA_SCANOUT_UNSUPPORTED,   /* mode the frontends cannot show */
	VGA_SCANOUT_SHOWN,
};

static const struct {
	const char *name;
	enum log_level level;
} vga_events[VGA_EV_COUNT] = {
	[VGA_EV_BAD_INDEX] = { "bad_index", LOG_DEBUG },
	[VGA_EV_READ_ONLY_WRITE] = { "read_only_write", LOG_DEBUG },  /* bochs-drm writes VIRT_HEIGHT */
	[VGA_EV_ID_REJECTED] = { "id_rejected", LOG_DEBUG },
	[VGA_EV_SANITIZED] = { "sanitized", LOG_DEBUG },
	[VGA_EV_BANK_MASKED] = { "bank_masked", LOG_DEBUG },
	[VGA_EV_MODE_UNSUPPORTED] = { "mode_unsupported", LOG_WARN },
	[VGA_EV_MMIO_DISABLED] = { "mmio_disabled", LOG_DEBUG },
	[VGA_EV_MMIO_UNASSIGNED] = { "mmio_unassigned", LOG_DEBUG },  /* bochs-drm probes EDID */
	[VGA_EV_VGA_PORT_IGNORED] = { "vga_port_ignored", LOG_DEBUG },
	[VGA_EV_BAR_MOVE_REFUSED] = { "bar_move_refused", LOG_WARN },
};

const char *vga_event_name(enum vga_event ev)
{
	return (unsigned int)ev < VGA_EV_COUNT ? vga_events[ev].name : "unknown";
}

/* Counts ev and logs it, rate-limited per device; the caller holds the lock. */
__attribute__((format(printf, 3, 4)))
static void vga_note(struct vga *v, enum vga_event ev, const char *fmt, ...)
{
	unsigned int suppressed;
	char detail[160];
	va_list ap;

	v->events[ev]++;
	if (vga_events[ev].level > log_get_level() || !log_ratelimit_allow(&v->log_rl, &suppressed))
		return;
	if (suppressed)
		log_msg(vga_events[ev].level, "vga", "%u similar messages suppressed", suppressed);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_msg(vga_events[ev].level, "vga", "%s: %s", vga_events[ev].name, detail);
}

/* ---- scan-out ------------------------------------------------------------ */

/* Bits per pixel the line size is computed with, for a sanitised BPP. */
static unsigned int vbe_bits(uint16_t bpp)
{
	return bpp == 15 ? 16 : bpp;
}

/* What the registers ask the display to show; *s is valid for SHOWN. */
static enum vga_scanout vga_scanout(const struct vga *v, struct display_surface *s)
{
	const uint16_t *r = v->regs;
	unsigned int bytes_pp;
	uint64_t stride, offset, span, end;

	memset(s, 0, sizeof(*s));
	if (!(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED))
		return VGA_SCANOUT_DISABLED;
	if (!(v->ar_index & VGA_AR_PAS))
		return VGA_SCANOUT_BLANKED;
	if (v->big_endian_fb)
		return VGA_SCANOUT_UNSUPPORTED;
	switch (r[VBE_DISPI_INDEX_BPP]) {
	case 32:
		s->format = DISPLAY_FORMAT_XRGB8888;
		bytes_pp = 4;
		break;
	case 24:
		s->format = DISPLAY_FORMAT_RGB888;
		bytes_pp = 3;
		break;
	default:
		return VGA_SCANOUT_UNSUPPORTED;
	}
	stride = (uint64_t)r[VBE_DISPI_INDEX_VIRT_WIDTH] * bytes_pp;
	offset = (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bytes_pp +
		 (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * stride;
	s->width = r[VBE_DISPI_INDEX_XRES];
	s->height = r[VBE_DISPI_INDEX_YRES];
	s->stride = (uint32_t)stride;
	/* The sanitised registers already fit; these checks are the contract
	 * with the frontends, kept even if the sanitising changes. */
	if (s->width == 0 || s->width > DISPLAY_MAX_WIDTH || s->height == 0 ||
	    s->height > DISPLAY_MAX_HEIGHT || stride > DISPLAY_MAX_STRIDE || stride % 4 ||
	    !display_surface_span(s, &span) || __builtin_add_overflow(offset, span, &end) ||
	    end > v->vram_bytes)
		return VGA_SCANOUT_UNSUPPORTED;
	s->enabled = true;
	s->gpa = v->vram_gpa + offset;
	return VGA_SCANOUT_SHOWN;
}

static bool surface_equal(const struct display_surface *a, const struct display_surface *b)
{
	return a->enabled == b->enabled && a->gpa == b->gpa && a->width == b->width &&
	       a->height == b->height && a->stride == b->stride && a->format == b->format;
}

/* Publishes what the registers now describe, if it differs from what is shown. */
static void vga_update_surface(struct vga *v)
{
	struct display_surface s;
	enum vga_scanout state = vga_scanout(v, &s);

	if (state == VGA_SCANOUT_UNSUPPORTED && v->shown_state != VGA_SCANOUT_UNSUPPORTED)
		vga_note(v, VGA_EV_MODE_UNSUPPORTED, "%ux%u bpp=%u virt_width=%u byteorder=%s: "
			 "no surface", v->regs[VBE_DISPI_INDEX_XRES], v->regs[VBE_DISPI_INDEX_YRES],
			 v->regs[VBE_DISPI_INDEX_BPP], v->regs[VBE_DISPI_INDEX_VIRT_WIDTH],
			 v->big_endian_fb ? "big" : "little");
	v->shown_state = (int)state;
	if (surface_equal(&s, &v->shown))
		return;
	v->shown = s;
	v->surfaces_published++;
	display_publish(v->display, &s);
	if (s.enabled)
		log_debug("vga", "surface gpa=0x%" PRIx64 " size=%" PRIu32 "x%" PRIu32
			  " stride=%" PRIu32 " format=0x%08" PRIx32, s.gpa, s.width, s.height,
			  s.stride, s.format);
	else
		log_debug("vga", "no surface (%s)", state == VGA_SCANOUT_BLANKED ? "blanked" :
			  state == VGA_SCANOUT_DISABLED ? "disabled" : "unsupported mode");
}

/* ---- dispi registers ----------------------------------------------------- */

/* QEMU vbe_fixup_regs with the differences listed at the top; only while
 * ENABLED. Returns the line size in bytes (0 when disabled). */
static uint32_t vbe_fixup_regs(struct vga *v)
{
	uint16_t *r = v->regs;
	uint32_t bits, line_bytes;
	uint64_t max_lines, offset, visible;
	bool adjusted = false;

	if (!(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED))
		return 0;

	switch (r[VBE_DISPI_INDEX_BPP]) {
	case 4: case 8: case 15: case 16: case 24: case 32:
		break;
	default:
		r[VBE_DISPI_INDEX_BPP] = 8;
		adjusted = true;
		break;
	}
	bits = vbe_bits(r[VBE_DISPI_INDEX_BPP]);

	if (r[VBE_DISPI_INDEX_XRES] & 1u) {
		r[VBE_DISPI_INDEX_XRES] &= (uint16_t)~1u;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_XRES] == 0) {
		r[VBE_DISPI_INDEX_XRES] = 8;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_XRES] > VGA_MAX_XRES) {
		r[VBE_DISPI_INDEX_XRES] = VGA_MAX_XRES;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_VIRT_WIDTH] & 1u) {
		r[VBE_DISPI_INDEX_VIRT_WIDTH] &= (uint16_t)~1u;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_VIRT_WIDTH] > VBE_DISPI_MAX_XRES) {
		r[VBE_DISPI_INDEX_VIRT_WIDTH] = VBE_DISPI_MAX_XRES;
		adjusted = true;
	}
	/* Not counted: 0 (the value an enable leaves) means "as wide as XRES". */
	if (r[VBE_DISPI_INDEX_VIRT_WIDTH] < r[VBE_DISPI_INDEX_XRES])
		r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];

	/* VIRT_WIDTH >= XRES >= 2 and bits >= 4: at least 1 byte, at most 64000. */
	line_bytes = r[VBE_DISPI_INDEX_VIRT_WIDTH] * bits / 8;
	max_lines = v->vram_bytes / line_bytes;
	if (r[VBE_DISPI_INDEX_YRES] == 0) {
		r[VBE_DISPI_INDEX_YRES] = 1;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_YRES] > VGA_MAX_YRES) {
		r[VBE_DISPI_INDEX_YRES] = VGA_MAX_YRES;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_YRES] > max_lines) {
		r[VBE_DISPI_INDEX_YRES] = (uint16_t)max_lines;
		adjusted = true;
	}

	if (r[VBE_DISPI_INDEX_X_OFFSET] > VBE_DISPI_MAX_XRES) {
		r[VBE_DISPI_INDEX_X_OFFSET] = VBE_DISPI_MAX_XRES;
		adjusted = true;
	}
	if (r[VBE_DISPI_INDEX_Y_OFFSET] > VBE_DISPI_MAX_YRES) {
		r[VBE_DISPI_INDEX_Y_OFFSET] = VBE_DISPI_MAX_YRES;
		adjusted = true;
	}
	/* All terms are below 2^32 (16000 * 4 + 12000 * 64000): no overflow in 64 bits. */
	visible = (uint64_t)r[VBE_DISPI_INDEX_YRES] * line_bytes;
	offset = (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bits / 8 +
		 (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * line_bytes;
	if (offset + visible > v->vram_bytes) {
		r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
		adjusted = true;
		offset = (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bits / 8;
		if (offset + visible > v->vram_bytes)
			r[VBE_DISPI_INDEX_X_OFFSET] = 0;
	}
	r[VBE_DISPI_INDEX_VIRT_HEIGHT] = max_lines > UINT16_MAX ? UINT16_MAX : (uint16_t)max_lines;
	if (adjusted)
		vga_note(v, VGA_EV_SANITIZED, "adjusted to %ux%u bpp=%u virt_width=%u offset=%u,%u",
			 r[VBE_DISPI_INDEX_XRES], r[VBE_DISPI_INDEX_YRES], r[VBE_DISPI_INDEX_BPP],
			 r[VBE_DISPI_INDEX_VIRT_WIDTH], r[VBE_DISPI_INDEX_X_OFFSET],
			 r[VBE_DISPI_INDEX_Y_OFFSET]);
	return line_bytes;
}

static void vbe_enable_write(struct vga *v, uint16_t value)
{
	uint16_t *r = v->regs;

	if ((value & VBE_DISPI_ENABLED) && !(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)) {
		uint32_t line_bytes;
		uint64_t clear_bytes;

		r[VBE_DISPI_INDEX_VIRT_WIDTH] = 0;
		r[VBE_DISPI_INDEX_X_OFFSET] = 0;
		r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
		r[VBE_DISPI_INDEX_ENABLE] |= VBE_DISPI_ENABLED;
		line_bytes = vbe_fixup_regs(v);
		if (!(value & VBE_DISPI_NOCLEARMEM)) {
			/* A host-side write: guest_mem_fill() marks the pages, so
			 * a frontend still showing this VRAM (same geometry, no
			 * new generation yet) sees the clear too. */
			clear_bytes = (uint64_t)r[VBE_DISPI_INDEX_YRES] * line_bytes;
			if (clear_bytes > v->vram_bytes)
				clear_bytes = v->vram_bytes;
			guest_mem_fill(v->mem, v->vram_gpa, 0, clear_bytes);
			v->vram_clears++;
		}
	}
	r[VBE_DISPI_INDEX_ENABLE] = value;
}

static uint16_t vbe_data_read(struct vga *v)
{
	uint16_t index = v->index;

	v->dispi_reads++;
	if (index < VBE_DISPI_INDEX_NB) {
		if (v->regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
			switch (index) {
			case VBE_DISPI_INDEX_XRES:
				return VGA_MAX_XRES;
			case VBE_DISPI_INDEX_YRES:
				return VGA_MAX_YRES;
			case VBE_DISPI_INDEX_BPP:
				return VBE_DISPI_MAX_BPP;
			}
		}
		return v->regs[index];
	}
	if (index == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
		return (uint16_t)(v->vram_bytes / VBE_BANK_BYTES);
	vga_note(v, VGA_EV_BAD_INDEX, "read of index 0x%x", index);
	return 0;
}

static void vbe_data_write(struct vga *v, uint16_t value)
{
	uint16_t index = v->index;
	uint16_t bank_mask = (uint16_t)(v->vram_bytes / VBE_BANK_BYTES - 1);

	v->dispi_writes++;
	switch (index) {
	case VBE_DISPI_INDEX_ID:
		if (value >= VBE_DISPI_ID0 && value <= VBE_DISPI_ID_LAST)
			v->regs[index] = value;
		else
			vga_note(v, VGA_EV_ID_REJECTED, "ID write 0x%04x", value);
		break;
	case VBE_DISPI_INDEX_XRES:
	case VBE_DISPI_INDEX_YRES:
	case VBE_DISPI_INDEX_BPP:
	case VBE_DISPI_INDEX_VIRT_WIDTH:
	case VBE_DISPI_INDEX_X_OFFSET:
	case VBE_DISPI_INDEX_Y_OFFSET:
		v->regs[index] = value;
		vbe_fixup_regs(v);
		break;
	case VBE_DISPI_INDEX_BANK:
		if (value & ~bank_mask)
			vga_note(v, VGA_EV_BANK_MASKED, "BANK %u beyond %u banks of VRAM", value,
				 bank_mask + 1u);
		v->regs[index] = value & bank_mask;
		break;
	case VBE_DISPI_INDEX_ENABLE:
		vbe_enable_write(v, value);
		break;
	case VBE_DISPI_INDEX_VIRT_HEIGHT:
	case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
		vga_note(v, VGA_EV_READ_ONLY_WRITE, "write 0x%04x to index 0x%x ignored", value,
			 index);
		return;
	default:
		vga_note(v, VGA_EV_BAD_INDEX, "write 0x%04x to index 0x%x ignored", value, index);
		return;
	}
	vga_update_surface(v);
}

/* ---- legacy VGA registers ------------------------------------------------ */

/* QEMU vga_ioport_invalid: the 0x3Dx ports answer only in colour mode (our
 * range has no 0x3Bx ports). */
static bool vga_port_invalid(const struct vga *v, uint16_t port)
{
	return port >= 0x3D0 && !(v->msr & VGA_MIS_COLOR);
}

static uint8_t vga_port_read(struct vga *v, uint16_t port)
{
	unsigned int ar;

	if (vga_port_invalid(v, port))
		return 0xFF;
	switch (port) {
	case VGA_ATT_W:
		return v->ar_flip_flop ? 0 : v->ar_index;
	case VGA_ATT_R:
		ar = v->ar_index & VGA_AR_REG_MASK;
		return ar < VGA_AR_COUNT ? v->ar[ar] : 0;
	case VGA_MIS_W:
		return 0;   /* input status 0: no switch sense, no CRT interrupt */
	case VGA_MIS_R:
		return v->msr;
	case VGA_FTC_R:
		return v->fcr;
	case VGA_IS1_RC:
		v->st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
		v->ar_flip_flop = false;
		return v->st01;
	default:
		vga_note(v, VGA_EV_VGA_PORT_IGNORED, "read of port 0x%x", port);
		return 0;
	}
}

static void vga_port_write(struct vga *v, uint16_t port, uint8_t value)
{
	unsigned int ar;

	if (vga_port_invalid(v, port)) {
		vga_note(v, VGA_EV_VGA_PORT_IGNORED, "write 0x%02x to port 0x%x in mono mode",
			 value, port);
		return;
	}
	switch (port) {
	case VGA_ATT_W:
		if (!v->ar_flip_flop) {
			v->ar_index = value & VGA_AR_INDEX_MASK;
			vga_update_surface(v);   /* blanking follows the PAS bit */
		} else {
			ar = v->ar_index & VGA_AR_REG_MASK;
			if (ar < VGA_AR_COUNT)
				v->ar[ar] = value;
		}
		v->ar_flip_flop = !v->ar_flip_flop;
		break;
	case VGA_MIS_W:
		v->msr = value & (uint8_t)~VGA_MIS_RESERVED;
		break;
	case VGA_IS1_RC:
		v->fcr = value & VGA_FCR_MASK;
		break;
	default:
		vga_note(v, VGA_EV_VGA_PORT_IGNORED, "write 0x%02x to port 0x%x", value, port);
		break;
	}
}

/* ---- port I/O ------------------------------------------------------------ */

static uint64_t vbe_port_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct vga *v = opaque;
	uint16_t value;

	(void)size;   /* the bus allows 16-bit accesses only */
	pthread_mutex_lock(&v->lock);
	value = offset == 0 ? v->index : vbe_data_read(v);
	pthread_mutex_unlock(&v->lock);
	return value;
}

static void vbe_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct vga *v = opaque;

	(void)size;
	pthread_mutex_lock(&v->lock);
	if (offset == 0)
		v->index = (uint16_t)value;
	else
		vbe_data_write(v, (uint16_t)value);
	pthread_mutex_unlock(&v->lock);
}

static const struct bus_ops vbe_port_ops = {
	.read = vbe_port_read,
	.write = vbe_port_write,
};

/* Byte by byte, low address first (QEMU vga_portio_list / pci_vga_ioport_ops). */
static uint64_t vga_ports_read_locked(struct vga *v, uint16_t port, unsigned int size)
{
	uint64_t value = 0;

	for (unsigned int i = 0; i < size; i++)
		value |= (uint64_t)vga_port_read(v, (uint16_t)(port + i)) << (8 * i);
	return value;
}

static void vga_ports_write_locked(struct vga *v, uint16_t port, uint64_t value, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		vga_port_write(v, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
}

static uint64_t vga_ioport_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct vga *v = opaque;
	uint64_t value;

	pthread_mutex_lock(&v->lock);
	value = vga_ports_read_locked(v, (uint16_t)(VGA_IOPORT_BASE + offset), size);
	pthread_mutex_unlock(&v->lock);
	return value;
}

static void vga_ioport_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	vga_ports_write_locked(v, (uint16_t)(VGA_IOPORT_BASE + offset), value, size);
	pthread_mutex_unlock(&v->lock);
}

static const struct bus_ops vga_ioport_ops = {
	.read = vga_ioport_read,
	.write = vga_ioport_write,
};

/* ---- BAR2 MMIO ----------------------------------------------------------- */

/* One dispi access of 1 to 4 bytes at `rel` bytes into the dispi window,
 * split like QEMU's memory core does for valid 1..4 / impl 2 (see top). */
static uint64_t dispi_mmio_access(struct vga *v, uint64_t rel, unsigned int size, bool is_write,
				  uint64_t value)
{
	uint64_t result = 0;
	unsigned int done = 0;

	while (done < size) {
		uint64_t pos = rel + done;
		unsigned int piece = size - done;
		uint64_t align = pos & -pos;   /* 0 at offset 0: any size */

		if (align && align < piece)
			piece = (unsigned int)align;
		if (piece == 3)
			piece = 2;
		/* A 4-byte piece is two 16-bit register accesses; smaller ones one. */
		for (unsigned int half = 0; half < piece; half += 2) {
			unsigned int width = piece - half < 2 ? piece - half : 2;
			uint16_t mask = width == 1 ? 0xFF : 0xFFFF;
			unsigned int shift = 8 * (done + half);

			v->index = (uint16_t)((pos + half) >> 1);
			if (is_write)
				vbe_data_write(v, (uint16_t)((value >> shift) & mask));
			else
				result |= (uint64_t)(vbe_data_read(v) & mask) << shift;
		}
		done += piece;
	}
	return result;
}

static bool window_holds(uint64_t offset, unsigned int size, uint64_t base, uint64_t len)
{
	return offset >= base && offset + size <= base + len;
}

static uint64_t vga_mmio_access(struct vga *v, uint64_t offset, unsigned int size, bool is_write,
				uint64_t value)
{
	if (!(v->pci_command & PCI_COMMAND_MEMORY)) {
		vga_note(v, VGA_EV_MMIO_DISABLED, "%s at BAR2+0x%" PRIx64 " with COMMAND.MEMORY "
			 "clear", is_write ? "write" : "read", offset);
		return UINT64_MAX;
	}
	if (window_holds(offset, size, VGA_MMIO_VGA_PORTS, VGA_IOPORT_COUNT)) {
		uint16_t port = (uint16_t)(VGA_IOPORT_BASE + offset - VGA_MMIO_VGA_PORTS);
		if (!is_write)
			return vga_ports_read_locked(v, port, size);
		vga_ports_write_locked(v, port, value, size);
		return 0;
	}
	if (window_holds(offset, size, VGA_MMIO_DISPI, VGA_MMIO_DISPI_BYTES))
		return dispi_mmio_access(v, offset - VGA_MMIO_DISPI, size, is_write, value);
	if (size == 4 && offset == VGA_QEXT_REG_SIZE) {
		if (!is_write)
			return VGA_MMIO_QEXT_BYTES;
	} else if (size == 4 && offset == VGA_QEXT_REG_BYTEORDER) {
		if (!is_write)
			return v->big_endian_fb ? VGA_QEXT_BIG_ENDIAN : VGA_QEXT_LITTLE_ENDIAN;
		if (value == VGA_QEXT_BIG_ENDIAN || value == VGA_QEXT_LITTLE_ENDIAN) {
			v->big_endian_fb = value == VGA_QEXT_BIG_ENDIAN;
			vga_update_surface(v);
			return 0;
		}
	}
	vga_note(v, VGA_EV_MMIO_UNASSIGNED, "%s BAR2+0x%" PRIx64 " size=%u value=0x%" PRIx64
		 " %s", is_write ? "write" : "read", offset, size, value,
		 is_write ? "dropped" : "reads all-ones");
	return UINT64_MAX;
}

static uint64_t vga_mmio_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct vga *v = opaque;
	uint64_t value;

	pthread_mutex_lock(&v->lock);
	value = vga_mmio_access(v, offset, size, false, 0);
	pthread_mutex_unlock(&v->lock);
	return value;
}

static void vga_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	vga_mmio_access(v, offset, size, true, value);
	pthread_mutex_unlock(&v->lock);
}

static const struct bus_ops vga_mmio_ops = {
	.read = vga_mmio_read,
	.write = vga_mmio_write,
};

/* ---- PCI function -------------------------------------------------------- */

static int vga_pci_bar_move(void *opaque, unsigned int bar, uint64_t old_addr, uint64_t new_addr)
{
	struct vga *v = opaque;

	pthread_mutex_lock(&v->lock);
	vga_note(v, VGA_EV_BAR_MOVE_REFUSED, "BAR%u move from 0x%" PRIx64 " to 0x%" PRIx64
		 " refused, stays at 0x%" PRIx64, bar, old_addr, new_addr, old_addr);
	pthread_mutex_unlock(&v->lock);
	return -EPERM;
}

static void vga_pci_command_changed(void *opaque, uint16_t old_command, uint16_t new_command)
{
	struct vga *v = opaque;

	(void)old_command;
	pthread_mutex_lock(&v->lock);
	v->pci_command = new_command;
	pthread_mutex_unlock(&v->lock);
}

static const struct pci_function_ops vga_pci_ops = {
	.bar_move = vga_pci_bar_move,
	.command_changed = vga_pci_command_changed,
};

/* ---- lifecycle ----------------------------------------------------------- */

/* The power-on state; the caller holds the lock (or owns v during init). */
static void vga_reset_locked(struct vga *v)
{
	memset(v->regs, 0, sizeof(v->regs));
	v->regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
	v->index = 0;
	v->big_endian_fb = false;
	v->msr = VGA_MSR_RESET;
	v->ar_index = VGA_AR_PAS;
	v->ar_flip_flop = false;
	memset(v->ar, 0, sizeof(v->ar));
	v->st01 = 0;
	v->fcr = 0;
	vga_update_surface(v);
}

void vga_reset(struct vga *v)
{
	pthread_mutex_lock(&v->lock);
	vga_reset_locked(v);
	pthread_mutex_unlock(&v->lock);
}

/* True when [base, base + len) overlaps no registered region of `space`.
 * The bus cannot unregister, so vga_init checks everything first. */
static bool bus_range_free(const struct bus *bus, enum bus_space space, uint64_t base,
			   uint64_t len)
{
	for (unsigned int i = 0; i < bus->count[space]; i++) {
		const struct bus_region *r = &bus->regions[space][i];
		if (r->base < base + len && base < r->base + r->len)
			return false;
	}
	return true;
}

int vga_init(struct vga *v, struct bus *bus, struct pci_host *pci, struct display *display,
	     const struct guest_mem *mem, uint64_t vram_bytes, uint64_t vram_gpa)
{
	const struct bus_region pio[] = {
		/* 16-bit index at 0x1CE and data at 0x1CF: a word at 0x1CF covers 0x1D0. */
		{ .name = "vga-vbe", .base = VBE_DISPI_IOPORT_INDEX, .len = 3,
		  .min_access = 2, .max_access = 2, .ops = &vbe_port_ops, .opaque = v },
		{ .name = "vga-ports", .base = VGA_IOPORT_BASE, .len = VGA_IOPORT_COUNT,
		  .min_access = 1, .max_access = 2, .ops = &vga_ioport_ops, .opaque = v },
	};
	const struct bus_region mmio = {
		.name = "vga-mmio", .base = MEMMAP_VGA_MMIO_BASE, .len = VGA_MMIO_BYTES,
		.min_access = 1, .max_access = 4, .ops = &vga_mmio_ops, .opaque = v,
	};
	struct pci_function_info info = {
		.vendor_id = VGA_PCI_VENDOR_ID,
		.device_id = VGA_PCI_DEVICE_ID,
		.revision = VGA_PCI_REVISION,
		.class_code = VGA_PCI_CLASS,
		.subsystem_vendor_id = VGA_PCI_SUBSYS_VENDOR,
		.subsystem_id = VGA_PCI_SUBSYS_ID,
		/* sysfb ignores a boot framebuffer inside a display BAR whose
		 * memory decode is off, so firmware's state is "on". */
		.command = PCI_COMMAND_IO | PCI_COMMAND_MEMORY,
	};
	uint64_t vram_end;
	int ret;

	if (!mem || vram_bytes < VGA_VRAM_MIN_BYTES || vram_bytes > VGA_VRAM_MAX_BYTES ||
	    (vram_bytes & (vram_bytes - 1)) || (vram_gpa & (vram_bytes - 1)) ||
	    __builtin_add_overflow(vram_gpa, vram_bytes, &vram_end) || vram_end > (1ull << 32) ||
	    (vram_gpa < MEMMAP_VGA_MMIO_BASE + VGA_MMIO_BYTES && MEMMAP_VGA_MMIO_BASE < vram_end) ||
	    !guest_mem_ptr(mem, vram_gpa, vram_bytes))
		return -EINVAL;
	for (unsigned int i = 0; i < sizeof(pio) / sizeof(pio[0]); i++)
		if (!bus_range_free(bus, BUS_PIO, pio[i].base, pio[i].len))
			return -EEXIST;
	if (!bus_range_free(bus, BUS_MMIO, mmio.base, mmio.len))
		return -EEXIST;
	if (bus->count[BUS_PIO] + 2 > BUS_MAX_REGIONS || bus->count[BUS_MMIO] + 1 > BUS_MAX_REGIONS)
		return -ENOSPC;

	memset(v, 0, sizeof(*v));
	ret = pthread_mutex_init(&v->lock, NULL);
	if (ret)
		return -ret;
	v->display = display;
	v->mem = mem;
	v->vram_bytes = vram_bytes;
	v->vram_gpa = vram_gpa;
	v->mmio_gpa = MEMMAP_VGA_MMIO_BASE;
	v->pci_command = info.command;
	v->shown_state = VGA_SCANOUT_DISABLED;
	vga_reset_locked(v);

	info.bars[VGA_PCI_VRAM_BAR] = (struct pci_bar_info){
		.size = vram_bytes, .prefetchable = true, .addr = vram_gpa,
	};
	info.bars[VGA_PCI_MMIO_BAR] = (struct pci_bar_info){
		.size = VGA_MMIO_BYTES, .addr = MEMMAP_VGA_MMIO_BASE,
	};
	ret = pci_register_function(pci, VGA_PCI_DEVICE, 0, &info, &vga_pci_ops, v);
	if (ret < 0) {
		pthread_mutex_destroy(&v->lock);
		return ret;
	}
	for (unsigned int i = 0; i < sizeof(pio) / sizeof(pio[0]) && ret == 0; i++)
		ret = bus_register(bus, BUS_PIO, &pio[i]);
	if (ret == 0)
		ret = bus_register(bus, BUS_MMIO, &mmio);
	if (ret < 0)   /* unreachable after the checks above */
		log_error("vga", "bus registration failed after checks: %s", strerror(-ret));
	return ret;
}

void vga_destroy(struct vga *v)
{
	pthread_mutex_destroy(&v->lock);
}

int vga_set_mode(struct vga *v, uint16_t width, uint16_t height, uint16_t bpp,
		 struct display_surface *out)
{
	static const uint16_t sequence[] = {
		VBE_DISPI_INDEX_ENABLE, VBE_DISPI_INDEX_BPP, VBE_DISPI_INDEX_XRES,
		VBE_DISPI_INDEX_YRES, VBE_DISPI_INDEX_BANK, VBE_DISPI_INDEX_VIRT_WIDTH,
		VBE_DISPI_INDEX_X_OFFSET, VBE_DISPI_INDEX_Y_OFFSET, VBE_DISPI_INDEX_ENABLE,
	};
	const uint16_t values[] = {
		0, bpp, width, height, 0, width, 0, 0, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED,
	};
	uint64_t bytes = (uint64_t)width * height * (bpp / 8);
	int ret = 0;

	if ((bpp != 32 && bpp != 24) || width < 2 || width > VGA_MAX_XRES || width % 2 ||
	    (bpp == 24 && width % 4) || height == 0 || height > VGA_MAX_YRES ||
	    bytes > v->vram_bytes)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->big_endian_fb = false;
	v->ar_index |= VGA_AR_PAS;
	v->ar_flip_flop = false;
	for (unsigned int i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++) {
		v->index = sequence[i];
		vbe_data_write(v, values[i]);
	}
	v->index = 0;
	if (v->shown_state != VGA_SCANOUT_SHOWN)
		ret = -EINVAL;   /* unreachable: the checks above admit only showable modes */
	else if (out)
		*out = v->shown;
	pthread_mutex_unlock(&v->lock);
	return ret;
}

void vga_print_stats(struct vga *v, FILE *out)
{
	struct display_surface shown;
	uint64_t events[VGA_EV_COUNT], reads, writes, published, clears;

	pthread_mutex_lock(&v->lock);
	shown = v->shown;
	memcpy(events, v->events, sizeof(events));
	reads = v->dispi_reads;
	writes = v->dispi_writes;
	published = v->surfaces_published;
	clears = v->vram_clears;
	pthread_mutex_unlock(&v->lock);

	fprintf(out, "vga: dispi_reads=%" PRIu64 " dispi_writes=%" PRIu64 " surfaces=%" PRIu64
		" vram_clears=%" PRIu64, reads, writes, published, clears);
	for (unsigned int i = 0; i < VGA_EV_COUNT; i++)
		if (events[i])
			fprintf(out, " %s=%" PRIu64, vga_events[i].name, events[i]);
	if (shown.enabled)
		fprintf(out, " current=%" PRIu32 "x%" PRIu32 "@0x%" PRIx64 " stride=%" PRIu32
			" format=0x%08" PRIx32, shown.width, shown.height, shown.gpa, shown.stride,
			shown.format);
	fputc('\n', out);
}
