/*
 * One change tracker, two frontends. The KVM dirty log can be read only once
 * (a fetch re-arms the pages it reports), so exactly one thread refreshes the
 * tracker: the vnc thread when there is one, else the SDL window's own loop.
 * A second frontend (the SDL window on the main thread) takes the changes
 * from here and copies the changed rectangles out of the tracker's shadow.
 *
 *   refresher                           reader (SDL, main thread)
 *   display_share_refresh():            (woken through notify_fd: another
 *     lock; tracker_refresh(); unlock;   thread turns it into an SDL event)
 *     add the rects to `pending`;       display_share_take(): the pending
 *     pending was empty -> notify_fd      rects, cleared
 *                                       display_share_lock_shadow(): copy
 *                                         those rects; ..._unlock_shadow()
 *
 * The lock covers the tracker's shadow, width and height (tracker_refresh
 * writes them, the reader copies from them) and the pending set; the
 * refresher holds it for one refresh (microseconds to a few hundred for a
 * full-screen change), the reader for the copy of what changed. Nothing else
 * in the tracker is touched by the reader, so the refresher keeps owning it
 * (tracker_invalidate, stats) and libvncserver keeps reading the shadow on
 * the vnc thread without the lock: only tracker_refresh writes it.
 *
 * The reader's input goes the other way through activity_fd: the refresher
 * backs off to seconds between refreshes on a static screen, and a key
 * pressed in the window should show its effect within a frame.
 */
#ifndef FBVM_DISPLAY_SHARE_H
#define FBVM_DISPLAY_SHARE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "display/tracker.h"

/* Rectangles kept for the reader between two takes; beyond this they are
 * merged into their bounding box (the reader is behind by a few refreshes
 * and redraws more, once). */
#define DISPLAY_SHARE_MAX_RECTS 64

/* What changed since the previous take. */
struct display_share_update {
	uint32_t width, height;   /* the shadow's geometry when last refreshed */
	bool resized;             /* new geometry since the previous take (or the first
				   * take): everything changed */
	size_t n_rects;
	struct fb_rect rects[DISPLAY_SHARE_MAX_RECTS];
};

struct display_share_stats {
	uint64_t refreshes;
	uint64_t notifies;        /* notify_fd writes (reader had nothing pending) */
	uint64_t takes;           /* takes that returned changes */
	uint64_t merges;          /* pending rects merged for lack of room */
	uint64_t activity;        /* display_share_activity calls */
};

/*
 * Watching the refreshes (the control socket's wait-screen, screendump and
 * RESIZE events): whoever refreshes reports each refresh here, under the
 * lock, and makes watch_fd readable while someone listens. A listener asks
 * the refresher to keep refreshing even with no VNC viewer (on the usual
 * backing-off schedule); a fast watcher (a wait-screen or screendump in
 * progress) to refresh every REFRESH_MIN_MS until it is done.
 */
struct display_share_info {
	uint64_t refreshes;       /* refreshes so far */
	uint64_t changes;         /* of those, ones that found a change or a resize */
	uint64_t last_refresh_ms; /* log_now_ms() of the last one; 0: none yet */
	uint32_t width, height;   /* the shadow's geometry */
	bool have_frame;          /* the guest has published a surface the shadow shows */
};

struct display_share {
	pthread_mutex_t lock;
	int watch_efd;
	struct display_share_info info;   /* under lock */
	unsigned int listen, fast;        /* atomic: display_share_set_watch */
	struct tracker *tracker;
	int notify_efd;           /* -1: the reader refreshes itself, no wake-up */
	int activity_efd;
	bool pending_any;         /* under lock */
	struct display_share_update pending;
	struct display_share_stats stats;
};

/*
 * Shares t, which must outlive the share. notify: the refresher is another
 * thread, so make notify_fd readable when changes arrive for a reader that
 * had none pending; false when the reader calls display_share_refresh
 * itself. The first take reports the whole shadow (resized). 0 or a
 * negative errno.
 */
int display_share_init(struct display_share *s, struct tracker *t, bool notify);
void display_share_destroy(struct display_share *s);

/* Refresher: tracker_refresh() under the lock (same arguments and result),
 * then the changes are added to the reader's pending set. */
enum tracker_result display_share_refresh(struct display_share *s, struct fb_rect *rects,
					  size_t max_rects, size_t *n_rects);

/* Readable (an eventfd) after a refresh found changes while the reader had
 * none pending: edge-triggered, whoever polls it must read it (8 bytes)
 * before polling again. -1 without notify. */
int display_share_notify_fd(const struct display_share *s);

/* Reader: moves the pending changes to out and clears them. False (out
 * untouched) when nothing changed since the previous take. */
bool display_share_take(struct display_share *s, struct display_share_update *out);

/*
 * Reader: locks the shadow and returns it (XRGB8888, width * 4 bytes per
 * line) when it still has the geometry width x height; NULL (and not
 * locked) when it has changed, in which case the next take says resized.
 * Unlock with display_share_unlock_shadow() promptly: the refresher waits.
 */
const uint8_t *display_share_lock_shadow(struct display_share *s, uint32_t width,
					 uint32_t height);
void display_share_unlock_shadow(struct display_share *s);

/* Reader: the user did something (a key, the mouse); makes activity_fd
 * readable so the refresher looks again within a frame. Any thread. */
void display_share_activity(struct display_share *s);

/* Refresher: readable after display_share_activity(). */
int display_share_activity_fd(const struct display_share *s);

/* Refresher: reads activity_fd; true when there was activity. */
bool display_share_take_activity(struct display_share *s);

/* Watcher: listen (refreshes should run and be reported on watch_fd), fast
 * (refresh every REFRESH_MIN_MS). Turning either on pokes the refresher
 * through activity_fd. Any thread. */
void display_share_set_watch(struct display_share *s, bool listen, bool fast);

/* Refresher: whether to refresh with no viewer of its own (a reader, a
 * listener or a fast watcher), and whether to stay at REFRESH_MIN_MS. */
bool display_share_refresh_wanted(const struct display_share *s);
bool display_share_fast_wanted(const struct display_share *s);

/* Watcher: readable (an eventfd, read it) after each refresh while listening. */
int display_share_watch_fd(const struct display_share *s);

/* Watcher: the refresh counters and geometry. */
void display_share_get_info(struct display_share *s, struct display_share_info *out);

/* Watcher: locks the shadow and returns it with its geometry in *info
 * (XRGB8888, info->width * 4 bytes per line). Unlock with
 * display_share_unlock_shadow() promptly. */
const uint8_t *display_share_lock_current(struct display_share *s,
					  struct display_share_info *info);

/* The --stats line. */
void display_share_print_stats(struct display_share *s, FILE *out);

#endif
