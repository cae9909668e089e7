/* Unit tests for devices/i8042.c, driven through the bus exactly as a guest
 * drives ports 0x60/0x64: Linux's probe sequence, translation, queue limits,
 * IRQ levels on fake lines, reset, and bad command streams.
 *
 * Over 800 lines on purpose: one test file per unit under test (as every
 * tests/test_X.c for X.c), made of independent cases, each short.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/i8042.h"
#include "devices/keymap_qnum_set2.h"
#include "hypervisor/bus.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Linux include/linux/i8042.h command encodings: params << 12 | results << 8 | cmd. */
#define I8042_CMD_CTL_RCTR    0x0120
#define I8042_CMD_CTL_WCTR    0x1060
#define I8042_CMD_CTL_TEST    0x01aa
#define I8042_CMD_KBD_DISABLE 0x00ad
#define I8042_CMD_KBD_ENABLE  0x00ae
#define I8042_CMD_KBD_TEST    0x01ab
#define I8042_CMD_KBD_LOOP    0x11d2
#define I8042_CMD_AUX_DISABLE 0x00a7
#define I8042_CMD_AUX_ENABLE  0x00a8
#define I8042_CMD_AUX_TEST    0x01a9
#define I8042_CMD_AUX_SEND    0x10d4
#define I8042_CMD_AUX_LOOP    0x11d3

/* Linux drivers/input/serio/i8042.h: bytes read by i8042_flush() before it
 * decides there is no controller. */
#define LINUX_I8042_BUFFER_SIZE 16

#define QNUM_A      0x1E
#define QNUM_B      0x30
#define QNUM_RIGHT  0xCD
#define QNUM_PRINT  0x54
#define QNUM_PAUSE  0xC6
#define QNUM_HANJA  0x71
#define QNUM_HANGEUL 0x72

struct fake_irq {
	bool level;
	unsigned int raises; /* low -> high transitions seen */
	unsigned int calls;
};

struct fixture {
	struct bus bus;
	struct i8042 dev;
	struct fake_irq kbd_irq;
	struct fake_irq aux_irq;
	struct input_sink sink;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fake_irq *irq = ctx;

	(void)gsi;
	if (level && !irq->level)
		irq->raises++;
	irq->level = level;
	irq->calls++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	log_set_level(LOG_ERROR);
	vm_stop_reset_for_test();
	bus_init(&f->bus);
	assert_int_equal(i8042_init(&f->dev, &f->bus,
				    (struct irq_line){ fake_set_level, &f->kbd_irq, 1 },
				    (struct irq_line){ fake_set_level, &f->aux_irq, 12 }), 0);
	f->sink = i8042_input_sink(&f->dev);
	f->kbd_irq.raises = f->aux_irq.raises = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	vm_stop_reset_for_test();
	return 0;
}

static void outb(struct fixture *f, uint16_t port, uint8_t value)
{
	bus_access(&f->bus, BUS_PIO, port, &value, 1, true);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t value = 0;

	bus_access(&f->bus, BUS_PIO, port, &value, 1, false);
	return value;
}

static uint8_t status(struct fixture *f)
{
	return inb(f, I8042_COMMAND_PORT);
}

static bool obf(struct fixture *f)
{
	return status(f) & I8042_STR_OBF;
}

/* Reads one byte, insisting the controller had one ready. */
static uint8_t read_byte(struct fixture *f)
{
	if (!obf(f))
		fail_msg("output buffer empty, a byte was expected");
	return inb(f, I8042_DATA_PORT);
}

/* Reads exactly `n` bytes and then requires the output buffer to be empty. */
static void expect_bytes(struct fixture *f, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t got = read_byte(f);

		if (got != want[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, got, want[i]);
	}
	if (obf(f))
		fail_msg("extra byte 0x%02x after %zu expected", inb(f, I8042_DATA_PORT), n);
}

#define EXPECT(f, ...)                                                         \
	do {                                                                   \
		const uint8_t want_[] = { __VA_ARGS__ };                       \
		expect_bytes((f), want_, sizeof(want_));                       \
	} while (0)

/* Issues a command in Linux's encoding: writes the command and its
 * parameters, reads its results into `results` (may be NULL when none). */
static void linux_command(struct fixture *f, uint16_t code, const uint8_t *params,
			  uint8_t *results)
{
	outb(f, I8042_COMMAND_PORT, code & 0xFF);
	for (unsigned int i = 0; i < ((code >> 12) & 0xF); i++)
		outb(f, I8042_DATA_PORT, params[i]);
	for (unsigned int i = 0; i < ((code >> 8) & 0xF); i++)
		results[i] = read_byte(f);
}

static uint8_t read_ctr(struct fixture *f)
{
	uint8_t ctr;

	linux_command(f, I8042_CMD_CTL_RCTR, NULL, &ctr);
	return ctr;
}

static void write_ctr(struct fixture *f, uint8_t ctr)
{
	linux_command(f, I8042_CMD_CTL_WCTR, &ctr, NULL);
}

static uint8_t aux_loop(struct fixture *f, uint8_t byte)
{
	uint8_t result;

	outb(f, I8042_COMMAND_PORT, I8042_CMD_AUX_LOOP & 0xFF);
	outb(f, I8042_DATA_PORT, byte);
	assert_true(status(f) & I8042_STR_AUXDATA);
	result = read_byte(f);
	return result;
}

