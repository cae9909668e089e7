/*
 * The ramfb-demo test pattern: exact geometry and colours, shared by the
 * guest (which draws it) and host-side tests (which check pixels). Plain C
 * with <stdint.h> only. Colours are 0xRRGGBB; in the XRGB8888 framebuffer a
 * pixel is the little-endian 32-bit word 0x00RRGGBB (bytes B, G, R, X).
 *
 * Screen of W x H pixels (default 1024 x 768), frames numbered from 1:
 *
 *   rows [0, bars_h)    8 vertical colour bars, identical in every mode and
 *                       frame: bar i covers columns [bar_x0(i), bar_x0(i+1)).
 *   rows [bars_h, H)    the field, by mode:
 *     still  field PATTERN_FIELD_RGB, the square at its frame-1 position,
 *            the counter box showing 000001. Drawn once.
 *     anim   every field pixel pattern_anim_rgb(x, y, frame) (changes every
 *            frame), then the square at pattern_square_x(frame), then the
 *            counter box showing the frame number.
 *     small  field PATTERN_FIELD_RGB drawn once; per frame only the 64x64
 *            block at (pattern_block_x, pattern_block_y) changes: filled with
 *            pattern_block_rgb(frame), the frame number mod 10000 drawn in it.
 *
 * Digits use the 8x8 font in font.h (bit 7 of a row byte = leftmost pixel),
 * scaled by an integer factor; set bits are drawn in the foreground colour,
 * clear bits in the background colour.
 */
#ifndef RAMFB_DEMO_PATTERN_H
#define RAMFB_DEMO_PATTERN_H

#include <stdint.h>

#define PATTERN_DEFAULT_WIDTH   1024
#define PATTERN_DEFAULT_HEIGHT  768
#define PATTERN_MIN_WIDTH       320
#define PATTERN_MIN_HEIGHT      240
#define PATTERN_MAX_WIDTH       4096
#define PATTERN_MAX_HEIGHT      4096
#define PATTERN_BYTES_PER_PIXEL 4       /* stride = width * 4 */

/* Colour bars. */
#define PATTERN_BAR_COUNT       8

static inline uint32_t pattern_bar_rgb(unsigned i)
{
	static const uint32_t rgb[PATTERN_BAR_COUNT] = {
		0xFFFFFF,       /* white */
		0xFFFF00,       /* yellow */
		0x00FFFF,       /* cyan */
		0x00FF00,       /* green */
		0xFF00FF,       /* magenta */
		0xFF0000,       /* red */
		0x0000FF,       /* blue */
		0x000000,       /* black */
	};

	return rgb[i % PATTERN_BAR_COUNT];
}

/* First column of bar i; bar_x0(8) == width. */
static inline uint32_t pattern_bar_x0(unsigned i, uint32_t width)
{
	return (uint32_t)((uint64_t)i * width / PATTERN_BAR_COUNT);
}

static inline uint32_t pattern_bars_height(uint32_t height)
{
	return height / 4;
}

/* Field background in still and small modes. */
#define PATTERN_FIELD_RGB       0x202020

/* Field pixel of an anim frame; x, y are screen coordinates. The red byte
 * steps by 4 per frame, so every field pixel changes every frame (except
 * where the square and the counter box cover it). */
static inline uint32_t pattern_anim_rgb(uint32_t x, uint32_t y, uint32_t frame)
{
	return ((x + 4 * frame) & 0xFF) << 16 | ((y + 2 * frame) & 0xFF) << 8 |
	       ((x + y + frame) & 0xFF);
}

/* The moving square (still: frame 1; anim: every frame). */
#define PATTERN_SQUARE_SIZE     64
#define PATTERN_SQUARE_RGB      0xFFFFFF

static inline uint32_t pattern_square_x(uint32_t frame, uint32_t width)
{
	return (uint32_t)((uint64_t)frame * 8 % (width - PATTERN_SQUARE_SIZE));
}

static inline uint32_t pattern_square_y(uint32_t height)
{
	uint32_t top = pattern_bars_height(height);

	return top + (height - top - PATTERN_SQUARE_SIZE) / 2;
}

/* The frame counter box (still, anim): frame number mod 10^6, six digits,
 * zero-padded, white on black. Digit k's top-left corner is at
 * (COUNTER_X + COUNTER_PAD + k * 8 * COUNTER_SCALE, counter_y + COUNTER_PAD). */
#define PATTERN_COUNTER_DIGITS  6
#define PATTERN_COUNTER_SCALE   4
#define PATTERN_COUNTER_PAD     8
#define PATTERN_COUNTER_X       16
#define PATTERN_COUNTER_BOX_W   (PATTERN_COUNTER_DIGITS * 8 * PATTERN_COUNTER_SCALE + 2 * PATTERN_COUNTER_PAD)
#define PATTERN_COUNTER_BOX_H   (8 * PATTERN_COUNTER_SCALE + 2 * PATTERN_COUNTER_PAD)
#define PATTERN_COUNTER_BG_RGB  0x000000
#define PATTERN_COUNTER_FG_RGB  0xFFFFFF

static inline uint32_t pattern_counter_y(uint32_t height)
{
	return pattern_bars_height(height) + 16;
}

/* The small-mode block: the only pixels that change after frame 1. Its
 * counter shows frame mod 10^4, four digits at scale 2, in
 * pattern_block_fg_rgb(frame) on the block colour, top-left at
 * (block_x, block_y + BLOCK_DIGITS_DY). */
#define PATTERN_BLOCK_SIZE      64
#define PATTERN_BLOCK_DIGITS    4
#define PATTERN_BLOCK_SCALE     2
#define PATTERN_BLOCK_DIGITS_DY 24

static inline uint32_t pattern_block_x(uint32_t width)
{
	return (width / 2 - PATTERN_BLOCK_SIZE / 2) & ~15u;    /* 16-pixel aligned */
}

static inline uint32_t pattern_block_y(uint32_t height)
{
	return pattern_square_y(height);
}

static inline uint32_t pattern_block_rgb(uint32_t frame)
{
	return ((frame * 5) & 0xFF) << 16 | ((frame * 3) & 0xFF) << 8 | ((frame * 7) & 0xFF);
}

/* Black digits on light blocks, white on dark ones. */
static inline uint32_t pattern_block_fg_rgb(uint32_t frame)
{
	uint32_t c = pattern_block_rgb(frame);

	return (c >> 16 & 0xFF) + (c >> 8 & 0xFF) + (c & 0xFF) >= 384 ? 0x000000 : 0xFFFFFF;
}

#endif
