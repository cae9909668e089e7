/*
 * Change tracking: dirty pages → tiles → compare with the shadow → copy →
 * rectangles. QEMU's ui/vnc.c does the same with 16-pixel chunks per row
 * (vnc_refresh_server_surface); here a tile is TRACKER_TILE_W x
 * TRACKER_TILE_H pixels, but each tile keeps a mask of the rows its dirty
 * pages touched, so only those rows are compared (QEMU's per-row precision)
 * while changes are reported at tile granularity (fewer, larger rects for
 * libvncserver's region code). tools/tracker_bench.c measured the sizes.
 */
#include "tracker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/guest_mem.h"
#include "hypervisor/log.h"

/* Row masks are uint32_t; the conversion buffer lives on the stack. */
_Static_assert(TRACKER_TILE_H >= 1 && TRACKER_TILE_H <= 32, "tile height must fit a row mask");
_Static_assert(TRACKER_TILE_W >= 1 && TRACKER_TILE_W <= 256, "tile row buffer must stay small");
/* The shadow is written as host-order uint32_t 0x00RRGGBB = bytes B,G,R,X. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "XRGB8888 shadow assumes little-endian");

#define TRACKER_SHADOW_BPP 4u

static uint32_t div_round_up(uint32_t a, uint32_t b)
{
	return a / b + (a % b != 0);
}

static uint32_t rows_mask(uint32_t first, uint32_t last)
{
	uint32_t n = last - first + 1;

	return (n == 32 ? ~0u : ((1u << n) - 1)) << first;
}

/* ---- per-geometry state ---- */

static void grid_free(struct tracker_grid *g)
{
	free(g->row_masks);
	free(g->tile_rows_marked);
	free(g->rects);
	free(g->boxes);
	free(g->active);
	free(g->next_active);
	memset(g, 0, sizeof(*g));
}

static int grid_alloc(struct tracker_grid *g, uint32_t width, uint32_t height)
{
	memset(g, 0, sizeof(*g));
	g->tiles_x = div_round_up(width, TRACKER_TILE_W);
	g->tiles_y = div_round_up(height, TRACKER_TILE_H);

	size_t tiles = (size_t)g->tiles_x * g->tiles_y;
	g->row_masks = calloc(tiles, sizeof(*g->row_masks));
	g->tile_rows_marked = calloc((g->tiles_y + 63) / 64, sizeof(uint64_t));
	g->rects = calloc(tiles, sizeof(*g->rects));
	g->boxes = malloc(tiles * sizeof(*g->boxes));
	g->active = calloc(g->tiles_x, sizeof(*g->active));
	g->next_active = calloc(g->tiles_x, sizeof(*g->next_active));
	if (!g->row_masks || !g->tile_rows_marked || !g->rects || !g->boxes || !g->active ||
	    !g->next_active) {
		grid_free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < tiles; i++)
		g->boxes[i] = (struct tracker_box){ .x0 = UINT16_MAX, .y0 = UINT16_MAX };
	return 0;
}

int tracker_init(struct tracker *t, struct display *d, const struct guest_mem *mem,
		 struct dirty_source dirty)
{
	memset(t, 0, sizeof(*t));
	t->display = d;
	t->mem = mem;
	t->dirty = dirty;
	t->width = TRACKER_DEFAULT_WIDTH;
	t->height = TRACKER_DEFAULT_HEIGHT;
	t->shadow = calloc((size_t)t->width * t->height, TRACKER_SHADOW_BPP);
	if (!t->shadow || grid_alloc(&t->grid, t->width, t->height) < 0) {
		free(t->shadow);
		t->shadow = NULL;
		return -ENOMEM;
	}
	return 0;
}

void tracker_destroy(struct tracker *t)
{
	free(t->shadow);
	free(t->retired);
	free(t->bitmap);
	grid_free(&t->grid);
	memset(t, 0, sizeof(*t));
}

void tracker_invalidate(struct tracker *t)
{
	t->full_pending = true;
}

/* ---- marking: which rows of which tiles to compare ---- */

