/*
 * Tests for devices/ramfb.c. The guest path is driven for real: a bus, guest
 * RAM and fw_cfg, the guest finds etc/ramfb in the fw_cfg directory through
 * the ports and writes the 28-byte big-endian config by a DMA descriptor in
 * its RAM, kicked with outl of the byte-swapped address halves to 0x514 and
 * 0x518. The host path (ramfb_apply_config) must agree with it on every row.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/display.h"
#include "devices/fw_cfg.h"
#include "devices/ramfb.h"
#include "hypervisor/bus.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/log.h"
#include "hypervisor/memmap.h"
#include "guest_view.h"

/* Spelled out from the specs (QEMU docs/specs/fw_cfg.rst, drm_fourcc.h) so
 * the tests check the device against them, not against its own constants. */
#define PORT_SELECTOR 0x510
#define PORT_DATA     0x511
#define PORT_DMA_HIGH 0x514
#define PORT_DMA_LOW  0x518
#define KEY_FILE_DIR  0x0019
#define DMA_ERROR  0x01u
#define DMA_SKIP   0x04u
#define DMA_SELECT 0x08u
#define DMA_WRITE  0x10u
#define CFG_BYTES  28

#define XR24 0x34325258u
#define AR24 0x34325241u
#define XB24 0x34324258u
#define AB24 0x34324241u
#define RG24 0x34324752u

/* 5 GiB of RAM: [0, 3 GiB) and [4 GiB, 6 GiB), so both the end of low RAM,
 * the hole and the end of RAM can be tested. MAP_NORESERVE: only touched
 * pages cost memory. */
#define RAM_BYTES   GiB(5)
#define LOW_END     GiB(3)
#define HIGH_BASE   GiB(4)
#define RAM_END     GiB(6)
/* Guest-side scratch: the config and the DMA descriptor, clear of anything
 * the tests point a framebuffer at. */
#define CFG_GPA     0x20000ull
#define DESC_GPA    0x21000ull
#define FB_GPA      0x1000000ull   /* 16 MiB, where ramfb-demo puts it */

struct fx {
	struct bus bus;
	struct guest_mem mem;
	struct fw_cfg fw;
	struct display display;
	struct ramfb rf;
	uint16_t select;   /* etc/ramfb's key, found by the guest */
};

/* ---- guest side ---------------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *gmem(struct fx *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_view(&f->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static void outw(struct fx *f, uint16_t port, uint16_t v)
{
	bus_access(&f->bus, BUS_PIO, port, &v, 2, true);
}

static void outl(struct fx *f, uint16_t port, uint32_t v)
{
	bus_access(&f->bus, BUS_PIO, port, &v, 4, true);
}

static uint8_t inb(struct fx *f, uint16_t port)
{
	uint8_t v = 0;

	bus_access(&f->bus, BUS_PIO, port, &v, 1, false);
	return v;
}

/* Walks the fw_cfg directory through the data port, as Linux's driver does. */
static int guest_find_file(struct fx *f, const char *name, uint16_t *select, uint32_t *size)
{
	uint8_t entry[64];
	uint32_t count;

	outw(f, PORT_SELECTOR, KEY_FILE_DIR);
	for (int i = 0; i < 4; i++)
		entry[i] = inb(f, PORT_DATA);
	count = get_be32(entry);
	for (uint32_t n = 0; n < count; n++) {
		for (size_t i = 0; i < sizeof(entry); i++)
			entry[i] = inb(f, PORT_DATA);
		if (strncmp((const char *)entry + 8, name, 56) == 0) {
			*size = get_be32(entry);
			*select = (uint16_t)(entry[4] << 8 | entry[5]);
			return 0;
		}
	}
	return -ENOENT;
}

/* One DMA transfer of len bytes at data_gpa; returns the control word the
 * device wrote back (0 on success, DMA_ERROR on failure). */
