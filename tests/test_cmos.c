/*
 * Tests for devices/cmos.c through ports 0x70/0x71, with a fake wall clock:
 * the time registers in BCD and binary, 12/24-hour mode, century, UIP
 * timing, Linux's mc146818_set_time sequence, the memory-size bytes QEMU's
 * PC machine stores, the NMI bit in the index, and garbage the guest may
 * write into the time registers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/cmos.h"
#include "hypervisor/bus.h"
#include "hypervisor/memmap.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NS 1000000000ull

/* MC146818A register numbers and bits, spelled out from the datasheet. */
#define SEC 0x00
#define MIN 0x02
#define HOUR 0x04
#define DOW 0x06
#define MDAY 0x07
#define MON 0x08
#define YEAR 0x09
#define REG_A 0x0A
#define REG_B 0x0B
#define REG_C 0x0C
#define REG_D 0x0D
#define CENTURY 0x32
#define UIP 0x80
#define SET 0x80
#define UIE 0x10
#define DM 0x04
#define H24 0x02
#define UF 0x10
#define IRQF 0x80
#define DIV_RESET2 0x70   /* Linux RTC_DIV_RESET2 */

struct fx {
	struct bus bus;
	struct cmos cmos;
	uint64_t now_ns;
};

static uint64_t fake_clock(void *ctx)
{
	return ((struct fx *)ctx)->now_ns;
}

static void out(struct fx *f, uint16_t port, uint8_t v)
{
	bus_access(&f->bus, BUS_PIO, port, &v, 1, true);
}

static uint8_t in(struct fx *f, uint16_t port)
{
	uint8_t v = 0;

	bus_access(&f->bus, BUS_PIO, port, &v, 1, false);
	return v;
}

static uint8_t cmos_read(struct fx *f, uint8_t index)
{
	out(f, 0x70, index);
	return in(f, 0x71);
}

static void cmos_write(struct fx *f, uint8_t index, uint8_t value)
{
	out(f, 0x70, index);
	out(f, 0x71, value);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	bus_init(&f->bus);
	assert_int_equal(cmos_init(&f->cmos, &f->bus, MiB(128)), 0);
	cmos_set_clock(&f->cmos, fake_clock, f);
	f->now_ns = 1709214307ull * NS;   /* 2024-02-29 13:45:07 UTC, a Thursday */
	cmos_reset(&f->cmos);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cmos_destroy(&f->cmos);
	free(f);
	return 0;
}

struct instant {
	uint64_t unix_s;
	uint8_t sec, min, hour, dow, mday, mon, year, century;   /* as binary numbers */
};

static const struct instant instants[] = {
	{ 1709214307, 7, 45, 13, 5, 29, 2, 24, 20 },
	{ 0, 0, 0, 0, 5, 1, 1, 70, 19 },
	{ 946684799, 59, 59, 23, 6, 31, 12, 99, 19 },
	{ 946684800, 0, 0, 0, 7, 1, 1, 0, 20 },
	{ 2147483648, 8, 14, 3, 3, 19, 1, 38, 20 },
	{ 4107542400, 0, 0, 0, 2, 1, 3, 0, 21 },
};

static uint8_t bcd(unsigned int v)
{
	return (uint8_t)(v / 10 << 4 | v % 10);
}

static void assert_time(struct fx *f, const struct instant *t, bool binary)
{
	uint8_t (*enc)(unsigned int) = bcd;
	uint8_t plain[8];

	if (binary) {
		const uint8_t v[8] = { t->sec, t->min, t->hour, t->dow, t->mday, t->mon, t->year,
				       t->century };
		memcpy(plain, v, sizeof(plain));
		enc = NULL;
	}
	assert_int_equal(cmos_read(f, SEC), enc ? enc(t->sec) : plain[0]);
	assert_int_equal(cmos_read(f, MIN), enc ? enc(t->min) : plain[1]);
	assert_int_equal(cmos_read(f, HOUR), enc ? enc(t->hour) : plain[2]);
	assert_int_equal(cmos_read(f, DOW), enc ? enc(t->dow) : plain[3]);
	assert_int_equal(cmos_read(f, MDAY), enc ? enc(t->mday) : plain[4]);
	assert_int_equal(cmos_read(f, MON), enc ? enc(t->mon) : plain[5]);
	assert_int_equal(cmos_read(f, YEAR), enc ? enc(t->year) : plain[6]);
	assert_int_equal(cmos_read(f, CENTURY), enc ? enc(t->century) : plain[7]);
}

