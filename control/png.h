/*
 * screendump's picture: an XRGB8888 frame (the change tracker's shadow,
 * exactly what VNC viewers are sent) as a PNG (libpng), and base64 for
 * inline replies.
 *
 * Speed: zlib level 1 with the Z_RLE strategy and no row filter. Screens are
 * runs of equal pixels (backgrounds, text), which RLE finds at memcpy-like
 * speed; level 6's string matching took several times longer on a 1024x768
 * test pattern for a file under half the size (tools/bench.sh measures it).
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
