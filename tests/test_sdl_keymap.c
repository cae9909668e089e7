/*
 * Tests for the generated sdl/usb_qnum.c (tools/gen_keymap.py usb-qnum):
 * SDL scancodes, named by SDL's own constants, give the PC XT make codes a
 * PC keyboard sends for the key at that position (set-1 tables, e.g. Linux
 * drivers/input/keyboard/atkbd.c and QEMU's qnum numbering), and every key
 * reaches the emulated PS/2 keyboard's set-2 table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <SDL_keyboard.h>

#include "devices/keymap_qnum_set2.h"
#include "sdl/usb_qnum.h"

static void test_sdl_usb_qnum_maps_pc_keys_by_position(void **state)
{
	static const struct { SDL_Scancode sc; uint8_t qnum; } keys[] = {
		{ SDL_SCANCODE_A, 0x1e }, { SDL_SCANCODE_Q, 0x10 }, { SDL_SCANCODE_W, 0x11 },
		{ SDL_SCANCODE_Y, 0x15 }, { SDL_SCANCODE_Z, 0x2c }, { SDL_SCANCODE_M, 0x32 },
		{ SDL_SCANCODE_1, 0x02 }, { SDL_SCANCODE_0, 0x0b }, { SDL_SCANCODE_RETURN, 0x1c },
		{ SDL_SCANCODE_ESCAPE, 0x01 }, { SDL_SCANCODE_BACKSPACE, 0x0e },
		{ SDL_SCANCODE_TAB, 0x0f }, { SDL_SCANCODE_SPACE, 0x39 },
		{ SDL_SCANCODE_MINUS, 0x0c }, { SDL_SCANCODE_EQUALS, 0x0d },
		{ SDL_SCANCODE_LEFTBRACKET, 0x1a }, { SDL_SCANCODE_BACKSLASH, 0x2b },
		{ SDL_SCANCODE_NONUSHASH, 0x2b }, { SDL_SCANCODE_SEMICOLON, 0x27 },
		{ SDL_SCANCODE_APOSTROPHE, 0x28 }, { SDL_SCANCODE_GRAVE, 0x29 },
		{ SDL_SCANCODE_COMMA, 0x33 }, { SDL_SCANCODE_SLASH, 0x35 },
		{ SDL_SCANCODE_CAPSLOCK, 0x3a }, { SDL_SCANCODE_F1, 0x3b }, { SDL_SCANCODE_F10, 0x44 },
		{ SDL_SCANCODE_F11, 0x57 }, { SDL_SCANCODE_F12, 0x58 },
		{ SDL_SCANCODE_PRINTSCREEN, 0x54 }, { SDL_SCANCODE_SCROLLLOCK, 0x46 },
		{ SDL_SCANCODE_PAUSE, 0xc6 }, { SDL_SCANCODE_INSERT, 0xd2 },
		{ SDL_SCANCODE_HOME, 0xc7 }, { SDL_SCANCODE_PAGEUP, 0xc9 },
		{ SDL_SCANCODE_DELETE, 0xd3 }, { SDL_SCANCODE_END, 0xcf },
		{ SDL_SCANCODE_PAGEDOWN, 0xd1 }, { SDL_SCANCODE_RIGHT, 0xcd },
		{ SDL_SCANCODE_LEFT, 0xcb }, { SDL_SCANCODE_DOWN, 0xd0 }, { SDL_SCANCODE_UP, 0xc8 },
		{ SDL_SCANCODE_NUMLOCKCLEAR, 0x45 }, { SDL_SCANCODE_KP_DIVIDE, 0xb5 },
		{ SDL_SCANCODE_KP_MULTIPLY, 0x37 }, { SDL_SCANCODE_KP_MINUS, 0x4a },
		{ SDL_SCANCODE_KP_PLUS, 0x4e }, { SDL_SCANCODE_KP_ENTER, 0x9c },
		{ SDL_SCANCODE_KP_1, 0x4f }, { SDL_SCANCODE_KP_7, 0x47 }, { SDL_SCANCODE_KP_0, 0x52 },
		{ SDL_SCANCODE_KP_PERIOD, 0x53 }, { SDL_SCANCODE_NONUSBACKSLASH, 0x56 },
		{ SDL_SCANCODE_APPLICATION, 0xdd }, { SDL_SCANCODE_LCTRL, 0x1d },
		{ SDL_SCANCODE_LSHIFT, 0x2a }, { SDL_SCANCODE_LALT, 0x38 }, { SDL_SCANCODE_LGUI, 0xdb },
		{ SDL_SCANCODE_RCTRL, 0x9d }, { SDL_SCANCODE_RSHIFT, 0x36 }, { SDL_SCANCODE_RALT, 0xb8 },
		{ SDL_SCANCODE_RGUI, 0xdc }, { SDL_SCANCODE_INTERNATIONAL1, 0x73 },
		{ SDL_SCANCODE_INTERNATIONAL3, 0x7d }, { SDL_SCANCODE_LANG1, 0x72 },
		{ SDL_SCANCODE_LANG2, 0x71 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (sdl_usb_to_qnum[keys[i].sc] != keys[i].qnum)
			fail_msg("%s (scancode %d): qnum 0x%02x, want 0x%02x",
				 SDL_GetScancodeName(keys[i].sc), keys[i].sc,
				 sdl_usb_to_qnum[keys[i].sc], keys[i].qnum);
	}
}

static void test_sdl_usb_qnum_has_no_key_for_reserved_usages(void **state)
{
	(void)state;
	/* Usage 0 is "no event", 1-3 are keyboard error reports (HID usage
	 * tables, keyboard page): never a key. */
	for (unsigned int u = 0; u < 4; u++)
		assert_int_equal(sdl_usb_to_qnum[u], 0);
	assert_int_equal(sdl_usb_to_qnum[SDL_SCANCODE_UNKNOWN], 0);
}

