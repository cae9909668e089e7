/* Unit tests for vnc/schedule.c: the adaptive refresh interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "display/schedule.h"

static void test_refresh_schedule_reset_refreshes_at_once(void **state)
{
	struct refresh_schedule s;
	(void)state;
	refresh_schedule_reset(&s, 1000);
	assert_int_equal(refresh_schedule_wait_ms(&s, 1000), 0);
	assert_int_equal(s.interval_ms, REFRESH_MIN_MS);
}

static void test_refresh_schedule_keeps_minimum_while_changing(void **state)
{
	struct refresh_schedule s;
	(void)state;
	refresh_schedule_reset(&s, 0);
	for (uint64_t t = 0; t < 1000; t += REFRESH_MIN_MS) {
		refresh_schedule_refreshed(&s, t, true);
		assert_int_equal(refresh_schedule_wait_ms(&s, t), REFRESH_MIN_MS);
	}
}

static void test_refresh_schedule_backs_off_when_static_up_to_the_maximum(void **state)
{
	struct refresh_schedule s;
	uint64_t t = 0;
	(void)state;
	refresh_schedule_reset(&s, 0);
	/* A few empty refreshes are forgiven (a 60 fps guest against a 16 ms tick). */
	for (int i = 0; i < REFRESH_IDLE_GRACE; i++) {
		refresh_schedule_refreshed(&s, t, false);
		assert_int_equal(s.interval_ms, REFRESH_MIN_MS);
	}
	refresh_schedule_refreshed(&s, t, false);
	assert_int_equal(s.interval_ms, REFRESH_MIN_MS + REFRESH_IDLE_STEP_MS);
	for (int i = 0; i < 200; i++) {
		t = s.next_ms;
		refresh_schedule_refreshed(&s, t, false);
		assert_true(s.interval_ms <= REFRESH_MAX_MS);
	}
	assert_int_equal(s.interval_ms, REFRESH_MAX_MS);
	assert_int_equal(refresh_schedule_wait_ms(&s, t), REFRESH_MAX_MS);
	/* A change brings it straight back. */
	refresh_schedule_refreshed(&s, t, true);
	assert_int_equal(refresh_schedule_wait_ms(&s, t), REFRESH_MIN_MS);
}

static void test_refresh_schedule_single_empty_refresh_keeps_the_minimum(void **state)
{
	struct refresh_schedule s;
	uint64_t t = 0;
	(void)state;
	refresh_schedule_reset(&s, 0);
	/* One miss in every 30 refreshes, as a 60 fps guest gives: never backs off. */
	for (int i = 0; i < 300; i++) {
		refresh_schedule_refreshed(&s, t, i % 30 != 0);
		assert_int_equal(s.interval_ms, REFRESH_MIN_MS);
		t = s.next_ms;
	}
}

static void test_refresh_schedule_input_shortens_a_long_wait(void **state)
{
	struct refresh_schedule s;
	(void)state;
	refresh_schedule_reset(&s, 0);
	s.interval_ms = REFRESH_MAX_MS;
	s.next_ms = 5000;
	refresh_schedule_activity(&s, 2500);
	assert_int_equal(refresh_schedule_wait_ms(&s, 2500), REFRESH_BURST_STEP_MS);
	assert_int_equal(s.interval_ms, REFRESH_MIN_MS);
}

static void test_refresh_schedule_input_never_delays_a_due_refresh(void **state)
{
	struct refresh_schedule s;
	(void)state;
	refresh_schedule_reset(&s, 100);
	refresh_schedule_activity(&s, 100);
	assert_int_equal(refresh_schedule_wait_ms(&s, 100), 0);
	assert_int_equal(refresh_schedule_wait_ms(&s, 50), 50);
}

/* After input: every REFRESH_BURST_STEP_MS for REFRESH_BURST_MS, then the
 * steady cadence and its back-off again. */
