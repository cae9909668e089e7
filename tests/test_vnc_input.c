/* Unit tests for vnc/input.c and the generated vnc/keysym_qnum.c: keysyms
 * and Extended Key Event codes to qnums, held keys, pointer events to
 * absolute positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vnc/input.h"
#include "vnc/keysym_qnum.h"

#define MAX_EVENTS 600

struct event {
	enum { EV_KEY, EV_POINTER, EV_ABS } kind;
	uint16_t qnum;
	bool down;
	int dx, dy, wheel;
	unsigned int buttons;
	uint32_t x, y, width, height;
};

struct recorder {
	struct event ev[MAX_EVENTS];
	size_t n;
};

static void rec_key(void *opaque, uint16_t qnum, bool down)
{
	struct recorder *r = opaque;
	assert_true(r->n < MAX_EVENTS);
	r->ev[r->n++] = (struct event){ .kind = EV_KEY, .qnum = qnum, .down = down };
}

static void rec_pointer(void *opaque, int dx, int dy, int wheel, unsigned int buttons)
{
	struct recorder *r = opaque;
	assert_true(r->n < MAX_EVENTS);
	r->ev[r->n++] = (struct event){ .kind = EV_POINTER, .dx = dx, .dy = dy, .wheel = wheel,
					.buttons = buttons };
}

static void rec_pointer_abs(void *opaque, uint32_t x, uint32_t y, uint32_t width,
			    uint32_t height, int wheel, unsigned int buttons)
{
	struct recorder *r = opaque;
	assert_true(r->n < MAX_EVENTS);
	r->ev[r->n++] = (struct event){ .kind = EV_ABS, .x = x, .y = y, .width = width,
					.height = height, .wheel = wheel, .buttons = buttons };
}

static const struct input_ops rec_ops = { .key = rec_key, .pointer = rec_pointer,
					  .pointer_abs = rec_pointer_abs };

struct fixture {
	struct recorder rec;
	struct vnc_input in;
	struct vnc_input_client c;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.in.sink = (struct input_sink){ .ops = &rec_ops, .opaque = &f.rec };
	vnc_input_client_init(&f.c);
	*state = &f;
	return 0;
}

static void assert_key(const struct event *e, uint16_t qnum, bool down)
{
	assert_int_equal(e->kind, EV_KEY);
	assert_int_equal(e->qnum, qnum);
	assert_int_equal(e->down, down);
}

static void assert_pointer(const struct event *e, int dx, int dy, int wheel, unsigned int buttons)
{
	assert_int_equal(e->kind, EV_POINTER);
	assert_int_equal(e->dx, dx);
	assert_int_equal(e->dy, dy);
	assert_int_equal(e->wheel, wheel);
	assert_int_equal(e->buttons, buttons);
}

static void assert_abs(const struct event *e, uint32_t x, uint32_t y, uint32_t width,
		       uint32_t height, int wheel, unsigned int buttons)
{
	assert_int_equal(e->kind, EV_ABS);
	assert_int_equal(e->x, x);
	assert_int_equal(e->y, y);
	assert_int_equal(e->width, width);
	assert_int_equal(e->height, height);
	assert_int_equal(e->wheel, wheel);
	assert_int_equal(e->buttons, buttons);
}

static void test_vnc_keysym_table_is_sorted_unique_and_in_qnum_range(void **state)
{
	(void)state;
	assert_true(keysym_qnum_count > 150);
	for (size_t i = 0; i < keysym_qnum_count; i++) {
		assert_true(keysym_qnum_table[i].qnum > 0 && keysym_qnum_table[i].qnum < 256);
		if (i)
			assert_true(keysym_qnum_table[i - 1].keysym < keysym_qnum_table[i].keysym);
	}
}

static void test_vnc_keysym_maps_us_layout_keys(void **state)
{
	static const struct { uint32_t keysym; uint16_t qnum; } cases[] = {
		{ 'a', 0x1e }, { 'A', 0x1e }, { 'z', 0x2c }, { '1', 0x02 }, { '!', 0x02 },
		{ '@', 0x03 }, { '0', 0x0b }, { ')', 0x0b }, { ' ', 0x39 }, { '\\', 0x2b },
		{ '|', 0x2b }, { '_', 0x0c }, { '~', 0x29 }, { '?', 0x35 }, { '"', 0x28 },
		{ 0xff1b, 0x01 },   /* Escape */
		{ 0xff0d, 0x1c },   /* Return */
		{ 0xff08, 0x0e },   /* BackSpace */
		{ 0xff09, 0x0f },   /* Tab */
		{ 0xffe1, 0x2a },   /* Shift_L */
		{ 0xffe3, 0x1d },   /* Control_L */
		{ 0xffe4, 0x9d },   /* Control_R: E0 1D */
		{ 0xffea, 0xb8 },   /* Alt_R: E0 38 */
		{ 0xff8d, 0x9c },   /* KP_Enter: E0 1C */
		{ 0xff52, 0xc8 },   /* Up: E0 48 */
		{ 0xff51, 0xcb },   /* Left */
		{ 0xffff, 0xd3 },   /* Delete */
		{ 0xffbe, 0x3b },   /* F1 */
		{ 0xffc9, 0x58 },   /* F12 */
		{ 0xffaa, 0x37 },   /* KP_Multiply (extra) */
		{ 0xff95, 0x47 },   /* KP_Home: the keypad 7 key (extra) */
		{ 0xffeb, 0xdb },   /* Super_L (extra) */
		{ 0xfe03, 0xb8 },   /* ISO_Level3_Shift = AltGr (extra) */
		{ 0xfe20, 0x0f },   /* ISO_Left_Tab (extra) */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(vnc_keysym_to_qnum(cases[i].keysym), cases[i].qnum);
}