/* Rows [y_first, y_last] x pixel columns [x_first, x_last], all inclusive. */
static void mark_block(struct tracker *t, uint32_t y_first, uint32_t y_last, uint32_t x_first,
		       uint32_t x_last)
{
	struct tracker_grid *g = &t->grid;
	uint32_t tx0 = x_first / TRACKER_TILE_W, tx1 = x_last / TRACKER_TILE_W;

	for (uint32_t ty = y_first / TRACKER_TILE_H; ty <= y_last / TRACKER_TILE_H; ty++) {
		uint32_t top = ty * TRACKER_TILE_H, bottom = top + TRACKER_TILE_H - 1;
		uint32_t r0 = (y_first > top ? y_first : top) - top;
		uint32_t r1 = (y_last < bottom ? y_last : bottom) - top;
		uint32_t bits = rows_mask(r0, r1);
		uint32_t *masks = &g->row_masks[(size_t)ty * g->tiles_x];

		for (uint32_t tx = tx0; tx <= tx1; tx++)
			masks[tx] |= bits;
		g->tile_rows_marked[ty / 64] |= 1ull << (ty % 64);
	}
}

/* Bytes [b0, b1) of line y; bytes past the pixels (stride padding) mark nothing. */
static void mark_line_bytes(struct tracker *t, uint32_t y, uint64_t b0, uint64_t b1)
{
	uint64_t line = (uint64_t)t->surface.width * t->bpp;

	if (b1 > line)
		b1 = line;
	if (b0 >= b1)
		return;
	/* A pixel straddling a page boundary is marked from either page. */
	mark_block(t, y, y, (uint32_t)(b0 / t->bpp), (uint32_t)((b1 - 1) / t->bpp));
}

/* Surface bytes [start, end), end <= span_bytes, start < end. */
static void mark_bytes(struct tracker *t, uint64_t start, uint64_t end)
{
	uint64_t stride = t->surface.stride;
	uint32_t y0 = (uint32_t)(start / stride), y1 = (uint32_t)((end - 1) / stride);

	if (y0 == y1) {
		mark_line_bytes(t, y0, start - (uint64_t)y0 * stride, end - (uint64_t)y0 * stride);
		return;
	}
	mark_line_bytes(t, y0, start - (uint64_t)y0 * stride, stride);
	if (y1 - y0 > 1)
		mark_block(t, y0 + 1, y1 - 1, 0, t->surface.width - 1);
	mark_line_bytes(t, y1, 0, end - (uint64_t)y1 * stride);
}

static void mark_all(struct tracker *t)
{
	mark_block(t, 0, t->surface.height - 1, 0, t->surface.width - 1);
}

/* First set (want_set) or clear bit at or after i, or n when there is none. */
static uint64_t bitmap_next(const uint64_t *bm, uint64_t n, uint64_t i, bool want_set)
{
	while (i < n) {
		uint64_t w = want_set ? bm[i / 64] : ~bm[i / 64];
		w &= ~0ull << (i % 64);
		if (w) {
			i = (i & ~63ull) + (uint64_t)__builtin_ctzll(w);
			return i < n ? i : n;
		}
		i = (i & ~63ull) + 64;
	}
	return n;
}

/* Marks the tiles each run of dirty pages touches. */
static void mark_dirty_pages(struct tracker *t)
{
	/* Surface byte offset of page p is p * 4096 - head. */
	uint64_t head = t->surface.gpa - t->page_gpa;
	uint64_t p = 0;

	while ((p = bitmap_next(t->bitmap, t->pages, p, true)) < t->pages) {
		uint64_t q = bitmap_next(t->bitmap, t->pages, p, false);
		uint64_t start = p * TRACKER_PAGE_BYTES, end = q * TRACKER_PAGE_BYTES - head;

		start = start > head ? start - head : 0;
		if (end > t->span_bytes)
			end = t->span_bytes;
		t->stats.dirty_pages += q - p;
		mark_bytes(t, start, end);
		p = q;
	}
}

/* ---- compare and copy ---- */

