/*
 * Tests for devices/vga.c, driven as a guest drives it: Bochs VBE dispi
 * registers through ports 0x1CE/0x1CF and through BAR2 (+0x500), Linux
 * bochs-drm's mode set, page flip and blanking sequences (drivers/gpu/drm/
 * tiny/bochs.c), PCI config space through 0xCF8/0xCFC, and the bad values
 * a guest may write. Expected register values follow QEMU's std VGA
 * (hw/display/vga.c) except where vga.c documents a difference.
 *
 * Over 800 lines on purpose: one test file per unit under test (as every
 * tests/test_X.c for X.c), made of independent cases, each short.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/display.h"
#include "devices/pci.h"
#include "devices/vga.h"
#include "hypervisor/bus.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/memmap.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* From the specs (bochs.c, docs/specs/standard-vga.rst, drm_fourcc.h). */
#define PORT_INDEX 0x1CE
#define PORT_DATA  0x1CF
#define IDX_ID          0x0
#define IDX_XRES        0x1
#define IDX_YRES        0x2
#define IDX_BPP         0x3
#define IDX_ENABLE      0x4
#define IDX_BANK        0x5
#define IDX_VIRT_WIDTH  0x6
#define IDX_VIRT_HEIGHT 0x7
#define IDX_X_OFFSET    0x8
#define IDX_Y_OFFSET    0x9
#define IDX_VIDEO_MEMORY_64K 0xA
#define ENABLED    0x01
#define GETCAPS    0x02
#define LFB        0x40
#define NOCLEARMEM 0x80
#define MMIO_VGA   0x400
#define MMIO_DISPI 0x500
#define MMIO_QEXT_SIZE 0x600
#define MMIO_QEXT_BYTEORDER 0x604
#define XR24 0x34325258u
#define RG24 0x34324752u

#define VRAM_BYTES (16u << 20)
#define VRAM_GPA   MEMMAP_VGA_VRAM_BASE
#define MMIO_GPA   MEMMAP_VGA_MMIO_BASE
#define VGA_DEVFN  (2u << 3)

struct fx {
	struct bus bus;
	struct pci_host pci;
	struct display display;
	struct vga vga;
	struct guest_mem mem;
	uint8_t *vram;   /* the test's view of VRAM (the device writes through mem) */
};

/* ---- guest side ---------------------------------------------------------- */

static void out(struct fx *f, uint16_t port, uint32_t v, unsigned int size)
{
	bus_access(&f->bus, BUS_PIO, port, &v, size, true);
}

static uint32_t in(struct fx *f, uint16_t port, unsigned int size)
{
	uint32_t v = 0;

	bus_access(&f->bus, BUS_PIO, port, &v, size, false);
	return v;
}

static void mmio_write(struct fx *f, uint64_t off, uint32_t v, unsigned int size)
{
	bus_access(&f->bus, BUS_MMIO, MMIO_GPA + off, &v, size, true);
}

static uint32_t mmio_read(struct fx *f, uint64_t off, unsigned int size)
{
	uint32_t v = 0;

	bus_access(&f->bus, BUS_MMIO, MMIO_GPA + off, &v, size, false);
	return v;
}

/* The two ways bochs-drm reaches the hardware (bochs_dispi_write/_read,
 * bochs_vga_writeb/_readb): I/O ports, or BAR2 when it is a memory BAR. */
struct path {
	const char *name;
	void (*dispi_write)(struct fx *f, uint16_t reg, uint16_t val);
	uint16_t (*dispi_read)(struct fx *f, uint16_t reg);
	void (*vga_writeb)(struct fx *f, uint16_t port, uint8_t val);
	uint8_t (*vga_readb)(struct fx *f, uint16_t port);
};

static void port_dispi_write(struct fx *f, uint16_t reg, uint16_t val)
{
	out(f, PORT_INDEX, reg, 2);
	out(f, PORT_DATA, val, 2);
}

static uint16_t port_dispi_read(struct fx *f, uint16_t reg)
{
	out(f, PORT_INDEX, reg, 2);
	return (uint16_t)in(f, PORT_DATA, 2);
}

static void port_vga_writeb(struct fx *f, uint16_t port, uint8_t val)
{
	out(f, port, val, 1);
}

static uint8_t port_vga_readb(struct fx *f, uint16_t port)
{
	return (uint8_t)in(f, port, 1);
}

static void mmio_dispi_write(struct fx *f, uint16_t reg, uint16_t val)
{
	mmio_write(f, MMIO_DISPI + (reg << 1), val, 2);
}

static uint16_t mmio_dispi_read(struct fx *f, uint16_t reg)
{
	return (uint16_t)mmio_read(f, MMIO_DISPI + (reg << 1), 2);
}

static void mmio_vga_writeb(struct fx *f, uint16_t port, uint8_t val)
{
	mmio_write(f, MMIO_VGA + port - 0x3C0, val, 1);
}

static uint8_t mmio_vga_readb(struct fx *f, uint16_t port)
{
	return (uint8_t)mmio_read(f, MMIO_VGA + port - 0x3C0, 1);
}

static const struct path paths[] = {
	{ "ports", port_dispi_write, port_dispi_read, port_vga_writeb, port_vga_readb },
	{ "mmio", mmio_dispi_write, mmio_dispi_read, mmio_vga_writeb, mmio_vga_readb },
};
#define PORTS (&paths[0])
#define MMIO  (&paths[1])

static void wr(struct fx *f, uint16_t reg, uint16_t val)
{
	port_dispi_write(f, reg, val);
}

static uint16_t rd(struct fx *f, uint16_t reg)
{
	return port_dispi_read(f, reg);
}

/* bochs_hw_blank. */
static void bochs_blank(struct fx *f, const struct path *p, bool blank)
{
	p->vga_writeb(f, 0x3C2, 0x01);     /* VGA_MIS_W = VGA_MIS_COLOR */
	(void)p->vga_readb(f, 0x3DA);      /* reset the attribute flip-flop */
	p->vga_writeb(f, 0x3C0, blank ? 0x00 : 0x20);
}