static uint32_t guest_dma(struct fx *f, uint32_t control, uint32_t len, uint64_t data_gpa)
{
	uint8_t *desc = gmem(f, DESC_GPA, 16);

	put_be32(desc, control);
	put_be32(desc + 4, len);
	put_be64(desc + 8, data_gpa);
	/* The register is big-endian: the guest byte-swaps each half. */
	outl(f, PORT_DMA_HIGH, __builtin_bswap32((uint32_t)(DESC_GPA >> 32)));
	outl(f, PORT_DMA_LOW, __builtin_bswap32((uint32_t)DESC_GPA));
	return get_be32(desc);
}

static void encode_config(uint8_t *p, const struct ramfb_config *c)
{
	put_be64(p, c->addr);
	put_be32(p + 8, c->fourcc);
	put_be32(p + 12, c->flags);
	put_be32(p + 16, c->width);
	put_be32(p + 20, c->height);
	put_be32(p + 24, c->stride);
}

/* The whole config in one SELECT|WRITE transfer, as SeaBIOS and OVMF do. */
static void guest_write_config(struct fx *f, const struct ramfb_config *c)
{
	encode_config(gmem(f, CFG_GPA, CFG_BYTES), c);
	assert_int_equal(guest_dma(f, (uint32_t)f->select << 16 | DMA_SELECT | DMA_WRITE, CFG_BYTES,
				   CFG_GPA), 0);
}

/* ---- fixture --------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint32_t size = 0;

	if (!f)
		return -1;
	bus_init(&f->bus);
	if (guest_mem_init(&f->mem, RAM_BYTES) < 0)
		goto fail;
	if (fw_cfg_init(&f->fw, &f->bus, &f->mem) < 0)
		goto fail_mem;
	display_init(&f->display);
	if (ramfb_init(&f->rf, &f->fw, &f->display, &f->mem) < 0)
		goto fail_fw;
	if (guest_find_file(f, "etc/ramfb", &f->select, &size) < 0 || size != CFG_BYTES)
		goto fail_rf;
	*state = f;
	return 0;

fail_rf:
	ramfb_destroy(&f->rf);
fail_fw:
	display_destroy(&f->display);
	fw_cfg_destroy(&f->fw);
fail_mem:
	guest_mem_destroy(&f->mem);
fail:
	free(f);
	return -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fw_cfg_destroy(&f->fw);
	ramfb_destroy(&f->rf);
	display_destroy(&f->display);
	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

static struct ramfb_config valid_config(void)
{
	return (struct ramfb_config){ .addr = FB_GPA, .fourcc = XR24, .width = 640, .height = 480,
				      .stride = 2560 };
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
	assert_true(s->gpa == gpa);
	assert_int_equal(s->width, w);
	assert_int_equal(s->height, h);
	assert_int_equal(s->stride, stride);
	assert_int_equal(s->format, format);
}

static void assert_same_surface(const struct display_surface *a, const struct display_surface *b)
{
	assert_int_equal(a->enabled, b->enabled);
	assert_true(a->gpa == b->gpa);
	assert_int_equal(a->width, b->width);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->stride, b->stride);
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->generation, b->generation);
}

/* Checks what a frontend relies on, independently of the device's code. */
static void assert_surface_safe(struct fx *f, const struct display_surface *s)
{
	unsigned int bpp = s->format == RG24 ? 3 : 4;
	uint64_t span = (uint64_t)s->stride * (s->height - 1) + (uint64_t)s->width * bpp;

	assert_true(s->format == XR24 || s->format == AR24 || s->format == XB24 ||
		    s->format == AB24 || s->format == RG24);
	assert_true(s->width >= 1 && s->width <= 4096);
	assert_true(s->height >= 1 && s->height <= 4096);
	assert_true(s->stride >= s->width * bpp && s->stride % 4 == 0);
	assert_true(s->gpa >= MEMMAP_BOOT_INFO_END);
	assert_non_null(guest_mem_ptr(&f->mem, s->gpa, span));
}

/* ---- initial state ---------------------------------------------------------- */

static void test_ramfb_file_is_28_zero_bytes_and_nothing_is_published(void **state)
{
	struct fx *f = *state;
	struct display_surface s = snapshot(f);

	assert_false(s.enabled);
	assert_int_equal(s.generation, 0);
	outw(f, PORT_SELECTOR, f->select);
	for (int i = 0; i < CFG_BYTES; i++)
		assert_int_equal(inb(f, PORT_DATA), 0);
	assert_false(f->rf.active);
}