static void drain(struct fixture *f)
{
	for (int i = 0; i < 4096 && obf(f); i++)
		inb(f, I8042_DATA_PORT);
	assert_false(obf(f));
}

static void key(struct fixture *f, uint16_t qnum, bool down)
{
	f->sink.ops->key(f->sink.opaque, qnum, down);
}

static void pointer(struct fixture *f, int dx, int dy, int wheel, unsigned int buttons)
{
	f->sink.ops->pointer(f->sink.opaque, dx, dy, wheel, buttons);
}

/* Marks the keyboard driver present (lifts the pre-driver queue limit). */
static void keyboard_driver_ready(struct fixture *f)
{
	outb(f, I8042_DATA_PORT, 0xF4);
	EXPECT(f, 0xFA);
}

/* ---- reset state ---- */

static void test_i8042_reset_state_is_seabios_handoff(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(status(f), I8042_STR_SYS | I8042_STR_KEYLOCK);
	assert_int_equal(read_ctr(f), 0x61);
	assert_int_equal(I8042_CTR_RESET, 0x61);
	assert_false(f->kbd_irq.level);
	assert_false(f->aux_irq.level);
}

static void test_i8042_reset_discards_pending_bytes_and_lowers_irqs(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_A, true);
	assert_true(f->kbd_irq.level);
	outb(f, I8042_COMMAND_PORT, 0x60); /* leave a command half done */
	i8042_reset(&f->dev);
	assert_false(f->kbd_irq.level);
	assert_false(obf(f));
	outb(f, I8042_DATA_PORT, 0xF2);     /* goes to the keyboard, not to the CTR */
	EXPECT(f, 0xFA, 0xAB, 0x41);
	assert_int_equal(read_ctr(f), 0x61);
}

/* ---- Linux i8042 probe sequence ---- */

static void test_i8042_read_ctr_twice_is_stable(void **state)
{
	struct fixture *f = *state;

	assert_false(obf(f)); /* i8042_flush finds nothing */
	assert_int_equal(read_ctr(f), read_ctr(f));
}

static void test_i8042_self_test_replies_55_and_sets_sys(void **state)
{
	struct fixture *f = *state;
	uint8_t r;

	linux_command(f, I8042_CMD_CTL_TEST, NULL, &r);
	assert_int_equal(r, 0x55);
	assert_true(status(f) & I8042_STR_SYS);
}

static void test_i8042_write_ctr_reads_back(void **state)
{
	struct fixture *f = *state;
	/* What Linux's i8042_controller_init writes: keyboard off, no IRQ 1. */
	uint8_t ctr = (0x61 | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT;

	write_ctr(f, ctr);
	assert_false(status(f) & I8042_STR_CMDDAT); /* last write was data */
	assert_int_equal(read_ctr(f), ctr);
	assert_true(status(f) & I8042_STR_CMDDAT);  /* last write was a command */
}

static void test_i8042_aux_loop_echoes_as_aux_data_with_irq12(void **state)
{
	struct fixture *f = *state;

	/* i8042_check_aux: first with AUXINT off (polled). */
	assert_int_equal(aux_loop(f, 0x5A), 0x5A);
	assert_int_equal(f->aux_irq.raises, 0);

	/* i8042_enable_aux_port, then the IRQ delivery test with 0xA5. */
	write_ctr(f, (read_ctr(f) & ~I8042_CTR_AUXDIS) | I8042_CTR_AUXINT);
	outb(f, I8042_COMMAND_PORT, I8042_CMD_AUX_LOOP & 0xFF);
	outb(f, I8042_DATA_PORT, 0xA5);
	assert_true(f->aux_irq.level);
	assert_false(f->kbd_irq.level);
	assert_int_equal(status(f) & (I8042_STR_OBF | I8042_STR_AUXDATA),
			 I8042_STR_OBF | I8042_STR_AUXDATA);
	assert_int_equal(inb(f, I8042_DATA_PORT), 0xA5);
	assert_false(f->aux_irq.level);
}

static void test_i8042_mux_probe_echo_is_faithful(void **state)
{
	struct fixture *f = *state;

	/* i8042_set_mux_mode: a third echo equal to A4 means "no multiplexer". */
	assert_int_equal(aux_loop(f, 0xF0), 0xF0);
	assert_int_equal(aux_loop(f, 0x56), 0x56);
	assert_int_equal(aux_loop(f, 0xA4), 0xA4);
}

static void test_i8042_aux_toggle_is_visible_in_ctr(void **state)
{
	struct fixture *f = *state;

	linux_command(f, I8042_CMD_AUX_DISABLE, NULL, NULL);
	assert_true(read_ctr(f) & I8042_CTR_AUXDIS);
	linux_command(f, I8042_CMD_AUX_ENABLE, NULL, NULL);
	assert_false(read_ctr(f) & I8042_CTR_AUXDIS);
	linux_command(f, I8042_CMD_KBD_DISABLE, NULL, NULL);
	assert_true(read_ctr(f) & I8042_CTR_KBDDIS);
	linux_command(f, I8042_CMD_KBD_ENABLE, NULL, NULL);
	assert_false(read_ctr(f) & I8042_CTR_KBDDIS);
}

static void test_i8042_commands_produce_linux_result_counts(void **state)
{
	static const struct {
		uint16_t code;
		uint8_t param;
		uint8_t result; /* first result byte */
	} cases[] = {
		{ I8042_CMD_CTL_RCTR, 0, 0x61 },
		{ I8042_CMD_CTL_WCTR, 0x61, 0 },
		{ I8042_CMD_CTL_TEST, 0, 0x55 },
		{ I8042_CMD_KBD_DISABLE, 0, 0 },
		{ I8042_CMD_KBD_ENABLE, 0, 0 },
		{ I8042_CMD_KBD_TEST, 0, 0x00 },
		{ I8042_CMD_KBD_LOOP, 0x3C, 0x3C },
		{ I8042_CMD_AUX_DISABLE, 0, 0 },
		{ I8042_CMD_AUX_ENABLE, 0, 0 },
		{ I8042_CMD_AUX_TEST, 0, 0x00 },
		{ I8042_CMD_AUX_LOOP, 0x5A, 0x5A },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t results[15];

		i8042_reset(&f->dev);
		linux_command(f, cases[i].code, &cases[i].param, results);
		if (cases[i].code & 0x0F00 && results[0] != cases[i].result)
			fail_msg("command 0x%04x: result 0x%02x, want 0x%02x", cases[i].code,
				 results[0], cases[i].result);
		if (obf(f))
			fail_msg("command 0x%04x: more results than Linux reads", cases[i].code);
	}
}

static void test_i8042_aux_send_reaches_mouse_and_reply_is_aux(void **state)
{
	struct fixture *f = *state;
	uint8_t param = 0xF2;

	write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_AUXDIS | I8042_CTR_XLATE);
	linux_command(f, I8042_CMD_AUX_SEND, &param, NULL);
	assert_true(status(f) & I8042_STR_AUXDATA);
	assert_true(f->aux_irq.level);
	EXPECT(f, 0xFA, 0x00);
	assert_false(read_ctr(f) & I8042_CTR_AUXDIS); /* sending enables the port */
}

