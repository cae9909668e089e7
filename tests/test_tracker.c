/*
 * Tests for display/tracker.c. The "guest" is a real struct guest_mem the
 * test writes pixels into; a fake dirty source reports exactly the pages the
 * test marked (as KVM reports pages the guest wrote), or -ENOTSUP. After
 * every refresh the whole shadow is checked against guest memory converted
 * independently here, and every changed pixel must lie in a reported rect.
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
#include "display/tracker.h"
#include "hypervisor/guest_mem.h"
#include "guest_view.h"

#define RAM_BYTES   MiB(16)
#define RAM_PAGES   (RAM_BYTES / TRACKER_PAGE_BYTES)
#define FB_GPA      MiB(1)
#define MAX_RECTS   64

struct fixture {
	struct guest_mem mem;
	struct display display;
	struct tracker t;
	uint64_t marked[RAM_PAGES / 64];   /* pages "the guest wrote" */
	bool unsupported;                  /* fetch says -ENOTSUP */
	unsigned int fetches;
	struct display_surface s;          /* last published */
	uint32_t *before;                  /* shadow copy before the refresh */
	struct fb_rect rects[MAX_RECTS];
	size_t n_rects;
};

/* Like KVM: bit per page written since that page's previous fetch; the
 * fetch re-arms exactly the fetched pages. */
static int fake_fetch(void *ctx, uint64_t gpa, uint64_t len, uint64_t *bitmap)
{
	struct fixture *f = ctx;
	uint64_t first = gpa / TRACKER_PAGE_BYTES, n = len / TRACKER_PAGE_BYTES;

	f->fetches++;
	assert_int_equal(gpa % TRACKER_PAGE_BYTES, 0);
	assert_int_equal(len % TRACKER_PAGE_BYTES, 0);
	assert_true(first + n <= RAM_PAGES);
	if (f->unsupported)
		return -ENOTSUP;
	memset(bitmap, 0, (n + 63) / 64 * sizeof(uint64_t));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = first + i;
		if (f->marked[p / 64] & (1ull << (p % 64))) {
			bitmap[i / 64] |= 1ull << (i % 64);
			f->marked[p / 64] &= ~(1ull << (p % 64));
		}
	}
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(guest_mem_init(&f->mem, RAM_BYTES), 0);
	display_init(&f->display);
	assert_int_equal(tracker_init(&f->t, &f->display, &f->mem,
				      (struct dirty_source){ .fetch = fake_fetch, .ctx = f }), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tracker_destroy(&f->t);
	display_destroy(&f->display);
	guest_mem_destroy(&f->mem);
	free(f->before);
	free(f);
	return 0;
}

/* ---- the guest side ---- */

static void mark_pages(struct fixture *f, uint64_t gpa, uint64_t len)
{
	for (uint64_t p = gpa / TRACKER_PAGE_BYTES; p <= (gpa + len - 1) / TRACKER_PAGE_BYTES; p++)
		f->marked[p / 64] |= 1ull << (p % 64);
}

/* A guest write: bytes into RAM, their pages marked dirty. */
static void guest_write(struct fixture *f, uint64_t gpa, const void *data, uint64_t len)
{
	uint8_t *p = guest_view(&f->mem, gpa, len);

	assert_non_null(p);
	memcpy(p, data, len);
	mark_pages(f, gpa, len);
}

static unsigned int bpp(const struct display_surface *s)
{
	return display_format_bpp(s->format);
}

static uint64_t pixel_gpa(const struct display_surface *s, uint32_t x, uint32_t y)
{
	return s->gpa + (uint64_t)y * s->stride + (uint64_t)x * bpp(s);
}

/* Writes the pixel 0x00RRGGBB in the surface's format. */
static void guest_put_pixel(struct fixture *f, uint32_t x, uint32_t y, uint32_t rgb)
{
	uint8_t r = (uint8_t)(rgb >> 16), g = (uint8_t)(rgb >> 8), b = (uint8_t)rgb;
	uint8_t bytes[4];

	switch (f->s.format) {
	case DISPLAY_FORMAT_XBGR8888:
	case DISPLAY_FORMAT_ABGR8888:
		bytes[0] = r, bytes[1] = g, bytes[2] = b, bytes[3] = 0;
		break;
	default:   /* XRGB8888, ARGB8888, RGB888: B,G,R[,X] */
		bytes[0] = b, bytes[1] = g, bytes[2] = r, bytes[3] = 0;
		break;
	}
	guest_write(f, pixel_gpa(&f->s, x, y), bytes, bpp(&f->s));
}

