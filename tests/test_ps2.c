/* Unit tests for devices/ps2.c, devices/ps2_keyboard.c and devices/ps2_mouse.c:
 * the byte queue, scan code sequences in sets 1 and 2, keyboard commands,
 * mouse packets, the IntelliMouse knock and the mouse's modes. The
 * controller around them is tested in test_i8042.c. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/input.h"
#include "devices/keymap_qnum_set2.h"
#include "devices/ps2.h"
#include "devices/ps2_keyboard.h"
#include "devices/ps2_mouse.h"
#include "hypervisor/log.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define QNUM_CTRL_L  0x1D
#define QNUM_SHIFT_L 0x2A
#define QNUM_ALT_L   0x38
#define QNUM_A       0x1E
#define QNUM_F7      0x41
#define QNUM_KP_ENTER 0x9C
#define QNUM_RIGHT   0xCD
#define QNUM_PRINT   0x54
#define QNUM_PRINT_ALIAS 0xB7
#define QNUM_PAUSE   0xC6
#define QNUM_HANJA   0x71

struct bytes {
	uint8_t b[PS2_QUEUE_BYTES];
	size_t n;
};

static int quiet(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR);
	return 0;
}

static struct bytes kbd_drain(struct ps2_kbd *kbd)
{
	struct bytes out = { .n = 0 };

	while (out.n < sizeof(out.b) && ps2_kbd_pop(kbd, &out.b[out.n]))
		out.n++;
	return out;
}

static struct bytes mouse_drain(struct ps2_mouse *m)
{
	struct bytes out = { .n = 0 };

	while (out.n < sizeof(out.b) && ps2_mouse_pop(m, &out.b[out.n]))
		out.n++;
	return out;
}

static void expect_bytes(const char *what, struct bytes got, const uint8_t *want, size_t n)
{
	if (got.n == n && (n == 0 || !memcmp(got.b, want, n)))
		return;
	char text[3 * PS2_QUEUE_BYTES + 1] = "";
	for (size_t i = 0; i < got.n && i < 32; i++)
		snprintf(text + 3 * i, sizeof(text) - 3 * i, " %02x", got.b[i]);
	fail_msg("%s: got %zu bytes [%s ], want %zu", what, got.n, text, n);
}

#define EXPECT(what, got, ...)                                                 \
	do {                                                                   \
		const uint8_t want_[] = { __VA_ARGS__ };                       \
		expect_bytes((what), (got), want_, sizeof(want_));             \
	} while (0)
#define EXPECT_NONE(what, got) expect_bytes((what), (got), NULL, 0)

/* ---- queue ---- */

static void test_ps2_queue_push_is_all_or_nothing(void **state)
{
	static const uint8_t five[5] = { 1, 2, 3, 4, 5 };
	struct ps2_queue q;
	uint8_t b;

	(void)state;
	ps2_queue_init(&q, 8);
	assert_true(ps2_queue_push(&q, five, 5));
	assert_false(ps2_queue_push(&q, five, 4)); /* 3 free */
	assert_int_equal(ps2_queue_count(&q), 5);
	assert_true(ps2_queue_push(&q, five, 3));
	assert_int_equal(ps2_queue_space(&q), 0);
	for (int i = 0; i < 5; i++) {
		assert_true(ps2_queue_pop(&q, &b));
		assert_int_equal(b, five[i]);
	}
}

static void test_ps2_queue_wraps_around_its_storage(void **state)
{
	struct ps2_queue q;
	uint8_t b;

	(void)state;
	ps2_queue_init(&q, PS2_QUEUE_BYTES);
	for (unsigned int i = 0; i < 3 * PS2_QUEUE_BYTES; i++) {
		uint8_t v = (uint8_t)(i * 7);

		assert_true(ps2_queue_push(&q, &v, 1));
		assert_true(ps2_queue_pop(&q, &b));
		assert_int_equal(b, v);
	}
	assert_false(ps2_queue_pop(&q, &b));
	ps2_queue_init(&q, 0); /* clamped to 1 */
	assert_int_equal(ps2_queue_space(&q), 1);
	ps2_queue_init(&q, 100000); /* clamped to the storage */
	assert_int_equal(ps2_queue_space(&q), PS2_QUEUE_BYTES);
}

/* ---- keyboard ---- */

