/* Unit tests for control/keys.c and its generated tables: QEMU key names
 * to qnums (send-key), US-layout text to key events with Shift (type), and
 * the pacing each produces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/ascii_qnum.h"
#include "control/keys.h"
#include "control/qcode_qnum.h"

#define QNUM_SHIFT 0x2a

static void test_control_qcode_names_map_to_qemu_qnums(void **state)
{
	static const struct { const char *name; uint16_t qnum; } cases[] = {
		{ "esc", 0x01 }, { "1", 0x02 }, { "a", 0x1e }, { "z", 0x2c }, { "ret", 0x1c },
		{ "spc", 0x39 }, { "ctrl", 0x1d }, { "ctrl_r", 0x9d }, { "alt", 0x38 },
		{ "alt_r", 0xb8 }, { "shift", 0x2a }, { "shift_r", 0x36 }, { "delete", 0xd3 },
		{ "backspace", 0x0e }, { "tab", 0x0f }, { "f1", 0x3b }, { "f12", 0x58 },
		{ "up", 0xc8 }, { "down", 0xd0 }, { "left", 0xcb }, { "right", 0xcd },
		{ "home", 0xc7 }, { "end", 0xcf }, { "pgup", 0xc9 }, { "pgdn", 0xd1 },
		{ "insert", 0xd2 }, { "meta_l", 0xdb }, { "kp_enter", 0x9c }, { "minus", 0x0c },
		{ "grave_accent", 0x29 }, { "backslash", 0x2b },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (control_qcode_qnum(cases[i].name) != cases[i].qnum)
			fail_msg("%s: 0x%02x, want 0x%02x", cases[i].name,
				 control_qcode_qnum(cases[i].name), cases[i].qnum);
	assert_int_equal(control_qcode_qnum("nokey"), 0);
	assert_int_equal(control_qcode_qnum(""), 0);
	assert_int_equal(control_qcode_qnum("CTRL"), 0);
	assert_int_equal(control_qcode_qnum("unmapped"), 0);
}

static void test_control_qcode_table_is_sorted_for_binary_search(void **state)
{
	(void)state;
	assert_true(qcode_qnum_count > 100);
	for (size_t i = 1; i < qcode_qnum_count; i++)
		if (strcmp(qcode_qnum_table[i - 1].name, qcode_qnum_table[i].name) >= 0)
			fail_msg("%s before %s", qcode_qnum_table[i - 1].name,
				 qcode_qnum_table[i].name);
	/* Every name is found through the search. */
	for (size_t i = 0; i < qcode_qnum_count; i++)
		assert_int_equal(control_qcode_qnum(qcode_qnum_table[i].name),
				 qcode_qnum_table[i].qnum);
}

