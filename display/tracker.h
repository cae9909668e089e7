/*
 * Change tracking for the guest's screen, shared by the frontends (VNC now,
 * SDL later): dirty pages of the surface's memory → compare tiles against a
 * shadow copy → copy (and convert) changed tiles → coalesced rectangles.
 * The shadow is always XRGB8888 (bytes B,G,R,X), tightly packed
 * (stride = width * 4); the VNC frontend hands it to libvncserver as its
 * frameBuffer, so encoders never read live guest memory.
 *
 * One thread (the VNC thread) owns a tracker; nothing here locks except the
 * display snapshot.
 */
#ifndef FBVM_DISPLAY_TRACKER_H
#define FBVM_DISPLAY_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "devices/display.h"

struct guest_mem;

#define TRACKER_PAGE_BYTES 4096u

/* Where writes to guest memory are recorded (KVM dirty logging). */
struct dirty_source {
	/*
	 * For each 4 KiB page i of [gpa, gpa + len) (gpa page-aligned, len a
	 * multiple of 4 KiB), sets bit i of bitmap (64-bit words, LSB first) when
	 * the page was written since the previous fetch of that page, and re-arms
	 * those pages. Returns 0, or -ENOTSUP when the range is not covered by
	 * dirty logging (the caller then compares the whole surface).
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
	uint64_t dirty_pages;       /* pages the dirty log reported */
	uint64_t tiles_compared;
	uint64_t tiles_changed;
	uint64_t full_compares;     /* refreshes without dirty information */
	uint64_t invalid_surfaces;  /* surfaces whose memory was not guest RAM */
};

struct tracker {
	struct display *display;
	const struct guest_mem *mem;
	struct dirty_source dirty;
	struct display_surface surface;   /* the surface the shadow reflects */
	uint8_t *shadow;                  /* XRGB8888, width * 4 bytes per line */
	uint32_t width, height;           /* shadow geometry */
	uint8_t *retired;                 /* previous shadow, freed on the next refresh */
	uint64_t *bitmap;
	size_t bitmap_words;
	struct tracker_stats stats;
	/* ... implementation-private fields may follow ... */
};

/* Default geometry shown before the guest publishes a surface. */
#define TRACKER_DEFAULT_WIDTH  640
#define TRACKER_DEFAULT_HEIGHT 480

int tracker_init(struct tracker *t, struct display *d, const struct guest_mem *mem,
		 struct dirty_source dirty);
void tracker_destroy(struct tracker *t);

/*
 * One refresh. Takes a snapshot of the display's surface; on a new
 * generation with new geometry allocates a new shadow (the old one stays
 * valid until the next call, so a frontend can switch buffers safely),
 * copies everything and returns TRACKER_RESIZED; on a new generation with the
 * same geometry copies everything and reports one full rectangle. Otherwise
 * compares only tiles on dirty pages with the shadow, copies changed tiles and
 * fills rects with at most max_rects coalesced rectangles (merging when there
 * are more). The cost grows with the number of dirty pages, not with the
 * framebuffer size, except when the dirty source reports -ENOTSUP.
 */
enum tracker_result tracker_refresh(struct tracker *t, struct fb_rect *rects, size_t max_rects,
				    size_t *n_rects);

/* Forgets the comparison state so the next refresh copies and reports the
 * whole surface (a client connected after the dirty log was not read). */
void tracker_invalidate(struct tracker *t);

#endif
