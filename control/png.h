/*
 * screendump's picture: an XRGB8888 frame (the change tracker's shadow,
 * exactly what VNC viewers are sent) as a PNG (libpng), and base64 for
 * inline replies.
 *
 * Speed: zlib level 1 (its fastest matcher) with PNG's Sub row filter
 * (each byte minus the pixel to its left), which turns flat areas and
 * horizontal gradients into runs of one value. Measured on 1024x768
 * screendumps of the bundled guests (best of 7, this host):
 *   ramfb-demo anim (bars, gradients)  level 1 + Sub 3.2 ms, 20 KiB;
 *     level 1 no filter 6.7 ms, 433 KiB; Z_RLE no filter 12.8 ms, 1.6 MiB;
 *     level 0 (stored) 1.5 ms, 2.3 MiB
 *   kbd-demo (background, a few boxes)  level 1 + Sub 3.2 ms, 14 KiB;
 *     no filter 2.7 ms, 15 KiB
 * so Sub at level 1 is within half a millisecond of the best on flat
 * screens and twice as fast as the rest on busy ones, at a tenth the size.
 */
#ifndef FBVM_CONTROL_PNG_H
#define FBVM_CONTROL_PNG_H

#include <stddef.h>
#include <stdint.h>

struct byte_buf {
	uint8_t *data;
	size_t len, cap;
};

/* Appends n bytes, growing the buffer. 0 or -ENOMEM. */
int byte_buf_append(struct byte_buf *b, const void *data, size_t n);
void byte_buf_free(struct byte_buf *b);

/* Encodes width x height XRGB8888 pixels (stride width * 4) as an RGB PNG
 * into out (appended). 0, -ENOMEM, or -EIO when libpng fails. */
int png_encode_xrgb(const uint8_t *pixels, uint32_t width, uint32_t height,
		    struct byte_buf *out);

/* Base64 (RFC 4648, padded) of data[0..n) into a new NUL-terminated string
 * (free it); NULL when out of memory. */
char *base64_encode(const uint8_t *data, size_t n);

#endif
