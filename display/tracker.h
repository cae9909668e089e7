/*
 * Change tracking for the guest's screen, shared by the frontends (VNC now,
 * SDL later): dirty pages of the surface's memory → compare tiles against a
 * shadow copy → copy (and convert) changed tiles → coalesced rectangles.
 * The shadow is always XRGB8888 (bytes B,G,R,X), tightly packed
 * (stride = width * 4); the VNC frontend hands it to libvncserver as its
 * frameBuffer, so encoders never read live guest memory. The X byte is not
 * defined: XRGB8888/ARGB8888 rows are copied as they are (memcmp + memcpy,
 * the fast path), converted formats get 0.
 *
 * One thread (the VNC thread) owns a tracker; nothing here locks except the
 * display snapshot.
 */
#ifndef FBVM_DISPLAY_TRACKER_H
#define FBVM_DISPLAY_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/display.h"

struct guest_mem;

#define TRACKER_PAGE_BYTES 4096u

/*
 * Changes are compared and reported in tiles of this many pixels (the last
 * column and row of tiles are clipped to the surface). Within a tile only the
 * rows on dirty pages are compared, so the tile height costs no compare
 * work; the width trades rect precision against per-call overhead.
 * tools/tracker_bench.c at 1024x768, us per refresh (static / 64x64 block /
 * full-screen change / whole compare without dirty log):
 *   16x1 (QEMU's chunks) 0.4 / 19 / 216 / 137;  32x32 0.4 / 9 / 125 / 65;
 *   64x16 0.4 / 6 / 90 / 66;  128x16 0.4 / 5 / 82 / 65.
 * 64x16 is within 10% of the wider tile at half its over-reported area. The
 * #ifndef is only there so the benchmark can build other sizes.
 */
#ifndef TRACKER_TILE_W
#define TRACKER_TILE_W 64
#endif
#ifndef TRACKER_TILE_H
#define TRACKER_TILE_H 16
#endif

/* Where vCPU writes to guest memory are recorded (KVM dirty logging). Host
 * writes are recorded by guest_mem (guest_mem_take_written) and merged. */
struct dirty_source {
	/*
	 * For each 4 KiB page i of [gpa, gpa + len) (gpa page-aligned, len a
	 * multiple of 4 KiB), sets bit i of bitmap (64-bit words, LSB first) when
	 * the page was written since the previous fetch of that page and clears
	 * it otherwise (all ceil(pages / 64) words are written, bits past the
	 * range 0), and re-arms those pages. Returns 0, or -ENOTSUP when the
	 * range is not covered by dirty logging; on that or any other error the
	 * caller compares the whole surface. hypervisor/dirty_log.c's
	 * dirty_log_fetch has this shape.
	 */
	int (*fetch)(void *ctx, uint64_t gpa, uint64_t len, uint64_t *bitmap);
	void *ctx;
};

struct fb_rect {
	uint32_t x, y, w, h;
};

enum tracker_result {
	TRACKER_NO_SURFACE,   /* nothing published yet: the shadow is a black default */
	TRACKER_UNCHANGED,
	TRACKER_UPDATED,      /* rects list what changed */
	TRACKER_RESIZED,      /* new geometry: new shadow buffer, all of it changed */
};

struct tracker_stats {
	uint64_t refreshes;
	uint64_t dirty_pages;       /* pages the dirty log or host writes reported */
	uint64_t host_written_pages; /* of those, pages fbvm wrote (guest_mem_write & co.) */
	uint64_t tiles_compared;
	uint64_t tiles_changed;
	uint64_t full_compares;     /* refreshes without dirty information */
	uint64_t invalid_surfaces;  /* surfaces rejected: memory not guest RAM, bad geometry */
	uint64_t fetch_errors;      /* dirty_source.fetch failures other than -ENOTSUP */
	uint64_t alloc_failures;    /* new geometry not adopted for lack of memory */
	uint64_t rects_merged;      /* refreshes whose rects exceeded max_rects */
};

/* Per-geometry bookkeeping, replaced as a whole on a resize. */
/* Pixel bounds of what changed inside one tile (x0 > x1: nothing yet). */
struct tracker_box {
	uint16_t x0, x1, y0, y1;
};