/* The shadow pixel this test expects for the guest's bytes at (x, y). */
static uint32_t expected_pixel(struct fixture *f, uint32_t x, uint32_t y)
{
	const uint8_t *p = guest_mem_ptr(&f->mem, pixel_gpa(&f->s, x, y), bpp(&f->s));

	switch (f->s.format) {
	case DISPLAY_FORMAT_XRGB8888:
	case DISPLAY_FORMAT_ARGB8888:   /* copied as is, X/A byte included */
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		       (uint32_t)p[3] << 24;
	case DISPLAY_FORMAT_XBGR8888:
	case DISPLAY_FORMAT_ABGR8888:
		return (uint32_t)p[2] | (uint32_t)p[1] << 8 | (uint32_t)p[0] << 16;
	default:   /* RGB888 */
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	}
}

static uint32_t shadow_pixel(const struct tracker *t, uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, t->shadow + ((size_t)y * t->width + x) * 4, sizeof(v));
	return v;
}

static void publish(struct fixture *f, uint64_t gpa, uint32_t width, uint32_t height,
		    uint32_t stride, uint32_t format)
{
	f->s = (struct display_surface){ .enabled = true, .gpa = gpa, .width = width,
					 .height = height, .stride = stride, .format = format };
	display_publish(&f->display, &f->s);
}

/* Fills the surface with a pattern unique per pixel (salted), marked dirty. */
static void guest_fill(struct fixture *f, uint32_t salt)
{
	for (uint32_t y = 0; y < f->s.height; y++)
		for (uint32_t x = 0; x < f->s.width; x++)
			guest_put_pixel(f, x, y, (x * 7 + y * 131 + salt * 0x10101) & 0xFFFFFF);
}

/* ---- the host side ---- */

static bool in_rects(const struct fixture *f, uint32_t x, uint32_t y)
{
	for (size_t i = 0; i < f->n_rects; i++) {
		const struct fb_rect *r = &f->rects[i];
		if (x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h)
			return true;
	}
	return false;
}

/*
 * One refresh with at most max_rects rects, then the invariants of every
 * refresh: the shadow equals guest memory pixel for pixel, rects lie inside
 * the surface, and every pixel that changed in the shadow is in a rect.
 */
static enum tracker_result refresh_max(struct fixture *f, size_t max_rects)
{
	struct tracker *t = &f->t;
	uint32_t old_w = t->width, old_h = t->height;
	enum tracker_result res;

	free(f->before);
	f->before = malloc((size_t)old_w * old_h * 4);
	assert_non_null(f->before);
	memcpy(f->before, t->shadow, (size_t)old_w * old_h * 4);

	res = tracker_refresh(t, f->rects, max_rects, &f->n_rects);
	assert_true(f->n_rects <= max_rects);
	for (size_t i = 0; i < f->n_rects; i++) {
		const struct fb_rect *r = &f->rects[i];
		assert_true(r->w > 0 && r->h > 0);
		assert_true(r->x + r->w <= t->width && r->y + r->h <= t->height);
	}
	if (res == TRACKER_NO_SURFACE)
		return res;
	if (res == TRACKER_UNCHANGED)
		assert_int_equal(f->n_rects, 0);
	if (t->frozen)
		return res;
	assert_int_equal(t->width, f->s.width);
	assert_int_equal(t->height, f->s.height);
	for (uint32_t y = 0; y < t->height; y++) {
		for (uint32_t x = 0; x < t->width; x++) {
			uint32_t got = shadow_pixel(t, x, y), want = expected_pixel(f, x, y);
			if (got != want)
				fail_msg("shadow (%u,%u) = 0x%08x, guest has 0x%08x", x, y, got, want);
			bool changed = res == TRACKER_RESIZED || f->before[(size_t)y * old_w + x] != got;
			if (changed && !in_rects(f, x, y))
				fail_msg("pixel (%u,%u) changed but is in no rect", x, y);
		}
	}
	return res;
}

static enum tracker_result refresh(struct fixture *f)
{
	return refresh_max(f, MAX_RECTS);
}

