#include "scale.h"

/* Largest w x h with w/h == gw/gh (rounded down) inside ww x wh, each >= 1. */
static void fit_inside(uint32_t gw, uint32_t gh, uint32_t ww, uint32_t wh, uint32_t *w,
		       uint32_t *h)
{
	/* ww/wh <= gw/gh: the width limits. 64-bit products: sizes are < 2^32. */
	if ((uint64_t)ww * gh <= (uint64_t)wh * gw) {
		*w = ww;
		*h = (uint32_t)((uint64_t)ww * gh / gw);
	} else {
		*h = wh;
		*w = (uint32_t)((uint64_t)wh * gw / gh);
	}
	if (*w == 0)
		*w = 1;
	if (*h == 0)
		*h = 1;
}

void sdl_view_compute(uint32_t guest_w, uint32_t guest_h, uint32_t win_w, uint32_t win_h,
		      enum window_scale mode, struct sdl_view *out)
{
	uint32_t w, h;

	if (mode == WINDOW_SCALE_INTEGER && win_w >= guest_w && win_h >= guest_h) {
		uint32_t fx = win_w / guest_w, fy = win_h / guest_h;
		uint32_t f = fx < fy ? fx : fy;
		w = guest_w * f;
		h = guest_h * f;
	} else {
		fit_inside(guest_w, guest_h, win_w, win_h, &w, &h);
	}
	out->w = w;
	out->h = h;
	out->x = (win_w - w) / 2;
	out->y = (win_h - h) / 2;
}

uint32_t sdl_scale_sample(uint32_t src_len, uint32_t dst_len, uint32_t d)
{
	return (uint32_t)(((2 * (uint64_t)d + 1) * src_len) / (2 * (uint64_t)dst_len));
}

/* The first scaled pixel d whose sample is >= s: the smallest d with
 * (2d + 1) * src >= 2 * s * dst, i.e. ceil((2 * s * dst - src) / (2 * src)). */
static uint32_t first_showing(uint32_t src_len, uint32_t dst_len, uint32_t s)
{
	uint64_t num = 2 * (uint64_t)s * dst_len;

	if (num <= src_len)
		return 0;
	num -= src_len;
	return (uint32_t)((num + 2 * (uint64_t)src_len - 1) / (2 * (uint64_t)src_len));
}

void sdl_scale_span(uint32_t src_len, uint32_t dst_len, uint32_t s0, uint32_t s1,
		    uint32_t *d0, uint32_t *d1)
{
	uint32_t a = first_showing(src_len, dst_len, s0);
	uint32_t b = first_showing(src_len, dst_len, s1);

	*d0 = a < dst_len ? a : dst_len;
	*d1 = b < dst_len ? b : dst_len;
}

static uint32_t to_guest_axis(uint32_t origin, uint32_t len, uint32_t guest_len, int32_t w)
{
	int64_t d = (int64_t)w - origin;

	if (d < 0)
		return 0;
	if (d >= len)
		return guest_len - 1;
	return sdl_scale_sample(guest_len, len, (uint32_t)d);
}

void sdl_view_to_guest(const struct sdl_view *v, uint32_t guest_w, uint32_t guest_h, int32_t wx,
		       int32_t wy, uint32_t *gx, uint32_t *gy)
{
	*gx = to_guest_axis(v->x, v->w, guest_w, wx);
	*gy = to_guest_axis(v->y, v->h, guest_h, wy);
}

void sdl_window_size_for(uint32_t guest_w, uint32_t guest_h, uint32_t max_w, uint32_t max_h,
			 uint32_t *win_w, uint32_t *win_h)
{
	if (max_w == 0 || max_h == 0 || (guest_w <= max_w && guest_h <= max_h)) {
		*win_w = guest_w;
		*win_h = guest_h;
		return;
	}
	fit_inside(guest_w, guest_h, max_w, max_h, win_w, win_h);
}