/* Every key of a PC keyboard (the 105 keys, the Japanese and Korean ones)
 * has a qnum the emulated keyboard can type: a set-2 code (Print Screen and
 * Pause build theirs). Rarer usages (F13-F24, Sun's Again/Undo/Cut/...) have
 * set-1 codes in keycodemapdb but no set-2 code; the i8042 counts them as
 * keys_unmapped. */
static void test_sdl_usb_qnum_every_pc_key_reaches_the_ps2_keyboard(void **state)
{
	static const struct { unsigned int first, last; } pc_keys[] = {
		{ SDL_SCANCODE_A, SDL_SCANCODE_F12 },             /* 0x04-0x45 */
		{ SDL_SCANCODE_PRINTSCREEN, SDL_SCANCODE_KP_PERIOD },
		{ SDL_SCANCODE_NONUSBACKSLASH, SDL_SCANCODE_APPLICATION },
		{ SDL_SCANCODE_INTERNATIONAL1, SDL_SCANCODE_INTERNATIONAL5 },
		{ SDL_SCANCODE_LANG1, SDL_SCANCODE_LANG5 },
		{ SDL_SCANCODE_LCTRL, SDL_SCANCODE_RGUI },       /* 0xE0-0xE7 */
	};
	unsigned int keys = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(pc_keys) / sizeof(pc_keys[0]); i++) {
		for (unsigned int u = pc_keys[i].first; u <= pc_keys[i].last; u++) {
			uint8_t q = sdl_usb_to_qnum[u];
			if (!q)
				fail_msg("usage 0x%02x (%s): no qnum", u, SDL_GetScancodeName(u));
			if (q != 0x54 && q != 0xc6 && keymap_qnum_to_set2[q] == 0)
				fail_msg("usage 0x%02x: qnum 0x%02x has no set-2 code", u, q);
			keys++;
		}
	}
	assert_int_equal(keys, 0x45 - 0x04 + 1 + 0x63 - 0x46 + 1 + 2 + 5 + 5 + 8);
	/* Past Right GUI the keyboard page is reserved. */
	for (unsigned int u = SDL_SCANCODE_RGUI + 1; u < USB_QNUM_COUNT; u++)
		assert_int_equal(sdl_usb_to_qnum[u], 0);
}

/* Two usages name the same key only where the HID tables say so: the US
 * backslash (0x31) and the ISO "non-US #" (0x32) sit at the same place. */
static void test_sdl_usb_qnum_gives_each_key_one_usage(void **state)
{
	unsigned int first[256] = { 0 };
	(void)state;
	for (unsigned int u = 1; u < USB_QNUM_COUNT; u++) {
		uint8_t q = sdl_usb_to_qnum[u];
		if (!q)
			continue;
		if (first[q] && !(first[q] == SDL_SCANCODE_BACKSLASH && u == SDL_SCANCODE_NONUSHASH))
			fail_msg("usages 0x%02x and 0x%02x both give qnum 0x%02x", first[q], u, q);
		if (!first[q])
			first[q] = u;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdl_usb_qnum_maps_pc_keys_by_position),
		cmocka_unit_test(test_sdl_usb_qnum_has_no_key_for_reserved_usages),
		cmocka_unit_test(test_sdl_usb_qnum_every_pc_key_reaches_the_ps2_keyboard),
		cmocka_unit_test(test_sdl_usb_qnum_gives_each_key_one_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