/* Publishes a filled surface and takes the first (full) refresh. */
static void start(struct fixture *f, uint64_t gpa, uint32_t width, uint32_t height,
		  uint32_t stride, uint32_t format)
{
	publish(f, gpa, width, height, stride, format);
	guest_fill(f, 1);
	/* UNCHANGED when the new memory happens to hold the same picture. */
	assert_int_not_equal(refresh(f), TRACKER_NO_SURFACE);
}

static void start_xrgb(struct fixture *f, uint32_t width, uint32_t height)
{
	start(f, FB_GPA, width, height, width * 4, DISPLAY_FORMAT_XRGB8888);
}

/* ---- tests ---- */

/* fbvm's own writes (fw_cfg DMA, VRAM clears) are not in KVM's dirty log:
 * guest_mem marks them and the tracker merges the marks. */
static void test_tracker_host_write_into_surface_is_reported(void **state)
{
	struct fixture *f = *state;
	uint8_t *black = calloc(32, 4096);

	assert_non_null(black);
	start_xrgb(f, 1024, 768);
	/* 32 lines through the middle, as a DMA read would fill them. */
	assert_int_equal(guest_mem_write(&f->mem, pixel_gpa(&f->s, 0, 368), black, 32 * 4096), 0);
	free(black);
	uint64_t host_pages = f->t.stats.host_written_pages;
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->t.stats.host_written_pages - host_pages, 32);
	assert_true(in_rects(f, 0, 368));
	assert_true(in_rects(f, 1023, 399));
	assert_false(in_rects(f, 0, 367));
	assert_int_equal(shadow_pixel(&f->t, 500, 380), 0);
	/* Taken once: the next refresh has nothing to do. */
	uint64_t compared = f->t.stats.tiles_compared;
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_int_equal(f->t.stats.tiles_compared, compared);
}

static void test_tracker_host_fill_into_surface_is_reported(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 640, 480);
	assert_int_equal(guest_mem_fill(&f->mem, pixel_gpa(&f->s, 10, 100), 0xFF, 4), 0);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);
	assert_true(in_rects(f, 10, 100));
	assert_int_equal(shadow_pixel(&f->t, 10, 100), 0xFFFFFFFF);
}

static void test_tracker_host_write_outside_surface_costs_nothing(void **state)
{
	struct fixture *f = *state;
	static uint8_t bytes[3 * 4096];

	start_xrgb(f, 1024, 768);
	memset(bytes, 0x5A, sizeof(bytes));
	/* Just below and just past the framebuffer, and far away. */
	assert_int_equal(guest_mem_write(&f->mem, FB_GPA - sizeof(bytes), bytes, sizeof(bytes)), 0);
	assert_int_equal(guest_mem_write(&f->mem, FB_GPA + 1024 * 768 * 4, bytes, sizeof(bytes)), 0);
	assert_int_equal(guest_mem_fill(&f->mem, MiB(12), 0x77, MiB(2)), 0);
	struct tracker_stats before = f->t.stats;
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_int_equal(f->n_rects, 0);
	assert_int_equal(f->t.stats.dirty_pages, before.dirty_pages);
	assert_int_equal(f->t.stats.host_written_pages, before.host_written_pages);
	assert_int_equal(f->t.stats.tiles_compared, before.tiles_compared);
	assert_int_equal(f->t.stats.full_compares, before.full_compares);
}

static void test_tracker_host_write_is_merged_with_dirty_log(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	guest_put_pixel(f, 5, 5, 0x123456);                          /* a vCPU write */
	assert_int_equal(guest_mem_fill(&f->mem, pixel_gpa(&f->s, 900, 700), 0x11, 4), 0);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(in_rects(f, 5, 5));
	assert_true(in_rects(f, 900, 700));
}

static void test_tracker_reports_no_surface_before_publish(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(refresh(f), TRACKER_NO_SURFACE);
	assert_int_equal(f->n_rects, 0);
	assert_int_equal(f->t.width, TRACKER_DEFAULT_WIDTH);
	assert_int_equal(f->t.height, TRACKER_DEFAULT_HEIGHT);
	for (size_t i = 0; i < (size_t)TRACKER_DEFAULT_WIDTH * TRACKER_DEFAULT_HEIGHT * 4; i++)
		assert_int_equal(f->t.shadow[i], 0);
}

