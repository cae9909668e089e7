/*
 * The kbd-demo screen: exact geometry and colours, shared by the guest
 * (which draws it on ramfb) and host tests (which check pixels, or time
 * how long a key takes to change them). Plain C with <stdint.h> only.
 * Colours are 0xRRGGBB; in the XRGB8888 framebuffer a pixel is the
 * little-endian word 0x00RRGGBB.
 *
 * After n scancode bytes have arrived (n = 0 at "kbd-demo: ready"), the
 * last one being b, the screen (W x H, default 640 x 480) shows:
 *
 *   everything           KBD_PATTERN_BG_RGB, except:
 *   key slot (n-1) % 8   (n >= 1 only) a KBD_PATTERN_SLOT_SIZE square at
 *                        (kbd_pattern_slot_x(slot), KBD_PATTERN_SLOT_Y)
 *                        filled with kbd_pattern_key_rgb(n); the other
 *                        seven slots show the background. So every byte
 *                        moves the block and changes its colour.
 *   count box            at (KBD_PATTERN_COUNT_X, KBD_PATTERN_BOX_Y):
 *                        n mod 10^6 as six digits
 *   byte box             at (kbd_pattern_byte_x(), KBD_PATTERN_BOX_Y):
 *                        b as three decimal digits (000 before any byte)
 *
 * Boxes are KBD_PATTERN_BOX_BG_RGB with digits in KBD_PATTERN_BOX_FG_RGB:
 * ramfb-demo's 8x8 font (font.h, bit 7 = leftmost pixel) scaled by
 * KBD_PATTERN_DIGIT_SCALE, digit k's top-left at box x + PAD + k * 8 *
 * SCALE, box y + PAD; clear font bits in the box colour.
 *
 * Drawing order for a byte: slot, boxes; then the serial line. A host can
 * therefore time key-to-photon latency by watching the pixel at the centre
 * of slot (n-1) % 8 turn kbd_pattern_key_rgb(n).
 */
#ifndef KBD_DEMO_PATTERN_H
#define KBD_DEMO_PATTERN_H

#include <stdint.h>

#define KBD_PATTERN_DEFAULT_WIDTH  640
#define KBD_PATTERN_DEFAULT_HEIGHT 480
#define KBD_PATTERN_MIN_WIDTH      640
#define KBD_PATTERN_MIN_HEIGHT     480
#define KBD_PATTERN_MAX_WIDTH      4096
#define KBD_PATTERN_MAX_HEIGHT     4096
#define KBD_PATTERN_BYTES_PER_PIXEL 4  /* stride = width * 4 */

#define KBD_PATTERN_BG_RGB      0x202020

/* The eight key slots in one row. */
#define KBD_PATTERN_SLOTS       8
#define KBD_PATTERN_SLOT_SIZE   64
#define KBD_PATTERN_SLOT_X0     24
#define KBD_PATTERN_SLOT_PITCH  76
#define KBD_PATTERN_SLOT_Y      96

static inline uint32_t kbd_pattern_slot_x(unsigned slot)
{
	return KBD_PATTERN_SLOT_X0 + (slot % KBD_PATTERN_SLOTS) * KBD_PATTERN_SLOT_PITCH;
}

/* Slot of the n-th byte (n >= 1). */
static inline unsigned kbd_pattern_slot(uint64_t n)
{
	return (unsigned)((n - 1) % KBD_PATTERN_SLOTS);
}

/* Colour of the n-th byte's block (n >= 1): seven colours (no black) in
 * turn, so consecutive bytes differ in both slot and colour. */
static inline uint32_t kbd_pattern_key_rgb(uint64_t n)
{
	static const uint32_t rgb[7] = {
		0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF,
	};

	return rgb[(n - 1) % 7];
}

/* The two number boxes. */
#define KBD_PATTERN_DIGIT_SCALE 4
#define KBD_PATTERN_BOX_PAD     8
#define KBD_PATTERN_BOX_Y       200
#define KBD_PATTERN_BOX_H       (8 * KBD_PATTERN_DIGIT_SCALE + 2 * KBD_PATTERN_BOX_PAD)
#define KBD_PATTERN_BOX_BG_RGB  0x000000
#define KBD_PATTERN_BOX_FG_RGB  0xFFFFFF
#define KBD_PATTERN_COUNT_DIGITS 6
#define KBD_PATTERN_BYTE_DIGITS 3
#define KBD_PATTERN_COUNT_X     KBD_PATTERN_SLOT_X0
#define KBD_PATTERN_BOX_W(digits) ((digits) * 8 * KBD_PATTERN_DIGIT_SCALE + 2 * KBD_PATTERN_BOX_PAD)

static inline uint32_t kbd_pattern_byte_x(void)
{
	return KBD_PATTERN_COUNT_X + KBD_PATTERN_BOX_W(KBD_PATTERN_COUNT_DIGITS) + 16;
}

/* dma=1: the band a key press fills by fw_cfg DMA ("QEMU" then zeros:
 * the first pixel reads 0x4D4551, the rest 0x000000) and a release repaints
 * with KBD_PATTERN_BG_RGB: full-width lines [band_y, band_y + LINES), clear
 * of the slots and boxes. */
#define KBD_PATTERN_BAND_LINES  32

static inline uint32_t kbd_pattern_band_y(uint32_t height)
{
	return height - 2 * KBD_PATTERN_BAND_LINES;
}

#endif