static void test_ramfb_init_fails_cleanly_when_file_exists(void **state)
{
	struct fx *f = *state;
	struct ramfb second;

	assert_int_equal(ramfb_init(&second, &f->fw, &f->display, &f->mem), -EEXIST);
}

/* ---- valid configs ------------------------------------------------------------- */

static void test_ramfb_guest_dma_write_publishes_exact_surface(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = { .addr = FB_GPA, .fourcc = XR24, .width = 1024, .height = 768,
				  .stride = 4096 };
	struct display_surface s;

	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 1024, 768, 4096, XR24);
	assert_int_equal(s.generation, 1);
	assert_int_equal(f->rf.guest_writes, 1);
	assert_int_equal(f->rf.partial_writes, 0);
	assert_int_equal(f->rf.configs_applied, 1);
	assert_int_equal(f->rf.configs_rejected, 0);
	/* The guest reads back what it wrote. */
	outw(f, PORT_SELECTOR, f->select);
	uint8_t back[CFG_BYTES];
	for (int i = 0; i < CFG_BYTES; i++)
		back[i] = inb(f, PORT_DATA);
	assert_memory_equal(back, gmem(f, CFG_GPA, CFG_BYTES), CFG_BYTES);
}

static void test_ramfb_accepts_each_supported_format(void **state)
{
	static const struct { uint32_t fourcc; uint32_t stride; } rows[] = {
		{ XR24, 2560 }, { AR24, 2560 }, { XB24, 2560 }, { AB24, 2560 }, { RG24, 1920 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ramfb_config c = valid_config();
		struct display_surface s;

		c.fourcc = rows[i].fourcc;
		c.stride = rows[i].stride;
		guest_write_config(f, &c);
		s = snapshot(f);
		assert_surface(&s, FB_GPA, 640, 480, rows[i].stride, rows[i].fourcc);
		assert_int_equal(s.generation, i + 1);
	}
	assert_int_equal(f->rf.configs_rejected, 0);
}

static void test_ramfb_stride_zero_means_width_times_bpp(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	struct display_surface s;

	c.stride = 0;
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 640, 480, 640 * 4, XR24);
	assert_int_equal(f->rf.current.stride, 640 * 4);

	c.fourcc = RG24;   /* 640 * 3 = 1920 is a multiple of 4 */
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 640, 480, 640 * 3, RG24);
}

static void test_ramfb_accepts_smallest_and_largest_surfaces(void **state)
{
	struct fx *f = *state;
	struct ramfb_config tiny = { .addr = FB_GPA, .fourcc = XR24, .width = 1, .height = 1 };
	/* 4096x4096 in a 65536-byte pitch: a span of 65536 * 4095 + 16384 bytes. */
	struct ramfb_config huge = { .addr = FB_GPA, .fourcc = XR24, .width = 4096, .height = 4096,
				     .stride = 65536 };
	struct display_surface s;

	guest_write_config(f, &tiny);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 1, 1, 4, XR24);
	guest_write_config(f, &huge);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 4096, 4096, 65536, XR24);
	assert_int_equal(s.generation, 2);
}

static void test_ramfb_accepts_surface_ending_at_last_byte_of_each_ram_region(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	uint64_t span = 2560ull * 480;
	struct display_surface s;

	c.addr = LOW_END - span;
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, LOW_END - span, 640, 480, 2560, XR24);

	c.addr = RAM_END - span;
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, RAM_END - span, 640, 480, 2560, XR24);

	c.addr = HIGH_BASE;
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, HIGH_BASE, 640, 480, 2560, XR24);
	assert_int_equal(s.generation, 3);
}

static void test_ramfb_last_line_needs_only_its_pixels(void **state)
{
	struct fx *f = *state;
	/* Stride twice the line: stride * height would pass the end of low RAM
	 * by half a line; stride * (height - 1) + line ends exactly on it. */
	struct ramfb_config c = { .fourcc = XR24, .width = 640, .height = 480, .stride = 5120 };
	struct display_surface s;

	c.addr = LOW_END - (5120ull * 479 + 2560);
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, c.addr, 640, 480, 5120, XR24);
	assert_int_equal(f->rf.configs_rejected, 0);
}

