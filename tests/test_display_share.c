/*
 * Tests for display/share.c: one tracker, refreshed by one thread, read by
 * a second frontend. A real tracker over a real struct guest_mem, with a
 * fake dirty source that reports the pages the test wrote (as KVM reports
 * the guest's writes). Checks what the reader is told (rects accumulated
 * between takes, merged when there are too many, a resize replacing them),
 * the edge-triggered notify fd, the activity fd, the geometry check of the
 * shadow lock, the watchers' wake-ups and counters (the control socket),
 * and that a reader copying the changed rects while another
 * thread refreshes ends with exactly the guest's picture.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/display.h"
#include "display/share.h"
#include "display/tracker.h"
#include "hypervisor/guest_mem.h"
#include "stack/stack_sizes.h"
#include "stack/thread.h"
#include "guest_view.h"

#define RAM_BYTES  MiB(16)
#define RAM_PAGES  (RAM_BYTES / TRACKER_PAGE_BYTES)
#define FB_GPA     MiB(1)
#define FB_W       512
#define FB_H       256
#define MAX_RECTS  48

struct fixture {
	struct guest_mem mem;
	struct display display;
	struct tracker t;
	struct display_share share;
	_Atomic uint64_t marked[RAM_PAGES / 64];
	struct display_share_update u;
	struct fb_rect rects[MAX_RECTS];
	size_t n_rects;
};

static int fake_fetch(void *ctx, uint64_t gpa, uint64_t len, uint64_t *bitmap)
{
	struct fixture *f = ctx;
	uint64_t first = gpa / TRACKER_PAGE_BYTES, n = len / TRACKER_PAGE_BYTES;

	memset(bitmap, 0, (n + 63) / 64 * sizeof(uint64_t));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = first + i, bit = 1ull << (p % 64);
		if (atomic_fetch_and(&f->marked[p / 64], ~bit) & bit)
			bitmap[i / 64] |= 1ull << (i % 64);
	}
	return 0;
}

static struct fixture *make_fixture(bool notify)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(guest_mem_init(&f->mem, RAM_BYTES), 0);
	display_init(&f->display);
	assert_int_equal(tracker_init(&f->t, &f->display, &f->mem,
				      (struct dirty_source){ .fetch = fake_fetch, .ctx = f }), 0);
	assert_int_equal(display_share_init(&f->share, &f->t, notify), 0);
	return f;
}

static int setup(void **state)
{
	*state = make_fixture(true);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	display_share_destroy(&f->share);
	tracker_destroy(&f->t);
	display_destroy(&f->display);
	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

static void publish(struct fixture *f, uint32_t width, uint32_t height)
{
	const struct display_surface s = { .enabled = true, .gpa = FB_GPA, .width = width,
					   .height = height, .stride = width * 4,
					   .format = DISPLAY_FORMAT_XRGB8888 };

	display_publish(&f->display, &s);
}

/* A guest write of one pixel of a width-wide XRGB8888 surface. */
static void put_pixel(struct fixture *f, uint32_t width, uint32_t x, uint32_t y, uint32_t rgb)
{
	uint64_t gpa = FB_GPA + ((uint64_t)y * width + x) * 4, p = gpa / TRACKER_PAGE_BYTES;
	uint8_t *dst = guest_view(&f->mem, gpa, 4);

	assert_non_null(dst);
	memcpy(dst, &rgb, 4);
	atomic_fetch_or(&f->marked[p / 64], 1ull << (p % 64));
}

static enum tracker_result refresh(struct fixture *f)
{
	return display_share_refresh(&f->share, f->rects, MAX_RECTS, &f->n_rects);
}

/* The surface published and its first refresh taken: later takes see only
 * what changes after this. */
