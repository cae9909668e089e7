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
 *
 * Input also starts a burst: for REFRESH_BURST_MS after it, the screen is
 * looked at every REFRESH_BURST_STEP_MS, so what the key changes is on its
 * way within a millisecond or two of the guest drawing it instead of up to a
 * 16 ms tick later (key-to-photon measured 16.6 ms p50 before, the tick, not
 * the work). A refresh inside a burst that finds a change (the answer is
 * arriving) sets the burst's end to REFRESH_BURST_TAIL_MS later: a quick
 * guest's burst ends a few ms after its change, a slow or long change is
 * followed, but never past REFRESH_BURST_MAX_MS after the input, so an
 * animating guest under constant input falls back to the 16 ms cadence. A
 * burst refresh that finds nothing costs a dirty-log read of the surface (a
 * few microseconds); a static screen without input never bursts.
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

#define REFRESH_BURST_STEP_MS 1    /* after input: the guest reacts in well under a ms */
#define REFRESH_BURST_MS      40   /* a frame or two of a guest that redraws at 30-60 Hz */
#define REFRESH_BURST_TAIL_MS 8    /* after a change found in a burst, this much longer */
#define REFRESH_BURST_MAX_MS  150  /* but never longer than this after the input */

struct refresh_schedule {
	uint32_t interval_ms;
	uint64_t next_ms;      /* monotonic time of the next refresh */
	uint32_t empty_in_row; /* refreshes since the last one that found a change */
	uint64_t burst_until_ms;  /* refresh every REFRESH_BURST_STEP_MS until then */
	uint64_t burst_limit_ms;  /* the burst never extends past this */
};

/* Refresh at once, then every REFRESH_MIN_MS until the screen settles. */
void refresh_schedule_reset(struct refresh_schedule *s, uint64_t now_ms);

/* After a refresh at now_ms: changed says whether it found anything. */
void refresh_schedule_refreshed(struct refresh_schedule *s, uint64_t now_ms, bool changed);

/* Client input at now_ms: the next refresh comes within REFRESH_BURST_STEP_MS
 * and a burst starts (see above). */
void refresh_schedule_activity(struct refresh_schedule *s, uint64_t now_ms);

/* Someone waits for the screen (a control client's wait-screen): stay at
 * the steady REFRESH_MIN_MS cadence, no back-off and no burst. */
void refresh_schedule_hold_fast(struct refresh_schedule *s, uint64_t now_ms);

/* Milliseconds until the next refresh; 0 when it is due. */
uint32_t refresh_schedule_wait_ms(const struct refresh_schedule *s, uint64_t now_ms);

#endif