static void test_control_us_layout_characters_and_shift(void **state)
{
	static const struct { char c; uint16_t code; } cases[] = {
		{ 'a', 0x1e }, { 'A', 0x1e | ASCII_QNUM_SHIFT }, { 'z', 0x2c },
		{ 'Z', 0x2c | ASCII_QNUM_SHIFT }, { '1', 0x02 }, { '!', 0x02 | ASCII_QNUM_SHIFT },
		{ '2', 0x03 }, { '@', 0x03 | ASCII_QNUM_SHIFT }, { '0', 0x0b },
		{ ')', 0x0b | ASCII_QNUM_SHIFT }, { '-', 0x0c }, { '_', 0x0c | ASCII_QNUM_SHIFT },
		{ '=', 0x0d }, { '+', 0x0d | ASCII_QNUM_SHIFT }, { '[', 0x1a },
		{ '{', 0x1a | ASCII_QNUM_SHIFT }, { ']', 0x1b }, { '}', 0x1b | ASCII_QNUM_SHIFT },
		{ ';', 0x27 }, { ':', 0x27 | ASCII_QNUM_SHIFT }, { '\'', 0x28 },
		{ '"', 0x28 | ASCII_QNUM_SHIFT }, { '`', 0x29 }, { '~', 0x29 | ASCII_QNUM_SHIFT },
		{ '\\', 0x2b }, { '|', 0x2b | ASCII_QNUM_SHIFT }, { ',', 0x33 },
		{ '<', 0x33 | ASCII_QNUM_SHIFT }, { '.', 0x34 }, { '>', 0x34 | ASCII_QNUM_SHIFT },
		{ '/', 0x35 }, { '?', 0x35 | ASCII_QNUM_SHIFT }, { ' ', 0x39 }, { '\n', 0x1c },
		{ '\t', 0x0f }, { '\b', 0x0e }, { 0x1b, 0x01 }, { '*', 0x09 | ASCII_QNUM_SHIFT },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (control_char_qnum((unsigned char)cases[i].c) != cases[i].code)
			fail_msg("'%c' (0x%02x): 0x%03x, want 0x%03x", cases[i].c, cases[i].c,
				 control_char_qnum((unsigned char)cases[i].c), cases[i].code);
	/* Every printable ASCII character can be typed; nothing else but the four. */
	for (unsigned int c = 0; c < 256; c++) {
		bool typeable = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\b' ||
				c == 0x1b;
		if ((control_char_qnum((unsigned char)c) != 0) != typeable)
			fail_msg("0x%02x: typeable %d", c, !typeable);
	}
}

static void test_control_type_presses_shift_with_the_key(void **state)
{
	struct key_event ev[control_keys_text_max(3)];
	unsigned char bad = 0;
	long n = control_keys_text("aB\n", 3, ev, &bad);

	(void)state;
	assert_int_equal(n, 8);
	/* a */
	assert_int_equal(ev[0].qnum, 0x1e); assert_true(ev[0].down);
	assert_int_equal(ev[0].pause_ms, CONTROL_KEY_GAP_MS);
	assert_int_equal(ev[1].qnum, 0x1e); assert_false(ev[1].down);
	assert_int_equal(ev[1].pause_ms, CONTROL_KEY_GAP_MS);
	/* B: Shift and b down together, up together */
	assert_int_equal(ev[2].qnum, QNUM_SHIFT); assert_true(ev[2].down);
	assert_int_equal(ev[2].pause_ms, 0);
	assert_int_equal(ev[3].qnum, 0x30); assert_true(ev[3].down);
	assert_int_equal(ev[4].qnum, 0x30); assert_false(ev[4].down);
	assert_int_equal(ev[4].pause_ms, 0);
	assert_int_equal(ev[5].qnum, QNUM_SHIFT); assert_false(ev[5].down);
	/* newline: Enter */
	assert_int_equal(ev[6].qnum, 0x1c); assert_true(ev[6].down);
	assert_int_equal(ev[7].qnum, 0x1c); assert_false(ev[7].down);
}

static void test_control_type_takes_two_gaps_per_character(void **state)
{
	struct key_event ev[control_keys_text_max(100)];
	char text[101];
	unsigned char bad;
	uint32_t total = 0;
	long n;

	(void)state;
	for (int i = 0; i < 100; i++)
		text[i] = "Hello, World! 123\n"[i % 18];
	n = control_keys_text(text, 100, ev, &bad);
	assert_true(n > 0);
	for (long i = 0; i < n; i++)
		total += ev[i].pause_ms;
	assert_int_equal(total, 100 * 2 * CONTROL_KEY_GAP_MS);
}

static void test_control_type_refuses_an_unmappable_character_and_sends_nothing(void **state)
{
	struct key_event ev[control_keys_text_max(4)];
	unsigned char bad = 0;

	(void)state;
	memset(ev, 0xee, sizeof(ev));
	assert_int_equal(control_keys_text("ab\xe9" "c", 4, ev, &bad), -EINVAL);
	assert_int_equal(bad, 0xe9);
	assert_int_equal(ev[0].qnum, 0xeeee);   /* nothing was produced */
	assert_int_equal(control_keys_text("a\rb", 3, ev, &bad), -EINVAL);
	assert_int_equal(bad, '\r');
}

static void test_control_send_key_holds_the_chord_and_releases_in_reverse(void **state)
{
	const uint16_t keys[] = { 0x1d, 0x38, 0xd3 };
	struct key_event ev[6];
	size_t n = control_keys_chord(keys, 3, 250, ev);

	(void)state;
	assert_int_equal(n, 6);
	assert_int_equal(ev[0].qnum, 0x1d); assert_true(ev[0].down);
	assert_int_equal(ev[0].pause_ms, CONTROL_KEY_GAP_MS);
	assert_int_equal(ev[2].qnum, 0xd3); assert_true(ev[2].down);
	assert_int_equal(ev[2].pause_ms, 250);
	assert_int_equal(ev[3].qnum, 0xd3); assert_false(ev[3].down);
	assert_int_equal(ev[4].qnum, 0x38); assert_false(ev[4].down);
	assert_int_equal(ev[5].qnum, 0x1d); assert_false(ev[5].down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_qcode_names_map_to_qemu_qnums),
		cmocka_unit_test(test_control_qcode_table_is_sorted_for_binary_search),
		cmocka_unit_test(test_control_us_layout_characters_and_shift),
		cmocka_unit_test(test_control_type_presses_shift_with_the_key),
		cmocka_unit_test(test_control_type_takes_two_gaps_per_character),
		cmocka_unit_test(test_control_type_refuses_an_unmappable_character_and_sends_nothing),
		cmocka_unit_test(test_control_send_key_holds_the_chord_and_releases_in_reverse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