static void test_ramfb_rewriting_same_config_gets_new_generation(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();

	guest_write_config(f, &c);
	guest_write_config(f, &c);
	assert_int_equal(snapshot(f).generation, 2);
	assert_int_equal(f->rf.configs_applied, 2);
}

/* After a reset the same config is a new surface again: nothing of the old
 * one is remembered, and the reset itself publishes nothing. */
static void test_ramfb_reset_forgets_config_and_publishes_nothing(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();

	guest_write_config(f, &c);
	ramfb_reset(&f->rf);
	assert_false(f->rf.active);
	assert_int_equal(snapshot(f).generation, 1);
	guest_write_config(f, &c);
	assert_int_equal(snapshot(f).generation, 2);
	assert_true(f->rf.active);
	assert_int_equal(f->rf.configs_applied, 2);
}

static void test_ramfb_flags_are_ignored(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	struct display_surface s;

	c.flags = 0xFFFFFFFF;
	guest_write_config(f, &c);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 640, 480, 2560, XR24);
}

static void test_ramfb_host_apply_publishes_like_a_guest_write(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = { .addr = LOW_END - 0x400000, .fourcc = XR24, .width = 800,
				  .height = 600, .stride = 0 };
	struct display_surface s;

	assert_int_equal(ramfb_apply_config(&f->rf, &c), 0);
	s = snapshot(f);
	assert_surface(&s, LOW_END - 0x400000, 800, 600, 3200, XR24);
	assert_int_equal(s.generation, 1);
	assert_int_equal(f->rf.configs_applied, 1);
	assert_int_equal(f->rf.guest_writes, 0);
}

/* ---- invalid configs ------------------------------------------------------------ */

struct bad_row {
	const char *what;
	struct ramfb_config cfg;
	enum ramfb_reject reason;
};

