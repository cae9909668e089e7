/*
 * Tests for sdl/input.c: SDL key and mouse events as the guest's input
 * device sees them (a recording sink stands in for the i8042).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <SDL_scancode.h>

#include "sdl/input.h"

#define MAX_CALLS 64

struct call {
	char kind;              /* 'k' key, 'p' pointer, 'a' absolute pointer */
	uint16_t qnum;
	bool down;
	int dx, dy, wheel;
	unsigned int buttons;
	uint32_t x, y, width, height;
};

struct recorder {
	struct call calls[MAX_CALLS];
	size_t n;
};

static void rec_key(void *opaque, uint16_t qnum, bool down)
{
	struct recorder *r = opaque;

	assert_true(r->n < MAX_CALLS);
	r->calls[r->n++] = (struct call){ .kind = 'k', .qnum = qnum, .down = down };
}

static void rec_pointer(void *opaque, int dx, int dy, int wheel, unsigned int buttons)
{
	struct recorder *r = opaque;

	assert_true(r->n < MAX_CALLS);
	r->calls[r->n++] = (struct call){ .kind = 'p', .dx = dx, .dy = dy, .wheel = wheel,
					  .buttons = buttons };
}

static void rec_pointer_abs(void *opaque, uint32_t x, uint32_t y, uint32_t width,
			    uint32_t height, int wheel, unsigned int buttons)
{
	struct recorder *r = opaque;

	assert_true(r->n < MAX_CALLS);
	r->calls[r->n++] = (struct call){ .kind = 'a', .x = x, .y = y, .width = width,
					  .height = height, .wheel = wheel, .buttons = buttons };
}

static const struct input_ops rec_ops = { .key = rec_key, .pointer = rec_pointer,
					  .pointer_abs = rec_pointer_abs };

struct fixture {
	struct recorder rec;
	struct sdl_input in;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	sdl_input_init(&f.in, (struct input_sink){ .ops = &rec_ops, .opaque = &f.rec });
	*state = &f;
	return 0;
}

static void expect_key(const struct fixture *f, size_t i, uint16_t qnum, bool down)
{
	assert_true(i < f->rec.n);
	assert_int_equal(f->rec.calls[i].kind, 'k');
	assert_int_equal(f->rec.calls[i].qnum, qnum);
	assert_int_equal(f->rec.calls[i].down, down);
}

static void expect_pointer(const struct fixture *f, size_t i, int dx, int dy, int wheel,
			   unsigned int buttons)
{
	assert_true(i < f->rec.n);
	assert_int_equal(f->rec.calls[i].kind, 'p');
	assert_int_equal(f->rec.calls[i].dx, dx);
	assert_int_equal(f->rec.calls[i].dy, dy);
	assert_int_equal(f->rec.calls[i].wheel, wheel);
	assert_int_equal(f->rec.calls[i].buttons, buttons);
}

static void test_sdl_input_passes_keys_by_position(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_A, true), SDL_INPUT_PASSED);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_A, false), SDL_INPUT_PASSED);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_RIGHT, true), SDL_INPUT_PASSED);
	assert_int_equal(f->rec.n, 3);
	expect_key(f, 0, 0x1e, true);
	expect_key(f, 1, 0x1e, false);
	expect_key(f, 2, 0xcd, true);
	assert_int_equal(f->in.stats.keys, 3);
}

static void test_sdl_input_passes_auto_repeat_as_presses(void **state)
{
	struct fixture *f = *state;

	sdl_input_key(&f->in, SDL_SCANCODE_B, true);
	sdl_input_key(&f->in, SDL_SCANCODE_B, true);
	sdl_input_key(&f->in, SDL_SCANCODE_B, false);
	assert_int_equal(f->rec.n, 3);
	expect_key(f, 0, 0x30, true);
	expect_key(f, 1, 0x30, true);
	expect_key(f, 2, 0x30, false);
}