static void test_ps2_kbd_key_sequences(void **state)
{
	static const struct {
		const char *what;
		uint8_t set;
		uint8_t modifier; /* held during the event, 0 = none */
		uint8_t qnum;
		bool down;
		uint8_t want[8];
		size_t n;
	} cases[] = {
		{ "a press, set 2", 2, 0, QNUM_A, true, { 0x1C }, 1 },
		{ "a release, set 2", 2, 0, QNUM_A, false, { 0xF0, 0x1C }, 2 },
		{ "right press, set 2", 2, 0, QNUM_RIGHT, true, { 0xE0, 0x74 }, 2 },
		{ "right release, set 2", 2, 0, QNUM_RIGHT, false, { 0xE0, 0xF0, 0x74 }, 3 },
		{ "keypad enter press, set 2", 2, 0, QNUM_KP_ENTER, true, { 0xE0, 0x5A }, 2 },
		{ "F7 release, set 2", 2, 0, QNUM_F7, false, { 0xF0, 0x83 }, 2 },
		{ "print press, set 2", 2, 0, QNUM_PRINT, true, { 0xE0, 0x12, 0xE0, 0x7C }, 4 },
		{ "print release, set 2", 2, 0, QNUM_PRINT, false,
		  { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 }, 6 },
		{ "print alias press, set 2", 2, 0, QNUM_PRINT_ALIAS, true,
		  { 0xE0, 0x12, 0xE0, 0x7C }, 4 },
		{ "shift+print press, set 2", 2, QNUM_SHIFT_L, QNUM_PRINT, true, { 0xE0, 0x7C }, 2 },
		{ "alt+sysrq press, set 2", 2, QNUM_ALT_L, QNUM_PRINT, true, { 0x84 }, 1 },
		{ "alt+sysrq release, set 2", 2, QNUM_ALT_L, QNUM_PRINT, false, { 0xF0, 0x84 }, 2 },
		{ "pause press, set 2", 2, 0, QNUM_PAUSE, true,
		  { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 }, 8 },
		{ "pause release, set 2", 2, 0, QNUM_PAUSE, false, { 0 }, 0 },
		{ "ctrl+break press, set 2", 2, QNUM_CTRL_L, QNUM_PAUSE, true,
		  { 0xE0, 0x7E, 0xE0, 0xF0, 0x7E }, 5 },
		{ "hanja press, set 2", 2, 0, QNUM_HANJA, true, { 0xF1 }, 1 },
		{ "hanja release has no break", 2, 0, QNUM_HANJA, false, { 0 }, 0 },
		{ "a press, set 1", 1, 0, QNUM_A, true, { 0x1E }, 1 },
		{ "a release, set 1", 1, 0, QNUM_A, false, { 0x9E }, 1 },
		{ "right release, set 1", 1, 0, QNUM_RIGHT, false, { 0xE0, 0xCD }, 2 },
		{ "print press, set 1", 1, 0, QNUM_PRINT, true, { 0xE0, 0x2A, 0xE0, 0x37 }, 4 },
		{ "print release, set 1", 1, 0, QNUM_PRINT, false, { 0xE0, 0xB7, 0xE0, 0xAA }, 4 },
		{ "ctrl+print press, set 1", 1, QNUM_CTRL_L, QNUM_PRINT, true, { 0xE0, 0x37 }, 2 },
		{ "alt+sysrq release, set 1", 1, QNUM_ALT_L, QNUM_PRINT, false, { 0xD4 }, 1 },
		{ "pause press, set 1", 1, 0, QNUM_PAUSE, true,
		  { 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5 }, 6 },
		{ "ctrl+break press, set 1", 1, QNUM_CTRL_L, QNUM_PAUSE, true,
		  { 0xE0, 0x46, 0xE0, 0xC6 }, 4 },
		{ "hanja press, set 1", 1, 0, QNUM_HANJA, true, { 0xF1 }, 1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ps2_kbd kbd;

		ps2_kbd_init(&kbd);
		ps2_kbd_host_active(&kbd);
		kbd.scan_set = cases[i].set;
		if (cases[i].modifier) {
			assert_int_equal(ps2_kbd_key(&kbd, cases[i].modifier, true), 0);
			kbd_drain(&kbd);
		}
		assert_int_equal(ps2_kbd_key(&kbd, cases[i].qnum, cases[i].down), 0);
		expect_bytes(cases[i].what, kbd_drain(&kbd), cases[i].want, cases[i].n);
	}
}

static void test_ps2_kbd_scan_set_query_and_select(void **state)
{
	struct ps2_kbd kbd;

	(void)state;
	ps2_kbd_init(&kbd);
	ps2_kbd_write(&kbd, 0xF0);
	EXPECT("F0", kbd_drain(&kbd), 0xFA);
	ps2_kbd_write(&kbd, 0x00);
	EXPECT("query", kbd_drain(&kbd), 0xFA, 0x02);
	ps2_kbd_write(&kbd, 0xF0);
	ps2_kbd_write(&kbd, 0x01);
	EXPECT("select 1", kbd_drain(&kbd), 0xFA);
	ps2_kbd_write(&kbd, 0xF0);
	ps2_kbd_write(&kbd, 0x03);
	EXPECT("select 3 refused", kbd_drain(&kbd), 0xFE);
	ps2_kbd_write(&kbd, 0xF0);
	ps2_kbd_write(&kbd, 0x00);
	EXPECT("still set 1", kbd_drain(&kbd), 0xFA, 0x01);
}

static void test_ps2_kbd_bad_parameters_answer_resend(void **state)
{
	static const struct {
		uint8_t cmd, param;
	} cases[] = {
		{ 0xF0, 0x03 }, { 0xF0, 0x04 }, { 0xF0, 0x7F }, { 0xF3, 0x80 }, { 0xF3, 0xEC },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ps2_kbd kbd;

		ps2_kbd_init(&kbd);
		ps2_kbd_write(&kbd, cases[i].cmd);
		EXPECT("command ack", kbd_drain(&kbd), 0xFA);
		ps2_kbd_write(&kbd, cases[i].param);
		EXPECT("bad parameter", kbd_drain(&kbd), 0xFE);
		assert_int_equal(kbd.stats.bad_params, 1);
		assert_int_equal(kbd.pending_cmd, 0);
		assert_int_equal(kbd.scan_set, 2);
	}
}

static void test_ps2_kbd_leds_keep_only_the_three_led_bits(void **state)
{
	struct ps2_kbd kbd;

	(void)state;
	ps2_kbd_init(&kbd);
	ps2_kbd_write(&kbd, 0xED);
	ps2_kbd_write(&kbd, 0x7F);
	EXPECT("leds", kbd_drain(&kbd), 0xFA);
	assert_int_equal(kbd.leds, 0x07);
}

static void test_ps2_kbd_new_command_discards_unread_replies(void **state)
{
	struct ps2_kbd kbd;

	(void)state;
	ps2_kbd_init(&kbd);
	ps2_kbd_write(&kbd, 0xF2);
	ps2_kbd_write(&kbd, 0xEE);
	EXPECT("only the echo", kbd_drain(&kbd), 0xEE);
}

static void test_ps2_kbd_replies_go_before_queued_keys(void **state)
{
	struct ps2_kbd kbd;

	(void)state;
	ps2_kbd_init(&kbd);
	assert_int_equal(ps2_kbd_key(&kbd, QNUM_A, true), 0);
	ps2_kbd_write(&kbd, 0xEE);
	EXPECT("echo first", kbd_drain(&kbd), 0xEE, 0x1C);
}

static void test_ps2_kbd_reset_clears_queue_and_restores_set2(void **state)
{
	struct ps2_kbd kbd;

	(void)state;
	ps2_kbd_init(&kbd);
	kbd.scan_set = 1;
	assert_int_equal(ps2_kbd_key(&kbd, QNUM_A, true), 0);
	ps2_kbd_write(&kbd, 0xFF);
	EXPECT("reset", kbd_drain(&kbd), 0xFA, 0xAA);
	assert_int_equal(kbd.scan_set, 2);
	assert_true(kbd.scanning);
}

static void test_ps2_kbd_drops_keys_while_scanning_disabled(void **state)
{
	struct ps2_kbd kbd;

	(void)state;
	ps2_kbd_init(&kbd);
	ps2_kbd_write(&kbd, 0xF5);
	EXPECT("disable", kbd_drain(&kbd), 0xFA);
	assert_int_equal(ps2_kbd_key(&kbd, QNUM_A, true), -EAGAIN);
	EXPECT_NONE("nothing queued", kbd_drain(&kbd));
	assert_int_equal(kbd.stats.keys_while_disabled, 1);
	ps2_kbd_write(&kbd, 0xF4);
	EXPECT("enable", kbd_drain(&kbd), 0xFA);
	assert_int_equal(ps2_kbd_key(&kbd, QNUM_A, true), 0);
	EXPECT("key", kbd_drain(&kbd), 0x1C);
}

static void test_ps2_kbd_counts_keys_without_scan_code(void **state)
{
	uint16_t unmapped[] = { 0x0000, 0x0100, 0xFFFF, 0 };
	struct ps2_kbd kbd;
	size_t n = 3;

	(void)state;
	/* Plus one qnum keycodemapdb has no set-2 code for. */
	for (unsigned int q = 1; q < KEYMAP_QNUM_COUNT; q++)
		if (!keymap_qnum_to_set2[q] && q != QNUM_PRINT && q != QNUM_PAUSE) {
			unmapped[n++] = (uint16_t)q;
			break;
		}
	assert_int_equal(n, 4);
	ps2_kbd_init(&kbd);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ps2_kbd_key(&kbd, unmapped[i], true), -ENOENT);
	EXPECT_NONE("nothing queued", kbd_drain(&kbd));
	assert_int_equal(kbd.stats.keys_unmapped, n);
}