/* ---- time registers ------------------------------------------------------ */

static void test_cmos_time_registers_are_bcd_by_default(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(instants); i++) {
		f->now_ns = instants[i].unix_s * NS + 123456789;
		assert_time(f, &instants[i], false);
	}
}

static void test_cmos_time_registers_are_binary_when_dm_is_set(void **state)
{
	struct fx *f = *state;

	cmos_write(f, REG_B, H24 | DM);
	for (size_t i = 0; i < ARRAY_LEN(instants); i++) {
		f->now_ns = instants[i].unix_s * NS;
		assert_time(f, &instants[i], true);
	}
}

static void test_cmos_12_hour_mode_sets_pm_bit(void **state)
{
	static const struct { unsigned int hour; uint8_t bcd, binary; } rows[] = {
		{ 0, 0x12, 12 }, { 1, 0x01, 1 }, { 11, 0x11, 11 },
		{ 12, 0x92, 0x8C }, { 13, 0x81, 0x81 }, { 23, 0x91, 0x8B },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		f->now_ns = (946684800ull + rows[i].hour * 3600ull) * NS;
		cmos_write(f, REG_B, 0);
		assert_int_equal(cmos_read(f, HOUR), rows[i].bcd);
		cmos_write(f, REG_B, DM);
		assert_int_equal(cmos_read(f, HOUR), rows[i].binary);
	}
}

static void test_cmos_ibm_century_byte_aliases_0x32(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmos_read(f, 0x37), 0x20);
}

static void test_cmos_uip_is_set_in_the_last_244us_of_a_second(void **state)
{
	static const struct { uint64_t frac_ns; bool uip; } rows[] = {
		{ 0, false }, { 500000000, false }, { 999755999, false },
		{ 999756000, true }, { 999999999, true },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		f->now_ns = 1709214307ull * NS + rows[i].frac_ns;
		assert_int_equal(cmos_read(f, REG_A), 0x26 | (rows[i].uip ? UIP : 0));
	}
	/* Stopped (SET), there is no update to wait for. */
	cmos_write(f, REG_B, H24 | SET);
	assert_int_equal(cmos_read(f, REG_A), 0x26);
	/* UIP is read-only. */
	cmos_write(f, REG_B, H24);
	f->now_ns = 1709214307ull * NS;
	cmos_write(f, REG_A, 0x26 | UIP);
	assert_int_equal(cmos_read(f, REG_A), 0x26);
}

static void test_cmos_linux_mc146818_get_time_sees_a_consistent_time(void **state)
{
	struct fx *f = *state;
	uint8_t sec, min, again;

	/* mc146818_avoid_UIP: wait for UIP clear, read, check UIP and seconds again. */
	f->now_ns = 1709214307ull * NS + 999900000;   /* inside the UIP window */
	assert_true(cmos_read(f, REG_A) & UIP);
	f->now_ns += 200000;                         /* the update happened */
	assert_false(cmos_read(f, REG_A) & UIP);
	sec = cmos_read(f, SEC);
	min = cmos_read(f, MIN);
	again = cmos_read(f, SEC);
	assert_false(cmos_read(f, REG_A) & UIP);
	assert_int_equal(sec, again);
	assert_int_equal(sec, 0x08);
	assert_int_equal(min, 0x45);
}

/* ---- setting the clock --------------------------------------------------- */

/* Linux drivers/rtc/rtc-mc146818-lib.c mc146818_set_time, without ACPI
 * (the century register is not written). */
