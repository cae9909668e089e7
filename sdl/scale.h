/*
 * Where the guest's picture lands in the SDL window, and which guest pixel
 * each window pixel shows. Pure arithmetic, no SDL: tests/test_sdl_scale.c.
 *
 * Scaling is nearest-neighbour with centre sampling: window column d of a
 * view w pixels wide over a guest line of g pixels shows guest column
 * floor((2d + 1) * g / (2w)). Because that mapping is defined per pixel, a
 * changed guest rectangle can be redrawn on its own (sdl_scale_span says
 * which window pixels show it) and the result is the same as redrawing the
 * whole picture: no seams between rectangles drawn at different times.
 */
#ifndef FBVM_SDL_SCALE_H
#define FBVM_SDL_SCALE_H

#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/cli.h"

/* The picture's rectangle inside the window; the rest is a black border. */
struct sdl_view {
	uint32_t x, y;   /* top-left corner in the window */
	uint32_t w, h;   /* size in window pixels, at least 1 x 1 */
};

/*
 * The view of a guest_w x guest_h picture in a win_w x win_h window, centred,
 * aspect kept. WINDOW_SCALE_FIT: as large as fits (any factor).
 * WINDOW_SCALE_INTEGER: the largest whole factor that fits (1:1, 2:1 ...),
 * or, in a window smaller than the picture, the FIT view (it must shrink).
 * All sizes must be at least 1.
 */
void sdl_view_compute(uint32_t guest_w, uint32_t guest_h, uint32_t win_w, uint32_t win_h,
		      enum window_scale mode, struct sdl_view *out);

/* The guest pixel (0..src_len-1) that pixel d (0..dst_len-1) of a scaled
 * line shows. */
uint32_t sdl_scale_sample(uint32_t src_len, uint32_t dst_len, uint32_t d);

/* The scaled pixels [*d0, *d1) that show guest pixels [s0, s1) (s0 < s1 <=
 * src_len); empty (*d0 == *d1) when shrinking skips all of them. */
void sdl_scale_span(uint32_t src_len, uint32_t dst_len, uint32_t s0, uint32_t s1,
		    uint32_t *d0, uint32_t *d1);

/* The guest pixel under window position (wx, wy), clamped to the picture
 * (a position on the border maps to the nearest edge pixel). */
void sdl_view_to_guest(const struct sdl_view *v, uint32_t guest_w, uint32_t guest_h, int32_t wx,
		       int32_t wy, uint32_t *gx, uint32_t *gy);

/*
 * The window size for a guest_w x guest_h picture on a screen area of
 * max_w x max_h: 1:1 when it fits, else shrunk (aspect kept) to fit. With
 * max_w or max_h 0 (unknown) the picture's own size.
 */
void sdl_window_size_for(uint32_t guest_w, uint32_t guest_h, uint32_t max_w, uint32_t max_h,
			 uint32_t *win_w, uint32_t *win_h);

#endif