static void test_ps2_kbd_idle_limit_until_host_active(void **state)
{
	struct ps2_kbd kbd;
	unsigned int queued = 0;

	(void)state;
	ps2_kbd_init(&kbd);
	for (int i = 0; i < 40; i++)
		if (ps2_kbd_key(&kbd, QNUM_A, true) == 0)
			queued++;
	/* A's break (F0 1C) stays reserved: its release always fits. */
	assert_int_equal(queued, PS2_KBD_IDLE_QUEUE_BYTES - 2);
	assert_int_equal(ps2_kbd_key(&kbd, QNUM_A, false), 0);
	ps2_kbd_host_active(&kbd);
	assert_int_equal(ps2_kbd_key(&kbd, QNUM_A, true), 0);
}

/* ---- mouse ---- */

static void mouse_cmd(struct ps2_mouse *m, uint8_t byte)
{
	ps2_mouse_write(m, byte);
}

static void mouse_enabled(struct ps2_mouse *m)
{
	ps2_mouse_init(m);
	mouse_cmd(m, 0xF4);
	EXPECT("enable", mouse_drain(m), 0xFA);
}

static void knock(struct ps2_mouse *m, const uint8_t rates[3])
{
	for (int i = 0; i < 3; i++) {
		mouse_cmd(m, 0xF3);
		mouse_cmd(m, rates[i]);
		EXPECT("set rate", mouse_drain(m), 0xFA);
	}
}