static void linux_set_time(struct fx *f, uint8_t yrs, uint8_t mon, uint8_t day, uint8_t hrs,
			   uint8_t min, uint8_t sec)
{
	uint8_t save_control = cmos_read(f, REG_B);
	cmos_write(f, REG_B, save_control | SET);
	uint8_t save_freq_select = cmos_read(f, REG_A);
	cmos_write(f, REG_A, save_freq_select | DIV_RESET2);
	cmos_write(f, YEAR, bcd(yrs));
	cmos_write(f, MON, bcd(mon));
	cmos_write(f, MDAY, bcd(day));
	cmos_write(f, HOUR, bcd(hrs));
	cmos_write(f, MIN, bcd(min));
	cmos_write(f, SEC, bcd(sec));
	cmos_write(f, REG_B, save_control);
	cmos_write(f, REG_A, save_freq_select);
}

static void test_cmos_linux_set_time_sequence_sets_the_clock(void **state)
{
	static const struct instant set = { 1907749230, 30, 20, 10, 7, 15, 6, 30, 20 };
	struct fx *f = *state;

	linux_set_time(f, 30, 6, 15, 10, 20, 30);
	assert_int_equal(cmos_read(f, REG_A), 0x26);
	assert_int_equal(cmos_read(f, REG_B), H24);
	assert_time(f, &set, false);
	/* Releasing the divider reset puts the next update half a second away. */
	f->now_ns += 499999999;
	assert_int_equal(cmos_read(f, SEC), 0x30);
	f->now_ns += 1;
	assert_int_equal(cmos_read(f, SEC), 0x31);
	f->now_ns += 3600 * NS;
	assert_int_equal(cmos_read(f, HOUR), 0x11);
	assert_int_equal(f->cmos.time_sets, 1);
}

static void test_cmos_set_bit_freezes_the_registers(void **state)
{
	struct fx *f = *state;

	cmos_write(f, REG_B, H24 | SET | UIE);
	assert_int_equal(cmos_read(f, REG_B), H24 | SET);   /* SET clears UIE */
	f->now_ns += 5 * NS;
	assert_int_equal(cmos_read(f, SEC), 0x07);
	cmos_write(f, SEC, 0x30);
	f->now_ns += 5 * NS;
	assert_int_equal(cmos_read(f, SEC), 0x30);
	/* Leaving SET starts the clock from the registers, keeping the phase. */
	cmos_write(f, REG_B, H24);
	assert_int_equal(cmos_read(f, SEC), 0x30);
	assert_int_equal(cmos_read(f, MIN), 0x45);
	f->now_ns += NS;
	assert_int_equal(cmos_read(f, SEC), 0x31);
}

static void test_cmos_time_write_while_running_sets_the_clock(void **state)
{
	struct fx *f = *state;

	cmos_write(f, YEAR, 0x25);
	assert_int_equal(cmos_read(f, YEAR), 0x25);
	assert_int_equal(cmos_read(f, CENTURY), 0x20);
	assert_int_equal(cmos_read(f, MON), 0x03);      /* 2025 has no Feb 29 */
	assert_int_equal(cmos_read(f, MDAY), 0x01);
	assert_int_equal(cmos_read(f, DOW), 0x07);      /* 2025-03-01 was a Saturday */
	/* A day of week written is not kept: it follows the date. */
	cmos_write(f, DOW, 0x02);
	assert_int_equal(cmos_read(f, DOW), 0x07);
}

