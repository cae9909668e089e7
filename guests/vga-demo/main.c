/*
 * vga-demo: a bare-metal driver for QEMU's std VGA (PCI 1234:1111) that
 * acts the way Linux's bochs-drm does (drivers/gpu/drm/tiny/bochs.c;
 * shared/specs/interfaces.md section 3): finds the function by a PCI
 * config scan (mechanism #1), takes VRAM from BAR0 where firmware or the
 * VMM put it, turns memory decoding on if it is off, checks the dispi ID
 * and VRAM size, sets each mode of the list with bochs-drm's register
 * sequence and draws the pattern of pattern.h into VRAM.
 *
 * Command line (key=value words, all optional):
 *   modes=WxH,...   modes to show in turn (1..8; W a multiple of 8,
 *                   320..4096; H 240..4096), default 1024x768,800x600
 *   hold_ms=N       time between mode switches, paced by the PIT,
 *                   0..600000, default 2000
 *   regs=io|mmio|auto  dispi registers through ports 0x1CE/0x1CF, or BAR2
 *                   MMIO at +0x500; auto (default, bochs-drm's choice):
 *                   MMIO when BAR2 is a memory BAR, else ports
 *   frames=N        set N modes in all (cycling through the list), then
 *                   finish; default: forever, or the list once with exit
 *                   or hold
 *   exit            finish with GUEST_EXIT_PASS (the default way to finish)
 *   hold            finish by keeping the last mode on screen, idle with
 *                   every interrupt masked (for VNC screenshots)
 *
 * Serial:
 *   vga-demo: found 1234:1111 class 0300 rev 02 at 00:02.0
 *   vga-demo: vram 0xfd000000 16384 KiB, mmio 0xfebf0000 4 KiB, id 0xb0c5, regs=mmio qext
 *   vga-demo: mode 1024x768            (after each mode is set and drawn)
 *   vga-demo: mode 800x600
 *   vga-demo: done frames=2            (before the exit or the hold)
 * The first two lines depend on where the BARs are; the others only on the
 * command line. "vga-demo: warning ..." for what bochs-drm would only warn
 * about (memory decoding was off, VRAM size mismatch); "vga-demo: error
 * ..." with GUEST_EXIT_NO_DEVICE (no PCI, no device, no BAR2 for
 * regs=mmio) or GUEST_EXIT_FAIL (bad arguments, bad registers).
 */
#include "runtime/guest.h"
#include "runtime/pci.h"
#include "runtime/vbe.h"

#include "ramfb-demo/draw.h"
#include "pattern.h"

#define VGA_PCI_VENDOR          0x1234
#define VGA_PCI_DEVICE          0x1111
#define VGA_PCI_CLASS_DISPLAY   0x03
#define VGA_BAR_VRAM            0
#define VGA_BAR_MMIO            2
#define VGA_MIN_VRAM            (4ull << 20)    /* bochs-drm: "less than 4 MB video memory" */
#define VGA_ADDR_LIMIT          (4ull << 30)    /* the runtime identity-maps 4 GiB */
#define VGA_MAX_MODES           8
#define VGA_TICK_HZ             100
#define VGA_HOLD_MS_DEFAULT     2000
#define VGA_HOLD_MS_MAX         600000
#define VGA_DEFAULT_MODES       "1024x768,800x600"
#define VGA_QEXT_MIN_REV        2

enum vga_regs { VGA_REGS_AUTO, VGA_REGS_IO, VGA_REGS_MMIO };

struct vga_mode {
	uint32_t width, height;
};

struct vga_args {
	struct vga_mode modes[VGA_MAX_MODES];
	unsigned nmodes;
	uint64_t hold_ms;
	enum vga_regs regs;
	uint64_t frames;        /* 0: forever */
	int hold;
};

struct vga_dev {
	uint16_t bdf;
	struct pci_bar vram, mmio;
	uint64_t fb_size;       /* usable VRAM */
	struct vbe vbe;
};

