/*
 * ticks: checks the timer interrupt path and the idle loop. Programs PIT
 * channel 0, sleeps (ring-3 hlt, see runtime/irq.h) until n ticks have
 * arrived, and exits with GUEST_EXIT_PASS. Output for the defaults:
 *
 *     ticks: waiting for 10 ticks at 100 Hz
 *     ticks: done ticks=10
 *
 * Command line: hz=N (19..1000, default 100), ticks=N (1..100000, default 10).
 * A VMM without a working PIT, 8259 or hlt wake-up hangs here: run it under
 * a time limit. Wall time should be about ticks / hz seconds.
 */
#include "runtime/guest.h"

static uint64_t ticks_arg(const char *key, uint64_t def, uint64_t min, uint64_t max)
{
	uint64_t v;
	int ret = cmdline_get_u64(key, &v);

	if (ret == -ENOENT)
		return def;
	if (ret < 0 || v < min || v > max) {
		serial_printf("ticks: error bad %s (want %lu..%lu)\n", key, min, max);
		guest_exit(GUEST_EXIT_FAIL);
	}
	return v;
}

int main(void)
{
	unsigned hz = (unsigned)ticks_arg("hz", 100, 19, 1000);
	uint64_t n = ticks_arg("ticks", 10, 1, 100000);

	serial_printf("ticks: waiting for %lu ticks at %u Hz\n", n, hz);
	timer_start(hz);
	timer_wait_until(n);
	timer_stop();
	serial_printf("ticks: done ticks=%lu\n", n);
	return GUEST_EXIT_PASS;
}