static void test_ps2_mouse_reset_replies_fa_aa_00(void **state)
{
	struct ps2_mouse m;

	(void)state;
	mouse_enabled(&m);
	assert_int_equal(ps2_mouse_pointer(&m, 3, 0, 0, 0), 0);
	mouse_cmd(&m, 0xFF);
	EXPECT("reset drops the packet", mouse_drain(&m), 0xFA, 0xAA, 0x00);
	assert_false(m.reporting);
	mouse_cmd(&m, 0xF2);
	EXPECT("standard id", mouse_drain(&m), 0xFA, 0x00);
}

static void test_ps2_mouse_intellimouse_knock_gives_id3(void **state)
{
	static const uint8_t imps[3] = { 200, 100, 80 };
	static const uint8_t imex[3] = { 200, 200, 80 };
	struct ps2_mouse m;

	(void)state;
	ps2_mouse_init(&m);
	knock(&m, imex); /* the Explorer knock is not ours: stays standard */
	mouse_cmd(&m, 0xF2);
	EXPECT("id after explorer knock", mouse_drain(&m), 0xFA, 0x00);
	knock(&m, imps);
	mouse_cmd(&m, 0xF2);
	EXPECT("id after intellimouse knock", mouse_drain(&m), 0xFA, 0x03);
	knock(&m, imex); /* Linux tries Explorer next; ID 3 stays */
	mouse_cmd(&m, 0xF2);
	EXPECT("id stays 3", mouse_drain(&m), 0xFA, 0x03);
	mouse_cmd(&m, 0xFF);
	mouse_drain(&m);
	mouse_cmd(&m, 0xF2);
	EXPECT("reset forgets the wheel", mouse_drain(&m), 0xFA, 0x00);
}