__attribute__((noreturn, format(printf, 2, 3)))
static void vga_fail(int code, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_printf("vga-demo: error %s\n", line);
	guest_exit(code);
}

static uint64_t vga_arg_u64(const char *key, uint64_t def, uint64_t min, uint64_t max)
{
	uint64_t v;
	int ret = cmdline_get_u64(key, &v);

	if (ret == -ENOENT)
		return def;
	if (ret < 0 || v < min || v > max)
		vga_fail(GUEST_EXIT_FAIL, "bad %s (want %lu..%lu)", key, min, max);
	return v;
}

/* Decimal number at *p, advancing *p; -1 when there is none or it is huge. */
static int64_t vga_parse_dec(const char **p)
{
	int64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > 100000)
			return -1;
	}
	*p = s;
	return v;
}

static void vga_parse_modes(struct vga_args *a)
{
	char buf[160];
	const char *p = buf;
	int ret = cmdline_get("modes", buf, sizeof(buf));

	if (ret == -ENOENT)
		str_copy(buf, VGA_DEFAULT_MODES, sizeof(buf));
	else if (ret < 0)
		vga_fail(GUEST_EXIT_FAIL, "bad modes (too long)");
	a->nmodes = 0;
	for (;;) {
		int64_t w = vga_parse_dec(&p), h = -1;

		if (w >= 0 && (*p == 'x' || *p == 'X')) {
			p++;
			h = vga_parse_dec(&p);
		}
		if (h < 0 || (*p != ',' && *p != '\0') || a->nmodes == VGA_MAX_MODES)
			vga_fail(GUEST_EXIT_FAIL, "bad modes=%s (want up to %u WxH, comma-separated)", buf,
				 VGA_MAX_MODES);
		if (w < VGA_PATTERN_MIN_WIDTH || w > VGA_PATTERN_MAX_WIDTH || w % VGA_PATTERN_WIDTH_ALIGN ||
		    h < VGA_PATTERN_MIN_HEIGHT || h > VGA_PATTERN_MAX_HEIGHT)
			vga_fail(GUEST_EXIT_FAIL, "bad mode %ldx%ld (want width %u..%u, a multiple of %u; height %u..%u)",
				 w, h, VGA_PATTERN_MIN_WIDTH, VGA_PATTERN_MAX_WIDTH, VGA_PATTERN_WIDTH_ALIGN,
				 VGA_PATTERN_MIN_HEIGHT, VGA_PATTERN_MAX_HEIGHT);
		a->modes[a->nmodes].width = (uint32_t)w;
		a->modes[a->nmodes].height = (uint32_t)h;
		a->nmodes++;
		if (*p == '\0')
			break;
		p++;
	}
}

static void vga_parse_args(struct vga_args *a)
{
	char regs[8];
	int ret = cmdline_get("regs", regs, sizeof(regs));

	vga_parse_modes(a);
	a->hold_ms = vga_arg_u64("hold_ms", VGA_HOLD_MS_DEFAULT, 0, VGA_HOLD_MS_MAX);
	a->regs = VGA_REGS_AUTO;
	if (ret >= 0) {
		if (str_eq(regs, "io"))
			a->regs = VGA_REGS_IO;
		else if (str_eq(regs, "mmio"))
			a->regs = VGA_REGS_MMIO;
		else if (!str_eq(regs, "auto"))
			ret = -EINVAL;
	}
	if (ret < 0 && ret != -ENOENT)
		vga_fail(GUEST_EXIT_FAIL, "bad regs (want io, mmio or auto)");
	a->hold = cmdline_has_flag("hold");
	a->frames = vga_arg_u64("frames", a->hold || cmdline_has_flag("exit") ? a->nmodes : 0, 1,
				UINT32_MAX);
}