static void test_tracker_first_surface_resizes_and_copies_everything(void **state)
{
	struct fixture *f = *state;

	publish(f, FB_GPA, 1024, 768, 4096, DISPLAY_FORMAT_XRGB8888);
	guest_fill(f, 3);
	assert_int_equal(refresh(f), TRACKER_RESIZED);
	assert_int_equal(f->n_rects, 1);
	assert_int_equal(f->rects[0].x, 0);
	assert_int_equal(f->rects[0].y, 0);
	assert_int_equal(f->rects[0].w, 1024);
	assert_int_equal(f->rects[0].h, 768);
}

static void test_tracker_unchanged_refresh_compares_no_tile_without_dirty_pages(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	struct tracker_stats before = f->t.stats;
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_int_equal(f->t.stats.tiles_compared, before.tiles_compared);
	assert_int_equal(f->t.stats.full_compares, before.full_compares);
	assert_true(f->t.dirty_supported);
}

static void test_tracker_dirty_pages_with_equal_pixels_report_unchanged(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	/* The guest rewrites the same values over a third of the screen. */
	mark_pages(f, FB_GPA + 4096 * 100, 4096 * 256);
	uint64_t compared = f->t.stats.tiles_compared;
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_int_equal(f->n_rects, 0);
	assert_true(f->t.stats.tiles_compared > compared);
}

static void test_tracker_one_pixel_change_gives_one_small_rect_containing_it(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	guest_put_pixel(f, 517, 300, 0xFFFFFF);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);
	assert_true(in_rects(f, 517, 300));
	assert_true(f->rects[0].w <= TRACKER_TILE_W && f->rects[0].h <= TRACKER_TILE_H);
	assert_int_equal(shadow_pixel(&f->t, 517, 300), 0x00FFFFFF);
}

static void test_tracker_rect_is_exactly_a_block_not_aligned_to_tiles(void **state)
{
	struct fixture *f = *state;

	/* ramfb-demo's small-change mode: a 64x64 block straddling two tile
	 * columns and five tile rows is sent as its own pixels only. */
	start_xrgb(f, 1024, 768);
	for (uint32_t y = 352; y < 416; y++)
		for (uint32_t x = 480; x < 544; x++)
			guest_put_pixel(f, x, y, 0x00FF80);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);
	assert_int_equal(f->rects[0].x, 480);
	assert_int_equal(f->rects[0].y, 352);
	assert_int_equal(f->rects[0].w, 64);
	assert_int_equal(f->rects[0].h, 64);
	/* The next change in the same tiles gets its own exact bounds. */
	guest_put_pixel(f, 500, 400, 0x123456);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);
	assert_int_equal(f->rects[0].x, 500);
	assert_int_equal(f->rects[0].y, 400);
	assert_int_equal(f->rects[0].w, 1);
	assert_int_equal(f->rects[0].h, 1);
}

static void test_tracker_refresh_cost_follows_dirty_pages_not_screen_size(void **state)
{
	struct fixture *f = *state;
	/* At 4 bytes per pixel, a 1024-wide line is exactly one page. */
	static const uint32_t widths[] = { 1024, 2048 };

	for (size_t i = 0; i < 2; i++) {
		start_xrgb(f, widths[i], 768);
		uint64_t compared = f->t.stats.tiles_compared;
		uint64_t pages = f->t.stats.dirty_pages;
		guest_put_pixel(f, 10, 20, 0x123456);
		assert_int_equal(refresh(f), TRACKER_UPDATED);
		/* One dirty page = 1024 pixels of one line: their tiles, one row each. */
		assert_int_equal(f->t.stats.dirty_pages - pages, 1);
		assert_int_equal(f->t.stats.tiles_compared - compared, 1024 / TRACKER_TILE_W);
	}
}

static void test_tracker_full_screen_change_rects_cover_the_screen(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	guest_fill(f, 2);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	/* Every pixel changed, so the coverage check in refresh() saw all of them
	 * inside rects; coalescing makes that a single rectangle. */
	assert_int_equal(f->n_rects, 1);
	assert_int_equal(f->rects[0].w * f->rects[0].h, 1024 * 768);
}

static void test_tracker_reports_changes_at_the_last_column_and_row(void **state)
{
	struct fixture *f = *state;
	static const struct { uint32_t x, y; } points[] = {
		{ 1022, 0 }, { 0, 766 }, { 1022, 766 }, { 1022, 383 },
	};

	start_xrgb(f, 1023, 767);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		guest_put_pixel(f, points[i].x, points[i].y, 0xABCDEF + (uint32_t)i);
		assert_int_equal(refresh(f), TRACKER_UPDATED);
		assert_true(in_rects(f, points[i].x, points[i].y));
	}
}