static void test_i8042_keyboard_probe_replies(void **state)
{
	/* atkbd: reset, get ID, deactivate, LEDs, typematic, activate; echo. */
	static const struct {
		const char *what;
		uint8_t send[2];
		size_t nsend;
		uint8_t want[3];
		size_t nwant;
	} cases[] = {
		{ "reset", { 0xFF }, 1, { 0xFA, 0xAA }, 2 },
		{ "get ID, translated", { 0xF2 }, 1, { 0xFA, 0xAB, 0x41 }, 3 },
		{ "reset and disable", { 0xF5 }, 1, { 0xFA }, 1 },
		{ "set LEDs", { 0xED, 0x02 }, 2, { 0xFA, 0xFA }, 2 },
		{ "set typematic", { 0xF3, 0x20 }, 2, { 0xFA, 0xFA }, 2 },
		{ "enable", { 0xF4 }, 1, { 0xFA }, 1 },
		{ "set default", { 0xF6 }, 1, { 0xFA }, 1 },
		{ "echo", { 0xEE }, 1, { 0xEE }, 1 },
		{ "query scan set, translated", { 0xF0, 0x00 }, 2, { 0xFA, 0xFA, 0x41 }, 3 },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t got[3];
		size_t n = 0;

		for (size_t j = 0; j < cases[i].nsend; j++) {
			outb(f, I8042_DATA_PORT, cases[i].send[j]);
			/* Like atkbd, read the ACK before sending a parameter. */
			while (obf(f) && n < ARRAY_LEN(got))
				got[n++] = inb(f, I8042_DATA_PORT);
		}
		if (n != cases[i].nwant || memcmp(got, cases[i].want, n))
			fail_msg("%s: got %zu bytes (first 0x%02x), want %zu", cases[i].what, n,
				 n ? got[0] : 0, cases[i].nwant);
	}
}

static void test_i8042_keyboard_id_untranslated_is_ab_83(void **state)
{
	struct fixture *f = *state;

	write_ctr(f, I8042_CTR_KBDINT);
	outb(f, I8042_DATA_PORT, 0xF2);
	EXPECT(f, 0xFA, 0xAB, 0x83);
}

static void test_i8042_data_write_enables_keyboard_port(void **state)
{
	struct fixture *f = *state;

	linux_command(f, I8042_CMD_KBD_DISABLE, NULL, NULL);
	outb(f, I8042_DATA_PORT, 0xEE);
	EXPECT(f, 0xEE);
	assert_false(read_ctr(f) & I8042_CTR_KBDDIS);
}

/* ---- translation ---- */

static void test_i8042_translated_a_is_1e_9e(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_A, true);
	key(f, QNUM_A, false);
	EXPECT(f, 0x1E, 0x9E);
}

static void test_i8042_untranslated_a_is_1c_f0_1c(void **state)
{
	struct fixture *f = *state;

	write_ctr(f, I8042_CTR_KBDINT);
	key(f, QNUM_A, true);
	key(f, QNUM_A, false);
	EXPECT(f, 0x1C, 0xF0, 0x1C);
}