struct tracker_grid {
	uint32_t tiles_x, tiles_y;
	uint32_t *row_masks;        /* per tile: bit r = row r of the tile to compare */
	uint64_t *tile_rows_marked; /* bit ty = some tile of tile row ty has a mask */
	struct fb_rect *rects;      /* coalescing scratch in tile units, tiles_x * tiles_y */
	struct tracker_box *boxes;  /* per tile: the changed pixels' bounds, tiles_x * tiles_y */
	uint32_t *active;           /* rects ending on the previous tile row, by x */
	uint32_t *next_active;
};

struct tracker {
	struct display *display;
	const struct guest_mem *mem;
	struct dirty_source dirty;
	struct display_surface surface;   /* the surface the shadow reflects */
	uint8_t *shadow;                  /* XRGB8888, width * 4 bytes per line */
	uint32_t width, height;           /* shadow geometry */
	uint8_t *retired;                 /* previous shadow, freed on the next refresh */
	uint64_t *bitmap;                 /* one bit per page of the surface's span */
	size_t bitmap_words;              /* words allocated */
	struct tracker_stats stats;
	/* True when the last refresh had page information; false means it compared
	 * the whole surface, and a frontend may want to refresh less often. */
	bool dirty_supported;

	/* Implementation-private. */
	bool have_surface;          /* surface is adopted and being tracked */
	bool frozen;                /* rejected_generation failed validation: shadow kept */
	bool full_pending;          /* tracker_invalidate: report everything next time */
	uint32_t rejected_generation;
	unsigned int bpp;           /* of surface.format */
	uint64_t span_bytes;        /* guest bytes from surface.gpa the surface covers */
	uint64_t page_gpa;          /* surface.gpa rounded down to a page */
	uint64_t pages;             /* pages from page_gpa covering the span */
	struct tracker_grid grid;
};

/* Default geometry shown before the guest publishes a surface. */
#define TRACKER_DEFAULT_WIDTH  640
#define TRACKER_DEFAULT_HEIGHT 480

/* Starts with a black TRACKER_DEFAULT_WIDTH x HEIGHT shadow and no surface.
 * dirty.fetch may be NULL (always compare the whole surface). 0 or -ENOMEM. */
int tracker_init(struct tracker *t, struct display *d, const struct guest_mem *mem,
		 struct dirty_source dirty);
void tracker_destroy(struct tracker *t);

/*
 * One refresh. Frees the shadow retired by the previous call, then takes a
 * snapshot of the display's surface:
 *  - none published (or disabled): TRACKER_NO_SURFACE, shadow untouched;
 *  - a new generation with new geometry: allocates a new shadow (the old one
 *    stays valid, as `retired`, until the next call, so a frontend can switch
 *    buffers safely), copies everything and returns TRACKER_RESIZED with one
 *    full rectangle;
 *  - a new generation with the same geometry (or the first surface at the
 *    default geometry): compares the whole surface and reports only what
 *    differs (a device re-publishing the same configuration costs one
 *    compare, no client traffic);
 *  - a surface whose memory is not guest RAM (or whose geometry is invalid):
 *    counted in invalid_surfaces, logged (rate-limited), the shadow keeps the
 *    last good picture: TRACKER_UNCHANGED until the next generation;
 *  - otherwise compares only tiles on dirty pages with the shadow.
 * Changed tiles are copied (converted to XRGB8888) into the shadow and rects
 * gets at most max_rects coalesced rectangles covering them (merged into
 * bounding boxes of neighbours when there are more); TRACKER_UPDATED when
 * any, else TRACKER_UNCHANGED. The cost grows with the number of dirty pages,
 * not with the framebuffer size, except when the dirty source fails (e.g.
 * -ENOTSUP): then the whole surface is compared.
 */
enum tracker_result tracker_refresh(struct tracker *t, struct fb_rect *rects, size_t max_rects,
				    size_t *n_rects);

/* Forgets the comparison state so the next refresh copies and reports the
 * whole surface as one rectangle (TRACKER_UPDATED; a client connected after
 * the dirty log was not read). */
void tracker_invalidate(struct tracker *t);

/* The --stats line. */
void tracker_print_stats(const struct tracker *t, FILE *out);

#endif