static void test_tracker_tracks_every_pixel_at_odd_widths_and_strides(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint32_t width, height, stride, format;
	} cases[] = {
		{ 1023, 17, 1023 * 4, DISPLAY_FORMAT_XRGB8888 },
		{ 1, 100, 4, DISPLAY_FORMAT_XRGB8888 },   /* 1024 lines per page */
		{ 3, 50, 12, DISPLAY_FORMAT_XRGB8888 },
		{ 1, 1, 4, DISPLAY_FORMAT_XRGB8888 },
		{ 1023, 9, 8192, DISPLAY_FORMAT_XRGB8888 }, /* stride > page: gaps */
		{ 3, 40, 9, DISPLAY_FORMAT_RGB888 },
		{ 1365, 7, 4096, DISPLAY_FORMAT_RGB888 },   /* pixels straddle pages */
		{ 100, 30, 452, DISPLAY_FORMAT_XRGB8888 },  /* stride not a page divisor */
		{ 500, 20, 2000, DISPLAY_FORMAT_XRGB8888 }, /* pages: part, whole, part line */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t w = cases[i].width, h = cases[i].height;
		start(f, FB_GPA + 0x40 * i, w, h, cases[i].stride, cases[i].format);
		/* Corners, middle, and a few scattered pixels, one refresh each. */
		uint32_t pts[][2] = { { w - 1, h - 1 }, { 0, 0 }, { w / 2, h / 2 },
				      { w - 1, 0 }, { 0, h - 1 }, { (w * 3) / 4, h / 3 } };
		for (size_t j = 0; j < sizeof(pts) / sizeof(pts[0]); j++) {
			guest_put_pixel(f, pts[j][0], pts[j][1], 0xF00000 + (uint32_t)(i * 16 + j));
			if (refresh(f) != TRACKER_UPDATED)
				fail_msg("case %zu point (%u,%u): change not reported", i, pts[j][0],
					 pts[j][1]);
		}
		/* Then one pixel on every line, alone. */
		for (uint32_t y = 0; y < h; y++) {
			uint32_t x = (y * 37 + (uint32_t)i) % w;
			guest_put_pixel(f, x, y, 0x0F0000 + y);
			if (refresh(f) != TRACKER_UPDATED)
				fail_msg("case %zu line %u: change at x=%u not reported", i, y, x);
		}
	}
}

static void test_tracker_stride_gap_writes_produce_no_rects(void **state)
{
	struct fixture *f = *state;
	uint8_t junk[256];

	memset(junk, 0x5A, sizeof(junk));
	start(f, FB_GPA, 1000, 300, 4096, DISPLAY_FORMAT_XRGB8888);
	for (uint32_t y = 0; y < 300; y += 7)
		guest_write(f, FB_GPA + (uint64_t)y * 4096 + 4000, junk, 96);
	uint64_t changed = f->t.stats.tiles_changed;
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_int_equal(f->n_rects, 0);
	assert_int_equal(f->t.stats.tiles_changed, changed);
}

static void test_tracker_dirty_page_spanning_many_rows_reports_the_changed_row(void **state)
{
	struct fixture *f = *state;

	/* 16 pixels per line: one page holds 64 lines. */
	start_xrgb(f, 16, 200);
	guest_put_pixel(f, 15, 137, 0x0000FF);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);
	assert_true(in_rects(f, 15, 137));
	assert_true(f->rects[0].h <= TRACKER_TILE_H);
}