static uint32_t load_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* n pixels of a non-XRGB format to XRGB8888 (X = 0). */
static void convert_row(uint32_t *out, const uint8_t *src, uint32_t n, uint32_t format)
{
	switch (format) {
	case DISPLAY_FORMAT_XBGR8888:
	case DISPLAY_FORMAT_ABGR8888:
		/* Bytes R,G,B,X: swap R and B. */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t v = load_le32(src + 4 * i);
			out[i] = (v & 0xFF) << 16 | (v & 0xFF00) | ((v >> 16) & 0xFF);
		}
		break;
	case DISPLAY_FORMAT_RGB888:
		/* Bytes B,G,R. */
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *s = src + 3 * i;
			out[i] = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16;
		}
		break;
	default:
		/* Unreachable: surfaces with other formats are rejected on adoption. */
		memset(out, 0, (size_t)n * sizeof(*out));
		break;
	}
}

/* Bitset of the tiles of one tile row that changed. */
#define TRACKER_ROW_TILE_WORDS ((DISPLAY_MAX_WIDTH / TRACKER_TILE_W + 64) / 64)

/* Grows a tile's box by the differing pixels of one line: so a small change
 * is sent as exactly its pixels, not whole tiles. Called only for lines that
 * differ, before the shadow is updated. */
static void box_add_line(struct tracker_box *b, const uint32_t *src, const uint32_t *shadow,
			 uint32_t cols, uint32_t x, uint32_t y)
{
	uint32_t first = 0, last = cols - 1;

	while (first < last && src[first] == shadow[first])
		first++;
	while (last > first && src[last] == shadow[last])
		last--;
	if (b->y0 == UINT16_MAX) {
		*b = (struct tracker_box){ .x0 = (uint16_t)(x + first), .x1 = (uint16_t)(x + last),
					   .y0 = (uint16_t)y, .y1 = (uint16_t)y };
		return;
	}
	if (x + first < b->x0)
		b->x0 = (uint16_t)(x + first);
	if (x + last > b->x1)
		b->x1 = (uint16_t)(x + last);
	if (y < b->y0)
		b->y0 = (uint16_t)y;
	if (y > b->y1)
		b->y1 = (uint16_t)y;
}

/*
 * Line y, tiles [tx0, tx1): compares with the shadow, copies the tiles that
 * differ and flags them in changed. Memory is walked along the line (not
 * tile by tile down the rows) so the hardware prefetcher keeps up; for the
 * XRGB formats the whole span is compared first, since dirty but unchanged
 * is the common case (cursor blink pages, re-written backgrounds).
 */
static void compare_span(struct tracker *t, const uint8_t *src, uint32_t y, uint32_t tx0,
			 uint32_t tx1, uint64_t *changed)
{
	uint32_t tmp[TRACKER_TILE_W];
	uint32_t x0 = tx0 * TRACKER_TILE_W, x_end = tx1 * TRACKER_TILE_W;
	const uint8_t *line = src + (uint64_t)y * t->surface.stride;
	uint8_t *shadow_line = t->shadow + (size_t)y * t->width * TRACKER_SHADOW_BPP;
	bool direct = t->surface.format == DISPLAY_FORMAT_XRGB8888 ||
		      t->surface.format == DISPLAY_FORMAT_ARGB8888;

	x_end = x_end < t->width ? x_end : t->width;
	if (direct && memcmp(line + (size_t)x0 * 4, shadow_line + (size_t)x0 * 4,
			     (size_t)(x_end - x0) * 4) == 0)
		return;
	/* Differing tiles side by side are copied with one memcpy. */
	uint32_t copy_from = UINT32_MAX;
	for (uint32_t tx = tx0; tx < tx1; tx++) {
		uint32_t x = tx * TRACKER_TILE_W;
		uint32_t cols = x_end - x < TRACKER_TILE_W ? x_end - x : TRACKER_TILE_W;
		size_t bytes = (size_t)cols * TRACKER_SHADOW_BPP;
		const uint8_t *s = line + (size_t)x * t->bpp;
		uint8_t *d = shadow_line + (size_t)x * TRACKER_SHADOW_BPP;

		if (!direct) {
			convert_row(tmp, s, cols, t->surface.format);
			s = (const uint8_t *)tmp;
		}
		/* The guest may be writing this line now: its page is then dirty
		 * again and the next refresh converges. */
		bool differs = memcmp(s, d, bytes) != 0;
		if (differs) {
			changed[tx / 64] |= 1ull << (tx % 64);
			box_add_line(&t->grid.boxes[(size_t)(y / TRACKER_TILE_H) * t->grid.tiles_x + tx],
				     (const uint32_t *)(const void *)s, (const uint32_t *)(const void *)d,
				     cols, x, y);
			if (!direct)
				memcpy(d, s, bytes);
			else if (copy_from == UINT32_MAX)
				copy_from = x;
		}
		if (direct && copy_from != UINT32_MAX && (!differs || tx + 1 == tx1)) {
			uint32_t copy_end = differs ? x + cols : x;
			memcpy(shadow_line + (size_t)copy_from * 4, line + (size_t)copy_from * 4,
			       (size_t)(copy_end - copy_from) * 4);
			copy_from = UINT32_MAX;
		}
	}
}