static void test_vnc_keysym_unknown_gives_zero(void **state)
{
	static const uint32_t unknown[] = { 0, 0x20ac /* EuroSign */, 0xe9 /* eacute */,
					    0x1008ff13 /* XF86AudioRaiseVolume */, 0xffffffff };
	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		assert_int_equal(vnc_keysym_to_qnum(unknown[i]), 0);
}

static void test_vnc_input_forwards_press_and_release(void **state)
{
	struct fixture *f = *state;
	vnc_input_keysym(&f->in, &f->c, 'q', true);
	vnc_input_keysym(&f->in, &f->c, 'Q', false);   /* released with Shift held */
	assert_int_equal(f->rec.n, 2);
	assert_key(&f->rec.ev[0], 0x10, true);
	assert_key(&f->rec.ev[1], 0x10, false);
	assert_int_equal(f->in.stats.key_events, 2);
}

static void test_vnc_input_passes_repeated_presses_on(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 3; i++)
		vnc_input_keysym(&f->in, &f->c, 'x', true);
	assert_int_equal(f->rec.n, 3);
	assert_key(&f->rec.ev[2], 0x2d, true);
}

static void test_vnc_input_ignores_release_of_key_not_held(void **state)
{
	struct fixture *f = *state;
	vnc_input_keysym(&f->in, &f->c, 'x', false);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(f->in.stats.stray_releases, 1);
}

static void test_vnc_input_ignores_unknown_keysym(void **state)
{
	struct fixture *f = *state;
	vnc_input_keysym(&f->in, &f->c, 0x20ac, true);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(f->in.stats.unknown_keysyms, 1);
}

static void test_vnc_input_release_all_releases_held_keys_and_buttons(void **state)
{
	struct fixture *f = *state;
	vnc_input_keysym(&f->in, &f->c, 0xffe1, true);       /* Shift_L */
	vnc_input_ext_key(&f->in, &f->c, 0, 0x9d, true);      /* Control_R by code */
	vnc_input_keysym(&f->in, &f->c, 'a', true);
	vnc_input_keysym(&f->in, &f->c, 'a', false);
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_LEFT, 10, 10, 100, 100);
	f->rec.n = 0;
	vnc_input_release_all(&f->in, &f->c);
	assert_int_equal(f->rec.n, 3);
	assert_key(&f->rec.ev[0], 0x2a, false);
	assert_key(&f->rec.ev[1], 0x9d, false);
	assert_pointer(&f->rec.ev[2], 0, 0, 0, 0);
	assert_int_equal(f->in.stats.released_on_disconnect, 2);
	f->rec.n = 0;
	vnc_input_release_all(&f->in, &f->c);
	assert_int_equal(f->rec.n, 0);
}

static void test_vnc_input_ext_key_uses_keycode_whatever_the_keysym(void **state)
{
	struct fixture *f = *state;
	/* A French AZERTY client typing its 'a' (keysym a) on the US 'q' key. */
	vnc_input_ext_key(&f->in, &f->c, 'a', 0x10, true);
	vnc_input_ext_key(&f->in, &f->c, 'a', 0x10, false);
	assert_int_equal(f->rec.n, 2);
	assert_key(&f->rec.ev[0], 0x10, true);
	assert_key(&f->rec.ev[1], 0x10, false);
	assert_int_equal(f->in.stats.ext_key_events, 2);
}

static void test_vnc_input_ext_key_without_keycode_falls_back_to_keysym(void **state)
{
	struct fixture *f = *state;
	vnc_input_ext_key(&f->in, &f->c, 'a', 0, true);
	assert_int_equal(f->rec.n, 1);
	assert_key(&f->rec.ev[0], 0x1e, true);
}

static void test_vnc_input_ext_key_ignores_codes_above_a_byte(void **state)
{
	static const uint32_t bad[] = { 0x100, 0xe01c, 0xffffffff };
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		vnc_input_ext_key(&f->in, &f->c, 'a', bad[i], true);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(f->in.stats.bad_keycodes, 3);
}

static void test_vnc_pointer_first_event_sends_its_position(void **state)
{
	struct fixture *f = *state;
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_LEFT, 300, 200, 640, 480);
	assert_int_equal(f->rec.n, 1);
	assert_abs(&f->rec.ev[0], 300, 200, 640, 480, 0, INPUT_BUTTON_LEFT);
}