/* PCI: find the function, read and size its BARs, enable decoding. */
static void vga_find(struct vga_dev *d)
{
	uint32_t readback;
	uint16_t class, cmd;
	uint8_t rev;

	if (pci_probe(&readback) < 0)
		vga_fail(GUEST_EXIT_NO_DEVICE, "no PCI configuration mechanism #1 (0xcf8 reads 0x%08x after writing 0x%08x)",
			 readback, PCI_CONFIG_ENABLE);
	if (pci_find_device(VGA_PCI_VENDOR, VGA_PCI_DEVICE, &d->bdf) < 0)
		vga_fail(GUEST_EXIT_NO_DEVICE, "no std VGA (PCI %04x:%04x) on the PCI bus", VGA_PCI_VENDOR,
			 VGA_PCI_DEVICE);
	class = pci_read16(d->bdf, PCI_CLASS_DEVICE);
	rev = pci_read8(d->bdf, PCI_REVISION_ID);
	serial_printf("vga-demo: found %04x:%04x class %04x rev %02x at %02x:%02x.%x\n", VGA_PCI_VENDOR,
		      VGA_PCI_DEVICE, class, rev, PCI_BDF_BUS(d->bdf), PCI_BDF_DEV(d->bdf),
		      PCI_BDF_FN(d->bdf));
	if (class >> 8 != VGA_PCI_CLASS_DISPLAY)
		vga_fail(GUEST_EXIT_FAIL, "class 0x%04x is not a display controller (0x03xx)", class);

	if (pci_read_bar(d->bdf, VGA_BAR_VRAM, &d->vram) == -EIO)
		vga_fail(GUEST_EXIT_FAIL, "BAR0 changed its address across sizing (all-ones write, then restore)");
	if (d->vram.io || d->vram.size == 0)
		vga_fail(GUEST_EXIT_FAIL, "BAR0 is not a memory BAR (bochs-drm needs VRAM there)");
	if (d->vram.addr == 0)
		vga_fail(GUEST_EXIT_FAIL, "BAR0 is unassigned (address 0): nobody placed the VRAM");
	if (d->vram.size < VGA_MIN_VRAM)
		vga_fail(GUEST_EXIT_FAIL, "BAR0 is %lu KiB, less than 4 MiB of video memory",
			 d->vram.size >> 10);
	if (d->vram.addr + d->vram.size > VGA_ADDR_LIMIT || d->vram.addr + d->vram.size < d->vram.addr)
		vga_fail(GUEST_EXIT_FAIL, "BAR0 0x%lx+0x%lx lies above 4 GiB (not mapped here)", d->vram.addr,
			 d->vram.size);
	if (pci_read_bar(d->bdf, VGA_BAR_MMIO, &d->mmio) == -EIO)
		vga_fail(GUEST_EXIT_FAIL, "BAR2 changed its address across sizing (all-ones write, then restore)");
	if (d->mmio.io || d->mmio.addr == 0 ||
	    d->mmio.size < VBE_MMIO_MIN_BYTES || d->mmio.addr + d->mmio.size > VGA_ADDR_LIMIT)
		d->mmio.size = 0;       /* no usable MMIO BAR: ports only */

	cmd = pci_read16(d->bdf, PCI_COMMAND);
	if (!(cmd & PCI_COMMAND_MEMORY)) {
		pci_write16(d->bdf, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
		serial_printf("vga-demo: warning memory decoding was off (command 0x%04x), turned it on\n", cmd);
		cmd = pci_read16(d->bdf, PCI_COMMAND);
		if (!(cmd & PCI_COMMAND_MEMORY))
			vga_fail(GUEST_EXIT_FAIL, "COMMAND.MEMORY does not stick (command reads 0x%04x)", cmd);
	}
}

/* bochs_hw_init(): register path, ID, VRAM size, qext byte order. */
static void vga_hw_init(const struct vga_args *a, struct vga_dev *d)
{
	uint16_t id;
	uint64_t mem;
	int qext = 0;

	if (a->regs == VGA_REGS_MMIO && !d->mmio.size)
		vga_fail(GUEST_EXIT_NO_DEVICE, "regs=mmio but BAR2 is no usable MMIO BAR");
	d->vbe.mmio = a->regs != VGA_REGS_IO && d->mmio.size ?
		      (volatile uint8_t *)(uintptr_t)d->mmio.addr : NULL;

	id = vbe_read(&d->vbe, VBE_DISPI_INDEX_ID);
	if (id < VBE_DISPI_ID0 || id > VBE_DISPI_ID5)
		vga_fail(GUEST_EXIT_FAIL, "dispi ID reads 0x%04x, want 0x%04x..0x%04x (%s)", id, VBE_DISPI_ID0,
			 VBE_DISPI_ID5, d->vbe.mmio ? "MMIO" : "ports 0x1ce/0x1cf");
	mem = (uint64_t)vbe_read(&d->vbe, VBE_DISPI_INDEX_VIDEO_MEMORY_64K) << 16;
	if (mem == 0)
		vga_fail(GUEST_EXIT_FAIL, "dispi VIDEO_MEMORY_64K reads 0");
	d->fb_size = d->vram.size;
	if (mem != d->vram.size) {
		serial_printf("vga-demo: warning size mismatch: pci %lu KiB, dispi %lu KiB\n",
			      d->vram.size >> 10, mem >> 10);
		if (mem < d->fb_size)
			d->fb_size = mem;
	}

	if (d->vbe.mmio && pci_read8(d->bdf, PCI_REVISION_ID) >= VGA_QEXT_MIN_REV) {
		uint32_t size = *(volatile uint32_t *)(d->vbe.mmio + VBE_MMIO_QEXT_SIZE);

		if (size >= 8 && size <= d->mmio.size - VBE_MMIO_QEXT_SIZE) {
			*(volatile uint32_t *)(d->vbe.mmio + VBE_MMIO_QEXT_BYTEORDER) = VBE_QEXT_LITTLE_ENDIAN;
			qext = 1;
		}
	}
	serial_printf("vga-demo: vram 0x%lx %lu KiB, mmio 0x%lx %lu KiB, id 0x%04x, regs=%s%s\n",
		      d->vram.addr, d->fb_size >> 10, d->mmio.addr, d->mmio.size >> 10, id,
		      d->vbe.mmio ? "mmio" : "io", qext ? " qext" : "");
}

static void vga_check_reg(const struct vga_dev *d, const struct vga_mode *m, unsigned index,
			  const char *name, uint16_t want, uint16_t mask)
{
	uint16_t got = vbe_read(&d->vbe, index);

	if ((got & mask) != want)
		vga_fail(GUEST_EXIT_FAIL, "mode %ux%u: dispi %s reads 0x%04x after the mode set, want 0x%04x",
			 m->width, m->height, name, got, want);
}

static void vga_set_mode(const struct vga_dev *d, const struct vga_mode *m)
{
	uint64_t bytes = (uint64_t)m->width * m->height * VGA_PATTERN_BYTES_PER_PIXEL;

	if (bytes > d->fb_size)
		vga_fail(GUEST_EXIT_FAIL, "mode %ux%u needs %lu KiB, VRAM has %lu KiB", m->width, m->height,
			 bytes >> 10, d->fb_size >> 10);
	vbe_set_mode(&d->vbe, (uint16_t)m->width, (uint16_t)m->height, d->fb_size);
	vga_check_reg(d, m, VBE_DISPI_INDEX_XRES, "XRES", (uint16_t)m->width, 0xFFFF);
	vga_check_reg(d, m, VBE_DISPI_INDEX_YRES, "YRES", (uint16_t)m->height, 0xFFFF);
	vga_check_reg(d, m, VBE_DISPI_INDEX_BPP, "BPP", 32, 0xFFFF);
	vga_check_reg(d, m, VBE_DISPI_INDEX_VIRT_WIDTH, "VIRT_WIDTH", (uint16_t)m->width, 0xFFFF);
	vga_check_reg(d, m, VBE_DISPI_INDEX_X_OFFSET, "X_OFFSET", 0, 0xFFFF);
	vga_check_reg(d, m, VBE_DISPI_INDEX_Y_OFFSET, "Y_OFFSET", 0, 0xFFFF);
	vga_check_reg(d, m, VBE_DISPI_INDEX_ENABLE, "ENABLE", VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED,
		      VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
}

static void vga_draw_glyph(const struct fb *fb, uint32_t x, uint32_t y, const uint8_t *glyph)
{
	for (unsigned gy = 0; gy < FONT_GLYPH_SIZE; gy++)
		for (unsigned gx = 0; gx < FONT_GLYPH_SIZE; gx++)
			draw_fill_rect(fb, x + gx * VGA_PATTERN_LABEL_SCALE, y + gy * VGA_PATTERN_LABEL_SCALE,
				       VGA_PATTERN_LABEL_SCALE, VGA_PATTERN_LABEL_SCALE,
				       glyph[gy] & (0x80u >> gx) ? VGA_PATTERN_LABEL_FG_RGB :
								   VGA_PATTERN_LABEL_BG_RGB);
}

static void vga_draw(const struct vga_dev *d, const struct vga_mode *m)
{
	struct fb fb = {
		.base = (uint32_t *)(uintptr_t)d->vram.addr,
		.width = m->width,
		.height = m->height,
		.stride_px = m->width,
	};
	uint32_t top = vga_pattern_bars_height(m->height), ly = vga_pattern_label_y(m->height);

	for (unsigned i = 0; i < VGA_PATTERN_BAR_COUNT; i++) {
		uint32_t x0 = vga_pattern_bar_x0(i, m->width);

		draw_fill_rect(&fb, x0, 0, vga_pattern_bar_x0(i + 1, m->width) - x0, top,
			       vga_pattern_bar_rgb(i));
	}
	draw_fill_rect(&fb, 0, top, m->width, m->height - top, VGA_PATTERN_FIELD_RGB);
	draw_fill_rect(&fb, m->width - 1, top, 1, m->height - top, VGA_PATTERN_EDGE_RGB);
	draw_fill_rect(&fb, 0, m->height - 1, m->width, 1, VGA_PATTERN_EDGE_RGB);
	draw_fill_rect(&fb, VGA_PATTERN_LABEL_X, ly, VGA_PATTERN_LABEL_BOX_W, VGA_PATTERN_LABEL_BOX_H,
		       VGA_PATTERN_LABEL_BG_RGB);
	for (unsigned k = 0; k < VGA_PATTERN_LABEL_GLYPHS; k++)
		vga_draw_glyph(&fb, VGA_PATTERN_LABEL_X + VGA_PATTERN_LABEL_PAD + k * 8 * VGA_PATTERN_LABEL_SCALE,
			       ly + VGA_PATTERN_LABEL_PAD,
			       vga_pattern_label_glyph(k, m->width, m->height));
}

int main(void)
{
	struct vga_args a;
	struct vga_dev d;
	uint64_t hold_ticks;

	vga_parse_args(&a);
	memset(&d, 0, sizeof(d));
	vga_find(&d);
	vga_hw_init(&a, &d);

	hold_ticks = (a.hold_ms * VGA_TICK_HZ + 999) / 1000;
	if (hold_ticks && a.frames != 1)
		timer_start(VGA_TICK_HZ);
	for (uint64_t frame = 1;; frame++) {
		const struct vga_mode *m = &a.modes[(frame - 1) % a.nmodes];
		uint64_t start = timer_ticks();

		vga_set_mode(&d, m);
		vga_draw(&d, m);
		serial_printf("vga-demo: mode %ux%u\n", m->width, m->height);
		if (a.frames && frame >= a.frames)
			break;
		if (hold_ticks)
			timer_wait_until(start + hold_ticks);
	}
	serial_printf("vga-demo: done frames=%lu\n", a.frames);
	if (!a.hold)
		return GUEST_EXIT_PASS;
	timer_stop();
	for (;;)
		irq_wait(irq_seq);
}