static void test_ps2_mouse_packets_for_motion_and_buttons(void **state)
{
	static const struct {
		const char *what;
		int dx, dy;
		unsigned int buttons;
		uint8_t want[3];
	} cases[] = {
		{ "right 1", 1, 0, 0, { 0x08, 0x01, 0x00 } },
		{ "left 1", -1, 0, 0, { 0x18, 0xFF, 0x00 } },
		{ "screen down 1 is ps/2 down", 0, 1, 0, { 0x28, 0x00, 0xFF } },
		{ "screen up 2 is ps/2 up", 0, -2, 0, { 0x08, 0x00, 0x02 } },
		{ "left button", 0, 0, INPUT_BUTTON_LEFT, { 0x09, 0x00, 0x00 } },
		{ "right button", 0, 0, INPUT_BUTTON_RIGHT, { 0x0A, 0x00, 0x00 } },
		{ "middle button", 0, 0, INPUT_BUTTON_MIDDLE, { 0x0C, 0x00, 0x00 } },
		{ "all buttons, extra bits ignored", 5, 5, 0xFFFFFFFF, { 0x2F, 0x05, 0xFB } },
		{ "full range", -127, -127, 0, { 0x18, 0x81, 0x7F } },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ps2_mouse m;

		mouse_enabled(&m);
		assert_int_equal(ps2_mouse_pointer(&m, cases[i].dx, cases[i].dy, 0,
						   cases[i].buttons), 0);
		expect_bytes(cases[i].what, mouse_drain(&m), cases[i].want, 3);
	}
}

static void test_ps2_mouse_wheel_goes_in_fourth_byte_after_knock(void **state)
{
	static const uint8_t imps[3] = { 200, 100, 80 };
	struct ps2_mouse m;

	(void)state;
	mouse_enabled(&m);
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 1, 0), 0);
	EXPECT_NONE("no wheel on a standard mouse", mouse_drain(&m));
	knock(&m, imps);
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 1, 0), 0);
	EXPECT("wheel up is Z -1", mouse_drain(&m), 0x08, 0x00, 0x00, 0xFF);
	assert_int_equal(ps2_mouse_pointer(&m, 2, 0, -2, 0), 0);
	EXPECT("wheel down is Z +2", mouse_drain(&m), 0x08, 0x02, 0x00, 0x02);
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 10, 0), 0);
	EXPECT("wheel split at 7", mouse_drain(&m), 0x08, 0x00, 0x00, 0xF9,
	       0x08, 0x00, 0x00, 0xFD);
}

static void test_ps2_mouse_splits_large_motion_into_packets(void **state)
{
	struct ps2_mouse m;

	(void)state;
	mouse_enabled(&m);
	assert_int_equal(ps2_mouse_pointer(&m, 300, -130, 0, INPUT_BUTTON_LEFT), 0);
	EXPECT("split", mouse_drain(&m),
	       0x09, 0x7F, 0x7F,
	       0x09, 0x7F, 0x03,
	       0x09, 0x2E, 0x00);
}

static void test_ps2_mouse_clamps_motion_beyond_packet_cap(void **state)
{
	struct ps2_mouse m;
	struct bytes got;

	(void)state;
	mouse_enabled(&m);
	assert_int_equal(ps2_mouse_pointer(&m, INT_MAX, INT_MIN, INT_MIN, 0), 0);
	got = mouse_drain(&m);
	assert_int_equal(got.n, 3 * PS2_MOUSE_MAX_PACKETS_PER_EVENT);
	for (size_t i = 0; i < got.n; i += 3) {
		assert_int_equal(got.b[i], 0x08); /* right and up: no sign bits */
		assert_int_equal(got.b[i + 1], 0x7F);
		assert_int_equal(got.b[i + 2], 0x7F);
	}
	assert_int_equal(ps2_mouse_pointer(&m, INT_MIN, INT_MAX, INT_MAX, 0), 0);
	got = mouse_drain(&m);
	assert_int_equal(got.n, 3 * PS2_MOUSE_MAX_PACKETS_PER_EVENT);
	assert_int_equal(got.b[0], 0x38);
	assert_int_equal(got.b[1], 0x81);
}