static void test_tracker_pixel_straddling_pages_is_found_from_either_page(void **state)
{
	struct fixture *f = *state;
	/* RGB888 pixels across a page boundary at tile edges, where rounding the
	 * page's byte range to pixels the wrong way would miss a tile: the last
	 * pixel of a tile with one byte on the next page, the first pixel of the
	 * next tile with one byte on the previous page. */
	static const struct { uint32_t x, bytes_before_boundary; } cases[] = {
		{ TRACKER_TILE_W - 1, 2 },
		{ TRACKER_TILE_W, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t x = cases[i].x;
		/* Line 1 starts at gpa + 3000; pixel x of it crosses FB_GPA + 4096. */
		uint64_t pixel_off = 3000 + (uint64_t)x * 3;
		uint64_t gpa = FB_GPA + 4096 - pixel_off - cases[i].bytes_before_boundary;

		start(f, gpa, 1000, 4, 3000, DISPLAY_FORMAT_RGB888);
		for (uint64_t byte = 0; byte < 3; byte++) {
			uint8_t v = (uint8_t)(0x40 + byte + 8 * i);
			guest_write(f, gpa + pixel_off + byte, &v, 1);
			if (refresh(f) != TRACKER_UPDATED || !in_rects(f, x, 1))
				fail_msg("pixel %u byte %u alone not reported", x, (unsigned)byte);
		}
	}
}

static void test_tracker_change_in_last_byte_of_surface_alone_on_its_page(void **state)
{
	struct fixture *f = *state;
	/* RGB888, 12000 bytes; the very last byte (red of the last pixel) is the
	 * first byte of a page. */
	uint64_t gpa = FB_GPA + 3 * 4096 - (12000 - 1);
	uint8_t red = 0xEE;

	start(f, gpa, 1000, 4, 3000, DISPLAY_FORMAT_RGB888);
	guest_write(f, gpa + 12000 - 1, &red, 1);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(in_rects(f, 999, 3));
	assert_int_equal(shadow_pixel(&f->t, 999, 3) >> 16, 0xEE);
}

static void test_tracker_rects_stay_within_the_changed_tiles(void **state)
{
	struct fixture *f = *state;
	/* Runs of different widths on consecutive tile rows, and gaps. */
	static const bool changed[5][8] = {
		{ 1, 1, 0, 0, 0, 0, 0, 0 },
		{ 1, 1, 1, 1, 0, 0, 0, 0 },
		{ 0, 0, 1, 0, 0, 0, 0, 0 },
		{ 0, 0, 0, 0, 0, 1, 0, 1 },
		{ 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	uint32_t tiles = 0;

	start_xrgb(f, 8 * TRACKER_TILE_W, 5 * TRACKER_TILE_H);
	for (uint32_t ty = 0; ty < 5; ty++)
		for (uint32_t tx = 0; tx < 8; tx++)
			if (changed[ty][tx]) {
				guest_put_pixel(f, tx * TRACKER_TILE_W + TRACKER_TILE_W / 2,
						ty * TRACKER_TILE_H + TRACKER_TILE_H / 2, 0x00FF00);
				tiles++;
			}
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	uint64_t area = 0;
	for (size_t i = 0; i < f->n_rects; i++)
		area += (uint64_t)f->rects[i].w * f->rects[i].h;
	/* Each rect shrinks to the changed pixels of its run of tiles: never
	 * more than the changed tiles, and no unchanged tile is touched. */
	assert_true(area <= (uint64_t)tiles * TRACKER_TILE_W * TRACKER_TILE_H);
	for (uint32_t ty = 0; ty < 5; ty++)
		for (uint32_t tx = 0; tx < 8; tx++)
			assert_int_equal(in_rects(f, tx * TRACKER_TILE_W + TRACKER_TILE_W / 2,
						  ty * TRACKER_TILE_H + TRACKER_TILE_H / 2),
					 changed[ty][tx]);
}

static void test_tracker_unaligned_surface_address_tracks_first_and_last_pixel(void **state)
{
	struct fixture *f = *state;

	start(f, FB_GPA + 0x7F4, 800, 600, 3200, DISPLAY_FORMAT_XRGB8888);
	guest_put_pixel(f, 0, 0, 0x111111);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	guest_put_pixel(f, 799, 599, 0x222222);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(in_rects(f, 799, 599));
}

static void test_tracker_resize_keeps_old_shadow_until_next_refresh(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	uint8_t *old = f->t.shadow;
	uint32_t old_pixel = shadow_pixel(&f->t, 1023, 767);

	publish(f, FB_GPA, 800, 600, 3200, DISPLAY_FORMAT_XRGB8888);
	assert_int_equal(refresh(f), TRACKER_RESIZED);
	assert_int_equal(f->t.width, 800);
	assert_int_equal(f->t.height, 600);
	assert_int_equal(f->n_rects, 1);
	assert_int_equal(f->rects[0].w, 800);
	assert_int_equal(f->rects[0].h, 600);
	assert_ptr_not_equal(f->t.shadow, old);
	/* A frontend may still be sending from the old buffer: it must be intact
	 * (AddressSanitizer catches a use after free). */
	assert_ptr_equal(f->t.retired, old);
	uint32_t v;
	memcpy(&v, old + ((size_t)767 * 1024 + 1023) * 4, sizeof(v));
	assert_int_equal(v, old_pixel);

	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_null(f->t.retired);
}

static void test_tracker_republish_with_same_geometry_reports_only_differences(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 640, 480);
	/* Same configuration again (a guest re-writing its ramfb config). */
	publish(f, FB_GPA, 640, 480, 2560, DISPLAY_FORMAT_XRGB8888);
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	/* Same geometry elsewhere in memory, other content, no page marked. */
	uint64_t other = FB_GPA + MiB(4);
	publish(f, other, 640, 480, 2560, DISPLAY_FORMAT_XRGB8888);
	guest_fill(f, 9);
	memset(f->marked, 0, sizeof(f->marked));
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(f->n_rects >= 1);
}

static void test_tracker_converts_each_format_exactly(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint32_t format;
		uint8_t bytes[4];
		uint32_t want;   /* shadow pixel as host uint32: 0xXXRRGGBB */
	} cases[] = {
		{ DISPLAY_FORMAT_XRGB8888, { 0xC3, 0xB2, 0xA1, 0x00 }, 0x00A1B2C3 },
		{ DISPLAY_FORMAT_ARGB8888, { 0xC3, 0xB2, 0xA1, 0xFF }, 0xFFA1B2C3 },
		{ DISPLAY_FORMAT_XBGR8888, { 0xA1, 0xB2, 0xC3, 0x7E }, 0x00A1B2C3 },
		{ DISPLAY_FORMAT_ABGR8888, { 0xA1, 0xB2, 0xC3, 0xFF }, 0x00A1B2C3 },
		{ DISPLAY_FORMAT_RGB888,   { 0xC3, 0xB2, 0xA1 },       0x00A1B2C3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int b = display_format_bpp(cases[i].format);
		/* 5x3 at a new address each time, so every case is a fresh publish. */
		uint64_t gpa = FB_GPA + MiB(1) * i;
		start(f, gpa, 5, 3, 5 * b, cases[i].format);
		guest_write(f, gpa + (2 * 5 + 4) * b, cases[i].bytes, b);
		assert_int_equal(refresh(f), TRACKER_UPDATED);
		if (shadow_pixel(&f->t, 4, 2) != cases[i].want)
			fail_msg("format case %zu: shadow 0x%08x, want 0x%08x", i,
				 shadow_pixel(&f->t, 4, 2), cases[i].want);
	}
}

static void test_tracker_surface_outside_ram_is_counted_and_keeps_shadow(void **state)
{
	struct fixture *f = *state;
	static const struct { uint64_t gpa; uint32_t width, height; } bad[] = {
		{ RAM_BYTES - 4096, 1024, 768 },   /* runs off the end of RAM */
		{ 0xFD000000ull, 1024, 768 },      /* device hole */
		{ UINT64_MAX - 4095, 2, 2 },       /* would wrap */
	};

	start_xrgb(f, 1024, 768);
	uint8_t *shadow = f->t.shadow;
	uint32_t pixel = shadow_pixel(&f->t, 5, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		publish(f, bad[i].gpa, bad[i].width, bad[i].height, bad[i].width * 4,
			DISPLAY_FORMAT_XRGB8888);
		assert_int_equal(refresh(f), TRACKER_UNCHANGED);
		assert_int_equal(refresh(f), TRACKER_UNCHANGED);   /* counted once */
		assert_int_equal(f->t.stats.invalid_surfaces, i + 1);
		assert_ptr_equal(f->t.shadow, shadow);
		assert_int_equal(f->t.width, 1024);
		assert_int_equal(shadow_pixel(&f->t, 5, 5), pixel);
	}
	/* A good surface afterwards is adopted. */
	start_xrgb(f, 320, 200);
	assert_int_equal(f->t.width, 320);
}

static void test_tracker_merges_rects_beyond_max_rects(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	/* A checkerboard of changed tiles: many separate rectangles. */
	for (uint32_t ty = 0; ty < 768 / TRACKER_TILE_H; ty += 2)
		for (uint32_t tx = 0; tx < 1024 / TRACKER_TILE_W; tx += 2)
			guest_put_pixel(f, tx * TRACKER_TILE_W + 1, ty * TRACKER_TILE_H + 1, 0x777777);
	assert_int_equal(refresh_max(f, 5), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 5);
	assert_true(f->t.stats.rects_merged >= 1);

	for (uint32_t tx = 0; tx < 1024 / TRACKER_TILE_W; tx += 3)
		guest_put_pixel(f, tx * TRACKER_TILE_W, 767, 0x010203);
	guest_put_pixel(f, 0, 0, 0x010203);
	assert_int_equal(refresh_max(f, 1), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);   /* the bounding box */
}

static void test_tracker_unsupported_dirty_source_compares_whole_surface(void **state)
{
	struct fixture *f = *state;

	f->unsupported = true;
	start_xrgb(f, 1024, 768);
	assert_false(f->t.dirty_supported);
	uint64_t full = f->t.stats.full_compares;
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	/* A write the dirty log would not see is still found. */
	uint8_t *p = guest_view(&f->mem, pixel_gpa(&f->s, 700, 700), 4);
	memset(p, 0xEE, 4);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(in_rects(f, 700, 700));
	assert_int_equal(f->t.stats.full_compares, full + 2);
}

static void test_tracker_without_dirty_source_compares_whole_surface(void **state)
{
	struct fixture *f = *state;

	tracker_destroy(&f->t);
	assert_int_equal(tracker_init(&f->t, &f->display, &f->mem, (struct dirty_source){ 0 }), 0);
	start_xrgb(f, 64, 64);
	uint8_t *p = guest_view(&f->mem, pixel_gpa(&f->s, 63, 63), 4);
	memset(p, 0x42, 4);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->fetches, 0);
}

static void test_tracker_invalidate_reports_one_full_rect(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 1024, 768);
	tracker_invalidate(&f->t);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(f->n_rects, 1);
	assert_int_equal(f->rects[0].w, 1024);
	assert_int_equal(f->rects[0].h, 768);
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
}

