/* Tests for devices/display.c: the surface devices publish and frontends snapshot. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/display.h"

/* DRM fourcc values from linux/drm_fourcc.h, spelled out so the tests check
 * the table against the spec rather than against its own macros. */
#define FOURCC_XR24 0x34325258u
#define FOURCC_AR24 0x34325241u
#define FOURCC_XB24 0x34324258u
#define FOURCC_AB24 0x34324241u
#define FOURCC_RG24 0x34324752u

static int setup(void **state)
{
	struct display *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	display_init(d);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct display *d = *state;

	display_destroy(d);
	free(d);
	return 0;
}

static struct display_surface surface(uint64_t gpa, uint32_t w, uint32_t h, uint32_t stride,
				      uint32_t format)
{
	return (struct display_surface){ .enabled = true, .gpa = gpa, .width = w, .height = h,
					 .stride = stride, .format = format };
}

static void test_display_starts_without_surface(void **state)
{
	struct display *d = *state;
	struct display_surface s;

	memset(&s, 0xAA, sizeof(s));
	display_snapshot(d, &s);
	assert_false(s.enabled);
	assert_int_equal(s.generation, 0);
	assert_int_equal(s.width, 0);
	assert_int_equal(s.height, 0);
}

/* Reset: "no frame yet" again, but as a new generation, so a frontend
 * holding the old surface sees the change. */
static void test_display_reset_publishes_no_surface_with_new_generation(void **state)
{
	struct display *d = *state;
	struct display_surface s = surface(0x100000, 640, 480, 2560, DISPLAY_FORMAT_XRGB8888);

	display_publish(d, &s);
	display_reset(d);
	display_snapshot(d, &s);
	assert_false(s.enabled);
	assert_int_equal(s.generation, 2);
	assert_int_equal(s.width, 0);
}

static void test_display_snapshot_returns_published_fields(void **state)
{
	struct display *d = *state;
	struct display_surface in = surface(0x1000000, 1024, 768, 4096, FOURCC_XR24);
	struct display_surface out;

	in.generation = 77;   /* ignored: the display assigns generations */
	display_publish(d, &in);
	display_snapshot(d, &out);
	assert_true(out.enabled);
	assert_int_equal(out.gpa, 0x1000000);
	assert_int_equal(out.width, 1024);
	assert_int_equal(out.height, 768);
	assert_int_equal(out.stride, 4096);
	assert_int_equal(out.format, FOURCC_XR24);
	assert_int_equal(out.generation, 1);
}

static void test_display_every_publish_gets_a_new_generation(void **state)
{
	struct display *d = *state;
	struct display_surface in = surface(0x100000, 640, 480, 2560, FOURCC_XR24);
	struct display_surface out;

	/* The same surface published again is still a reconfiguration. */
	for (uint32_t i = 1; i <= 5; i++) {
		display_publish(d, &in);
		display_snapshot(d, &out);
		assert_int_equal(out.generation, i);
	}
	in.width = 800;
	in.stride = 3200;
	display_publish(d, &in);
	display_snapshot(d, &out);
	assert_int_equal(out.generation, 6);
	assert_int_equal(out.width, 800);
}

static void test_display_generation_skips_zero_when_it_wraps(void **state)
{
	struct display *d = *state;
	struct display_surface in = surface(0x100000, 640, 480, 2560, FOURCC_XR24);
	struct display_surface out;

	d->surface.generation = UINT32_MAX;   /* as after 2^32 - 1 publishes */
	display_publish(d, &in);
	display_snapshot(d, &out);
	assert_int_equal(out.generation, 1);
}

static void test_display_format_bpp_table(void **state)
{
	(void)state;
	assert_int_equal(display_format_bpp(FOURCC_XR24), 4);
	assert_int_equal(display_format_bpp(FOURCC_AR24), 4);
	assert_int_equal(display_format_bpp(FOURCC_XB24), 4);
	assert_int_equal(display_format_bpp(FOURCC_AB24), 4);
	assert_int_equal(display_format_bpp(FOURCC_RG24), 3);
	assert_int_equal(DISPLAY_FORMAT_XRGB8888, FOURCC_XR24);
	assert_int_equal(DISPLAY_FORMAT_RGB888, FOURCC_RG24);
	/* Unsupported: none, RGB565 'RG16', XRGB2101010 'XR30', BGR888 'BG24',
	 * and XR24 byte-swapped (a guest that forgot the big-endian encoding). */
	assert_int_equal(display_format_bpp(0), 0);
	assert_int_equal(display_format_bpp(0x36314752u), 0);
	assert_int_equal(display_format_bpp(0x30335258u), 0);
	assert_int_equal(display_format_bpp(0x34324742u), 0);
	assert_int_equal(display_format_bpp(0x58523234u), 0);
	assert_int_equal(display_format_bpp(UINT32_MAX), 0);
}

static void test_display_span_is_stride_times_lines_plus_last_line(void **state)
{
	struct display_surface s = surface(0, 640, 480, 4096, FOURCC_XR24);
	uint64_t span = 0;

	(void)state;
	assert_true(display_surface_span(&s, &span));
	assert_int_equal(span, 4096ull * 479 + 640 * 4);
	s = surface(0, 3, 2, 12, FOURCC_RG24);
	assert_true(display_surface_span(&s, &span));
	assert_int_equal(span, 12 + 9);
	s = surface(0, 1, 1, 4, FOURCC_XR24);
	assert_true(display_surface_span(&s, &span));
	assert_int_equal(span, 4);
}