/* Each row is the valid base config with the fields that make it bad
 * overriding the base: the override is the point, so silence -Woverride-init. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#define BAD(what_, reason_, ...) \
	{ what_, { .addr = FB_GPA, .fourcc = XR24, .width = 640, .height = 480, .stride = 2560, \
		   __VA_ARGS__ }, reason_ }

static const struct bad_row bad_rows[] = {
	BAD("fourcc 0 (unconfigured)", RAMFB_REJECT_FORMAT, .fourcc = 0),
	BAD("fourcc XR30", RAMFB_REJECT_FORMAT, .fourcc = 0x30335258u),
	BAD("fourcc RG16", RAMFB_REJECT_FORMAT, .fourcc = 0x36314752u),
	BAD("fourcc XR24 byte-swapped", RAMFB_REJECT_FORMAT, .fourcc = 0x58523234u),
	BAD("width 0", RAMFB_REJECT_WIDTH, .width = 0),
	BAD("width 4097", RAMFB_REJECT_WIDTH, .width = 4097, .stride = 0),
	BAD("width 0xFFFFFFFF", RAMFB_REJECT_WIDTH, .width = 0xFFFFFFFF),
	BAD("height 0", RAMFB_REJECT_HEIGHT, .height = 0),
	BAD("height 4097", RAMFB_REJECT_HEIGHT, .height = 4097),
	BAD("height 0xFFFFFFFF", RAMFB_REJECT_HEIGHT, .height = 0xFFFFFFFF),
	BAD("stride one pixel short", RAMFB_REJECT_STRIDE_SHORT, .stride = 2556),
	BAD("stride 4", RAMFB_REJECT_STRIDE_SHORT, .stride = 4),
	BAD("stride 100 for width 1024", RAMFB_REJECT_STRIDE_SHORT, .width = 1024, .stride = 100),
	BAD("RG24 stride below width * 3", RAMFB_REJECT_STRIDE_SHORT, .fourcc = RG24, .width = 1024,
	    .stride = 3070),
	BAD("stride not a multiple of 4", RAMFB_REJECT_STRIDE_ALIGN, .stride = 2562),
	BAD("RG24 stride 0 for odd width", RAMFB_REJECT_STRIDE_ALIGN, .fourcc = RG24, .width = 641,
	    .stride = 0),
	BAD("stride above 65536", RAMFB_REJECT_STRIDE_LARGE, .stride = 65540),
	BAD("stride 0xFFFFFFFF * height 4096", RAMFB_REJECT_STRIDE_LARGE, .stride = 0xFFFFFFFF,
	    .height = 4096),
	BAD("stride 0xFFFFFFFC * height 4096", RAMFB_REJECT_STRIDE_LARGE, .stride = 0xFFFFFFFC,
	    .height = 4096, .width = 4096),
	BAD("addr 0", RAMFB_REJECT_LOW_MEMORY, .addr = 0),
	BAD("addr in page 0", RAMFB_REJECT_LOW_MEMORY, .addr = 0xFFC),
	BAD("addr at boot info", RAMFB_REJECT_LOW_MEMORY, .addr = MEMMAP_BOOT_INFO_BASE),
	BAD("addr at last word of boot info", RAMFB_REJECT_LOW_MEMORY,
	    .addr = MEMMAP_BOOT_INFO_END - 4),
	BAD("addr + span wraps 2^64", RAMFB_REJECT_WRAP, .addr = 0xFFFFFFFFFFFFF000ull),
	BAD("addr + span ends at 2^64", RAMFB_REJECT_WRAP, .addr = 0 - 2560ull * 480),
	BAD("addr UINT64_MAX", RAMFB_REJECT_WRAP, .addr = UINT64_MAX),
	BAD("one byte past the end of RAM", RAMFB_REJECT_NOT_RAM, .addr = RAM_END - 2560ull * 480 + 1),
	BAD("addr at the end of RAM", RAMFB_REJECT_NOT_RAM, .addr = RAM_END),
	BAD("straddling the end of low RAM", RAMFB_REJECT_NOT_RAM, .addr = LOW_END - 2560ull * 480 + 4),
	BAD("addr at 3 GiB (hole)", RAMFB_REJECT_NOT_RAM, .addr = LOW_END),
	BAD("addr inside the 3-4 GiB hole", RAMFB_REJECT_NOT_RAM, .addr = 0xE0000000ull),
	BAD("straddling the hole into high RAM", RAMFB_REJECT_NOT_RAM, .addr = HIGH_BASE - 0x1000),
	BAD("addr 1 TiB", RAMFB_REJECT_NOT_RAM, .addr = 1ull << 40),
	BAD("largest surface past the end of RAM", RAMFB_REJECT_NOT_RAM, .addr = RAM_END - 0x1000000,
	    .width = 4096, .height = 4096, .stride = 65536),
};
#pragma GCC diagnostic pop

static void check_rejected(struct fx *f, const struct bad_row *row, bool via_guest)
{
	struct display_surface before = snapshot(f), after;
	uint64_t rejected = f->rf.configs_rejected;
	uint64_t reason_count = f->rf.rejects[row->reason];

	print_message("  %s (%s)\n", row->what, via_guest ? "guest DMA" : "host");
	if (via_guest)
		guest_write_config(f, &row->cfg);   /* the DMA itself succeeds */
	else
		assert_int_equal(ramfb_apply_config(&f->rf, &row->cfg), -EINVAL);
	assert_int_equal(f->rf.configs_rejected, rejected + 1);
	assert_int_equal(f->rf.rejects[row->reason], reason_count + 1);
	assert_string_equal(ramfb_reject_name(f->rf.last_reject), ramfb_reject_name(row->reason));
	after = snapshot(f);
	assert_same_surface(&after, &before);
}

static void test_ramfb_rejects_each_bad_field_and_keeps_previous_surface(void **state)
{
	struct fx *f = *state;
	struct ramfb_config good = valid_config();
	size_t n = sizeof(bad_rows) / sizeof(bad_rows[0]);

	guest_write_config(f, &good);
	for (size_t i = 0; i < n; i++) {
		check_rejected(f, &bad_rows[i], true);
		check_rejected(f, &bad_rows[i], false);
	}
	assert_int_equal(f->rf.configs_rejected, 2 * n);
	assert_int_equal(f->rf.configs_applied, 1);
	struct display_surface s = snapshot(f);
	assert_surface(&s, FB_GPA, 640, 480, 2560, XR24);
	assert_int_equal(s.generation, 1);
}

