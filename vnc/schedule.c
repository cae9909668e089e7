#include "schedule.h"

void vnc_schedule_reset(struct vnc_schedule *s, uint64_t now_ms)
{
	s->interval_ms = VNC_REFRESH_MIN_MS;
	s->next_ms = now_ms;
	s->empty_in_row = 0;
}

void vnc_schedule_refreshed(struct vnc_schedule *s, uint64_t now_ms, bool changed)
{
	if (changed) {
		s->interval_ms = VNC_REFRESH_MIN_MS;
		s->empty_in_row = 0;
	} else if (++s->empty_in_row <= VNC_REFRESH_IDLE_GRACE)
		s->interval_ms = VNC_REFRESH_MIN_MS;
	else if (s->interval_ms + VNC_REFRESH_IDLE_STEP_MS < VNC_REFRESH_MAX_MS)
		s->interval_ms += VNC_REFRESH_IDLE_STEP_MS;
	else
		s->interval_ms = VNC_REFRESH_MAX_MS;
	s->next_ms = now_ms + s->interval_ms;
}

void vnc_schedule_activity(struct vnc_schedule *s, uint64_t now_ms)
{
	s->interval_ms = VNC_REFRESH_MIN_MS;
	s->empty_in_row = 0;
	if (s->next_ms > now_ms + VNC_REFRESH_MIN_MS)
		s->next_ms = now_ms + VNC_REFRESH_MIN_MS;
}

uint32_t vnc_schedule_wait_ms(const struct vnc_schedule *s, uint64_t now_ms)
{
	if (s->next_ms <= now_ms)
		return 0;
	return (uint32_t)(s->next_ms - now_ms);
}
