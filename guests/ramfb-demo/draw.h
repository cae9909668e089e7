/* Drawing into an XRGB8888 framebuffer (ring 3, plain stores). */
#ifndef RAMFB_DEMO_DRAW_H
#define RAMFB_DEMO_DRAW_H

#include <stdint.h>

struct fb {
	uint32_t *base;
	uint32_t width, height;
	uint32_t stride_px;     /* pixels per row */
};

/* Rectangles are clipped to the framebuffer. */
void draw_fill_rect(const struct fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		    uint32_t rgb);
/* value mod 10^ndigits, zero-padded, each 8x8 glyph scaled by scale. */
void draw_number(const struct fb *fb, uint32_t x, uint32_t y, uint32_t value,
		 unsigned ndigits, unsigned scale, uint32_t fg, uint32_t bg);
/* Field rows [y0, height) of an anim frame (pattern_anim_rgb). */
void draw_anim_field(const struct fb *fb, uint32_t y0, uint32_t frame);

#endif
