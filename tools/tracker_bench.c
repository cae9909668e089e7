/*
 * Micro-benchmark of display/tracker.c at 1024x768 XRGB8888: the cost of one
 * tracker_refresh for a static screen, a 64x64 block changing, a full-screen
 * change, and a static screen without dirty information (whole compare, the
 * fallback for a framebuffer no dirty log covers). Guest writes are simulated
 * by the host plus a fake dirty source that reports the written pages.
 *
 * Build one tile size (the tracker is compiled in with it):
 *   make build/libfbvm.a
 *   cc -O2 -D_GNU_SOURCE -I. -DTRACKER_TILE_W=64 -DTRACKER_TILE_H=16 \
 *      -o build/tracker_bench tools/tracker_bench.c display/tracker.c \
 *      build/libfbvm.a -lpthread
 *   build/tracker_bench [iterations]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/display.h"
#include "display/tracker.h"
#include "hypervisor/guest_mem.h"

#define BENCH_RAM_BYTES MiB(16)
#define BENCH_PAGES     (BENCH_RAM_BYTES / TRACKER_PAGE_BYTES)
#define BENCH_FB_GPA    MiB(1)
#define BENCH_WIDTH     1024
#define BENCH_HEIGHT    768
#define BENCH_STRIDE    (BENCH_WIDTH * 4)
#define BENCH_MAX_RECTS 64

struct bench {
	struct guest_mem mem;
	struct display display;
	struct tracker t;
	uint64_t marked[BENCH_PAGES / 64];
	bool unsupported;
	struct fb_rect rects[BENCH_MAX_RECTS];
};

static int bench_fetch(void *ctx, uint64_t gpa, uint64_t len, uint64_t *bitmap)
{
	struct bench *b = ctx;
	uint64_t first = gpa / TRACKER_PAGE_BYTES, n = len / TRACKER_PAGE_BYTES;

	if (b->unsupported)
		return -ENOTSUP;
	memset(bitmap, 0, (n + 63) / 64 * sizeof(uint64_t));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = first + i;
		if (b->marked[p / 64] >> (p % 64) & 1) {
			bitmap[i / 64] |= 1ull << (i % 64);
			b->marked[p / 64] &= ~(1ull << (p % 64));
		}
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The guest paints the block [x, x + w) x [y, y + h) with value v. */
static void paint(struct bench *b, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t v)
{
	for (uint32_t row = y; row < y + h; row++) {
		uint64_t gpa = BENCH_FB_GPA + (uint64_t)row * BENCH_STRIDE + (uint64_t)x * 4;
		uint32_t *p = guest_mem_ptr(&b->mem, gpa, (uint64_t)w * 4);
		for (uint32_t i = 0; i < w; i++)
			p[i] = v;
		for (uint64_t pg = gpa / TRACKER_PAGE_BYTES;
		     pg <= (gpa + (uint64_t)w * 4 - 1) / TRACKER_PAGE_BYTES; pg++)
			b->marked[pg / 64] |= 1ull << (pg % 64);
	}
}

enum scenario { STATIC, BLOCK_64, FULL_SCREEN, STATIC_NO_DIRTY_LOG };

static void run(struct bench *b, enum scenario sc, const char *name, unsigned int iters)
{
	uint64_t total_ns = 0, rects = 0;
	struct tracker_stats before = b->t.stats;

	b->unsupported = sc == STATIC_NO_DIRTY_LOG;
	for (unsigned int i = 0; i < iters; i++) {
		size_t n;
		if (sc == BLOCK_64)
			paint(b, 300, 200, 64, 64, 0x010101u * (i & 0xFF));
		else if (sc == FULL_SCREEN)
			paint(b, 0, 0, BENCH_WIDTH, BENCH_HEIGHT, 0x010101u * (i & 0xFF));
		uint64_t t0 = now_ns();
		tracker_refresh(&b->t, b->rects, BENCH_MAX_RECTS, &n);
		total_ns += now_ns() - t0;
		rects += n;
	}
	printf("tile %3dx%-2d %-22s %9.2f us/refresh  %6.1f rects  %7.1f tiles compared\n",
	       TRACKER_TILE_W, TRACKER_TILE_H, name, (double)total_ns / iters / 1000.0,
	       (double)rects / iters,
	       (double)(b->t.stats.tiles_compared - before.tiles_compared) / iters);
}

int main(int argc, char **argv)
{
	unsigned int iters = argc > 1 ? (unsigned int)atoi(argv[1]) : 2000;
	struct bench *b = calloc(1, sizeof(*b));
	size_t n;

	if (!b || guest_mem_init(&b->mem, BENCH_RAM_BYTES) < 0)
		return 1;
	display_init(&b->display);
	if (tracker_init(&b->t, &b->display, &b->mem,
			 (struct dirty_source){ .fetch = bench_fetch, .ctx = b }) < 0)
		return 1;
	struct display_surface s = { .enabled = true, .gpa = BENCH_FB_GPA, .width = BENCH_WIDTH,
				     .height = BENCH_HEIGHT, .stride = BENCH_STRIDE,
				     .format = DISPLAY_FORMAT_XRGB8888 };
	display_publish(&b->display, &s);
	paint(b, 0, 0, BENCH_WIDTH, BENCH_HEIGHT, 0x336699);
	tracker_refresh(&b->t, b->rects, BENCH_MAX_RECTS, &n);

	run(b, STATIC, "static", iters * 10);
	run(b, BLOCK_64, "64x64 block changing", iters);
	run(b, FULL_SCREEN, "full-screen change", iters / 10 + 1);
	run(b, STATIC_NO_DIRTY_LOG, "static, no dirty log", iters / 10 + 1);

	tracker_destroy(&b->t);
	display_destroy(&b->display);
	guest_mem_destroy(&b->mem);
	free(b);
	return 0;
}