static void test_refresh_schedule_input_starts_a_burst_that_settles(void **state)
{
	struct refresh_schedule s;
	uint64_t t = 1000;
	unsigned int burst = 0;
	(void)state;
	refresh_schedule_reset(&s, 0);
	s.interval_ms = REFRESH_MAX_MS;
	s.next_ms = 4000;
	refresh_schedule_activity(&s, t);
	while (t < 1000 + REFRESH_BURST_MS) {
		t = s.next_ms;
		refresh_schedule_refreshed(&s, t, false);
		burst++;
		if (t < 1000 + REFRESH_BURST_MS)
			assert_int_equal(refresh_schedule_wait_ms(&s, t), REFRESH_BURST_STEP_MS);
	}
	assert_int_equal(burst, REFRESH_BURST_MS / REFRESH_BURST_STEP_MS);
	/* Settled: the minimum, then backing off as before. */
	assert_int_equal(refresh_schedule_wait_ms(&s, t), REFRESH_MIN_MS);
	for (int i = 0; i < REFRESH_IDLE_GRACE + 2; i++) {
		t = s.next_ms;
		refresh_schedule_refreshed(&s, t, false);
	}
	assert_true(s.interval_ms > REFRESH_MIN_MS);
}

/* A change found in a burst extends it (the picture is still arriving), but
 * a guest that changes every time cannot hold the burst past its limit. */
static void test_refresh_schedule_burst_extends_on_change_up_to_its_limit(void **state)
{
	struct refresh_schedule s;
	uint64_t t = 0;
	(void)state;
	refresh_schedule_reset(&s, 0);
	refresh_schedule_activity(&s, 0);
	/* Found early: the burst ends a tail after it, not at REFRESH_BURST_MS. */
	refresh_schedule_refreshed(&s, 2, true);
	assert_int_equal(s.burst_until_ms, 2 + REFRESH_BURST_TAIL_MS);
	t = 2 + REFRESH_BURST_TAIL_MS - 1;
	refresh_schedule_refreshed(&s, t, true);
	assert_int_equal(s.burst_until_ms, t + REFRESH_BURST_TAIL_MS);
	while (refresh_schedule_wait_ms(&s, t) == REFRESH_BURST_STEP_MS) {
		t = s.next_ms;
		refresh_schedule_refreshed(&s, t, true);
		assert_true(t <= REFRESH_BURST_MAX_MS);
	}
	assert_int_equal(t, REFRESH_BURST_MAX_MS);
	assert_int_equal(refresh_schedule_wait_ms(&s, t), REFRESH_MIN_MS);
}

/* A waiting control client keeps the 16 ms cadence without bursting. */
static void test_refresh_schedule_hold_fast_keeps_the_minimum_without_burst(void **state)
{
	struct refresh_schedule s;
	(void)state;
	refresh_schedule_reset(&s, 0);
	s.interval_ms = REFRESH_MAX_MS;
	s.next_ms = 3000;
	refresh_schedule_hold_fast(&s, 100);
	assert_int_equal(refresh_schedule_wait_ms(&s, 100), REFRESH_MIN_MS);
	refresh_schedule_refreshed(&s, 116, false);
	assert_int_equal(refresh_schedule_wait_ms(&s, 116), REFRESH_MIN_MS);
}

/* Without input there is no burst: a static screen costs what it did. */
static void test_refresh_schedule_no_burst_without_input(void **state)
{
	struct refresh_schedule s;
	(void)state;
	refresh_schedule_reset(&s, 0);
	refresh_schedule_refreshed(&s, 0, true);
	assert_int_equal(refresh_schedule_wait_ms(&s, 0), REFRESH_MIN_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_schedule_reset_refreshes_at_once),
		cmocka_unit_test(test_refresh_schedule_keeps_minimum_while_changing),
		cmocka_unit_test(test_refresh_schedule_backs_off_when_static_up_to_the_maximum),
		cmocka_unit_test(test_refresh_schedule_single_empty_refresh_keeps_the_minimum),
		cmocka_unit_test(test_refresh_schedule_input_shortens_a_long_wait),
		cmocka_unit_test(test_refresh_schedule_input_never_delays_a_due_refresh),
		cmocka_unit_test(test_refresh_schedule_input_starts_a_burst_that_settles),
		cmocka_unit_test(test_refresh_schedule_burst_extends_on_change_up_to_its_limit),
		cmocka_unit_test(test_refresh_schedule_no_burst_without_input),
		cmocka_unit_test(test_refresh_schedule_hold_fast_keeps_the_minimum_without_burst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