static void test_sdl_input_drops_stray_releases_and_unknown_keys(void **state)
{
	struct fixture *f = *state;

	/* Pressed before the window had focus: the guest never saw it. */
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_C, false), SDL_INPUT_DROPPED);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_UNKNOWN, true), SDL_INPUT_DROPPED);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_AUDIONEXT, true), SDL_INPUT_DROPPED);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(f->in.stats.stray_releases, 1);
	assert_int_equal(f->in.stats.unknown_scancodes, 2);
}

static void test_sdl_input_ctrl_alt_g_toggles_the_grab_and_is_not_passed(void **state)
{
	struct fixture *f = *state;

	sdl_input_key(&f->in, SDL_SCANCODE_LCTRL, true);
	sdl_input_key(&f->in, SDL_SCANCODE_LALT, true);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_G, true), SDL_INPUT_GRAB_TOGGLE);
	/* Its auto-repeat and release are ours too. */
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_G, true), SDL_INPUT_DROPPED);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_G, false), SDL_INPUT_DROPPED);
	sdl_input_key(&f->in, SDL_SCANCODE_LALT, false);
	sdl_input_key(&f->in, SDL_SCANCODE_LCTRL, false);
	/* The guest saw Ctrl and Alt go down and up, never G. */
	assert_int_equal(f->rec.n, 4);
	expect_key(f, 0, 0x1d, true);
	expect_key(f, 1, 0x38, true);
	expect_key(f, 2, 0x38, false);
	expect_key(f, 3, 0x1d, false);
	assert_int_equal(f->in.stats.grab_toggles, 1);
	assert_int_equal(f->in.stats.stray_releases, 0);
}

static void test_sdl_input_grab_key_works_with_right_ctrl_and_alt_gr(void **state)
{
	struct fixture *f = *state;

	sdl_input_key(&f->in, SDL_SCANCODE_RCTRL, true);
	sdl_input_key(&f->in, SDL_SCANCODE_RALT, true);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_G, true), SDL_INPUT_GRAB_TOGGLE);
}

static void test_sdl_input_g_without_both_modifiers_is_a_key(void **state)
{
	struct fixture *f = *state;

	sdl_input_key(&f->in, SDL_SCANCODE_LCTRL, true);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_G, true), SDL_INPUT_PASSED);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_G, false), SDL_INPUT_PASSED);
	expect_key(f, 1, 0x22, true);
	expect_key(f, 2, 0x22, false);
}

static void test_sdl_input_release_all_lets_go_of_keys_and_buttons(void **state)
{
	struct fixture *f = *state;

	sdl_input_key(&f->in, SDL_SCANCODE_LSHIFT, true);
	sdl_input_key(&f->in, SDL_SCANCODE_KP_ENTER, true);
	sdl_input_button(&f->in, INPUT_BUTTON_RIGHT, true);
	f->rec.n = 0;
	sdl_input_release_all(&f->in);
	assert_int_equal(f->rec.n, 3);
	expect_key(f, 0, 0x2a, false);
	expect_key(f, 1, 0x9c, false);
	expect_pointer(f, 2, 0, 0, 0, 0);
	assert_int_equal(f->in.stats.auto_released, 2);
	/* Nothing held any more: the releases that follow are stray. */
	sdl_input_release_all(&f->in);
	assert_int_equal(f->rec.n, 3);
	assert_int_equal(sdl_input_key(&f->in, SDL_SCANCODE_LSHIFT, false), SDL_INPUT_DROPPED);
}

static void expect_abs(const struct fixture *f, size_t i, uint32_t x, uint32_t y,
		       uint32_t width, uint32_t height, unsigned int buttons)
{
	assert_true(i < f->rec.n);
	assert_int_equal(f->rec.calls[i].kind, 'a');
	assert_int_equal(f->rec.calls[i].x, x);
	assert_int_equal(f->rec.calls[i].y, y);
	assert_int_equal(f->rec.calls[i].width, width);
	assert_int_equal(f->rec.calls[i].height, height);
	assert_int_equal(f->rec.calls[i].wheel, 0);
	assert_int_equal(f->rec.calls[i].buttons, buttons);
}