static void test_ramfb_rejects_before_any_surface_leave_display_empty(void **state)
{
	struct fx *f = *state;
	struct display_surface s;

	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++)
		guest_write_config(f, &bad_rows[i].cfg);
	s = snapshot(f);
	assert_false(s.enabled);
	assert_int_equal(s.generation, 0);
	assert_false(f->rf.active);
}

/* ---- partial writes ------------------------------------------------------------- */

static void test_ramfb_partial_write_applies_whole_item(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	uint8_t *stride = gmem(f, CFG_GPA, 4);
	struct display_surface s;

	guest_write_config(f, &c);
	/* Skip to the stride field and rewrite only it: the other fields stay. */
	put_be32(stride, 4096);
	assert_int_equal(guest_dma(f, (uint32_t)f->select << 16 | DMA_SELECT | DMA_SKIP, 24, 0), 0);
	assert_int_equal(guest_dma(f, DMA_WRITE, 4, CFG_GPA), 0);
	s = snapshot(f);
	assert_surface(&s, FB_GPA, 640, 480, 4096, XR24);
	assert_int_equal(s.generation, 2);
	assert_int_equal(f->rf.partial_writes, 1);
	assert_int_equal(f->rf.guest_writes, 2);
}

static void test_ramfb_split_write_rejects_first_half_then_applies(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	uint8_t *buf = gmem(f, CFG_GPA, CFG_BYTES);

	encode_config(buf, &c);
	/* addr alone: the rest of the item is still zero, fourcc 0. */
	assert_int_equal(guest_dma(f, (uint32_t)f->select << 16 | DMA_SELECT | DMA_WRITE, 8,
				   CFG_GPA), 0);
	assert_false(snapshot(f).enabled);
	assert_int_equal(f->rf.rejects[RAMFB_REJECT_FORMAT], 1);
	/* The rest continues at offset 8. */
	assert_int_equal(guest_dma(f, DMA_WRITE, CFG_BYTES - 8, CFG_GPA + 8), 0);
	struct display_surface s = snapshot(f);
	assert_surface(&s, FB_GPA, 640, 480, 2560, XR24);
	assert_int_equal(s.generation, 1);
	assert_int_equal(f->rf.partial_writes, 2);
}

static void test_ramfb_byte_by_byte_write_publishes_only_safe_surfaces(void **state)
{
	struct fx *f = *state;
	struct ramfb_config a = valid_config();
	struct ramfb_config b = { .addr = 0x2000000, .fourcc = XR24, .width = 800, .height = 600,
				  .stride = 3200 };
	uint8_t *buf = gmem(f, CFG_GPA, CFG_BYTES);
	uint32_t last_gen;
	unsigned int published = 0;
	struct display_surface s;

	guest_write_config(f, &a);
	last_gen = snapshot(f).generation;
	encode_config(buf, &b);
	for (int i = 0; i < CFG_BYTES; i++) {
		uint32_t control = i == 0 ? (uint32_t)f->select << 16 | DMA_SELECT | DMA_WRITE
					  : DMA_WRITE;
		assert_int_equal(guest_dma(f, control, 1, CFG_GPA + (uint64_t)i), 0);
		s = snapshot(f);
		if (s.generation != last_gen) {
			assert_surface_safe(f, &s);
			published++;
			last_gen = s.generation;
		}
	}
	assert_surface(&s, 0x2000000, 800, 600, 3200, XR24);
	assert_int_equal(f->rf.partial_writes, CFG_BYTES);
	assert_int_equal(f->rf.configs_applied + f->rf.configs_rejected, 1 + CFG_BYTES);
	/* Both kinds of intermediate state occurred: mixed valid ones (new addr,
	 * old geometry) were published, half-written widths were rejected. */
	assert_true(published > 1);
	assert_true(f->rf.rejects[RAMFB_REJECT_STRIDE_SHORT] > 0);
}

