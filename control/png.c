#include "control/png.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

int byte_buf_append(struct byte_buf *b, const void *data, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		uint8_t *p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

void byte_buf_free(struct byte_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

struct png_sink {
	struct byte_buf *out;
	int error;
};

static void png_sink_write(png_structp png, png_bytep data, png_size_t n)
{
	struct png_sink *sink = png_get_io_ptr(png);

	if (!sink->error && byte_buf_append(sink->out, data, n) < 0)
		sink->error = -ENOMEM;
}

static void png_sink_flush(png_structp png)
{
	(void)png;
}

/* libpng reports errors by longjmp from here; we set up its jump buffer. */
static void png_on_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

int png_encode_xrgb(const uint8_t *pixels, uint32_t width, uint32_t height,
		    struct byte_buf *out)
{
	struct png_sink sink = { .out = out };
	png_structp png;
	png_infop info;
	volatile int ret = 0;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_on_error, png_on_warning);
	if (!png)
		return -ENOMEM;
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return sink.error ? sink.error : -EIO;
	}
	png_set_write_fn(png, &sink, png_sink_write, png_sink_flush);
	png_set_compression_level(png, 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
	png_write_info(png, info);
	/* Memory holds B,G,R,X per pixel: swap to R,G,B and drop X. */
	png_set_bgr(png);
	png_set_filler(png, 0, PNG_FILLER_AFTER);
	for (uint32_t y = 0; y < height; y++)
		png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * 4));
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (sink.error)
		ret = sink.error;
	return ret;
}

char *base64_encode(const uint8_t *data, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t groups = n / 3 + (n % 3 != 0);
	char *out, *p;

	if (groups > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(groups * 4 + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (left > 2)
			v |= data[i + 2];
		*p++ = alphabet[v >> 18];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		*p++ = left > 2 ? alphabet[v & 63] : '=';
	}
	*p = '\0';
	return out;
}