static void test_i8042_translated_right_arrow_is_e0_4d_e0_cd(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_RIGHT, true);
	key(f, QNUM_RIGHT, false);
	EXPECT(f, 0xE0, 0x4D, 0xE0, 0xCD);
}

static void test_i8042_untranslated_right_arrow_is_e0_74_e0_f0_74(void **state)
{
	struct fixture *f = *state;

	write_ctr(f, I8042_CTR_KBDINT);
	key(f, QNUM_RIGHT, true);
	key(f, QNUM_RIGHT, false);
	EXPECT(f, 0xE0, 0x74, 0xE0, 0xF0, 0x74);
}

static void test_i8042_translated_print_screen_and_pause_are_set1(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_PRINT, true);
	key(f, QNUM_PRINT, false);
	EXPECT(f, 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);
	key(f, QNUM_PAUSE, true);
	key(f, QNUM_PAUSE, false);
	EXPECT(f, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
}

/*
 * Every key keycodemapdb gives both a set-1 code (which is its qnum) and a
 * set-2 code must come out of the controller as its set-1 code: this checks
 * the 8042 translation table against the data, and our copy of the data
 * against itself.
 */
static void test_i8042_translation_matches_keycodemapdb_for_every_key(void **state)
{
	struct fixture *f = *state;
	unsigned int checked = 0;

	keyboard_driver_ready(f);
	for (unsigned int q = 1; q < KEYMAP_QNUM_COUNT; q++) {
		uint8_t make[2], brk[2];
		size_t n = 0;

		if (!keymap_qnum_to_set2[q] || q == QNUM_PRINT || q == 0xB7 || q == QNUM_PAUSE ||
		    q == QNUM_HANJA || q == QNUM_HANGEUL)
			continue;
		if (q & 0x80) {
			make[n] = 0xE0;
			brk[n++] = 0xE0;
		}
		make[n] = q & 0x7F;
		brk[n++] = (q & 0x7F) | 0x80;
		key(f, q, true);
		expect_bytes(f, make, n);
		key(f, q, false);
		expect_bytes(f, brk, n);
		checked++;
	}
	assert_true(checked > 100);
}

static void test_i8042_set1_selected_is_sent_untranslated(void **state)
{
	struct fixture *f = *state;

	write_ctr(f, I8042_CTR_KBDINT);
	outb(f, I8042_DATA_PORT, 0xF0);
	EXPECT(f, 0xFA);
	outb(f, I8042_DATA_PORT, 0x01);
	EXPECT(f, 0xFA);
	key(f, QNUM_A, true);
	key(f, QNUM_A, false);
	EXPECT(f, 0x1E, 0x9E);
}

/* ---- queue ---- */

static void test_i8042_queue_overflow_drops_whole_keys_and_counts(void **state)
{
	struct fixture *f = *state;
	unsigned int attempts = 200, presses = 0, releases = 0;
	uint64_t dropped_before = f->dev.kbd.stats.keys_dropped;
	uint8_t b;

	keyboard_driver_ready(f);
	/* 2-byte make, 3-byte break (set 2): a half-queued key would show up as
	 * a stray E0 or a lone code in the translated stream. */
	for (unsigned int i = 0; i < attempts; i++) {
		key(f, QNUM_RIGHT, true);
		key(f, QNUM_RIGHT, false);
	}
	assert_true(f->dev.kbd.stats.keys_dropped > dropped_before);

	while (obf(f)) {
		b = inb(f, I8042_DATA_PORT);
		assert_int_equal(b, 0xE0);
		b = read_byte(f);
		if (b == 0x4D) {
			presses++;
		} else {
			assert_int_equal(b, 0xCD);
			releases++;
		}
	}
	assert_true(presses > 0 && releases > 0);
	/* Every event was either delivered whole or counted as dropped. */
	assert_int_equal(presses + releases + (f->dev.kbd.stats.keys_dropped - dropped_before),
			 2 * attempts);
}

static void test_i8042_queue_keeps_room_for_releases(void **state)
{
	struct fixture *f = *state;
	uint64_t dropped;
	unsigned int presses = 0;

	keyboard_driver_ready(f);
	for (unsigned int i = 0; i < 300; i++) {
		uint64_t before = f->dev.kbd.stats.keys_dropped;

		key(f, QNUM_A, true);
		if (f->dev.kbd.stats.keys_dropped == before)
			presses++;
	}
	dropped = f->dev.kbd.stats.keys_dropped;
	assert_true(dropped > 0);
	assert_int_equal(presses + dropped, 300);
	/* The release still fits although presses are being refused. */
	key(f, QNUM_A, false);
	assert_int_equal(f->dev.kbd.stats.keys_dropped, dropped);
	for (unsigned int i = 0; i < presses; i++)
		assert_int_equal(read_byte(f), 0x1E);
	EXPECT(f, 0x9E);
}

/* Presses qnums [lo, hi] (plain one-byte keys), `repeats` times each (a
 * viewer's auto-repeat), then releases them all; reads everything back
 * (translated set 1: release = press | 0x80) and checks that every key the
 * guest saw go down also came up, and that only presses were refused. */