/* Compares the marked lines of tile row ty, clearing the marks; sets the
 * changed tiles in changed. */
static void compare_tile_row(struct tracker *t, const uint8_t *src, uint32_t ty,
			     uint64_t *changed)
{
	struct tracker_grid *g = &t->grid;
	uint32_t *masks = &g->row_masks[(size_t)ty * g->tiles_x];
	uint32_t lines = 0;

	for (uint32_t tx = 0; tx < g->tiles_x; tx++) {
		lines |= masks[tx];
		t->stats.tiles_compared += masks[tx] != 0;
	}
	while (lines) {
		uint32_t r = (uint32_t)__builtin_ctz(lines), bit = 1u << r;
		lines &= lines - 1;
		for (uint32_t tx = 0; tx < g->tiles_x;) {
			if (!(masks[tx] & bit)) {
				tx++;
				continue;
			}
			uint32_t end = tx + 1;
			while (end < g->tiles_x && (masks[end] & bit))
				end++;
			compare_span(t, src, ty * TRACKER_TILE_H + r, tx, end, changed);
			tx = end;
		}
	}
	memset(masks, 0, (size_t)g->tiles_x * sizeof(*masks));
}

/* Appends the run of changed tiles [x0, x1] on tile row ty, extending a
 * rectangle of the previous tile row with the same columns. */
static void add_run(struct tracker_grid *g, size_t *n, uint32_t *n_next, uint32_t n_active,
		    uint32_t *a, uint32_t x0, uint32_t x1, uint32_t ty)
{
	while (*a < n_active && g->rects[g->active[*a]].x < x0)
		(*a)++;
	if (*a < n_active) {
		struct fb_rect *r = &g->rects[g->active[*a]];
		if (r->x == x0 && r->w == x1 - x0 + 1) {
			r->h++;
			g->next_active[(*n_next)++] = g->active[(*a)++];
			return;
		}
	}
	g->rects[*n] = (struct fb_rect){ .x = x0, .y = ty, .w = x1 - x0 + 1, .h = 1 };
	g->next_active[(*n_next)++] = (uint32_t)*n;
	(*n)++;
}

/* Compares every marked tile (clearing the marks) and coalesces the changed
 * ones into g->rects, in tile units, ordered by top row. Visits only tile
 * rows with marks. Returns the number of rects. */