static void test_sdl_input_motion_to_sends_positions_not_repeats(void **state)
{
	struct fixture *f = *state;

	sdl_input_motion_to(&f->in, 100, 100, 1024, 768);
	sdl_input_motion_to(&f->in, 110, 95, 1024, 768);
	sdl_input_motion_to(&f->in, 110, 95, 1024, 768);   /* no move, no event */
	sdl_input_button(&f->in, INPUT_BUTTON_RIGHT, true);
	sdl_input_motion_to(&f->in, 0, 767, 1024, 768);
	sdl_input_motion_to(&f->in, 0, 767, 640, 480);     /* the guest changed mode */
	assert_int_equal(f->rec.n, 5);
	expect_abs(f, 0, 100, 100, 1024, 768, 0);
	expect_abs(f, 1, 110, 95, 1024, 768, 0);
	expect_pointer(f, 2, 0, 0, 0, INPUT_BUTTON_RIGHT);
	expect_abs(f, 3, 0, 767, 1024, 768, INPUT_BUTTON_RIGHT);
	expect_abs(f, 4, 0, 767, 640, 480, INPUT_BUTTON_RIGHT);
	/* After the grab changed, the same position is sent again. */
	sdl_input_forget_position(&f->in);
	sdl_input_motion_to(&f->in, 0, 767, 640, 480);
	assert_int_equal(f->rec.n, 6);
	expect_abs(f, 5, 0, 767, 640, 480, INPUT_BUTTON_RIGHT);
}

static void test_sdl_input_grabbed_motion_buttons_and_wheel(void **state)
{
	struct fixture *f = *state;

	sdl_input_motion_by(&f->in, 3, -4);
	sdl_input_motion_by(&f->in, 0, 0);
	sdl_input_button(&f->in, INPUT_BUTTON_LEFT, true);
	sdl_input_button(&f->in, INPUT_BUTTON_LEFT, true);       /* no change */
	sdl_input_button(&f->in, INPUT_BUTTON_MIDDLE, true);
	sdl_input_wheel(&f->in, -2);
	sdl_input_button(&f->in, INPUT_BUTTON_LEFT, false);
	sdl_input_button(&f->in, 0, true);                        /* a button we do not pass */
	assert_int_equal(f->rec.n, 5);
	expect_pointer(f, 0, 3, -4, 0, 0);
	expect_pointer(f, 1, 0, 0, 0, INPUT_BUTTON_LEFT);
	expect_pointer(f, 2, 0, 0, 0, INPUT_BUTTON_LEFT | INPUT_BUTTON_MIDDLE);
	expect_pointer(f, 3, 0, 0, -2, INPUT_BUTTON_LEFT | INPUT_BUTTON_MIDDLE);
	expect_pointer(f, 4, 0, 0, 0, INPUT_BUTTON_MIDDLE);
	assert_int_equal(f->in.stats.pointer_events, 5);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, setup)
	const struct CMUnitTest tests[] = {
		T(test_sdl_input_passes_keys_by_position),
		T(test_sdl_input_passes_auto_repeat_as_presses),
		T(test_sdl_input_drops_stray_releases_and_unknown_keys),
		T(test_sdl_input_ctrl_alt_g_toggles_the_grab_and_is_not_passed),
		T(test_sdl_input_grab_key_works_with_right_ctrl_and_alt_gr),
		T(test_sdl_input_g_without_both_modifiers_is_a_key),
		T(test_sdl_input_release_all_lets_go_of_keys_and_buttons),
		T(test_sdl_input_motion_to_sends_positions_not_repeats),
		T(test_sdl_input_grabbed_motion_buttons_and_wheel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