static void flood_then_release(struct fixture *f, uint16_t lo, uint16_t hi, int repeats)
{
	bool down_seen[0x80] = { false };
	unsigned int refused = 0, ups = 0, downs = 0;
	uint64_t before = f->dev.kbd.stats.keys_dropped;

	for (int r = 0; r < repeats; r++) {
		for (uint16_t q = lo; q <= hi; q++) {
			uint64_t d = f->dev.kbd.stats.keys_dropped;
			key(f, q, true);
			refused += f->dev.kbd.stats.keys_dropped != d;
		}
	}
	assert_true(refused > 0);
	for (uint16_t q = lo; q <= hi; q++)
		key(f, q, false);
	/* Refused: presses, and releases of keys whose press was refused
	 * (the guest never saw those go down); never more. */
	assert_true(f->dev.kbd.stats.keys_dropped - before <= 2 * refused);
	while (obf(f)) {
		uint8_t b = read_byte(f);
		if (b & 0x80) {
			assert_true(down_seen[b & 0x7f]);
			down_seen[b & 0x7f] = false;
			ups++;
		} else {
			if (!down_seen[b])
				downs++;
			down_seen[b] = true;
		}
	}
	assert_true(downs > 0);
	assert_int_equal(ups, downs);
	for (int i = 0; i < 0x80; i++)
		assert_false(down_seen[i]);   /* no key left down in the guest */
}

static void test_i8042_releases_fit_before_the_driver_is_active(void **state)
{
	/* The 15-byte queue before a driver: 35 keys do not fit, their
	 * releases do. */
	flood_then_release(*state, 0x10, 0x32, 1);
}

static void test_i8042_releases_survive_a_flood_of_repeats(void **state)
{
	struct fixture *f = *state;

	keyboard_driver_ready(f);
	/* 47 keys held with auto-repeat until presses are refused. */
	flood_then_release(f, 0x02, 0x30, 20);
}

static void test_i8042_keys_before_driver_fit_linux_flush(void **state)
{
	struct fixture *f = *state;
	int reads = 0;

	/* Typed during boot, before any driver touched the controller. */
	for (int i = 0; i < 100; i++) {
		key(f, QNUM_A, true);
		key(f, QNUM_A, false);
	}
	/* Linux i8042_flush(): read while OBF, give up after 16 bytes. */
	while (obf(f) && reads < LINUX_I8042_BUFFER_SIZE) {
		inb(f, I8042_DATA_PORT);
		reads++;
	}
	assert_false(obf(f));
	assert_true(f->dev.kbd.stats.keys_dropped > 0);
}

static void test_i8042_controller_reply_goes_before_queued_keys(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_A, true); /* latched at once */
	key(f, QNUM_B, true); /* queued behind it */
	outb(f, I8042_COMMAND_PORT, I8042_CMD_CTL_RCTR & 0xFF);
	EXPECT(f, 0x1E, 0x61, 0x30);
}

static void test_i8042_unread_controller_replies_are_kept_up_to_limit(void **state)
{
	struct fixture *f = *state;
	uint64_t dropped = f->dev.stats.ctrl_replies_dropped;

	for (unsigned int i = 0; i < I8042_CTRL_QUEUE_LEN + 2; i++) {
		outb(f, I8042_COMMAND_PORT, I8042_CMD_KBD_LOOP & 0xFF);
		outb(f, I8042_DATA_PORT, (uint8_t)i);
	}
	/* One is in the output buffer, I8042_CTRL_QUEUE_LEN queued behind it. */
	for (unsigned int i = 0; i < I8042_CTRL_QUEUE_LEN + 1; i++)
		assert_int_equal(read_byte(f), i);
	assert_false(obf(f));
	assert_int_equal(f->dev.stats.ctrl_replies_dropped, dropped + 1);
}

static void test_i8042_disabled_keyboard_port_holds_keys(void **state)
{
	struct fixture *f = *state;

	linux_command(f, I8042_CMD_KBD_DISABLE, NULL, NULL);
	key(f, QNUM_A, true);
	assert_false(obf(f));
	assert_false(f->kbd_irq.level);
	linux_command(f, I8042_CMD_KBD_ENABLE, NULL, NULL);
	assert_true(f->kbd_irq.level);
	EXPECT(f, 0x1E);
}

static void test_i8042_read_when_empty_returns_last_byte(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_A, true);
	assert_int_equal(read_byte(f), 0x1E);
	assert_false(obf(f));
	assert_int_equal(inb(f, I8042_DATA_PORT), 0x1E);
	assert_false(obf(f));
}

struct typist {
	struct fixture *f;
	unsigned int pairs;
	volatile bool done;
};