static size_t compare_marked(struct tracker *t, const uint8_t *src)
{
	struct tracker_grid *g = &t->grid;
	uint32_t n_active = 0, prev_ty = UINT32_MAX;
	size_t n = 0;

	for (uint32_t ty = 0; ty < g->tiles_y; ty++) {
		uint64_t *word = &g->tile_rows_marked[ty / 64];
		if (!*word) {
			ty |= 63;   /* the loop's ++ moves to the next word */
			continue;
		}
		if (!(*word & (1ull << (ty % 64))))
			continue;
		*word &= ~(1ull << (ty % 64));
		if (ty != prev_ty + 1)
			n_active = 0;

		uint64_t changed[TRACKER_ROW_TILE_WORDS] = { 0 };
		compare_tile_row(t, src, ty, changed);

		uint32_t n_next = 0, a = 0, run = UINT32_MAX;
		for (uint32_t tx = 0; tx <= g->tiles_x; tx++) {
			bool c = tx < g->tiles_x && (changed[tx / 64] >> (tx % 64) & 1);
			t->stats.tiles_changed += c;
			if (c && run == UINT32_MAX)
				run = tx;
			if (!c && run != UINT32_MAX) {
				add_run(g, &n, &n_next, n_active, &a, run, tx - 1, ty);
				run = UINT32_MAX;
			}
		}
		uint32_t *swap = g->active;
		g->active = g->next_active;
		g->next_active = swap;
		n_active = n_next;
		prev_ty = ty;
	}
	return n;
}

/* Shrinks the pixel rect [*px0, *px1) x [*py0, *py1) covering tiles
 * [tx0, tx1) x [ty0, ty1) to the union of their changed-pixel boxes, and
 * empties those boxes. Keeps the tile rect when no box was recorded. */
static void shrink_to_boxes(struct tracker_grid *g, uint32_t tx0, uint32_t ty0, uint32_t tx1,
			    uint32_t ty1, uint32_t *px0, uint32_t *py0, uint32_t *px1,
			    uint32_t *py1)
{
	uint32_t bx0 = UINT32_MAX, by0 = UINT32_MAX, bx1 = 0, by1 = 0;

	for (uint32_t ty = ty0; ty < ty1; ty++)
		for (uint32_t tx = tx0; tx < tx1; tx++) {
			struct tracker_box *b = &g->boxes[(size_t)ty * g->tiles_x + tx];
			if (b->y0 == UINT16_MAX)
				continue;
			bx0 = b->x0 < bx0 ? b->x0 : bx0;
			by0 = b->y0 < by0 ? b->y0 : by0;
			bx1 = b->x1 + 1u > bx1 ? b->x1 + 1u : bx1;
			by1 = b->y1 + 1u > by1 ? b->y1 + 1u : by1;
			*b = (struct tracker_box){ .x0 = UINT16_MAX, .y0 = UINT16_MAX };
		}
	if (by0 == UINT32_MAX)
		return;
	/* The boxes lie inside the tiles, but clip anyway: a rect never grows. */
	*px0 = bx0 > *px0 ? bx0 : *px0;
	*py0 = by0 > *py0 ? by0 : *py0;
	*px1 = bx1 < *px1 ? bx1 : *px1;
	*py1 = by1 < *py1 ? by1 : *py1;
}

/* Tile rects → pixel rects clipped to the surface; more than max_rects are
 * merged in order (they are sorted by top row, so neighbours merge) into
 * max_rects bounding boxes. */