static void test_vnc_pointer_sends_positions_but_not_repeats(void **state)
{
	struct fixture *f = *state;
	vnc_input_pointer(&f->in, &f->c, 0, 300, 200, 640, 480);
	vnc_input_pointer(&f->in, &f->c, 0, 310, 190, 640, 480);
	vnc_input_pointer(&f->in, &f->c, 0, 310, 190, 640, 480);
	vnc_input_pointer(&f->in, &f->c, 0, 0, 479, 640, 480);
	assert_int_equal(f->rec.n, 3);
	assert_abs(&f->rec.ev[0], 300, 200, 640, 480, 0, 0);
	assert_abs(&f->rec.ev[1], 310, 190, 640, 480, 0, 0);
	assert_abs(&f->rec.ev[2], 0, 479, 640, 480, 0, 0);
	assert_int_equal(f->in.stats.pointer_events, 3);
}

static void test_vnc_pointer_clamps_to_the_screen(void **state)
{
	struct fixture *f = *state;
	vnc_input_pointer(&f->in, &f->c, 0, 639, 479, 640, 480);
	vnc_input_pointer(&f->in, &f->c, 0, 65535, 65535, 640, 480);   /* beyond the edge */
	assert_int_equal(f->rec.n, 1);   /* clamped to where it was: nothing new */
	vnc_input_pointer(&f->in, &f->c, 0, -5, -5, 640, 480);
	assert_int_equal(f->rec.n, 2);
	assert_abs(&f->rec.ev[0], 639, 479, 640, 480, 0, 0);
	assert_abs(&f->rec.ev[1], 0, 0, 640, 480, 0, 0);
}

static void test_vnc_pointer_maps_buttons(void **state)
{
	struct fixture *f = *state;
	vnc_input_pointer(&f->in, &f->c, 0, 5, 5, 640, 480);
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_MIDDLE, 5, 5, 640, 480);
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_RIGHT | VNC_MASK_LEFT, 5, 5, 640, 480);
	vnc_input_pointer(&f->in, &f->c, 0xE0 /* bits 5-7: no PS/2 meaning */, 5, 5, 640, 480);
	assert_int_equal(f->rec.n, 4);
	assert_abs(&f->rec.ev[1], 5, 5, 640, 480, 0, INPUT_BUTTON_MIDDLE);
	assert_abs(&f->rec.ev[2], 5, 5, 640, 480, 0, INPUT_BUTTON_RIGHT | INPUT_BUTTON_LEFT);
	assert_abs(&f->rec.ev[3], 5, 5, 640, 480, 0, 0);
}

static void test_vnc_pointer_wheel_steps_on_each_press(void **state)
{
	struct fixture *f = *state;
	vnc_input_pointer(&f->in, &f->c, 0, 5, 5, 640, 480);
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_WHEEL_UP, 5, 5, 640, 480);
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_WHEEL_UP, 5, 5, 640, 480);   /* still held */
	vnc_input_pointer(&f->in, &f->c, 0, 5, 5, 640, 480);
	vnc_input_pointer(&f->in, &f->c, VNC_MASK_WHEEL_DOWN, 5, 5, 640, 480);
	assert_int_equal(f->rec.n, 3);
	assert_abs(&f->rec.ev[1], 5, 5, 640, 480, 1, 0);
	assert_abs(&f->rec.ev[2], 5, 5, 640, 480, -1, 0);
}

static void test_vnc_input_without_sink_counts_but_sends_nothing(void **state)
{
	struct vnc_input in;
	struct vnc_input_client c;
	(void)state;
	memset(&in, 0, sizeof(in));
	vnc_input_client_init(&c);
	vnc_input_keysym(&in, &c, 'a', true);
	vnc_input_pointer(&in, &c, VNC_MASK_LEFT, 1, 1, 2, 2);
	vnc_input_release_all(&in, &c);
	assert_int_equal(in.stats.key_events, 1);
	assert_int_equal(in.stats.released_on_disconnect, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, setup)
	const struct CMUnitTest tests[] = {
		T(test_vnc_keysym_table_is_sorted_unique_and_in_qnum_range),
		T(test_vnc_keysym_maps_us_layout_keys),
		T(test_vnc_keysym_unknown_gives_zero),
		T(test_vnc_input_forwards_press_and_release),
		T(test_vnc_input_passes_repeated_presses_on),
		T(test_vnc_input_ignores_release_of_key_not_held),
		T(test_vnc_input_ignores_unknown_keysym),
		T(test_vnc_input_release_all_releases_held_keys_and_buttons),
		T(test_vnc_input_ext_key_uses_keycode_whatever_the_keysym),
		T(test_vnc_input_ext_key_without_keycode_falls_back_to_keysym),
		T(test_vnc_input_ext_key_ignores_codes_above_a_byte),
		T(test_vnc_pointer_first_event_sends_its_position),
		T(test_vnc_pointer_sends_positions_but_not_repeats),
		T(test_vnc_pointer_clamps_to_the_screen),
		T(test_vnc_pointer_maps_buttons),
		T(test_vnc_pointer_wheel_steps_on_each_press),
		T(test_vnc_input_without_sink_counts_but_sends_nothing),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