static void test_display_span_refuses_incomplete_surfaces(void **state)
{
	struct display_surface bad[] = {
		surface(0, 640, 480, 2560, 0),
		surface(0, 0, 480, 2560, FOURCC_XR24),
		surface(0, 640, 0, 2560, FOURCC_XR24),
		surface(0, 640, 480, 2556, FOURCC_XR24),
		surface(0, 640, 480, 0, FOURCC_XR24),
	};
	uint64_t span;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(display_surface_span(&bad[i], &span));
}

static void test_display_span_of_largest_fields_is_exact(void **state)
{
	/* The largest span uint32 fields allow, stride >= line: no wrap. */
	struct display_surface s = surface(0, UINT32_MAX / 4, UINT32_MAX, UINT32_MAX, FOURCC_XR24);
	uint64_t span = 0;

	(void)state;
	assert_true(display_surface_span(&s, &span));
	assert_true(span == (uint64_t)UINT32_MAX * (UINT32_MAX - 1) + (uint64_t)(UINT32_MAX / 4) * 4);
	/* A 4 * (2^32 - 1)-byte line is computed in 64 bits and exceeds any stride. */
	s.width = UINT32_MAX;
	assert_false(display_surface_span(&s, &span));
}

/*
 * Concurrency: publishers derive every field of a surface from one seed; a
 * reader checks each snapshot is internally consistent (all fields from the
 * same publish) and that generations never go backwards.
 */
#define RACE_PUBLISHES 1000000u

struct race {
	struct display *d;
	atomic_bool reading;   /* publishers wait for it, so the race really overlaps */
	atomic_bool stop;
	atomic_uint torn;
	atomic_uint backwards;
	atomic_uint snapshots;
	unsigned int seed_base;
};

static struct display_surface race_surface(uint32_t seed)
{
	uint32_t w = 1 + seed % DISPLAY_MAX_WIDTH;

	return surface((uint64_t)seed << 12, w, 1 + (seed * 7) % DISPLAY_MAX_HEIGHT, w * 4 + (seed % 3) * 4,
		       seed & 1 ? FOURCC_XR24 : FOURCC_XB24);
}

static bool race_consistent(const struct display_surface *s)
{
	struct display_surface want;

	if (!s->enabled)
		return s->generation == 0 && s->gpa == 0 && s->width == 0;
	want = race_surface((uint32_t)(s->gpa >> 12));
	return s->width == want.width && s->height == want.height && s->stride == want.stride &&
	       s->format == want.format;
}

static void *race_publisher(void *arg)
{
	struct race *r = arg;
	unsigned int base = __atomic_fetch_add(&r->seed_base, 1, __ATOMIC_RELAXED);

	while (!atomic_load(&r->reading))
		sched_yield();
	for (uint32_t i = 0; i < RACE_PUBLISHES; i++) {
		struct display_surface s = race_surface(base * RACE_PUBLISHES + i);
		display_publish(r->d, &s);
	}
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint32_t last = 0;

	atomic_store(&r->reading, true);
	while (!atomic_load(&r->stop)) {
		struct display_surface s;

		display_snapshot(r->d, &s);
		if (!race_consistent(&s))
			atomic_fetch_add(&r->torn, 1);
		if (s.generation < last)
			atomic_fetch_add(&r->backwards, 1);
		last = s.generation;
		atomic_fetch_add(&r->snapshots, 1);
	}
	return NULL;
}

static void test_display_concurrent_publish_and_snapshot_never_tear(void **state)
{
	struct race r = { .d = *state };
	pthread_t pub[2], reader;
	struct display_surface s;

	assert_int_equal(pthread_create(&reader, NULL, race_reader, &r), 0);
	assert_int_equal(pthread_create(&pub[0], NULL, race_publisher, &r), 0);
	assert_int_equal(pthread_create(&pub[1], NULL, race_publisher, &r), 0);
	pthread_join(pub[0], NULL);
	pthread_join(pub[1], NULL);
	atomic_store(&r.stop, true);
	pthread_join(reader, NULL);

	assert_int_equal(atomic_load(&r.torn), 0);
	assert_int_equal(atomic_load(&r.backwards), 0);
	assert_true(atomic_load(&r.snapshots) > 0);
	/* No publish was lost: every one got its own generation. */
	display_snapshot(r.d, &s);
	assert_int_equal(s.generation, 2 * RACE_PUBLISHES);
	assert_true(race_consistent(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_display_starts_without_surface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_reset_publishes_no_surface_with_new_generation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_snapshot_returns_published_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_every_publish_gets_a_new_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_generation_skips_zero_when_it_wraps, setup, teardown),
		cmocka_unit_test(test_display_format_bpp_table),
		cmocka_unit_test(test_display_span_is_stride_times_lines_plus_last_line),
		cmocka_unit_test(test_display_span_refuses_incomplete_surfaces),
		cmocka_unit_test(test_display_span_of_largest_fields_is_exact),
		cmocka_unit_test_setup_teardown(test_display_concurrent_publish_and_snapshot_never_tear, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