/* bochs_hw_setmode. */
static void bochs_setmode(struct fx *f, const struct path *p, uint16_t xres, uint16_t yres)
{
	uint32_t stride = xres * 4u;

	bochs_blank(f, p, false);
	p->dispi_write(f, IDX_ENABLE, 0);
	p->dispi_write(f, IDX_BPP, 32);
	p->dispi_write(f, IDX_XRES, xres);
	p->dispi_write(f, IDX_YRES, yres);
	p->dispi_write(f, IDX_BANK, 0);
	p->dispi_write(f, IDX_VIRT_WIDTH, xres);
	p->dispi_write(f, IDX_VIRT_HEIGHT, (uint16_t)(VRAM_BYTES / stride));
	p->dispi_write(f, IDX_X_OFFSET, 0);
	p->dispi_write(f, IDX_Y_OFFSET, 0);
	p->dispi_write(f, IDX_ENABLE, ENABLED | LFB);
}

/* bochs_hw_setbase for a 32 bpp framebuffer at VRAM offset addr. */
static void bochs_setbase(struct fx *f, const struct path *p, unsigned int x, unsigned int y,
			  unsigned int stride, uint64_t addr)
{
	uint64_t offset = addr + (uint64_t)y * stride + x * 4u;

	p->dispi_write(f, IDX_VIRT_WIDTH, (uint16_t)(stride / 4));
	p->dispi_write(f, IDX_X_OFFSET, (uint16_t)(offset % stride / 4));
	p->dispi_write(f, IDX_Y_OFFSET, (uint16_t)(offset / stride));
}

/* bochs_pipe_enable: mode, then the plane (base and little-endian format). */
static void bochs_pipe_enable(struct fx *f, const struct path *p, uint16_t xres, uint16_t yres)
{
	bochs_setmode(f, p, xres, yres);
	bochs_setbase(f, p, 0, 0, xres * 4u, 0);
	if (p == MMIO)
		mmio_write(f, MMIO_QEXT_BYTEORDER, 0x1e1e1e1e, 4);
}

static struct display_surface snapshot(struct fx *f)
{
	struct display_surface s;

	display_snapshot(&f->display, &s);
	return s;
}

static void assert_surface(const struct display_surface *s, uint64_t gpa, uint32_t w, uint32_t h,
			   uint32_t stride, uint32_t format)
{
	assert_true(s->enabled);
	assert_int_equal(s->gpa, gpa);
	assert_int_equal(s->width, w);
	assert_int_equal(s->height, h);
	assert_int_equal(s->stride, stride);
	assert_int_equal(s->format, format);
}