static void test_ps2_mouse_sends_nothing_for_an_unchanged_event(void **state)
{
	struct ps2_mouse m;

	(void)state;
	mouse_enabled(&m);
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 0, 0), 0);
	EXPECT_NONE("no change", mouse_drain(&m));
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 0, INPUT_BUTTON_RIGHT), 0);
	EXPECT("press", mouse_drain(&m), 0x0A, 0x00, 0x00);
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 0, INPUT_BUTTON_RIGHT), 0);
	EXPECT_NONE("still held", mouse_drain(&m));
	assert_int_equal(ps2_mouse_pointer(&m, 0, 0, 0, 0), 0);
	EXPECT("release", mouse_drain(&m), 0x08, 0x00, 0x00);
}

static void test_ps2_mouse_no_packets_while_reporting_disabled(void **state)
{
	struct ps2_mouse m;

	(void)state;
	ps2_mouse_init(&m);
	assert_int_equal(ps2_mouse_pointer(&m, 10, 10, 0, INPUT_BUTTON_LEFT), 0);
	EXPECT_NONE("power-on: reporting off", mouse_drain(&m));
	mouse_cmd(&m, 0xF4);
	mouse_drain(&m);
	assert_int_equal(ps2_mouse_pointer(&m, 1, 0, 0, INPUT_BUTTON_LEFT), 0);
	mouse_cmd(&m, 0xF5);
	EXPECT("disable drops queued packets", mouse_drain(&m), 0xFA);
}

static void test_ps2_mouse_status_request_reports_settings(void **state)
{
	struct ps2_mouse m;

	(void)state;
	mouse_enabled(&m);
	mouse_cmd(&m, 0xE8);
	mouse_cmd(&m, 0x03);
	mouse_cmd(&m, 0xF3);
	mouse_cmd(&m, 40);
	mouse_cmd(&m, 0xE7);
	mouse_drain(&m);
	ps2_mouse_pointer(&m, 0, 0, 0, INPUT_BUTTON_LEFT | INPUT_BUTTON_RIGHT);
	mouse_drain(&m);
	mouse_cmd(&m, 0xE9);
	/* enabled | 2:1 | left | right; resolution 3; 40 samples/s */
	EXPECT("status", mouse_drain(&m), 0xFA, 0x35, 0x03, 40);
	mouse_cmd(&m, 0xF6);
	mouse_cmd(&m, 0xE9);
	EXPECT("defaults", mouse_drain(&m), 0xFA, 0x05, 0x02, 100);
}

static void test_ps2_mouse_remote_mode_reports_on_read_data(void **state)
{
	struct ps2_mouse m;

	(void)state;
	mouse_enabled(&m);
	mouse_cmd(&m, 0xF0);
	EXPECT("remote", mouse_drain(&m), 0xFA);
	assert_int_equal(ps2_mouse_pointer(&m, 3, 0, 0, 0), 0);
	assert_int_equal(ps2_mouse_pointer(&m, 200, 4, 0, INPUT_BUTTON_MIDDLE), 0);
	EXPECT_NONE("no streaming in remote mode", mouse_drain(&m));
	mouse_cmd(&m, 0xEB);
	EXPECT("first read", mouse_drain(&m), 0xFA, 0x2C, 0x7F, 0xFC);
	mouse_cmd(&m, 0xEB);
	EXPECT("rest of the motion", mouse_drain(&m), 0xFA, 0x0C, 0x4C, 0x00);
	mouse_cmd(&m, 0xEA);
	EXPECT("stream", mouse_drain(&m), 0xFA);
	assert_int_equal(ps2_mouse_pointer(&m, 1, 0, 0, 0), 0);
	EXPECT("streams again", mouse_drain(&m), 0x08, 0x01, 0x00);
}

static void test_ps2_mouse_wrap_mode_echoes_until_reset_wrap(void **state)
{
	struct ps2_mouse m;

	(void)state;
	ps2_mouse_init(&m);
	mouse_cmd(&m, 0xEE);
	EXPECT("wrap on", mouse_drain(&m), 0xFA);
	mouse_cmd(&m, 0x12);
	EXPECT("echo", mouse_drain(&m), 0x12);
	mouse_cmd(&m, 0xF2);
	EXPECT("commands are echoed too", mouse_drain(&m), 0xF2);
	mouse_cmd(&m, 0xEC);
	EXPECT("wrap off", mouse_drain(&m), 0xFA);
	mouse_cmd(&m, 0xF2);
	EXPECT("commands work again", mouse_drain(&m), 0xFA, 0x00);
}