static void test_cmos_garbage_time_registers_give_some_valid_time(void **state)
{
	static const uint8_t rows[][8] = {
		/* sec, min, hour, mday, mon, year, century, B */
		{ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, H24 },
		{ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, H24 | DM },
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, H24 },     /* day 0, month 0, year 0 */
		{ 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0 },       /* 12-hour garbage */
		{ 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, H24 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		cmos_write(f, REG_B, rows[i][7] | SET);
		cmos_write(f, SEC, rows[i][0]);
		cmos_write(f, MIN, rows[i][1]);
		cmos_write(f, HOUR, rows[i][2]);
		cmos_write(f, MDAY, rows[i][3]);
		cmos_write(f, MON, rows[i][4]);
		cmos_write(f, YEAR, rows[i][5]);
		cmos_write(f, CENTURY, rows[i][6]);
		cmos_write(f, REG_B, H24 | DM);
		f->now_ns += NS;
		/* Binary now: every field must be in range. */
		assert_true(cmos_read(f, SEC) < 60);
		assert_true(cmos_read(f, MIN) < 60);
		assert_true(cmos_read(f, HOUR) < 24);
		assert_true(cmos_read(f, MDAY) >= 1 && cmos_read(f, MDAY) <= 31);
		assert_true(cmos_read(f, MON) >= 1 && cmos_read(f, MON) <= 12);
		assert_true(cmos_read(f, DOW) >= 1 && cmos_read(f, DOW) <= 7);
		assert_true(cmos_read(f, YEAR) < 100);
		assert_true(cmos_read(f, CENTURY) >= 19 && cmos_read(f, CENTURY) <= 100);
	}
}

/* ---- control registers ------------------------------------------------- */

static void test_cmos_control_registers_after_reset(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmos_read(f, REG_A), 0x26);
	assert_int_equal(cmos_read(f, REG_B), 0x02);
	assert_int_equal(cmos_read(f, REG_C), 0x00);
	assert_int_equal(cmos_read(f, REG_D), 0x80);
}

static void test_cmos_registers_c_and_d_are_read_only(void **state)
{
	struct fx *f = *state;

	cmos_write(f, REG_C, 0xFF);
	cmos_write(f, REG_D, 0x00);
	assert_int_equal(cmos_read(f, REG_C), 0x00);
	assert_int_equal(cmos_read(f, REG_D), 0x80);
	assert_int_equal(f->cmos.ignored_writes, 2);
}

static void test_cmos_register_c_reports_update_ended_once_per_second(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmos_read(f, REG_C), 0);
	f->now_ns += NS;
	assert_int_equal(cmos_read(f, REG_C), UF);
	assert_int_equal(cmos_read(f, REG_C), 0);        /* reading cleared it */
	cmos_write(f, REG_B, H24 | UIE);
	f->now_ns += 3 * NS;
	assert_int_equal(cmos_read(f, REG_C), IRQF | UF);
}

/* ---- index port and RAM -------------------------------------------------- */

static void test_cmos_nmi_bit_in_index_selects_the_same_register(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmos_read(f, 0x80 | REG_D), 0x80);
	assert_true(f->cmos.nmi_disabled);
	assert_int_equal(cmos_read(f, 0x80 | REG_B), 0x02);
	assert_int_equal(cmos_read(f, REG_B), 0x02);
	assert_false(f->cmos.nmi_disabled);
}

static void test_cmos_index_is_seven_bits(void **state)
{
	static const uint8_t indices[] = { 0x0E, 0x3F, 0x40, 0x7F };
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(indices); i++) {
		cmos_write(f, indices[i], (uint8_t)(0xA0 + i));
		assert_int_equal(cmos_read(f, indices[i] | 0x80), 0xA0 + i);
	}
	out(f, 0x70, 0xFF);
	assert_int_equal(f->cmos.index, 0x7F);
}

static void test_cmos_index_port_reads_ff(void **state)
{
	struct fx *f = *state;

	out(f, 0x70, REG_B);
	assert_int_equal(in(f, 0x70), 0xFF);
	assert_int_equal(in(f, 0x71), 0x02);   /* the index was kept */
}

static void test_cmos_wide_accesses_are_rejected_by_the_bus(void **state)
{
	struct fx *f = *state;
	uint16_t v = 0x0B0B;

	bus_access(&f->bus, BUS_PIO, 0x70, &v, 2, true);
	assert_int_equal(f->cmos.index, 0);
	assert_int_equal(bus_find(&f->bus, BUS_PIO, 0x70)->rejected, 1);
}