static uint32_t conf_read(struct fx *f, unsigned int reg, unsigned int size)
{
	out(f, 0xCF8, 0x80000000u | VGA_DEVFN << 8 | (reg & 0xFC), 4);
	return in(f, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void conf_write(struct fx *f, unsigned int reg, uint32_t v, unsigned int size)
{
	out(f, 0xCF8, 0x80000000u | VGA_DEVFN << 8 | (reg & 0xFC), 4);
	out(f, (uint16_t)(0xCFC + (reg & 3)), v, size);
}

/* Enables a mode the direct way (registers written while disabled). */
static void enable_mode(struct fx *f, uint16_t xres, uint16_t yres, uint16_t bpp, uint16_t flags)
{
	wr(f, IDX_ENABLE, 0);
	wr(f, IDX_BPP, bpp);
	wr(f, IDX_XRES, xres);
	wr(f, IDX_YRES, yres);
	wr(f, IDX_ENABLE, ENABLED | LFB | flags);
}

/* ---- fixture ------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(guest_mem_init(&f->mem, MEMMAP_RAM_MIN), 0);
	assert_int_equal(guest_mem_add_device(&f->mem, "vga-vram", VRAM_GPA, VRAM_BYTES, &f->vram), 0);
	bus_init(&f->bus);
	display_init(&f->display);
	assert_int_equal(pci_host_init(&f->pci, &f->bus), 0);
	assert_int_equal(vga_init(&f->vga, &f->bus, &f->pci, &f->display, &f->mem, VRAM_BYTES,
				  VRAM_GPA), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vga_destroy(&f->vga);
	pci_host_destroy(&f->pci);
	display_destroy(&f->display);
	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

/* ---- register semantics -------------------------------------------------- */

static void test_vga_reset_state_reads_like_qemu(void **state)
{
	static const struct { uint16_t reg, value; } rows[] = {
		{ IDX_ID, 0xB0C5 }, { IDX_XRES, 0 }, { IDX_YRES, 0 }, { IDX_BPP, 0 },
		{ IDX_ENABLE, 0 }, { IDX_BANK, 0 }, { IDX_VIRT_WIDTH, 0 }, { IDX_VIRT_HEIGHT, 0 },
		{ IDX_X_OFFSET, 0 }, { IDX_Y_OFFSET, 0 }, { IDX_VIDEO_MEMORY_64K, 256 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		for (size_t p = 0; p < ARRAY_LEN(paths); p++)
			assert_int_equal(paths[p].dispi_read(f, rows[i].reg), rows[i].value);
	assert_int_equal(in(f, PORT_INDEX, 2), IDX_VIDEO_MEMORY_64K);
	assert_false(snapshot(f).enabled);
	assert_int_equal(snapshot(f).generation, 0);
}

static void test_vga_id_accepts_only_b0c0_to_b0c5(void **state)
{
	static const struct { uint16_t write, reads; } rows[] = {
		{ 0xB0C0, 0xB0C0 }, { 0xB0C4, 0xB0C4 }, { 0xB0C6, 0xB0C4 }, { 0xB0BF, 0xB0C4 },
		{ 0x0000, 0xB0C4 }, { 0xFFFF, 0xB0C4 }, { 0xB0C5, 0xB0C5 }, { 0x1234, 0xB0C5 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		wr(f, IDX_ID, rows[i].write);
		assert_int_equal(rd(f, IDX_ID), rows[i].reads);
	}
	assert_int_equal(f->vga.events[VGA_EV_ID_REJECTED], 5);
}

static void test_vga_video_memory_64k_is_read_only(void **state)
{
	struct fx *f = *state;

	wr(f, IDX_VIDEO_MEMORY_64K, 1);
	mmio_write(f, MMIO_DISPI + 2 * IDX_VIDEO_MEMORY_64K, 0xFFFF, 2);
	assert_int_equal(rd(f, IDX_VIDEO_MEMORY_64K), VRAM_BYTES >> 16);
	assert_int_equal(f->vga.events[VGA_EV_READ_ONLY_WRITE], 2);
}

static void test_vga_index_above_0xa_reads_zero_and_ignores_writes(void **state)
{
	static const uint16_t indices[] = { 0xB, 0xC, 0x10, 0xFF, 0x8000, 0xFFFF };
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(indices); i++) {
		wr(f, indices[i], 0xFFFF);
		assert_int_equal(rd(f, indices[i]), 0);
		assert_int_equal(in(f, PORT_INDEX, 2), indices[i]);
	}
	assert_int_equal(f->vga.events[VGA_EV_BAD_INDEX], 2 * ARRAY_LEN(indices));
	for (uint16_t reg = 0; reg < IDX_VIDEO_MEMORY_64K; reg++)
		assert_int_equal(rd(f, reg), reg == IDX_ID ? 0xB0C5 : 0);
}

static void test_vga_registers_hold_raw_values_while_disabled(void **state)
{
	static const struct { uint16_t reg, value; } rows[] = {
		{ IDX_XRES, 1023 }, { IDX_YRES, 0 }, { IDX_BPP, 7 }, { IDX_VIRT_WIDTH, 3 },
		{ IDX_X_OFFSET, 60000 }, { IDX_Y_OFFSET, 50000 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		wr(f, rows[i].reg, rows[i].value);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		assert_int_equal(rd(f, rows[i].reg), rows[i].value);
	assert_int_equal(f->vga.events[VGA_EV_SANITIZED], 0);
	assert_false(snapshot(f).enabled);
}

static void test_vga_getcaps_reads_maxima(void **state)
{
	struct fx *f = *state;

	wr(f, IDX_XRES, 640);
	wr(f, IDX_YRES, 480);
	wr(f, IDX_BPP, 32);
	wr(f, IDX_ENABLE, GETCAPS);
	assert_int_equal(rd(f, IDX_XRES), 4096);
	assert_int_equal(rd(f, IDX_YRES), 4096);
	assert_int_equal(rd(f, IDX_BPP), 32);
	assert_int_equal(rd(f, IDX_ENABLE), GETCAPS);
	assert_int_equal(rd(f, IDX_ID), 0xB0C5);
	wr(f, IDX_ENABLE, 0);
	assert_int_equal(rd(f, IDX_XRES), 640);
	assert_int_equal(rd(f, IDX_YRES), 480);
	assert_int_equal(rd(f, IDX_BPP), 32);
}

static void test_vga_bank_is_masked_to_vram(void **state)
{
	static const struct { uint16_t write, reads; } rows[] = {
		{ 0, 0 }, { 255, 255 }, { 256, 0 }, { 0x1FF, 0xFF }, { 0xFFFF, 0xFF },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		wr(f, IDX_BANK, rows[i].write);
		assert_int_equal(rd(f, IDX_BANK), rows[i].reads);
	}
	assert_int_equal(f->vga.events[VGA_EV_BANK_MASKED], 3);
}

/* ---- sanitising while enabled --------------------------------------------- */

static void test_vga_bad_bpp_is_forced_to_8_and_shows_nothing(void **state)
{
	static const uint16_t bad[] = { 0, 1, 7, 33, 64, 0xFFFF };
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		enable_mode(f, 640, 480, bad[i], 0);
		assert_int_equal(rd(f, IDX_BPP), 8);
		assert_false(snapshot(f).enabled);
	}
	assert_int_equal(f->vga.events[VGA_EV_MODE_UNSUPPORTED], ARRAY_LEN(bad));
}

static void test_vga_bpp_other_than_24_and_32_shows_nothing(void **state)
{
	static const uint16_t kept[] = { 4, 8, 15, 16 };
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(kept); i++) {
		enable_mode(f, 640, 480, kept[i], 0);
		assert_int_equal(rd(f, IDX_BPP), kept[i]);
		assert_false(snapshot(f).enabled);
	}
}

static void test_vga_bpp_24_is_rgb888(void **state)
{
	struct fx *f = *state;
	struct display_surface s;

	enable_mode(f, 640, 480, 24, 0);
	s = snapshot(f);
	assert_surface(&s, VRAM_GPA, 640, 480, 640 * 3, RG24);
	/* 24 bpp with a line not a multiple of 4 bytes: no surface. */
	wr(f, IDX_VIRT_WIDTH, 642);
	assert_false(snapshot(f).enabled);
}

static void test_vga_xres_is_sanitized(void **state)
{
	static const struct { uint16_t write, reads; } rows[] = {
		{ 0, 8 }, { 1, 8 }, { 2, 2 }, { 1023, 1022 }, { 1366, 1366 },
		{ 4096, 4096 }, { 4097, 4096 }, { 16000, 4096 }, { 0xFFFF, 4096 },
	};
	struct fx *f = *state;

	enable_mode(f, 640, 16, 32, NOCLEARMEM);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		wr(f, IDX_XRES, rows[i].write);
		assert_int_equal(rd(f, IDX_XRES), rows[i].reads);
		assert_int_equal(snapshot(f).width, rows[i].reads);
		assert_true(rd(f, IDX_VIRT_WIDTH) >= rows[i].reads);
	}
}

static void test_vga_virt_width_is_sanitized(void **state)
{
	static const struct { uint16_t write, reads; } rows[] = {
		{ 0, 1024 }, { 100, 1024 }, { 1023, 1024 }, { 2048, 2048 }, { 2049, 2048 },
		{ 16000, 16000 }, { 16002, 16000 }, { 0xFFFF, 16000 },
	};
	struct fx *f = *state;

	enable_mode(f, 1024, 16, 32, NOCLEARMEM);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		wr(f, IDX_VIRT_WIDTH, rows[i].write);
		assert_int_equal(rd(f, IDX_VIRT_WIDTH), rows[i].reads);
		assert_int_equal(snapshot(f).stride, rows[i].reads * 4u);
	}
}

static void test_vga_yres_is_clamped_to_vram(void **state)
{
	static const struct { uint16_t xres, yres, bpp, reads; } rows[] = {
		{ 640, 0, 32, 1 },
		{ 640, 480, 32, 480 },
		{ 4096, 4096, 32, 1024 },     /* 16 MiB / 16 KiB lines */
		{ 4096, 0xFFFF, 32, 1024 },
		{ 2048, 4096, 32, 2048 },
		{ 640, 0xFFFF, 32, 4096 },    /* our display limit */
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		enable_mode(f, rows[i].xres, rows[i].yres, rows[i].bpp, NOCLEARMEM);
		assert_int_equal(rd(f, IDX_YRES), rows[i].reads);
		assert_int_equal(snapshot(f).height, rows[i].reads);
		assert_int_equal(rd(f, IDX_VIRT_HEIGHT), VRAM_BYTES / (rows[i].xres * 4u));
	}
}

static void test_vga_virt_height_reads_lines_that_fit_and_ignores_writes(void **state)
{
	struct fx *f = *state;

	wr(f, IDX_VIRT_HEIGHT, 77);
	assert_int_equal(rd(f, IDX_VIRT_HEIGHT), 0);
	enable_mode(f, 8, 1, 32, NOCLEARMEM);
	/* 16 MiB / 32-byte lines = 524288: more than 16 bits hold. */
	assert_int_equal(rd(f, IDX_VIRT_HEIGHT), 0xFFFF);
	wr(f, IDX_VIRT_WIDTH, 1024);
	assert_int_equal(rd(f, IDX_VIRT_HEIGHT), 4096);
}

static void test_vga_offsets_beyond_vram_are_reset(void **state)
{
	static const struct { uint16_t x, y, reads_x, reads_y; } rows[] = {
		{ 0, 3328, 0, 3328 },         /* last page exactly fits: 3328 + 768 = 4096 lines */
		{ 0, 3329, 0, 0 },
		{ 0, 4000, 0, 0 },
		{ 0, 0xFFFF, 0, 0 },          /* clamped to 12000, then reset */
		{ 1024, 3327, 1024, 3327 },   /* x offset of one line still fits */
		{ 1025, 3327, 1025, 0 },
		{ 0xFFFF, 0, 16000, 0 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		enable_mode(f, 1024, 768, 32, NOCLEARMEM);
		wr(f, IDX_X_OFFSET, rows[i].x);
		wr(f, IDX_Y_OFFSET, rows[i].y);
		assert_int_equal(rd(f, IDX_X_OFFSET), rows[i].reads_x);
		assert_int_equal(rd(f, IDX_Y_OFFSET), rows[i].reads_y);
		struct display_surface s = snapshot(f);
		assert_true(s.enabled);
		assert_int_equal(s.gpa, VRAM_GPA + rows[i].reads_y * 4096ull + rows[i].reads_x * 4ull);
		assert_true(s.gpa - VRAM_GPA + (uint64_t)s.stride * (s.height - 1) + s.width * 4u <=
			    VRAM_BYTES);
	}
}

static void test_vga_enable_resets_virt_width_and_offsets(void **state)
{
	struct fx *f = *state;

	wr(f, IDX_VIRT_WIDTH, 2000);
	wr(f, IDX_X_OFFSET, 5);
	wr(f, IDX_Y_OFFSET, 7);
	enable_mode(f, 800, 600, 32, NOCLEARMEM);
	assert_int_equal(rd(f, IDX_VIRT_WIDTH), 800);
	assert_int_equal(rd(f, IDX_X_OFFSET), 0);
	assert_int_equal(rd(f, IDX_Y_OFFSET), 0);
	assert_int_equal(rd(f, IDX_ENABLE), ENABLED | LFB | NOCLEARMEM);
}

static void test_vga_any_register_order_gives_the_same_surface(void **state)
{
	static const uint16_t orders[][4] = {
		{ IDX_BPP, IDX_XRES, IDX_YRES, IDX_ENABLE },
		{ IDX_YRES, IDX_XRES, IDX_BPP, IDX_ENABLE },
		{ IDX_XRES, IDX_BPP, IDX_YRES, IDX_ENABLE },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(orders); i++) {
		wr(f, IDX_ENABLE, 0);
		for (size_t j = 0; j < 4; j++) {
			switch (orders[i][j]) {
			case IDX_BPP: wr(f, IDX_BPP, 32); break;
			case IDX_XRES: wr(f, IDX_XRES, 1280); break;
			case IDX_YRES: wr(f, IDX_YRES, 720); break;
			default: wr(f, IDX_ENABLE, ENABLED | LFB); break;
			}
		}
		struct display_surface s = snapshot(f);
		assert_surface(&s, VRAM_GPA, 1280, 720, 5120, XR24);
	}
}

/* ---- bochs-drm ----------------------------------------------------------- */

static void test_vga_bochs_drm_mode_set_publishes_exact_surface(void **state)
{
	struct fx *f = *state;

	for (size_t p = 0; p < ARRAY_LEN(paths); p++) {
		uint32_t generation;

		bochs_pipe_enable(f, &paths[p], 1024, 768);
		struct display_surface s = snapshot(f);
		assert_surface(&s, VRAM_GPA, 1024, 768, 4096, XR24);
		assert_int_equal(paths[p].dispi_read(f, IDX_VIRT_HEIGHT), 4096);
		assert_int_equal(paths[p].dispi_read(f, IDX_ENABLE), ENABLED | LFB);
		generation = s.generation;
		/* The plane update after the mode set changed nothing: no new surface. */
		bochs_setbase(f, &paths[p], 0, 0, 4096, 0);
		assert_int_equal(snapshot(f).generation, generation);
	}
	assert_int_equal(f->vga.events[VGA_EV_SANITIZED], 0);
}

static void test_vga_bochs_drm_1366_wide_mode_keeps_its_width(void **state)
{
	struct fx *f = *state;

	bochs_pipe_enable(f, MMIO, 1366, 768);
	struct display_surface s = snapshot(f);
	assert_surface(&s, VRAM_GPA, 1366, 768, 1366 * 4, XR24);
}

static void test_vga_page_flip_via_y_offset_publishes_new_gpa(void **state)
{
	struct fx *f = *state;
	uint32_t generation;

	bochs_pipe_enable(f, MMIO, 1024, 768);
	generation = snapshot(f).generation;
	bochs_setbase(f, MMIO, 0, 0, 4096, 768 * 4096);   /* second buffer */
	struct display_surface s = snapshot(f);
	assert_surface(&s, VRAM_GPA + 768 * 4096, 1024, 768, 4096, XR24);
	assert_int_equal(s.generation, generation + 1);
	assert_int_equal(mmio_dispi_read(f, IDX_Y_OFFSET), 768);

	bochs_setbase(f, MMIO, 0, 0, 4096, 0);             /* and back */
	s = snapshot(f);
	assert_surface(&s, VRAM_GPA, 1024, 768, 4096, XR24);
	assert_int_equal(s.generation, generation + 2);
}

static void test_vga_second_resolution_publishes_new_generation(void **state)
{
	struct fx *f = *state;
	uint32_t generation;

	bochs_pipe_enable(f, PORTS, 1024, 768);
	generation = snapshot(f).generation;
	bochs_pipe_enable(f, PORTS, 800, 600);
	struct display_surface s = snapshot(f);
	assert_surface(&s, VRAM_GPA, 800, 600, 3200, XR24);
	assert_true(s.generation > generation);
}

static void test_vga_same_mode_again_is_a_new_generation(void **state)
{
	struct fx *f = *state;
	uint32_t generation;

	bochs_pipe_enable(f, PORTS, 1024, 768);
	generation = snapshot(f).generation;
	bochs_pipe_enable(f, PORTS, 1024, 768);   /* ENABLE 0 then 1: withdrawn, republished */
	assert_int_equal(snapshot(f).generation, generation + 2);
	assert_true(snapshot(f).enabled);
}

static void test_vga_disable_withdraws_the_surface(void **state)
{
	struct fx *f = *state;

	bochs_pipe_enable(f, PORTS, 640, 480);
	wr(f, IDX_ENABLE, 0);
	assert_false(snapshot(f).enabled);
	assert_int_equal(rd(f, IDX_XRES), 640);   /* registers survive */
}

static void test_vga_blank_withdraws_and_unblank_restores(void **state)
{
	struct fx *f = *state;

	for (size_t p = 0; p < ARRAY_LEN(paths); p++) {
		bochs_pipe_enable(f, &paths[p], 640, 480);
		bochs_blank(f, &paths[p], true);
		assert_false(snapshot(f).enabled);
		bochs_blank(f, &paths[p], false);
		struct display_surface s = snapshot(f);
		assert_surface(&s, VRAM_GPA, 640, 480, 2560, XR24);
	}
}

static void test_vga_enable_clears_visible_area_unless_noclearmem(void **state)
{
	struct fx *f = *state;

	memset(f->vram, 0xAA, VRAM_BYTES);
	enable_mode(f, 64, 32, 32, NOCLEARMEM);
	assert_int_equal(f->vram[0], 0xAA);
	assert_int_equal(f->vram[64 * 32 * 4 - 1], 0xAA);
	uint64_t marks[2] = { 0 };
	assert_int_equal(guest_mem_take_written(&f->mem, VRAM_GPA, 128 * 4096, marks), 0);

	enable_mode(f, 64, 32, 32, 0);
	for (size_t i = 0; i < 64 * 32 * 4; i++)
		if (f->vram[i] != 0)
			fail_msg("VRAM byte %zu not cleared", i);
	assert_int_equal(f->vram[64 * 32 * 4], 0xAA);
	assert_int_equal(f->vga.vram_clears, 1);
	/* A host-side write: its 2 pages are marked for the display tracker. */
	assert_int_equal(guest_mem_take_written(&f->mem, VRAM_GPA, 128 * 4096, marks), 2);
	assert_int_equal(marks[0], 0x3);

	/* ENABLE rewritten while already enabled clears nothing. */
	memset(f->vram, 0xAA, 64);
	wr(f, IDX_ENABLE, ENABLED | LFB);
	assert_int_equal(f->vram[0], 0xAA);
}

static void test_vga_largest_mode_clears_only_vram(void **state)
{
	struct fx *f = *state;

	/* 4096 x 4096 x 32 would be 64 MiB: YRES is clamped to what fits
	 * before the clear, so the clear covers exactly VRAM (ASan watches). */
	memset(f->vram, 0xAA, VRAM_BYTES);
	enable_mode(f, 4096, 4096, 32, 0);
	assert_int_equal(rd(f, IDX_YRES), 1024);
	assert_int_equal(f->vram[VRAM_BYTES - 1], 0);
	struct display_surface s = snapshot(f);
	assert_surface(&s, VRAM_GPA, 4096, 1024, 16384, XR24);
}

/* ---- MMIO specifics ------------------------------------------------------ */

static void test_vga_mmio_dword_and_byte_accesses_split_like_qemu(void **state)
{
	struct fx *f = *state;

	/* A dword at XRES/YRES... is two 16-bit register writes. */
	mmio_write(f, MMIO_DISPI + 2 * IDX_XRES, 600u << 16 | 800u, 4);
	assert_int_equal(rd(f, IDX_XRES), 800);
	assert_int_equal(rd(f, IDX_YRES), 600);
	assert_int_equal(mmio_read(f, MMIO_DISPI, 4), 800u << 16 | 0xB0C5u);
	/* A byte read returns the low byte of register offset / 2. */
	assert_int_equal(mmio_read(f, MMIO_DISPI + 2 * IDX_XRES, 1), 800 & 0xFF);
	assert_int_equal(mmio_read(f, MMIO_DISPI + 2 * IDX_XRES + 1, 1), 800 & 0xFF);
	/* A byte write stores the byte zero-extended in register offset / 2. */
	mmio_write(f, MMIO_DISPI + 2 * IDX_YRES + 1, 0x12, 1);
	assert_int_equal(rd(f, IDX_YRES), 0x12);
	/* A word at an odd offset is two byte pieces: XRES then YRES. */
	mmio_write(f, MMIO_DISPI + 2 * IDX_XRES + 1, 0x3456, 2);
	assert_int_equal(rd(f, IDX_XRES), 0x56);
	assert_int_equal(rd(f, IDX_YRES), 0x34);
	/* The MMIO access moved the port index, as in QEMU. */
	assert_int_equal(in(f, PORT_INDEX, 2), IDX_YRES);
}

static void test_vga_mmio_qext_registers(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mmio_read(f, MMIO_QEXT_SIZE, 4), 8);
	assert_int_equal(mmio_read(f, MMIO_QEXT_BYTEORDER, 4), 0x1e1e1e1e);
	bochs_pipe_enable(f, MMIO, 640, 480);
	assert_true(snapshot(f).enabled);

	/* Big-endian framebuffer (BGRX8888 in memory): frontends cannot show it. */
	mmio_write(f, MMIO_QEXT_BYTEORDER, 0xbebebebe, 4);
	assert_int_equal(mmio_read(f, MMIO_QEXT_BYTEORDER, 4), 0xbebebebe);
	assert_false(snapshot(f).enabled);
	mmio_write(f, MMIO_QEXT_BYTEORDER, 0x12345678, 4);   /* ignored */
	assert_int_equal(mmio_read(f, MMIO_QEXT_BYTEORDER, 4), 0xbebebebe);
	mmio_write(f, MMIO_QEXT_BYTEORDER, 0x1e1e1e1e, 4);
	assert_true(snapshot(f).enabled);
	/* qext registers are dword-only. */
	assert_int_equal(mmio_read(f, MMIO_QEXT_SIZE, 2), 0xFFFF);
}

static void test_vga_mmio_unassigned_offsets_read_all_ones(void **state)
{
	static const struct { uint32_t off; unsigned int size; } rows[] = {
		{ 0x000, 1 }, { 0x000, 4 }, { 0x3FF, 1 },        /* no EDID */
		{ 0x420, 1 }, { 0x4FF, 1 }, { 0x516, 2 },        /* gaps */
		{ 0x514, 4 },                                    /* runs past the dispi window */
		{ 0x41E, 4 },                                    /* runs past the VGA window */
		{ 0x608, 4 }, { 0xFFC, 4 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		uint32_t all_ones = rows[i].size == 4 ? 0xFFFFFFFF : (1u << (8 * rows[i].size)) - 1;
		mmio_write(f, rows[i].off, 0, rows[i].size);
		assert_int_equal(mmio_read(f, rows[i].off, rows[i].size), all_ones);
	}
	assert_int_equal(rd(f, IDX_VIDEO_MEMORY_64K), 256);
	assert_int_equal(f->vga.events[VGA_EV_MMIO_UNASSIGNED], 2 * ARRAY_LEN(rows));
}

static void test_vga_mmio_follows_command_memory(void **state)
{
	struct fx *f = *state;

	conf_write(f, PCI_COMMAND, PCI_COMMAND_IO, 2);
	assert_int_equal(mmio_read(f, MMIO_DISPI, 2), 0xFFFF);
	mmio_write(f, MMIO_DISPI + 2 * IDX_XRES, 640, 2);
	assert_int_equal(rd(f, IDX_XRES), 0);
	assert_int_equal(f->vga.events[VGA_EV_MMIO_DISABLED], 2);
	/* The VBE ports stay decoded, as QEMU's ISA ports are. */
	assert_int_equal(rd(f, IDX_ID), 0xB0C5);

	conf_write(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(f, MMIO_DISPI, 2), 0xB0C5);
}

static void test_vga_wrong_port_sizes_are_rejected_by_the_bus(void **state)
{
	struct fx *f = *state;

	out(f, PORT_INDEX, IDX_XRES, 1);
	out(f, PORT_DATA, 640, 4);
	assert_int_equal(in(f, PORT_DATA, 1), 0xFF);
	assert_int_equal(rd(f, IDX_XRES), 0);
	assert_int_equal(bus_find(&f->bus, BUS_PIO, PORT_INDEX)->rejected, 3);
}

static void test_vga_legacy_ports_blank_like_qemu(void **state)
{
	struct fx *f = *state;

	bochs_pipe_enable(f, PORTS, 640, 480);   /* leaves the flip-flop at "data" */
	/* Mono mode: 0x3DA does not answer, so the flip-flop is not reset... */
	out(f, 0x3C2, 0x00, 1);
	assert_int_equal(in(f, 0x3DA, 1), 0xFF);
	out(f, 0x3C0, 0x00, 1);                      /* ...and this is a data write */
	assert_true(snapshot(f).enabled);
	out(f, 0x3C0, 0x00, 1);                      /* index write without PAS: blank */
	assert_false(snapshot(f).enabled);
	assert_int_equal(in(f, 0x3C0, 1), 0x00);     /* flip-flop at data: reads 0 */

	out(f, 0x3C2, 0x01, 1);
	assert_int_equal(in(f, 0x3CC, 1), 0x01);
	(void)in(f, 0x3DA, 1);                       /* colour: resets the flip-flop */
	assert_int_equal(in(f, 0x3C0, 1), 0x00);     /* at index: reads the index */
	out(f, 0x3C0, 0x20, 1);
	assert_true(snapshot(f).enabled);
	assert_int_equal(in(f, 0x3C1, 1), 0x00);     /* attribute register 0 */
	/* Input status 1 toggles its retrace bits for pollers. */
	assert_int_not_equal(in(f, 0x3DA, 1), in(f, 0x3DA, 1));
	/* A word write is two byte writes, 0x3C0 then 0x3C1 (QEMU): the index,
	 * then a write to the read-only data port, which is ignored. */
	out(f, 0x3C0, 0x3F << 8 | 0x21, 2);
	assert_int_equal(in(f, 0x3C0, 1), 0x00);     /* flip-flop now at data */
	assert_int_equal(f->vga.ar_index, 0x21);
	assert_int_equal(f->vga.ar[1], 0x00);
	out(f, 0x3C0, 0x3F, 1);
	assert_int_equal(in(f, 0x3C1, 1), 0x3F);
	assert_true(snapshot(f).enabled);
	/* Registers not modelled read 0 and are counted. */
	assert_int_equal(in(f, 0x3C5, 1), 0);
	out(f, 0x3D4, 0x11, 1);
	assert_int_equal(f->vga.events[VGA_EV_VGA_PORT_IGNORED], 3);
}

/* ---- PCI ----------------------------------------------------------------- */

static void test_vga_pci_identity(void **state)
{
	static const struct { unsigned int reg, size; uint32_t value; } rows[] = {
		{ PCI_VENDOR_ID, 2, 0x1234 },
		{ PCI_DEVICE_ID, 2, 0x1111 },
		{ PCI_REVISION_ID, 1, 2 },
		{ PCI_CLASS_PROG, 1, 0x00 },
		{ PCI_CLASS_DEVICE, 2, 0x0300 },
		{ PCI_HEADER_TYPE, 1, 0 },
		{ PCI_SUBSYSTEM_VENDOR_ID, 2, 0x1AF4 },
		{ PCI_SUBSYSTEM_ID, 2, 0x1100 },
		{ PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY },
		{ PCI_BASE_ADDRESS_0, 4, VRAM_GPA | PCI_BASE_ADDRESS_MEM_PREFETCH },
		{ PCI_BASE_ADDRESS_0 + 4, 4, 0 },
		{ PCI_BASE_ADDRESS_0 + 8, 4, MMIO_GPA },
		{ PCI_BASE_ADDRESS_0 + 12, 4, 0 },
		{ PCI_ROM_ADDRESS, 4, 0 },
		{ PCI_INTERRUPT_PIN, 1, 0 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		assert_int_equal(conf_read(f, rows[i].reg, rows[i].size), rows[i].value);
}

static void test_vga_pci_bar_sizing_reports_vram_and_mmio_sizes(void **state)
{
	static const struct { unsigned int reg; uint32_t mask, base; } rows[] = {
		{ PCI_BASE_ADDRESS_0, 0xFF000008, VRAM_GPA | PCI_BASE_ADDRESS_MEM_PREFETCH },
		{ PCI_BASE_ADDRESS_0 + 8, 0xFFFFF000, MMIO_GPA },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		conf_write(f, rows[i].reg, 0xFFFFFFFF, 4);
		assert_int_equal(conf_read(f, rows[i].reg, 4), rows[i].mask);
		conf_write(f, rows[i].reg, rows[i].base, 4);
		assert_int_equal(conf_read(f, rows[i].reg, 4), rows[i].base);
	}
	assert_int_equal(f->vga.events[VGA_EV_BAR_MOVE_REFUSED], 0);
}

static void test_vga_pci_bar_moves_are_refused(void **state)
{
	struct fx *f = *state;

	conf_write(f, PCI_BASE_ADDRESS_0, 0xE0000000, 4);
	conf_write(f, PCI_BASE_ADDRESS_0 + 8, 0xFEB00000, 4);
	assert_int_equal(conf_read(f, PCI_BASE_ADDRESS_0, 4), VRAM_GPA | PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(conf_read(f, PCI_BASE_ADDRESS_0 + 8, 4), MMIO_GPA);
	assert_int_equal(f->vga.events[VGA_EV_BAR_MOVE_REFUSED], 2);
	/* Registers still answer at the old BAR2. */
	assert_int_equal(mmio_read(f, MMIO_DISPI, 2), 0xB0C5);
}

/* ---- host API ------------------------------------------------------------ */

static void test_vga_set_mode_publishes_the_boot_surface(void **state)
{
	struct fx *f = *state;
	struct display_surface s;

	bochs_blank(f, PORTS, true);
	assert_int_equal(vga_set_mode(&f->vga, 1024, 768, 32, &s), 0);
	assert_surface(&s, VRAM_GPA, 1024, 768, 4096, XR24);
	struct display_surface shown = snapshot(f);
	assert_surface(&shown, VRAM_GPA, 1024, 768, 4096, XR24);
	assert_int_equal(rd(f, IDX_ENABLE), ENABLED | LFB);
	assert_int_equal(rd(f, IDX_VIRT_WIDTH), 1024);
}

static void test_vga_set_mode_rejects_what_cannot_be_shown(void **state)
{
	static const struct { uint16_t w, h, bpp; } rows[] = {
		{ 1024, 768, 16 }, { 1024, 768, 8 }, { 1024, 768, 0 },
		{ 0, 768, 32 }, { 1023, 768, 32 }, { 4098, 768, 32 },
		{ 1024, 0, 32 }, { 1024, 4097, 32 },
		{ 4096, 2048, 32 },                   /* 32 MiB: beyond VRAM */
		{ 1022, 768, 24 },                    /* 24 bpp line not a multiple of 4 */
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		assert_int_equal(vga_set_mode(&f->vga, rows[i].w, rows[i].h, rows[i].bpp, NULL),
				 -EINVAL);
	assert_int_equal(snapshot(f).generation, 0);
	assert_int_equal(f->vga.dispi_writes, 0);
}

static void test_vga_reset_withdraws_surface_and_keeps_vram(void **state)
{
	struct fx *f = *state;

	bochs_pipe_enable(f, MMIO, 640, 480);
	f->vram[0] = 0x55;
	mmio_write(f, MMIO_QEXT_BYTEORDER, 0xbebebebe, 4);
	mmio_write(f, MMIO_QEXT_BYTEORDER, 0x1e1e1e1e, 4);
	vga_reset(&f->vga);
	assert_false(snapshot(f).enabled);
	assert_int_equal(rd(f, IDX_ENABLE), 0);
	assert_int_equal(rd(f, IDX_XRES), 0);
	assert_int_equal(rd(f, IDX_ID), 0xB0C5);
	assert_int_equal(f->vram[0], 0x55);
}

static void test_vga_init_rejects_bad_vram(void **state)
{
	static const struct { uint64_t bytes, gpa; } rows[] = {
		{ 0, VRAM_GPA },
		{ 512u << 10, VRAM_GPA },            /* below 1 MiB */
		{ 512u << 20, 0xE0000000 },          /* above 256 MiB */
		{ 12u << 20, 0xF0000000 },           /* not a power of two */
		{ 32u << 20, VRAM_GPA },             /* 0xFD000000 is not 32 MiB aligned */
		{ 16u << 20, 0x100000000ull },       /* above 4 GiB */
		{ 16u << 20, 0xFFF00000ull },        /* misaligned and past 4 GiB */
		{ 16u << 20, 0xFE000000ull },        /* covers BAR2 */
		{ 4u << 20, 0xFE400000ull },         /* valid, but not device memory of mem */
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct bus *bus = calloc(1, sizeof(*bus));
		struct pci_host *pci = calloc(1, sizeof(*pci));
		struct vga *v = calloc(1, sizeof(*v));

		bus_init(bus);
		assert_int_equal(pci_host_init(pci, bus), 0);
		assert_int_equal(vga_init(v, bus, pci, &f->display, &f->mem, rows[i].bytes,
					  rows[i].gpa), -EINVAL);
		assert_int_equal(bus->count[BUS_MMIO], 0);
		assert_int_equal(pci->function_count, 1);
		pci_host_destroy(pci);
		free(v);
		free(pci);
		free(bus);
	}
	/* No guest memory. */
	assert_int_equal(vga_init(&(struct vga){ 0 }, &f->bus, &f->pci, &f->display, NULL,
				  VRAM_BYTES, VRAM_GPA), -EINVAL);
}

static void test_vga_init_twice_is_eexist_with_nothing_registered(void **state)
{
	struct fx *f = *state;
	struct vga *second = calloc(1, sizeof(*second));
	unsigned int pio = f->bus.count[BUS_PIO], functions = f->pci.function_count;

	assert_int_equal(vga_init(second, &f->bus, &f->pci, &f->display, &f->mem, VRAM_BYTES,
				  VRAM_GPA), -EEXIST);
	assert_int_equal(f->bus.count[BUS_PIO], pio);
	assert_int_equal(f->pci.function_count, functions);
	free(second);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_vga_reset_state_reads_like_qemu),
		T(test_vga_id_accepts_only_b0c0_to_b0c5),
		T(test_vga_video_memory_64k_is_read_only),
		T(test_vga_index_above_0xa_reads_zero_and_ignores_writes),
		T(test_vga_registers_hold_raw_values_while_disabled),
		T(test_vga_getcaps_reads_maxima),
		T(test_vga_bank_is_masked_to_vram),
		T(test_vga_bad_bpp_is_forced_to_8_and_shows_nothing),
		T(test_vga_bpp_other_than_24_and_32_shows_nothing),
		T(test_vga_bpp_24_is_rgb888),
		T(test_vga_xres_is_sanitized),
		T(test_vga_virt_width_is_sanitized),
		T(test_vga_yres_is_clamped_to_vram),
		T(test_vga_virt_height_reads_lines_that_fit_and_ignores_writes),
		T(test_vga_offsets_beyond_vram_are_reset),
		T(test_vga_enable_resets_virt_width_and_offsets),
		T(test_vga_any_register_order_gives_the_same_surface),
		T(test_vga_bochs_drm_mode_set_publishes_exact_surface),
		T(test_vga_bochs_drm_1366_wide_mode_keeps_its_width),
		T(test_vga_page_flip_via_y_offset_publishes_new_gpa),
		T(test_vga_second_resolution_publishes_new_generation),
		T(test_vga_same_mode_again_is_a_new_generation),
		T(test_vga_disable_withdraws_the_surface),
		T(test_vga_blank_withdraws_and_unblank_restores),
		T(test_vga_enable_clears_visible_area_unless_noclearmem),
		T(test_vga_largest_mode_clears_only_vram),
		T(test_vga_mmio_dword_and_byte_accesses_split_like_qemu),
		T(test_vga_mmio_qext_registers),
		T(test_vga_mmio_unassigned_offsets_read_all_ones),
		T(test_vga_mmio_follows_command_memory),
		T(test_vga_wrong_port_sizes_are_rejected_by_the_bus),
		T(test_vga_legacy_ports_blank_like_qemu),
		T(test_vga_pci_identity),
		T(test_vga_pci_bar_sizing_reports_vram_and_mmio_sizes),
		T(test_vga_pci_bar_moves_are_refused),
		T(test_vga_set_mode_publishes_the_boot_surface),
		T(test_vga_set_mode_rejects_what_cannot_be_shown),
		T(test_vga_reset_withdraws_surface_and_keeps_vram),
		T(test_vga_init_rejects_bad_vram),
		T(test_vga_init_twice_is_eexist_with_nothing_registered),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
