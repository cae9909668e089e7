/*
 * Tests for sdl/scale.c: where the picture lands in the window (fit and
 * integer modes, letterbox centring), which guest pixel each window pixel
 * shows, and that redrawing one changed rectangle writes exactly the window
 * pixels whose sample lies in it (checked against the per-pixel definition
 * over many sizes), and window -> guest positions for the mouse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sdl/scale.h"

static void expect_view(uint32_t gw, uint32_t gh, uint32_t ww, uint32_t wh,
			enum window_scale mode, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct sdl_view v;

	sdl_view_compute(gw, gh, ww, wh, mode, &v);
	assert_int_equal(v.x, x);
	assert_int_equal(v.y, y);
	assert_int_equal(v.w, w);
	assert_int_equal(v.h, h);
}

static void test_sdl_view_is_one_to_one_in_a_window_of_the_guest_size(void **state)
{
	(void)state;
	expect_view(1024, 768, 1024, 768, WINDOW_SCALE_FIT, 0, 0, 1024, 768);
	expect_view(1024, 768, 1024, 768, WINDOW_SCALE_INTEGER, 0, 0, 1024, 768);
	expect_view(1, 1, 1, 1, WINDOW_SCALE_FIT, 0, 0, 1, 1);
}

static void test_sdl_view_fit_keeps_aspect_and_centres(void **state)
{
	(void)state;
	/* Wider window: height limits, bars left and right. */
	expect_view(1024, 768, 1920, 1080, WINDOW_SCALE_FIT, 240, 0, 1440, 1080);
	/* Taller window: width limits, bars top and bottom. */
	expect_view(1024, 768, 800, 800, WINDOW_SCALE_FIT, 0, 100, 800, 600);
	/* Shrinking, rounding down: 640x480 in 333x333 -> 333x249. */
	expect_view(640, 480, 333, 333, WINDOW_SCALE_FIT, 0, 42, 333, 249);
	/* Never below one pixel. */
	expect_view(4096, 16, 10, 10, WINDOW_SCALE_FIT, 0, 4, 10, 1);
}

static void test_sdl_view_integer_takes_the_largest_whole_factor(void **state)
{
	(void)state;
	/* 2x fits 1920x1080 for 640x480 (1280x960), 3x does not. */
	expect_view(640, 480, 1920, 1080, WINDOW_SCALE_INTEGER, 320, 60, 1280, 960);
	/* The factor is the same on both axes: the smaller one wins. */
	expect_view(320, 240, 1000, 500, WINDOW_SCALE_INTEGER, 180, 10, 640, 480);
	/* Just under 2x: stays 1x, centred. */
	expect_view(640, 480, 1279, 959, WINDOW_SCALE_INTEGER, 319, 239, 640, 480);
}

static void test_sdl_view_integer_shrinks_like_fit_in_a_small_window(void **state)
{
	struct sdl_view fit, integer;
	(void)state;
	sdl_view_compute(1024, 768, 800, 700, WINDOW_SCALE_FIT, &fit);
	sdl_view_compute(1024, 768, 800, 700, WINDOW_SCALE_INTEGER, &integer);
	assert_memory_equal(&fit, &integer, sizeof(fit));
	assert_int_equal(fit.w, 800);
	assert_int_equal(fit.h, 600);
}

static void test_sdl_scale_sample_is_identity_at_one_to_one_and_repeats_when_enlarging(void **state)
{
	(void)state;
	for (uint32_t d = 0; d < 1024; d++)
		assert_int_equal(sdl_scale_sample(1024, 1024, d), d);
	/* 2x: each guest pixel twice; 3x: three times. */
	for (uint32_t d = 0; d < 2048; d++)
		assert_int_equal(sdl_scale_sample(1024, 2048, d), d / 2);
	for (uint32_t d = 0; d < 3 * 640; d++)
		assert_int_equal(sdl_scale_sample(640, 3 * 640, d), d / 3);
	/* Halving samples pixel centres: the odd pixel of each pair. */
	for (uint32_t d = 0; d < 512; d++)
		assert_int_equal(sdl_scale_sample(1024, 512, d), 2 * d + 1);
	/* The last window pixel never reads past the line. */
	assert_int_equal(sdl_scale_sample(4096, 4095, 4094), 4095);
	assert_int_equal(sdl_scale_sample(3, 10000, 9999), 2);
}

/* For every sub-range [s0, s1) of a few sizes, the span is exactly the set
 * of scaled pixels whose sample lies in the range. */