static void *typist_run(void *arg)
{
	struct typist *t = arg;

	for (unsigned int i = 0; i < t->pairs; i++) {
		key(t->f, QNUM_RIGHT, true);
		key(t->f, QNUM_RIGHT, false);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* The VNC thread delivers keys while the vCPU thread reads the ports: every
 * key arrives whole or is counted as dropped, and the IRQ line ends low. */
static void test_i8042_keys_from_another_thread_arrive_whole(void **state)
{
	struct fixture *f = *state;
	struct typist t = { .f = f, .pairs = 20000 };
	unsigned int presses = 0, releases = 0;
	pthread_t thread;

	keyboard_driver_ready(f);
	assert_int_equal(pthread_create(&thread, NULL, typist_run, &t), 0);
	for (;;) {
		bool finished = __atomic_load_n(&t.done, __ATOMIC_ACQUIRE);
		uint8_t b;

		if (!obf(f)) {
			if (finished)
				break;
			continue;
		}
		b = inb(f, I8042_DATA_PORT);
		assert_int_equal(b, 0xE0);
		while (!obf(f))
			; /* the rest of a sequence is queued with its start */
		b = inb(f, I8042_DATA_PORT);
		if (b == 0x4D)
			presses++;
		else if (b == 0xCD)
			releases++;
		else
			fail_msg("byte 0x%02x after E0", b);
	}
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(presses + releases + f->dev.kbd.stats.keys_dropped, 2 * t.pairs);
	assert_false(f->kbd_irq.level);
}

/* ---- interrupt lines ---- */

static void test_i8042_kbd_irq_high_while_byte_ready_low_after_read(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_A, true);
	assert_true(f->kbd_irq.level);
	assert_false(f->aux_irq.level);
	assert_int_equal(inb(f, I8042_DATA_PORT), 0x1E);
	assert_false(f->kbd_irq.level);
	assert_int_equal(f->kbd_irq.raises, 1);
}

static void test_i8042_every_queued_byte_raises_a_new_edge(void **state)
{
	struct fixture *f = *state;

	key(f, QNUM_RIGHT, true);
	key(f, QNUM_RIGHT, false);
	EXPECT(f, 0xE0, 0x4D, 0xE0, 0xCD);
	assert_int_equal(f->kbd_irq.raises, 4);
	assert_false(f->kbd_irq.level);
}

static void test_i8042_kbd_irq_follows_kbdint_bit(void **state)
{
	struct fixture *f = *state;

	write_ctr(f, I8042_CTR_XLATE); /* no KBDINT: polled */
	key(f, QNUM_A, true);
	assert_true(obf(f));
	assert_false(f->kbd_irq.level);
	write_ctr(f, I8042_CTR_XLATE | I8042_CTR_KBDINT);
	assert_true(f->kbd_irq.level);
	EXPECT(f, 0x1E);
	assert_false(f->kbd_irq.level);
}

static void test_i8042_aux_data_raises_irq12_not_irq1(void **state)
{
	struct fixture *f = *state;
	uint8_t enable = 0xF4;

	write_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
	linux_command(f, I8042_CMD_AUX_SEND, &enable, NULL);
	EXPECT(f, 0xFA);
	pointer(f, 5, -3, 0, INPUT_BUTTON_LEFT);
	assert_true(f->aux_irq.level);
	assert_false(f->kbd_irq.level);
	assert_true(status(f) & I8042_STR_AUXDATA);
	/* Left button, +5 right, +3 up (screen dy -3). */
	EXPECT(f, 0x09, 0x05, 0x03);
	assert_false(f->aux_irq.level);
}

/* ---- reset line ---- */

static void test_i8042_command_fe_requests_reset(void **state)
{
	struct fixture *f = *state;

	assert_false(vm_stop_requested());
	outb(f, I8042_COMMAND_PORT, 0xFE);
	assert_true(vm_stop_requested());
	assert_int_equal(vm_stop_reason(), VM_STOP_RESET);
	assert_int_equal(vm_stop_exit_status(), EXIT_STATUS_RESET);
	assert_int_equal(f->dev.stats.reset_requests, 1);
}

static void test_i8042_pulse_commands_reset_only_when_bit0_pulsed(void **state)
{
	struct fixture *f = *state;

	for (unsigned int cmd = 0xF0; cmd <= 0xFF; cmd++) {
		vm_stop_reset_for_test();
		outb(f, I8042_COMMAND_PORT, (uint8_t)cmd);
		if (vm_stop_requested() != !(cmd & 1))
			fail_msg("command 0x%02x: reset requested=%d", cmd, vm_stop_requested());
	}
}

static void test_i8042_output_port_write_with_bit0_clear_resets(void **state)
{
	static const struct {
		uint8_t value;
		bool resets;
	} cases[] = {
		{ 0xDF, false }, /* A20 on: what DOS-era code writes */
		{ 0xDD, false }, /* A20 off */
		{ 0xCF, false },
		{ 0xFE, true },
		{ 0x00, true },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		vm_stop_reset_for_test();
		outb(f, I8042_COMMAND_PORT, 0xD1);
		outb(f, I8042_DATA_PORT, cases[i].value);
		if (vm_stop_requested() != cases[i].resets)
			fail_msg("output port 0x%02x: reset requested=%d", cases[i].value,
				 vm_stop_requested());
	}
}

static void test_i8042_output_port_reads_back_with_live_buffer_bits(void **state)
{
	struct fixture *f = *state;

	outb(f, I8042_COMMAND_PORT, 0xD1);
	outb(f, I8042_DATA_PORT, 0xDF);
	outb(f, I8042_COMMAND_PORT, 0xD0);
	EXPECT(f, 0xCF); /* bit 4 (keyboard OBF) was empty when the command ran */
	key(f, QNUM_A, true);
	outb(f, I8042_COMMAND_PORT, 0xD0);
	EXPECT(f, 0x1E, 0xDF); /* now the buffer held the key */
}

/* ---- bad command streams ---- */

static void test_i8042_missing_parameter_bytes(void **state)
{
	static const struct {
		const char *what;
		uint8_t port[4];  /* 0x60 or 0x64 per byte */
		uint8_t bytes[4];
		size_t n;
		uint8_t want[3];
		size_t nwant;
		unsigned int ctrl_abandoned, kbd_abandoned, mouse_abandoned;
	} cases[] = {
		{ "write CTR then read CTR: write abandoned",
		  { 0x64, 0x64 }, { 0x60, 0x20 }, 2, { 0x61 }, 1, 1, 0, 0 },
		{ "write CTR abandoned: next data byte goes to the keyboard",
		  { 0x64, 0x64, 0x60 }, { 0x60, 0xAE, 0xEE }, 3, { 0xEE }, 1, 1, 0, 0 },
		{ "aux send with nothing after it, then self-test",
		  { 0x64, 0x64 }, { 0xD4, 0xAA }, 2, { 0x55 }, 1, 1, 0, 0 },
		{ "aux loop with nothing after it, then keyboard loop",
		  { 0x64, 0x64, 0x60 }, { 0xD3, 0xD2, 0x77 }, 3, { 0x77 }, 1, 1, 0, 0 },
		{ "output port write abandoned: no reset",
		  { 0x64, 0x64 }, { 0xD1, 0xAD }, 2, { 0 }, 0, 1, 0, 0 },
		{ "keyboard LEDs without LED byte: next command runs",
		  { 0x60, 0x60 }, { 0xED, 0xF4 }, 2, { 0xFA }, 1, 0, 1, 0 },
		{ "keyboard scan set without parameter: echo runs",
		  { 0x60, 0x60 }, { 0xF0, 0xEE }, 2, { 0xEE }, 1, 0, 1, 0 },
		{ "mouse sample rate without rate: get ID runs",
		  { 0x64, 0x60, 0x64, 0x60 }, { 0xD4, 0xF3, 0xD4, 0xF2 }, 4, { 0xFA, 0x00 }, 2,
		  0, 0, 1 },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct i8042_stats c0;
		struct ps2_kbd_stats k0;
		struct ps2_mouse_stats m0;
		uint8_t got[4];
		size_t n = 0;

		i8042_reset(&f->dev);
		vm_stop_reset_for_test();
		c0 = f->dev.stats;
		k0 = f->dev.kbd.stats;
		m0 = f->dev.mouse.stats;
		for (size_t j = 0; j < cases[i].n; j++) {
			outb(f, cases[i].port[j], cases[i].bytes[j]);
			/* Discard ACKs of the first half, keep what comes last. */
			if (j + 1 < cases[i].n && cases[i].port[j] == 0x60)
				drain(f);
		}
		while (obf(f) && n < ARRAY_LEN(got))
			got[n++] = inb(f, I8042_DATA_PORT);
		if (n != cases[i].nwant || memcmp(got, cases[i].want, n))
			fail_msg("%s: got %zu bytes (first 0x%02x), want %zu (first 0x%02x)",
				 cases[i].what, n, n ? got[0] : 0, cases[i].nwant,
				 cases[i].want[0]);
		if (f->dev.stats.abandoned_params - c0.abandoned_params != cases[i].ctrl_abandoned ||
		    f->dev.kbd.stats.abandoned_params - k0.abandoned_params != cases[i].kbd_abandoned ||
		    f->dev.mouse.stats.abandoned_params - m0.abandoned_params !=
			    cases[i].mouse_abandoned)
			fail_msg("%s: abandoned counters wrong", cases[i].what);
		assert_false(vm_stop_requested());
		assert_int_equal(read_ctr(f) & ~(I8042_CTR_KBDDIS | I8042_CTR_AUXDIS), 0x41);
	}
}

static void test_i8042_unknown_controller_commands_are_ignored_and_counted(void **state)
{
	static const uint8_t unknown[] = { 0x00, 0x21, 0x3F, 0x61, 0x90, 0xA1, 0xA4, 0xA5,
					   0xC1, 0xCA, 0xD5, 0xE0, 0xEF };
	struct fixture *f = *state;
	uint64_t before = f->dev.stats.unknown_commands;

	for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
		outb(f, I8042_COMMAND_PORT, unknown[i]);
		if (obf(f))
			fail_msg("command 0x%02x produced a byte", unknown[i]);
	}
	assert_int_equal(f->dev.stats.unknown_commands - before, ARRAY_LEN(unknown));
	assert_int_equal(read_ctr(f), 0x61);
	assert_false(vm_stop_requested());
}

