#include "schedule.h"

void refresh_schedule_reset(struct refresh_schedule *s, uint64_t now_ms)
{
	s->interval_ms = REFRESH_MIN_MS;
	s->next_ms = now_ms;
	s->empty_in_row = 0;
	s->burst_until_ms = 0;
	s->burst_limit_ms = 0;
}

void refresh_schedule_refreshed(struct refresh_schedule *s, uint64_t now_ms, bool changed)
{
	if (changed) {
		s->interval_ms = REFRESH_MIN_MS;
		s->empty_in_row = 0;
	} else if (++s->empty_in_row <= REFRESH_IDLE_GRACE)
		s->interval_ms = REFRESH_MIN_MS;
	else if (s->interval_ms + REFRESH_IDLE_STEP_MS < REFRESH_MAX_MS)
		s->interval_ms += REFRESH_IDLE_STEP_MS;
	else
		s->interval_ms = REFRESH_MAX_MS;
	s->next_ms = now_ms + s->interval_ms;
	if (now_ms >= s->burst_until_ms)
		return;
	/* The answer to the input is arriving: follow it for the tail, then
	 * settle (sooner than the burst's end when the guest was quick). */
	if (changed)
		s->burst_until_ms = now_ms + REFRESH_BURST_TAIL_MS < s->burst_limit_ms ?
				    now_ms + REFRESH_BURST_TAIL_MS : s->burst_limit_ms;
	/* Empty refreshes inside a burst are expected: no back-off for them. */
	if (!changed)
		s->empty_in_row = 0, s->interval_ms = REFRESH_MIN_MS;
	s->next_ms = now_ms + REFRESH_BURST_STEP_MS;
}

void refresh_schedule_activity(struct refresh_schedule *s, uint64_t now_ms)
{
	s->interval_ms = REFRESH_MIN_MS;
	s->empty_in_row = 0;
	s->burst_until_ms = now_ms + REFRESH_BURST_MS;
	s->burst_limit_ms = now_ms + REFRESH_BURST_MAX_MS;
	if (s->next_ms > now_ms + REFRESH_BURST_STEP_MS)
		s->next_ms = now_ms + REFRESH_BURST_STEP_MS;
}

void refresh_schedule_hold_fast(struct refresh_schedule *s, uint64_t now_ms)
{
	s->interval_ms = REFRESH_MIN_MS;
	s->empty_in_row = 0;
	if (s->next_ms > now_ms + REFRESH_MIN_MS)
		s->next_ms = now_ms + REFRESH_MIN_MS;
}

uint32_t refresh_schedule_wait_ms(const struct refresh_schedule *s, uint64_t now_ms)
{
	if (s->next_ms <= now_ms)
		return 0;
	return (uint32_t)(s->next_ms - now_ms);
}
