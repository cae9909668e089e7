/* Unit tests for devices/acpi_pm.c: PM1a status/enable/control, S5 power
 * off and other sleep types, the PM timer and the SCI, driven through the
 * bus as a guest's port accesses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "hypervisor/bus.h"
#include "hypervisor/vmstop.h"

#define NS_PER_SEC 1000000000ull

struct fixture {
	struct bus bus;
	struct acpi_pm pm;
	uint64_t now_ns;
	int sci_level;       /* last level set, -1 before any */
	unsigned int sci_changes;
	unsigned int sci_gsi;
};

static uint64_t fake_clock(void *ctx)
{
	return ((struct fixture *)ctx)->now_ns;
}

static void fake_sci(void *ctx, unsigned int gsi, bool level)
{
	struct fixture *f = ctx;

	f->sci_gsi = gsi;
	f->sci_level = level;
	f->sci_changes++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	bus_init(&f->bus);
	vm_stop_reset_for_test();
	f->now_ns = 1000 * NS_PER_SEC;
	assert_int_equal(acpi_pm_init(&f->pm, &f->bus,
				      (struct irq_line){ .set_level = fake_sci, .ctx = f,
							 .gsi = ACPI_PM_SCI_IRQ }), 0);
	acpi_pm_set_clock(&f->pm, fake_clock, f);
	f->sci_level = -1;
	f->sci_changes = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	acpi_pm_destroy(&f->pm);
	free(f);
	vm_stop_reset_for_test();
	return 0;
}

static uint32_t in(struct fixture *f, uint16_t port, unsigned int size)
{
	uint32_t v = 0;

	bus_access(&f->bus, BUS_PIO, port, &v, size, false);
	return v;
}

static void out(struct fixture *f, uint16_t port, uint32_t v, unsigned int size)
{
	bus_access(&f->bus, BUS_PIO, port, &v, size, true);
}

static void test_acpi_pm_reset_state_is_acpi_mode_with_nothing_pending(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2), 0);
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT + 2, 2), 0);
	assert_int_equal(in(f, ACPI_PM1A_CNT_PORT, 2), ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(in(f, ACPI_PM_TMR_PORT, 4), 0);
	assert_false(vm_stop_requested());
}

static void test_acpi_pm_s5_with_slp_en_powers_off_with_status_0(void **state)
{
	struct fixture *f = *state;

	/* What ACPICA writes: SLP_TYP first, then SLP_TYP | SLP_EN. */
	out(f, ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_SCI_EN, 2);
	assert_false(vm_stop_requested());
	out(f, ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_SCI_EN | ACPI_PM1_CNT_SLP_EN |
	    ACPI_PM_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT, 2);
	assert_true(vm_stop_requested());
	assert_int_equal(vm_stop_reason(), VM_STOP_POWEROFF);
	assert_int_equal(vm_stop_exit_status(), 0);
	assert_int_equal(f->pm.poweroffs, 1);
	/* SLP_EN is write-only. */
	assert_int_equal(in(f, ACPI_PM1A_CNT_PORT, 2) & ACPI_PM1_CNT_SLP_EN, 0);
}

static void test_acpi_pm_byte_write_of_control_high_half_powers_off(void **state)
{
	struct fixture *f = *state;

	out(f, ACPI_PM1A_CNT_PORT + 1, ACPI_PM1_CNT_SLP_EN >> 8, 1);
	assert_int_equal(vm_stop_reason(), VM_STOP_POWEROFF);
	/* The low half (SCI_EN) is untouched by a write to the high byte. */
	assert_int_equal(in(f, ACPI_PM1A_CNT_PORT, 1), ACPI_PM1_CNT_SCI_EN);
}

static void test_acpi_pm_slp_typ_without_slp_en_does_nothing(void **state)
{
	struct fixture *f = *state;
	uint32_t v = ACPI_PM1_CNT_SCI_EN | 5u << ACPI_PM1_CNT_SLP_TYP_SHIFT;

	out(f, ACPI_PM1A_CNT_PORT, v, 2);
	assert_false(vm_stop_requested());
	assert_int_equal(in(f, ACPI_PM1A_CNT_PORT, 2), v);
}

static void test_acpi_pm_other_sleep_types_are_ignored_and_wake_at_once(void **state)
{
	struct fixture *f = *state;

	for (unsigned int type = 1; type < 8; type++)
		out(f, ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_SCI_EN | ACPI_PM1_CNT_SLP_EN |
		    type << ACPI_PM1_CNT_SLP_TYP_SHIFT, 2);
	assert_false(vm_stop_requested());
	assert_int_equal(f->pm.sleeps_ignored, 7);
	assert_int_equal(f->pm.poweroffs, 0);
	/* WAK_STS says the (non-)sleep is over, so ACPICA's wait ends. */
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2), ACPI_PM1_STS_WAK);
	out(f, ACPI_PM1A_EVT_PORT, ACPI_PM1_STS_WAK, 2);
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2), 0);
}

