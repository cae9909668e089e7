#include "draw.h"
#include "font.h"
#include "pattern.h"

void draw_fill_rect(const struct fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		    uint32_t rgb)
{
	if (x >= fb->width || y >= fb->height)
		return;
	if (w > fb->width - x)
		w = fb->width - x;
	if (h > fb->height - y)
		h = fb->height - y;
	for (uint32_t row = y; row < y + h; row++) {
		uint32_t *p = fb->base + (uint64_t)row * fb->stride_px + x;

		for (uint32_t i = 0; i < w; i++)
			p[i] = rgb;
	}
}

static void draw_glyph(const struct fb *fb, uint32_t x, uint32_t y, const uint8_t *glyph,
		       unsigned scale, uint32_t fg, uint32_t bg)
{
	for (unsigned gy = 0; gy < FONT_GLYPH_SIZE; gy++) {
		for (unsigned gx = 0; gx < FONT_GLYPH_SIZE; gx++) {
			uint32_t rgb = glyph[gy] & (0x80u >> gx) ? fg : bg;

			draw_fill_rect(fb, x + gx * scale, y + gy * scale, scale, scale, rgb);
		}
	}
}

void draw_number(const struct fb *fb, uint32_t x, uint32_t y, uint32_t value,
		 unsigned ndigits, unsigned scale, uint32_t fg, uint32_t bg)
{
	for (unsigned k = ndigits; k-- > 0;) {
		draw_glyph(fb, x + k * FONT_GLYPH_SIZE * scale, y, font_digit(value % 10),
			   scale, fg, bg);
		value /= 10;
	}
}

void draw_anim_field(const struct fb *fb, uint32_t y0, uint32_t frame)
{
	for (uint32_t y = y0; y < fb->height; y++) {
		uint32_t *p = fb->base + (uint64_t)y * fb->stride_px;

		for (uint32_t x = 0; x < fb->width; x++)
			p[x] = pattern_anim_rgb(x, y, frame);
	}
}