static void test_cmos_memory_size_bytes_follow_qemu(void **state)
{
	static const struct {
		uint64_t ram;
		uint16_t base_kib, ext_kib, mem16m_64k;
		uint32_t above4g_64k;
	} rows[] = {
		{ MiB(16), 640, 15360, 0, 0 },
		{ MiB(128), 640, 65535, 1792, 0 },
		{ GiB(3), 640, 65535, 48896, 0 },
		{ GiB(4), 640, 65535, 48896, 16384 },
		{ GiB(64), 640, 65535, 48896, 999424 },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct fx *f = calloc(1, sizeof(*f));
		bus_init(&f->bus);
		assert_int_equal(cmos_init(&f->cmos, &f->bus, rows[i].ram), 0);
		assert_int_equal(cmos_read(f, 0x15) | cmos_read(f, 0x16) << 8, rows[i].base_kib);
		assert_int_equal(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, rows[i].ext_kib);
		assert_int_equal(cmos_read(f, 0x30) | cmos_read(f, 0x31) << 8, rows[i].ext_kib);
		assert_int_equal(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, rows[i].mem16m_64k);
		assert_int_equal(cmos_read(f, 0x5B) | cmos_read(f, 0x5C) << 8 |
				 (uint32_t)cmos_read(f, 0x5D) << 16, rows[i].above4g_64k);
		cmos_destroy(&f->cmos);
		free(f);
	}
}

static void test_cmos_reset_forgets_guest_time_and_keeps_ram(void **state)
{
	struct fx *f = *state;

	cmos_write(f, YEAR, 0x30);
	cmos_write(f, 0x40, 0x5A);
	cmos_write(f, REG_B, DM);
	out(f, 0x70, 0x80 | 0x40);
	cmos_reset(&f->cmos);
	assert_false(f->cmos.nmi_disabled);
	assert_int_equal(f->cmos.index, 0);
	assert_int_equal(cmos_read(f, REG_B), 0x02);
	assert_int_equal(cmos_read(f, YEAR), 0x24);
	assert_int_equal(cmos_read(f, 0x40), 0x5A);
	assert_int_equal(cmos_read(f, 0x15), 0x80);   /* 640 KiB, low byte */
}

static void test_cmos_host_clock_gives_a_plausible_date(void **state)
{
	struct fx *f = *state;

	cmos_set_clock(&f->cmos, NULL, NULL);
	cmos_reset(&f->cmos);
	assert_int_equal(cmos_read(f, CENTURY), 0x20);
	assert_true(cmos_read(f, YEAR) >= 0x24);
	assert_int_equal(cmos_read(f, REG_D), 0x80);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_cmos_time_registers_are_bcd_by_default),
		T(test_cmos_time_registers_are_binary_when_dm_is_set),
		T(test_cmos_12_hour_mode_sets_pm_bit),
		T(test_cmos_ibm_century_byte_aliases_0x32),
		T(test_cmos_uip_is_set_in_the_last_244us_of_a_second),
		T(test_cmos_linux_mc146818_get_time_sees_a_consistent_time),
		T(test_cmos_linux_set_time_sequence_sets_the_clock),
		T(test_cmos_set_bit_freezes_the_registers),
		T(test_cmos_time_write_while_running_sets_the_clock),
		T(test_cmos_garbage_time_registers_give_some_valid_time),
		T(test_cmos_control_registers_after_reset),
		T(test_cmos_registers_c_and_d_are_read_only),
		T(test_cmos_register_c_reports_update_ended_once_per_second),
		T(test_cmos_nmi_bit_in_index_selects_the_same_register),
		T(test_cmos_index_is_seven_bits),
		T(test_cmos_index_port_reads_ff),
		T(test_cmos_wide_accesses_are_rejected_by_the_bus),
		T(test_cmos_memory_size_bytes_follow_qemu),
		T(test_cmos_reset_forgets_guest_time_and_keeps_ram),
		T(test_cmos_host_clock_gives_a_plausible_date),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
