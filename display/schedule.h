/*
 * When the refresher (the vnc thread, or the SDL window with --vnc none) next
 * looks at the screen. About 60 times a second while
 * the picture changes; once REFRESH_IDLE_GRACE refreshes in a row found
 * nothing new, each further empty one waits REFRESH_IDLE_STEP_MS longer,
 * up to REFRESH_MAX_MS, so a static
 * screen costs a dirty-log read every few seconds (QEMU ui/vnc.c backs off
 * the same way, from a 30 ms base). Client input brings the interval straight
 * back to the minimum: a key press is usually followed by a change the user
 * waits to see. With no client connected nothing is scheduled at all.
 */
#ifndef FBVM_DISPLAY_SCHEDULE_H
#define FBVM_DISPLAY_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define REFRESH_MIN_MS       16    /* one 60 Hz frame */
#define REFRESH_IDLE_STEP_MS 50    /* QEMU's REFRESH_INTERVAL_INC */
#define REFRESH_MAX_MS       3000  /* QEMU's REFRESH_INTERVAL_MAX */
/* A guest drawing at 60 fps beats our 16 ms tick slightly, so about one
 * refresh in 30 finds nothing new; backing off on that single miss cost
 * ~3 frames each time (measured: 52-58 instead of 60 updates/s). */
#define REFRESH_IDLE_GRACE   3

struct refresh_schedule {
	uint32_t interval_ms;
	uint64_t next_ms;      /* monotonic time of the next refresh */
	uint32_t empty_in_row; /* refreshes since the last one that found a change */
};

/* Refresh at once, then every REFRESH_MIN_MS until the screen settles. */
void refresh_schedule_reset(struct refresh_schedule *s, uint64_t now_ms);

/* After a refresh at now_ms: changed says whether it found anything. */
void refresh_schedule_refreshed(struct refresh_schedule *s, uint64_t now_ms, bool changed);

/* Client input at now_ms: the next refresh comes within REFRESH_MIN_MS. */
void refresh_schedule_activity(struct refresh_schedule *s, uint64_t now_ms);

/* Milliseconds until the next refresh; 0 when it is due. */
uint32_t refresh_schedule_wait_ms(const struct refresh_schedule *s, uint64_t now_ms);

#endif