static void test_acpi_pm_timer_counts_at_3579545_hz_in_24_bits(void **state)
{
	struct fixture *f = *state;

	f->now_ns += NS_PER_SEC;
	assert_int_equal(in(f, ACPI_PM_TMR_PORT, 4), 3579545);
	f->now_ns += 4 * NS_PER_SEC;    /* 5 s: 17897725 wraps past 2^24 */
	assert_int_equal(in(f, ACPI_PM_TMR_PORT, 4), 17897725 & 0xFFFFFF);
	/* Byte reads see the same counter. */
	assert_int_equal(in(f, ACPI_PM_TMR_PORT, 1), (17897725 & 0xFFFFFF) & 0xFF);
	assert_int_equal(in(f, ACPI_PM_TMR_PORT + 2, 1), (17897725 & 0xFFFFFF) >> 16);
	assert_int_equal(in(f, ACPI_PM_TMR_PORT + 3, 1), 0);
	f->now_ns += 1000;              /* 1 us: 3.58 ticks */
	assert_int_equal(in(f, ACPI_PM_TMR_PORT, 4), (17897728 & 0xFFFFFF));
}

static void test_acpi_pm_timer_ignores_writes(void **state)
{
	struct fixture *f = *state;

	f->now_ns += NS_PER_SEC;
	out(f, ACPI_PM_TMR_PORT, 0, 4);
	assert_int_equal(in(f, ACPI_PM_TMR_PORT, 4), 3579545);
	assert_int_equal(f->pm.ignored_writes, 4);  /* one per byte */
}

static void test_acpi_pm_tmr_sts_sets_when_bit_23_changes_and_clears_on_write_1(void **state)
{
	struct fixture *f = *state;
	/* 2^23 ticks at 3.579545 MHz is 2.3435 s. */
	const uint64_t bit23_ns = (1ull << 23) * NS_PER_SEC / ACPI_PM_TIMER_HZ + 1;

	f->now_ns += bit23_ns - 1000;
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2) & ACPI_PM1_STS_TMR, 0);
	f->now_ns += 2000;
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2) & ACPI_PM1_STS_TMR, ACPI_PM1_STS_TMR);
	out(f, ACPI_PM1A_EVT_PORT, 0, 2);   /* writing 0 clears nothing */
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2) & ACPI_PM1_STS_TMR, ACPI_PM1_STS_TMR);
	out(f, ACPI_PM1A_EVT_PORT, ACPI_PM1_STS_TMR, 2);
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2) & ACPI_PM1_STS_TMR, 0);
	/* Set again at the next change of bit 23, not before. */
	f->now_ns += bit23_ns / 2;
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2) & ACPI_PM1_STS_TMR, 0);
	f->now_ns += bit23_ns / 2 + 1000;
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 2) & ACPI_PM1_STS_TMR, ACPI_PM1_STS_TMR);
}

static void test_acpi_pm_sci_follows_status_enable_and_sci_en(void **state)
{
	struct fixture *f = *state;
	const uint64_t bit23_ns = (1ull << 23) * NS_PER_SEC / ACPI_PM_TIMER_HZ + 1000;

	out(f, ACPI_PM1A_EVT_PORT + 2, ACPI_PM1_EN_TMR, 2);
	assert_int_equal(f->sci_changes, 0);
	f->now_ns += bit23_ns;
	(void)in(f, ACPI_PM1A_EVT_PORT, 2);
	assert_int_equal(f->sci_level, 1);
	assert_int_equal(f->sci_gsi, ACPI_PM_SCI_IRQ);
	/* SCI_EN off: no SCI even with a status bit enabled. */
	out(f, ACPI_PM1A_CNT_PORT, 0, 2);
	assert_int_equal(f->sci_level, 0);
	out(f, ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_SCI_EN, 2);
	assert_int_equal(f->sci_level, 1);
	/* Clearing the status lowers the line. */
	out(f, ACPI_PM1A_EVT_PORT, ACPI_PM1_STS_TMR, 2);
	assert_int_equal(f->sci_level, 0);
	assert_int_equal(f->sci_changes, 4);
}

static void test_acpi_pm_enable_bits_stick(void **state)
{
	struct fixture *f = *state;

	/* ACPICA checks GBL_EN (bit 5) reads back after enabling it. */
	out(f, ACPI_PM1A_EVT_PORT + 2, 0x0720, 2);
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT + 2, 2), 0x0720);
	/* A 32-bit read of the event block: status low, enable high. */
	assert_int_equal(in(f, ACPI_PM1A_EVT_PORT, 4), 0x07200000u);
	assert_int_equal(f->sci_changes, 0);
}

static void test_acpi_pm_bus_refuses_access_past_the_block(void **state)
{
	struct fixture *f = *state;

	out(f, ACPI_PM_TMR_PORT + 2, 0, 4);
	(void)in(f, ACPI_PM_TMR_PORT + 1, 4);
	assert_int_equal(bus_find(&f->bus, BUS_PIO, ACPI_PM_BASE)->rejected, 2);
	assert_int_equal(f->pm.writes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_acpi_pm_reset_state_is_acpi_mode_with_nothing_pending),
		T(test_acpi_pm_s5_with_slp_en_powers_off_with_status_0),
		T(test_acpi_pm_byte_write_of_control_high_half_powers_off),
		T(test_acpi_pm_slp_typ_without_slp_en_does_nothing),
		T(test_acpi_pm_other_sleep_types_are_ignored_and_wake_at_once),
		T(test_acpi_pm_timer_counts_at_3579545_hz_in_24_bits),
		T(test_acpi_pm_timer_ignores_writes),
		T(test_acpi_pm_tmr_sts_sets_when_bit_23_changes_and_clears_on_write_1),
		T(test_acpi_pm_sci_follows_status_enable_and_sci_en),
		T(test_acpi_pm_enable_bits_stick),
		T(test_acpi_pm_bus_refuses_access_past_the_block),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