static void test_i8042_unknown_keyboard_commands_answer_resend(void **state)
{
	static const uint8_t unknown[] = { 0x00, 0x42, 0xEF, 0xF1, 0xF7, 0xF8, 0xFA, 0xFB,
					   0xFC, 0xFD };
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
		uint64_t before = f->dev.kbd.stats.unknown_commands;

		outb(f, I8042_DATA_PORT, unknown[i]);
		EXPECT(f, 0xFE);
		assert_int_equal(f->dev.kbd.stats.unknown_commands, before + 1);
	}
}

static void test_i8042_rejects_wide_accesses(void **state)
{
	struct fixture *f = *state;
	uint16_t wide = 0;

	key(f, QNUM_A, true);
	bus_access(&f->bus, BUS_PIO, I8042_DATA_PORT, &wide, 2, false);
	assert_int_equal(wide, 0xFFFF);
	EXPECT(f, 0x1E); /* the refused read consumed nothing */
}

static void test_i8042_init_refuses_taken_port_and_claims_nothing(void **state)
{
	static const struct bus_ops none = { 0 };
	struct bus *bus = calloc(1, sizeof(*bus));
	struct i8042 *dev = calloc(1, sizeof(*dev));
	const struct bus_region taken = { .name = "other", .base = I8042_COMMAND_PORT,
					  .len = 1, .min_access = 1, .max_access = 1,
					  .ops = &none };

	(void)state;
	assert_non_null(bus);
	assert_non_null(dev);
	bus_init(bus);
	assert_int_equal(bus_register(bus, BUS_PIO, &taken), 0);
	assert_int_equal(i8042_init(dev, bus, (struct irq_line){ 0 }, (struct irq_line){ 0 }),
			 -EEXIST);
	assert_null(bus_find(bus, BUS_PIO, I8042_DATA_PORT));
	free(dev);
	free(bus);
}