static void test_tracker_disabled_surface_reports_no_surface_and_readopts(void **state)
{
	struct fixture *f = *state;

	start_xrgb(f, 800, 600);
	struct display_surface off = { 0 };
	display_publish(&f->display, &off);
	assert_int_equal(refresh(f), TRACKER_NO_SURFACE);
	publish(f, FB_GPA, 800, 600, 3200, DISPLAY_FORMAT_XRGB8888);
	guest_fill(f, 5);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tracker_reports_no_surface_before_publish),
		T(test_tracker_first_surface_resizes_and_copies_everything),
		T(test_tracker_unchanged_refresh_compares_no_tile_without_dirty_pages),
		T(test_tracker_dirty_pages_with_equal_pixels_report_unchanged),
		T(test_tracker_one_pixel_change_gives_one_small_rect_containing_it),
		T(test_tracker_rect_is_exactly_a_block_not_aligned_to_tiles),
		T(test_tracker_refresh_cost_follows_dirty_pages_not_screen_size),
		T(test_tracker_full_screen_change_rects_cover_the_screen),
		T(test_tracker_reports_changes_at_the_last_column_and_row),
		T(test_tracker_tracks_every_pixel_at_odd_widths_and_strides),
		T(test_tracker_stride_gap_writes_produce_no_rects),
		T(test_tracker_dirty_page_spanning_many_rows_reports_the_changed_row),
		T(test_tracker_pixel_straddling_pages_is_found_from_either_page),
		T(test_tracker_change_in_last_byte_of_surface_alone_on_its_page),
		T(test_tracker_rects_stay_within_the_changed_tiles),
		T(test_tracker_unaligned_surface_address_tracks_first_and_last_pixel),
		T(test_tracker_resize_keeps_old_shadow_until_next_refresh),
		T(test_tracker_republish_with_same_geometry_reports_only_differences),
		T(test_tracker_converts_each_format_exactly),
		T(test_tracker_surface_outside_ram_is_counted_and_keeps_shadow),
		T(test_tracker_merges_rects_beyond_max_rects),
		T(test_tracker_unsupported_dirty_source_compares_whole_surface),
		T(test_tracker_without_dirty_source_compares_whole_surface),
		T(test_tracker_invalidate_reports_one_full_rect),
		T(test_tracker_disabled_surface_reports_no_surface_and_readopts),
		T(test_tracker_host_write_into_surface_is_reported),
		T(test_tracker_host_fill_into_surface_is_reported),
		T(test_tracker_host_write_outside_surface_costs_nothing),
		T(test_tracker_host_write_is_merged_with_dirty_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