static void test_ramfb_write_past_item_end_is_dma_error_and_ignored(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	struct display_surface before, after;

	guest_write_config(f, &c);
	before = snapshot(f);
	assert_int_equal(guest_dma(f, (uint32_t)f->select << 16 | DMA_SELECT | DMA_SKIP, 20, 0), 0);
	assert_int_equal(guest_dma(f, DMA_WRITE, 16, CFG_GPA) & DMA_ERROR, DMA_ERROR);
	after = snapshot(f);
	assert_same_surface(&after, &before);
	assert_int_equal(f->rf.guest_writes, 1);
}

/* ---- logging and stats ------------------------------------------------------------ */

/* Runs fn with stderr redirected to a file; returns what it wrote (static buffer). */
static const char *capture_stderr(void (*fn)(struct fx *), struct fx *f)
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn(f);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void apply_short_stride(struct fx *f)
{
	struct ramfb_config c = { .addr = FB_GPA, .fourcc = XR24, .width = 1024, .height = 768,
				  .stride = 100 };

	guest_write_config(f, &c);
}

static void apply_many_bad(struct fx *f)
{
	struct ramfb_config c = valid_config();

	c.width = 0;
	for (int i = 0; i < 20; i++)
		guest_write_config(f, &c);
}

static void test_ramfb_reject_log_names_field_and_value(void **state)
{
	struct fx *f = *state;
	const char *out;

	log_set_level(LOG_INFO);
	out = capture_stderr(apply_short_stride, f);
	assert_string_equal(out, "ramfb: warning: rejected config: stride 100 < width 1024 * 4\n");
}

static unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_ramfb_reject_log_is_rate_limited_but_counted(void **state)
{
	struct fx *f = *state;
	const char *out;

	log_set_level(LOG_INFO);
	out = capture_stderr(apply_many_bad, f);
	assert_int_equal(count_lines(out), LOG_RATELIMIT_BURST);
	assert_non_null(strstr(out, "ramfb: warning: rejected config: width 0 not in 1..4096\n"));
	assert_int_equal(f->rf.rejects[RAMFB_REJECT_WIDTH], 20);
}

static void test_ramfb_print_stats_reports_counters_and_current_mode(void **state)
{
	struct fx *f = *state;
	struct ramfb_config c = valid_config();
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	guest_write_config(f, &c);
	c.width = 0;
	guest_write_config(f, &c);
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	ramfb_print_stats(&f->rf, out);
	fclose(out);
	assert_string_equal(buf, "ramfb: guest_writes=2 partial_writes=0 applied=1 rejected=1 "
				 "rejected_width=1 current=640x480@0x1000000 stride=2560 "
				 "fourcc=0x34325258\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_ramfb_file_is_28_zero_bytes_and_nothing_is_published),
		T(test_ramfb_init_fails_cleanly_when_file_exists),
		T(test_ramfb_guest_dma_write_publishes_exact_surface),
		T(test_ramfb_accepts_each_supported_format),
		T(test_ramfb_stride_zero_means_width_times_bpp),
		T(test_ramfb_accepts_smallest_and_largest_surfaces),
		T(test_ramfb_accepts_surface_ending_at_last_byte_of_each_ram_region),
		T(test_ramfb_last_line_needs_only_its_pixels),
		T(test_ramfb_rewriting_same_config_gets_new_generation),
		T(test_ramfb_reset_forgets_config_and_publishes_nothing),
		T(test_ramfb_flags_are_ignored),
		T(test_ramfb_host_apply_publishes_like_a_guest_write),
		T(test_ramfb_rejects_each_bad_field_and_keeps_previous_surface),
		T(test_ramfb_rejects_before_any_surface_leave_display_empty),
		T(test_ramfb_partial_write_applies_whole_item),
		T(test_ramfb_split_write_rejects_first_half_then_applies),
		T(test_ramfb_byte_by_byte_write_publishes_only_safe_surfaces),
		T(test_ramfb_write_past_item_end_is_dma_error_and_ignored),
		T(test_ramfb_reject_log_names_field_and_value),
		T(test_ramfb_reject_log_is_rate_limited_but_counted),
		T(test_ramfb_print_stats_reports_counters_and_current_mode),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