static size_t emit_rects(struct tracker *t, size_t n, struct fb_rect *out, size_t max_rects)
{
	size_t per = n <= max_rects ? 1 : (n + max_rects - 1) / max_rects;
	size_t n_out = 0;

	if (max_rects == 0)
		return 0;
	if (per > 1)
		t->stats.rects_merged++;
	for (size_t i = 0; i < n; i += per) {
		uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
		for (size_t j = i; j < n && j < i + per; j++) {
			const struct fb_rect *r = &t->grid.rects[j];
			x0 = r->x < x0 ? r->x : x0;
			y0 = r->y < y0 ? r->y : y0;
			x1 = r->x + r->w > x1 ? r->x + r->w : x1;
			y1 = r->y + r->h > y1 ? r->y + r->h : y1;
		}
		uint32_t px0 = x0 * TRACKER_TILE_W, py0 = y0 * TRACKER_TILE_H;
		uint32_t px1 = x1 * TRACKER_TILE_W, py1 = y1 * TRACKER_TILE_H;
		px1 = px1 < t->width ? px1 : t->width;
		py1 = py1 < t->height ? py1 : t->height;
		shrink_to_boxes(&t->grid, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
		out[n_out++] = (struct fb_rect){ .x = px0, .y = py0, .w = px1 - px0, .h = py1 - py0 };
	}
	return n_out;
}

static void full_rect(struct tracker *t, struct fb_rect *rects, size_t max_rects, size_t *n_rects)
{
	struct tracker_grid *g = &t->grid;

	/* A full report covers every box a compare may have grown meanwhile. */
	for (size_t i = 0; g->boxes && i < (size_t)g->tiles_x * g->tiles_y; i++)
		g->boxes[i] = (struct tracker_box){ .x0 = UINT16_MAX, .y0 = UINT16_MAX };
	if (max_rects == 0)
		return;
	rects[0] = (struct fb_rect){ .x = 0, .y = 0, .w = t->width, .h = t->height };
	*n_rects = 1;
}

/* ---- surfaces ---- */

/* Keeps the last good picture until the guest publishes something else. */
static enum tracker_result reject_surface(struct tracker *t, const struct display_surface *s,
					  const char *why)
{
	t->stats.invalid_surfaces++;
	t->frozen = true;
	t->rejected_generation = s->generation;
	log_ratelimited(LOG_WARN, "tracker", "surface rejected reason=\"%s\" gpa=0x%" PRIx64
			" width=%" PRIu32 " height=%" PRIu32 " stride=%" PRIu32
			" format=0x%08" PRIx32, why, s->gpa, s->width, s->height, s->stride,
			s->format);
	return TRACKER_UNCHANGED;
}

/* Fetches the dirty log for the surface's pages into t->bitmap and merges
 * the pages fbvm itself wrote (fw_cfg DMA, VRAM clears: KVM logs only vCPU
 * writes). Both are taken before the pixels are read, so a write landing
 * after shows up next time. The host marks are taken even when the dirty
 * log fails (the whole surface is compared then), so none lingers. */
static int fetch_dirty(struct tracker *t)
{
	int ret = t->dirty.fetch ? t->dirty.fetch(t->dirty.ctx, t->page_gpa,
						  t->pages * TRACKER_PAGE_BYTES, t->bitmap)
				 : -ENOTSUP;

	if (ret < 0)
		memset(t->bitmap, 0, (size_t)((t->pages + 63) / 64) * sizeof(uint64_t));
	t->stats.host_written_pages += guest_mem_take_written(t->mem, t->page_gpa,
							      t->pages * TRACKER_PAGE_BYTES,
							      t->bitmap);

	t->dirty_supported = ret == 0;
	if (ret < 0 && ret != -ENOTSUP) {
		t->stats.fetch_errors++;
		log_ratelimited(LOG_WARN, "tracker", "dirty log fetch failed gpa=0x%" PRIx64
				" pages=%" PRIu64 ": %s", t->page_gpa, t->pages, strerror(-ret));
	}
	return ret;
}

static enum tracker_result adopt_surface(struct tracker *t, const struct display_surface *s,
					 const uint8_t **src)
{
	struct tracker_grid grid = { 0 };
	uint8_t *shadow = NULL;
	uint64_t *bitmap = NULL;
	uint64_t span, page_gpa, pages;
	bool resize = s->width != t->width || s->height != t->height;

	if (s->width > DISPLAY_MAX_WIDTH || s->height > DISPLAY_MAX_HEIGHT ||
	    s->stride > DISPLAY_MAX_STRIDE || !display_surface_span(s, &span))
		return reject_surface(t, s, "bad geometry or format");
	*src = guest_mem_ptr(t->mem, s->gpa, span);
	if (!*src)
		return reject_surface(t, s, "memory is not guest RAM");
	/* guest_mem_ptr() proved gpa + span does not wrap and lies in RAM. */
	page_gpa = s->gpa & ~(uint64_t)(TRACKER_PAGE_BYTES - 1);
	pages = (s->gpa + span - page_gpa + TRACKER_PAGE_BYTES - 1) / TRACKER_PAGE_BYTES;

	/* Everything that can fail first, so a failure leaves the old state. */
	size_t words = (size_t)((pages + 63) / 64);
	if (words > t->bitmap_words)
		bitmap = calloc(words, sizeof(*bitmap));
	if (resize) {
		shadow = calloc((size_t)s->width * s->height, TRACKER_SHADOW_BPP);
		if (shadow && grid_alloc(&grid, s->width, s->height) < 0) {
			free(shadow);
			shadow = NULL;
		}
	}
	if ((words > t->bitmap_words && !bitmap) || (resize && !shadow)) {
		free(bitmap);
		t->stats.alloc_failures++;
		log_ratelimited(LOG_ERROR, "tracker", "out of memory for surface width=%" PRIu32
				" height=%" PRIu32 ", keeping the old one", s->width, s->height);
		return TRACKER_UNCHANGED;   /* retried on the next refresh */
	}

	if (bitmap) {
		free(t->bitmap);
		t->bitmap = bitmap;
		t->bitmap_words = words;
	}
	if (resize) {
		t->retired = t->shadow;
		t->shadow = shadow;
		t->width = s->width;
		t->height = s->height;
		grid_free(&t->grid);
		t->grid = grid;
	}
	t->surface = *s;
	t->have_surface = true;
	t->frozen = false;
	t->bpp = display_format_bpp(s->format);
	t->span_bytes = span;
	t->page_gpa = page_gpa;
	t->pages = pages;
	return resize ? TRACKER_RESIZED : TRACKER_UPDATED;
}

enum tracker_result tracker_refresh(struct tracker *t, struct fb_rect *rects, size_t max_rects,
				    size_t *n_rects)
{
	struct display_surface s;
	const uint8_t *src;
	enum tracker_result result = TRACKER_UNCHANGED;
	bool whole;

	free(t->retired);
	t->retired = NULL;
	t->stats.refreshes++;
	*n_rects = 0;

	display_snapshot(t->display, &s);
	if (!s.enabled) {
		t->have_surface = false;
		t->frozen = false;
		return TRACKER_NO_SURFACE;
	}
	if (t->frozen && s.generation == t->rejected_generation)
		return TRACKER_UNCHANGED;

	if (!t->have_surface || s.generation != t->surface.generation) {
		result = adopt_surface(t, &s, &src);
		if (result == TRACKER_UNCHANGED)
			return result;
		whole = true;
	} else {
		/* Validated on adoption, translated again: never trust a cached pointer. */
		src = guest_mem_ptr(t->mem, t->surface.gpa, t->span_bytes);
		if (!src)
			return reject_surface(t, &t->surface, "memory is no longer guest RAM");
		whole = t->full_pending;
	}

	/* Fetch before reading: the fetch re-arms the pages, so a write that
	 * lands after it shows up next time. */
	if (fetch_dirty(t) < 0)
		whole = true;
	if (whole) {
		t->stats.full_compares++;
		mark_all(t);
	} else {
		mark_dirty_pages(t);
	}

	size_t n = compare_marked(t, src);
	if (result == TRACKER_RESIZED || t->full_pending) {
		t->full_pending = false;
		full_rect(t, rects, max_rects, n_rects);
		return result == TRACKER_RESIZED ? TRACKER_RESIZED : TRACKER_UPDATED;
	}
	*n_rects = emit_rects(t, n, rects, max_rects);
	return n ? TRACKER_UPDATED : TRACKER_UNCHANGED;
}

void tracker_print_stats(const struct tracker *t, FILE *out)
{
	const struct tracker_stats *st = &t->stats;

	fprintf(out, "stats: tracker: refreshes=%" PRIu64 " dirty_pages=%" PRIu64
		" host_written_pages=%" PRIu64 " tiles_compared=%" PRIu64 " tiles_changed=%" PRIu64
		" full_compares=%" PRIu64 " invalid_surfaces=%" PRIu64 " fetch_errors=%" PRIu64
		" alloc_failures=%" PRIu64 " rects_merged=%" PRIu64 "\n", st->refreshes,
		st->dirty_pages, st->host_written_pages, st->tiles_compared, st->tiles_changed,
		st->full_compares, st->invalid_surfaces, st->fetch_errors,
		st->alloc_failures, st->rects_merged);
}