static void check_spans(uint32_t src, uint32_t dst)
{
	for (uint32_t s0 = 0; s0 < src; s0++) {
		for (uint32_t s1 = s0 + 1; s1 <= src; s1++) {
			uint32_t d0, d1;
			sdl_scale_span(src, dst, s0, s1, &d0, &d1);
			assert_true(d0 <= d1);
			assert_true(d1 <= dst);
			for (uint32_t d = 0; d < dst; d++) {
				uint32_t s = sdl_scale_sample(src, dst, d);
				bool inside = s >= s0 && s < s1;
				bool in_span = d >= d0 && d < d1;
				if (inside != in_span)
					fail_msg("src=%u dst=%u range [%u,%u) span [%u,%u): pixel %u"
						 " samples %u", src, dst, s0, s1, d0, d1, d, s);
			}
		}
	}
}

static void test_sdl_scale_span_covers_exactly_the_pixels_showing_a_range(void **state)
{
	static const uint32_t sizes[][2] = {
		{ 16, 16 }, { 16, 32 }, { 16, 48 }, { 16, 8 }, { 17, 40 }, { 40, 17 },
		{ 7, 100 }, { 100, 7 }, { 33, 34 }, { 34, 33 }, { 64, 1 }, { 1, 64 },
		{ 48, 45 }, { 45, 48 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_spans(sizes[i][0], sizes[i][1]);
}

/* Spans of adjacent ranges tile the line: no seam, no overlap. */
static void test_sdl_scale_spans_of_adjacent_ranges_tile_the_line(void **state)
{
	(void)state;
	for (uint32_t dst = 1; dst < 3000; dst += 37) {
		uint32_t expect = 0;
		for (uint32_t s = 0; s < 1024; s += 64) {
			uint32_t d0, d1;
			sdl_scale_span(1024, dst, s, s + 64, &d0, &d1);
			assert_int_equal(d0, expect);
			expect = d1;
		}
		assert_int_equal(expect, dst);
	}
}

static void test_sdl_view_to_guest_maps_and_clamps(void **state)
{
	struct sdl_view v;
	uint32_t gx, gy;
	(void)state;
	/* 640x480 at 2x, centred in 1920x1080: picture at (320, 60). */
	sdl_view_compute(640, 480, 1920, 1080, WINDOW_SCALE_INTEGER, &v);
	sdl_view_to_guest(&v, 640, 480, 320, 60, &gx, &gy);
	assert_int_equal(gx, 0);
	assert_int_equal(gy, 0);
	sdl_view_to_guest(&v, 640, 480, 321, 61, &gx, &gy);
	assert_int_equal(gx, 0);
	assert_int_equal(gy, 0);
	sdl_view_to_guest(&v, 640, 480, 322, 63, &gx, &gy);
	assert_int_equal(gx, 1);
	assert_int_equal(gy, 1);
	sdl_view_to_guest(&v, 640, 480, 320 + 1279, 60 + 959, &gx, &gy);
	assert_int_equal(gx, 639);
	assert_int_equal(gy, 479);
	/* On the border and outside the window: the nearest edge pixel. */
	sdl_view_to_guest(&v, 640, 480, 10, 5, &gx, &gy);
	assert_int_equal(gx, 0);
	assert_int_equal(gy, 0);
	sdl_view_to_guest(&v, 640, 480, 1919, 1079, &gx, &gy);
	assert_int_equal(gx, 639);
	assert_int_equal(gy, 479);
	sdl_view_to_guest(&v, 640, 480, -5, 2000, &gx, &gy);
	assert_int_equal(gx, 0);
	assert_int_equal(gy, 479);
}

static void test_sdl_window_size_is_the_guest_size_unless_the_screen_is_smaller(void **state)
{
	uint32_t w, h;
	(void)state;
	sdl_window_size_for(1024, 768, 1920, 1050, &w, &h);
	assert_int_equal(w, 1024);
	assert_int_equal(h, 768);
	sdl_window_size_for(1024, 768, 0, 0, &w, &h);
	assert_int_equal(w, 1024);
	assert_int_equal(h, 768);
	sdl_window_size_for(4096, 2160, 1920, 1050, &w, &h);
	assert_int_equal(w, 1920);
	assert_int_equal(h, 1012);
	sdl_window_size_for(1024, 768, 1024, 700, &w, &h);
	assert_int_equal(w, 933);
	assert_int_equal(h, 700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdl_view_is_one_to_one_in_a_window_of_the_guest_size),
		cmocka_unit_test(test_sdl_view_fit_keeps_aspect_and_centres),
		cmocka_unit_test(test_sdl_view_integer_takes_the_largest_whole_factor),
		cmocka_unit_test(test_sdl_view_integer_shrinks_like_fit_in_a_small_window),
		cmocka_unit_test(test_sdl_scale_sample_is_identity_at_one_to_one_and_repeats_when_enlarging),
		cmocka_unit_test(test_sdl_scale_span_covers_exactly_the_pixels_showing_a_range),
		cmocka_unit_test(test_sdl_scale_spans_of_adjacent_ranges_tile_the_line),
		cmocka_unit_test(test_sdl_view_to_guest_maps_and_clamps),
		cmocka_unit_test(test_sdl_window_size_is_the_guest_size_unless_the_screen_is_smaller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