static void start_surface(struct fixture *f)
{
	publish(f, FB_W, FB_H);
	assert_int_equal(refresh(f), TRACKER_RESIZED);
	assert_true(display_share_take(&f->share, &f->u));
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static uint64_t read_efd(int fd)
{
	uint64_t v = 0;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static void test_display_share_first_take_is_the_whole_default_shadow(void **state)
{
	struct fixture *f = *state;

	assert_true(display_share_take(&f->share, &f->u));
	assert_true(f->u.resized);
	assert_int_equal(f->u.width, TRACKER_DEFAULT_WIDTH);
	assert_int_equal(f->u.height, TRACKER_DEFAULT_HEIGHT);
	assert_int_equal(f->u.n_rects, 1);
	assert_int_equal(f->u.rects[0].w, TRACKER_DEFAULT_WIDTH);
	assert_int_equal(f->u.rects[0].h, TRACKER_DEFAULT_HEIGHT);
	/* Nothing changed since. */
	assert_false(display_share_take(&f->share, &f->u));
	assert_int_equal(refresh(f), TRACKER_NO_SURFACE);
	assert_false(display_share_take(&f->share, &f->u));
}

static void test_display_share_resize_reports_new_geometry_in_full(void **state)
{
	struct fixture *f = *state;

	assert_true(display_share_take(&f->share, &f->u));
	publish(f, FB_W, FB_H);
	assert_int_equal(refresh(f), TRACKER_RESIZED);
	/* Changes after the resize but before the take are inside it. */
	put_pixel(f, FB_W, 5, 5, 0x123456);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(display_share_take(&f->share, &f->u));
	assert_true(f->u.resized);
	assert_int_equal(f->u.width, FB_W);
	assert_int_equal(f->u.height, FB_H);
	assert_int_equal(f->u.n_rects, 1);
	assert_int_equal(f->u.rects[0].x, 0);
	assert_int_equal(f->u.rects[0].w, FB_W);
	assert_int_equal(f->u.rects[0].h, FB_H);
}

static void test_display_share_accumulates_rects_between_takes(void **state)
{
	struct fixture *f = *state;

	start_surface(f);
	put_pixel(f, FB_W, 0, 0, 0xFF0000);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	put_pixel(f, FB_W, FB_W - 1, FB_H - 1, 0x00FF00);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_true(display_share_take(&f->share, &f->u));
	assert_false(f->u.resized);
	assert_int_equal(f->u.n_rects, 2);
	assert_int_equal(f->u.rects[0].x, 0);
	assert_int_equal(f->u.rects[0].y, 0);
	assert_int_equal(f->u.rects[1].x + f->u.rects[1].w, FB_W);
	assert_int_equal(f->u.rects[1].y + f->u.rects[1].h, FB_H);
	assert_false(display_share_take(&f->share, &f->u));
}

static void test_display_share_merges_rects_it_has_no_room_for(void **state)
{
	struct fixture *f = *state;

	start_surface(f);
	/* One tile changed per refresh, more refreshes than rects kept. */
	for (uint32_t i = 0; i < DISPLAY_SHARE_MAX_RECTS + 5; i++) {
		put_pixel(f, FB_W, (i % 8) * TRACKER_TILE_W, (i / 8) * TRACKER_TILE_H, 0xABCDEF + i);
		assert_int_equal(refresh(f), TRACKER_UPDATED);
	}
	assert_true(display_share_take(&f->share, &f->u));
	assert_true(f->u.n_rects <= DISPLAY_SHARE_MAX_RECTS);
	assert_int_equal(f->share.stats.merges, 1);
	/* The merged box still covers the first tile. */
	assert_int_equal(f->u.rects[0].x, 0);
	assert_int_equal(f->u.rects[0].y, 0);
}

static void test_display_share_notify_fd_fires_once_per_take(void **state)
{
	struct fixture *f = *state;
	int fd = display_share_notify_fd(&f->share);

	assert_true(fd >= 0);
	/* The first take is due without a wake-up: the reader starts with it. */
	start_surface(f);
	assert_false(fd_readable(fd));
	put_pixel(f, FB_W, 1, 1, 1);
	refresh(f);
	put_pixel(f, FB_W, 2, 200, 2);
	refresh(f);
	/* Two refreshes with changes, one wake-up. */
	assert_int_equal(read_efd(fd), 1);
	assert_true(display_share_take(&f->share, &f->u));
	refresh(f);
	assert_false(fd_readable(fd));          /* nothing new */
	put_pixel(f, FB_W, 3, 3, 3);
	refresh(f);
	assert_int_equal(read_efd(fd), 1);
	assert_int_equal(f->share.stats.notifies, 2);
}

static void test_display_share_without_notify_has_no_fd(void **state)
{
	struct fixture *f = make_fixture(false);

	(void)state;
	assert_int_equal(display_share_notify_fd(&f->share), -1);
	start_surface(f);
	put_pixel(f, FB_W, 1, 1, 1);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	assert_true(display_share_take(&f->share, &f->u));
	assert_int_equal(f->share.stats.notifies, 0);
	teardown((void **)&f);
}

static void test_display_share_lock_refuses_a_stale_geometry(void **state)
{
	struct fixture *f = *state;
	const uint8_t *shadow;

	shadow = display_share_lock_shadow(&f->share, TRACKER_DEFAULT_WIDTH, TRACKER_DEFAULT_HEIGHT);
	assert_ptr_equal(shadow, f->t.shadow);
	display_share_unlock_shadow(&f->share);
	publish(f, FB_W, FB_H);
	refresh(f);
	/* The reader still thinks 640x480: not locked, so the refresher goes on. */
	assert_null(display_share_lock_shadow(&f->share, TRACKER_DEFAULT_WIDTH,
					      TRACKER_DEFAULT_HEIGHT));
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	shadow = display_share_lock_shadow(&f->share, FB_W, FB_H);
	assert_ptr_equal(shadow, f->t.shadow);
	display_share_unlock_shadow(&f->share);
}

static void test_display_share_activity_reaches_the_refresher_once(void **state)
{
	struct fixture *f = *state;

	assert_false(display_share_take_activity(&f->share));
	display_share_activity(&f->share);
	display_share_activity(&f->share);
	assert_true(fd_readable(display_share_activity_fd(&f->share)));
	assert_true(display_share_take_activity(&f->share));
	assert_false(display_share_take_activity(&f->share));
	assert_false(fd_readable(display_share_activity_fd(&f->share)));
}

/* ---- watchers (the control socket) ---- */

static void test_display_share_watch_wakes_the_refresher_and_counts_refreshes(void **state)
{
	struct fixture *f = make_fixture(false);
	struct display_share_info info;
	const uint8_t *shadow;

	(void)state;
	/* Nobody reads: the refresher has no reason to run. */
	assert_false(display_share_refresh_wanted(&f->share));
	display_share_set_watch(&f->share, true, false);
	assert_true(display_share_refresh_wanted(&f->share));
	assert_false(display_share_fast_wanted(&f->share));
	/* Listening wakes a refresher sleeping without a timeout, once. */
	assert_true(display_share_take_activity(&f->share));
	display_share_set_watch(&f->share, true, false);
	assert_false(display_share_take_activity(&f->share));
	display_share_set_watch(&f->share, true, true);
	assert_true(display_share_fast_wanted(&f->share));
	assert_true(display_share_take_activity(&f->share));

	display_share_get_info(&f->share, &info);
	assert_false(info.have_frame);
	assert_int_equal(info.refreshes, 0);
	publish(f, FB_W, FB_H);
	assert_int_equal(refresh(f), TRACKER_RESIZED);
	assert_true(fd_readable(display_share_watch_fd(&f->share)));
	read_efd(display_share_watch_fd(&f->share));
	display_share_get_info(&f->share, &info);
	assert_true(info.have_frame);
	assert_int_equal(info.refreshes, 1);
	assert_int_equal(info.changes, 1);
	assert_int_equal(info.width, FB_W);
	assert_int_equal(info.height, FB_H);
	assert_true(info.last_refresh_ms > 0);

	/* A refresh that finds nothing still counts and still wakes. */
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_true(fd_readable(display_share_watch_fd(&f->share)));
	read_efd(display_share_watch_fd(&f->share));
	put_pixel(f, FB_W, 7, 9, 0x123456);
	assert_int_equal(refresh(f), TRACKER_UPDATED);
	shadow = display_share_lock_current(&f->share, &info);
	assert_int_equal(info.refreshes, 3);
	assert_int_equal(info.changes, 2);
	assert_int_equal(((const uint32_t *)shadow)[9 * FB_W + 7] & 0xffffff, 0x123456);
	display_share_unlock_shadow(&f->share);

	/* Nobody watching: no wake-ups. */
	read_efd(display_share_watch_fd(&f->share));
	display_share_set_watch(&f->share, false, false);
	assert_false(display_share_refresh_wanted(&f->share));
	assert_int_equal(refresh(f), TRACKER_UNCHANGED);
	assert_false(fd_readable(display_share_watch_fd(&f->share)));
	teardown((void **)&f);
}

/* ---- a refresher thread and a reader, at the same time ---- */

#define RACE_ROUNDS 3000

struct race {
	struct fixture *f;
	atomic_bool done;
};

static void *refresher_main(void *arg)
{
	struct race *r = arg;
	struct fixture *f = r->f;
	struct fb_rect rects[MAX_RECTS];
	size_t n;
	uint32_t seed = 12345;

	for (int i = 0; i < RACE_ROUNDS; i++) {
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245 + 12345;
			put_pixel(f, FB_W, (seed >> 8) % FB_W, (seed >> 20) % FB_H, seed & 0xFFFFFF);
		}
		display_share_refresh(&f->share, rects, MAX_RECTS, &n);
	}
	atomic_store(&r->done, true);
	return NULL;
}

/* What the SDL window does: take, then copy the rects out under the lock. */
static void reader_step(struct fixture *f, uint32_t *copy)
{
	const uint8_t *shadow;

	if (!display_share_take(&f->share, &f->u))
		return;
	assert_int_equal(f->u.width, FB_W);
	shadow = display_share_lock_shadow(&f->share, FB_W, FB_H);
	assert_non_null(shadow);
	for (size_t i = 0; i < f->u.n_rects; i++) {
		const struct fb_rect *rc = &f->u.rects[i];
		for (uint32_t y = rc->y; y < rc->y + rc->h; y++)
			memcpy(copy + (size_t)y * FB_W + rc->x, shadow + ((size_t)y * FB_W + rc->x) * 4,
			       (size_t)rc->w * 4);
	}
	display_share_unlock_shadow(&f->share);
}

static void test_display_share_reader_converges_while_another_thread_refreshes(void **state)
{
	struct fixture *f = *state;
	static uint32_t copy[FB_W * FB_H];
	struct race r = { .f = f };
	struct thread *t;

	start_surface(f);
	memcpy(copy, f->t.shadow, sizeof(copy));
	assert_int_equal(thread_start(&t, "refresher", STACK_VCPU_BYTES, refresher_main, &r), 0);
	while (!atomic_load(&r.done))
		reader_step(f, copy);
	assert_int_equal(thread_join(t, NULL), 0);
	refresh(f);
	reader_step(f, copy);
	/* The reader's picture is the guest's, pixel for pixel. */
	assert_memory_equal(copy, guest_mem_ptr(&f->mem, FB_GPA, sizeof(copy)), sizeof(copy));
	assert_true(f->share.stats.takes > 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_display_share_first_take_is_the_whole_default_shadow),
		T(test_display_share_resize_reports_new_geometry_in_full),
		T(test_display_share_accumulates_rects_between_takes),
		T(test_display_share_merges_rects_it_has_no_room_for),
		T(test_display_share_notify_fd_fires_once_per_take),
		cmocka_unit_test(test_display_share_without_notify_has_no_fd),
		T(test_display_share_lock_refuses_a_stale_geometry),
		T(test_display_share_activity_reaches_the_refresher_once),
		cmocka_unit_test(test_display_share_watch_wakes_the_refresher_and_counts_refreshes),
		T(test_display_share_reader_converges_while_another_thread_refreshes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