static void test_ps2_mouse_overflow_drops_whole_packets_and_counts(void **state)
{
	struct ps2_mouse m;
	unsigned int accepted = 0, attempts = 200;
	struct bytes got;

	(void)state;
	mouse_enabled(&m);
	for (unsigned int i = 0; i < attempts; i++)
		if (ps2_mouse_pointer(&m, 1, 0, 0, 0) == 0)
			accepted++;
	assert_int_equal(accepted, PS2_QUEUE_BYTES / 3);
	assert_int_equal(m.stats.packets_dropped, attempts - accepted);
	got = mouse_drain(&m);
	assert_int_equal(got.n, 3 * accepted);
	for (size_t i = 0; i < got.n; i += 3)
		assert_int_equal(got.b[i], 0x08);
	/* A split event that does not fit is dropped whole. */
	for (unsigned int i = 0; i < PS2_QUEUE_BYTES / 3 - 1; i++)
		assert_int_equal(ps2_mouse_pointer(&m, 1, 0, 0, 0), 0);
	assert_int_equal(ps2_mouse_pointer(&m, 254, 0, 0, 0), -ENOSPC);
	assert_int_equal(mouse_drain(&m).n, 3 * (PS2_QUEUE_BYTES / 3 - 1));
}

static void test_ps2_mouse_unknown_commands_and_bad_params_answer_resend(void **state)
{
	static const struct {
		const char *what;
		uint8_t bytes[2];
		size_t n;
		unsigned int unknown, bad;
	} cases[] = {
		{ "trackpoint read id", { 0xE1 }, 1, 1, 0 },
		{ "resend request", { 0xFE }, 1, 1, 0 },
		{ "parameter-range byte as command", { 0x10 }, 1, 1, 0 },
		{ "resolution 4", { 0xE8, 0x04 }, 2, 0, 1 },
		{ "sample rate 7", { 0xF3, 0x07 }, 2, 0, 1 },
		{ "sample rate 201", { 0xF3, 201 }, 2, 0, 1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ps2_mouse m;
		struct bytes got;

		ps2_mouse_init(&m);
		for (size_t j = 0; j < cases[i].n; j++)
			mouse_cmd(&m, cases[i].bytes[j]);
		got = mouse_drain(&m);
		if (got.n != 1 || got.b[0] != 0xFE)
			fail_msg("%s: got %zu bytes, first 0x%02x", cases[i].what, got.n,
				 got.n ? got.b[0] : 0);
		assert_int_equal(m.stats.unknown_commands, cases[i].unknown);
		assert_int_equal(m.stats.bad_params, cases[i].bad);
		assert_int_equal(m.sample_rate, 100);
		assert_int_equal(m.resolution, 2);
	}
}

#define T(name) cmocka_unit_test_setup(name, quiet)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ps2_queue_push_is_all_or_nothing),
		T(test_ps2_queue_wraps_around_its_storage),
		T(test_ps2_kbd_key_sequences),
		T(test_ps2_kbd_scan_set_query_and_select),
		T(test_ps2_kbd_bad_parameters_answer_resend),
		T(test_ps2_kbd_leds_keep_only_the_three_led_bits),
		T(test_ps2_kbd_new_command_discards_unread_replies),
		T(test_ps2_kbd_replies_go_before_queued_keys),
		T(test_ps2_kbd_reset_clears_queue_and_restores_set2),
		T(test_ps2_kbd_drops_keys_while_scanning_disabled),
		T(test_ps2_kbd_counts_keys_without_scan_code),
		T(test_ps2_kbd_idle_limit_until_host_active),
		T(test_ps2_mouse_reset_replies_fa_aa_00),
		T(test_ps2_mouse_intellimouse_knock_gives_id3),
		T(test_ps2_mouse_packets_for_motion_and_buttons),
		T(test_ps2_mouse_wheel_goes_in_fourth_byte_after_knock),
		T(test_ps2_mouse_splits_large_motion_into_packets),
		T(test_ps2_mouse_clamps_motion_beyond_packet_cap),
		T(test_ps2_mouse_sends_nothing_for_an_unchanged_event),
		T(test_ps2_mouse_no_packets_while_reporting_disabled),
		T(test_ps2_mouse_status_request_reports_settings),
		T(test_ps2_mouse_remote_mode_reports_on_read_data),
		T(test_ps2_mouse_wrap_mode_echoes_until_reset_wrap),
		T(test_ps2_mouse_overflow_drops_whole_packets_and_counts),
		T(test_ps2_mouse_unknown_commands_and_bad_params_answer_resend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