static void test_i8042_print_stats_reports_counters(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	outb(f, I8042_COMMAND_PORT, 0xA1);      /* unknown controller command */
	outb(f, I8042_DATA_PORT, 0x42);         /* unknown keyboard command */
	drain(f);
	key(f, 0x100, true);                    /* qnum out of range */
	i8042_print_stats(&f->dev, out);
	fclose(out);
	assert_non_null(strstr(text, "i8042: unknown_commands=1 "));
	assert_non_null(strstr(text, "i8042 keyboard: unknown_commands=1 "));
	assert_non_null(strstr(text, "keys_unmapped=1 "));
	assert_non_null(strstr(text, "i8042 mouse: unknown_commands=0 "));
	assert_non_null(strstr(text, "packets_dropped=0 doorbells=0\n"));
	free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_i8042_reset_state_is_seabios_handoff),
		T(test_i8042_reset_discards_pending_bytes_and_lowers_irqs),
		T(test_i8042_read_ctr_twice_is_stable),
		T(test_i8042_self_test_replies_55_and_sets_sys),
		T(test_i8042_write_ctr_reads_back),
		T(test_i8042_aux_loop_echoes_as_aux_data_with_irq12),
		T(test_i8042_mux_probe_echo_is_faithful),
		T(test_i8042_aux_toggle_is_visible_in_ctr),
		T(test_i8042_commands_produce_linux_result_counts),
		T(test_i8042_aux_send_reaches_mouse_and_reply_is_aux),
		T(test_i8042_keyboard_probe_replies),
		T(test_i8042_keyboard_id_untranslated_is_ab_83),
		T(test_i8042_data_write_enables_keyboard_port),
		T(test_i8042_translated_a_is_1e_9e),
		T(test_i8042_untranslated_a_is_1c_f0_1c),
		T(test_i8042_translated_right_arrow_is_e0_4d_e0_cd),
		T(test_i8042_untranslated_right_arrow_is_e0_74_e0_f0_74),
		T(test_i8042_translated_print_screen_and_pause_are_set1),
		T(test_i8042_translation_matches_keycodemapdb_for_every_key),
		T(test_i8042_set1_selected_is_sent_untranslated),
		T(test_i8042_queue_overflow_drops_whole_keys_and_counts),
		T(test_i8042_queue_keeps_room_for_releases),
		T(test_i8042_releases_fit_before_the_driver_is_active),
		T(test_i8042_releases_survive_a_flood_of_repeats),
		T(test_i8042_keys_before_driver_fit_linux_flush),
		T(test_i8042_controller_reply_goes_before_queued_keys),
		T(test_i8042_unread_controller_replies_are_kept_up_to_limit),
		T(test_i8042_disabled_keyboard_port_holds_keys),
		T(test_i8042_read_when_empty_returns_last_byte),
		T(test_i8042_keys_from_another_thread_arrive_whole),
		T(test_i8042_kbd_irq_high_while_byte_ready_low_after_read),
		T(test_i8042_every_queued_byte_raises_a_new_edge),
		T(test_i8042_kbd_irq_follows_kbdint_bit),
		T(test_i8042_aux_data_raises_irq12_not_irq1),
		T(test_i8042_command_fe_requests_reset),
		T(test_i8042_pulse_commands_reset_only_when_bit0_pulsed),
		T(test_i8042_output_port_write_with_bit0_clear_resets),
		T(test_i8042_output_port_reads_back_with_live_buffer_bits),
		T(test_i8042_missing_parameter_bytes),
		T(test_i8042_unknown_controller_commands_are_ignored_and_counted),
		T(test_i8042_unknown_keyboard_commands_answer_resend),
		T(test_i8042_rejects_wide_accesses),
		cmocka_unit_test(test_i8042_init_refuses_taken_port_and_claims_nothing),
		T(test_i8042_print_stats_reports_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
