/*
 * The vga-demo test pattern: exact geometry and colours, shared by the
 * guest (which draws it into the std VGA's VRAM after each mode set) and
 * host tests (which check pixels). Plain C with <stdint.h> and ramfb-demo's
 * digit font. Colours are 0xRRGGBB; a VRAM pixel (32 bpp) is the
 * little-endian word 0x00RRGGBB (bytes B, G, R, X).
 *
 * Every mode W x H (stride W * 4, the mode's first pixel at VRAM offset 0)
 * shows the same picture, scaled to the mode:
 *
 *   rows [0, bars_h)      8 vertical colour bars: bar i covers columns
 *                         [bar_x0(i), bar_x0(i+1)) in vga_pattern_bar_rgb(i)
 *                         (the bars of ramfb-demo's pattern.h)
 *   rows [bars_h, H)      VGA_PATTERN_FIELD_RGB, except:
 *     edge markers        column W-1 and row H-1 (within these rows) in
 *                         VGA_PATTERN_EDGE_RGB: a wrong width, height or
 *                         stride moves or loses them
 *     label box           VGA_PATTERN_LABEL_BOX_W x VGA_PATTERN_LABEL_BOX_H
 *                         at (VGA_PATTERN_LABEL_X, vga_pattern_label_y(H)),
 *                         VGA_PATTERN_LABEL_BG_RGB, holding nine glyphs:
 *                         W as four digits (zero-padded), an 'x', H as four
 *                         digits, e.g. "1024x0768" or "0800x0600"
 *
 * Glyph k (0..8) has its top-left corner at (LABEL_X + LABEL_PAD + k * 8 *
 * LABEL_SCALE, label_y + LABEL_PAD); each 8x8 glyph (bit 7 of a row byte =
 * leftmost pixel; digits from ramfb-demo/font.h, the 'x' below) is scaled
 * by LABEL_SCALE, set bits VGA_PATTERN_LABEL_FG_RGB, clear bits the box
 * colour.
 */
#ifndef VGA_DEMO_PATTERN_H
#define VGA_DEMO_PATTERN_H

#include <stdint.h>

#include "../ramfb-demo/font.h"
#include "../ramfb-demo/pattern.h"

#define VGA_PATTERN_MIN_WIDTH   320
#define VGA_PATTERN_MIN_HEIGHT  240
#define VGA_PATTERN_MAX_WIDTH   4096
#define VGA_PATTERN_MAX_HEIGHT  4096
#define VGA_PATTERN_WIDTH_ALIGN 8       /* QEMU rounds XRES down to a multiple of 8 */
#define VGA_PATTERN_BYTES_PER_PIXEL 4

/* The colour bars are ramfb-demo's, so host tests check both guests alike. */
#define VGA_PATTERN_BAR_COUNT   PATTERN_BAR_COUNT

static inline uint32_t vga_pattern_bar_rgb(unsigned i)
{
	return pattern_bar_rgb(i);
}

/* First column of bar i; bar_x0(8) == width. */
static inline uint32_t vga_pattern_bar_x0(unsigned i, uint32_t width)
{
	return pattern_bar_x0(i, width);
}

static inline uint32_t vga_pattern_bars_height(uint32_t height)
{
	return pattern_bars_height(height);
}

#define VGA_PATTERN_FIELD_RGB   0x202020
#define VGA_PATTERN_EDGE_RGB    0x00FF80

/* The resolution label. */
#define VGA_PATTERN_LABEL_DIGITS 4      /* per number */
#define VGA_PATTERN_LABEL_GLYPHS (2 * VGA_PATTERN_LABEL_DIGITS + 1)
#define VGA_PATTERN_LABEL_SCALE 4
#define VGA_PATTERN_LABEL_PAD   8
#define VGA_PATTERN_LABEL_X     16
#define VGA_PATTERN_LABEL_BOX_W (VGA_PATTERN_LABEL_GLYPHS * 8 * VGA_PATTERN_LABEL_SCALE + 2 * VGA_PATTERN_LABEL_PAD)
#define VGA_PATTERN_LABEL_BOX_H (8 * VGA_PATTERN_LABEL_SCALE + 2 * VGA_PATTERN_LABEL_PAD)
#define VGA_PATTERN_LABEL_BG_RGB 0x000000
#define VGA_PATTERN_LABEL_FG_RGB 0xFFFFFF

static inline uint32_t vga_pattern_label_y(uint32_t height)
{
	return vga_pattern_bars_height(height) + 16;
}

/* Glyph k of the label for a W x H mode, as 8 row bytes. */
static inline const uint8_t *vga_pattern_label_glyph(unsigned k, uint32_t width, uint32_t height)
{
	static const uint8_t x_glyph[FONT_GLYPH_SIZE] = {
		0x00, 0x00, 0x66, 0x3C, 0x18, 0x3C, 0x66, 0x00,
	};
	static const uint32_t pow10[VGA_PATTERN_LABEL_DIGITS] = { 1000, 100, 10, 1 };

	if (k < VGA_PATTERN_LABEL_DIGITS)
		return font_digit(width / pow10[k] % 10);
	if (k == VGA_PATTERN_LABEL_DIGITS)
		return x_glyph;
	return font_digit(height / pow10[(k - VGA_PATTERN_LABEL_DIGITS - 1) % VGA_PATTERN_LABEL_DIGITS] % 10);
}

#endif
