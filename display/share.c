#include "share.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already far from zero; nothing is lost. */
	}
}

static bool efd_drain(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

/* Everything: one rectangle over the whole shadow. */
static void pending_set_full(struct display_share_update *p, uint32_t width, uint32_t height)
{
	p->width = width;
	p->height = height;
	p->n_rects = 1;
	p->rects[0] = (struct fb_rect){ .x = 0, .y = 0, .w = width, .h = height };
}

static void pending_merge(struct display_share *s)
{
	struct display_share_update *p = &s->pending;
	uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;

	for (size_t i = 0; i < p->n_rects; i++) {
		const struct fb_rect *r = &p->rects[i];
		x0 = r->x < x0 ? r->x : x0;
		y0 = r->y < y0 ? r->y : y0;
		x1 = r->x + r->w > x1 ? r->x + r->w : x1;
		y1 = r->y + r->h > y1 ? r->y + r->h : y1;
	}
	p->rects[0] = (struct fb_rect){ .x = x0, .y = y0, .w = x1 - x0, .h = y1 - y0 };
	p->n_rects = 1;
	s->stats.merges++;
}

int display_share_init(struct display_share *s, struct tracker *t, bool notify)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->tracker = t;
	s->notify_efd = s->activity_efd = s->watch_efd = -1;
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret)
		return -ret;
	if (notify) {
		s->notify_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->notify_efd < 0)
			goto fail;
	}
	s->activity_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->activity_efd < 0)
		goto fail;
	s->watch_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->watch_efd < 0)
		goto fail;
	s->info.width = t->width;
	s->info.height = t->height;
	s->pending_any = true;
	s->pending.resized = true;
	pending_set_full(&s->pending, t->width, t->height);
	return 0;
fail:
	ret = -errno;
	if (s->notify_efd >= 0)
		close(s->notify_efd);
	if (s->activity_efd >= 0)
		close(s->activity_efd);
	pthread_mutex_destroy(&s->lock);
	s->notify_efd = s->activity_efd = -1;
	return ret;
}

void display_share_destroy(struct display_share *s)
{
	if (s->notify_efd >= 0)
		close(s->notify_efd);
	if (s->activity_efd >= 0)
		close(s->activity_efd);
	if (s->watch_efd >= 0)
		close(s->watch_efd);
	s->notify_efd = s->activity_efd = s->watch_efd = -1;
	pthread_mutex_destroy(&s->lock);
}

enum tracker_result display_share_refresh(struct display_share *s, struct fb_rect *rects,
					  size_t max_rects, size_t *n_rects)
{
	struct display_share_update *p = &s->pending;
	enum tracker_result r;
	bool wake = false;

	pthread_mutex_lock(&s->lock);
	r = tracker_refresh(s->tracker, rects, max_rects, n_rects);
	s->stats.refreshes++;
	if (r == TRACKER_RESIZED || (r == TRACKER_UPDATED && *n_rects > 0)) {
		wake = !s->pending_any;
		if (r == TRACKER_RESIZED || s->tracker->width != p->width ||
		    s->tracker->height != p->height) {
			p->resized = true;
			pending_set_full(p, s->tracker->width, s->tracker->height);
		} else if (!p->resized) {
			/* A resize pending already covers everything. */
			for (size_t i = 0; i < *n_rects; i++) {
				if (p->n_rects == DISPLAY_SHARE_MAX_RECTS)
					pending_merge(s);
				p->rects[p->n_rects++] = rects[i];
			}
		}
		s->pending_any = true;
	}
	if (wake && s->notify_efd >= 0)
		s->stats.notifies++;
	s->info.refreshes++;
	if (r == TRACKER_RESIZED || (r == TRACKER_UPDATED && *n_rects > 0))
		s->info.changes++;
	s->info.last_refresh_ms = log_now_ms();
	s->info.width = s->tracker->width;
	s->info.height = s->tracker->height;
	s->info.have_frame = s->tracker->have_surface;
	pthread_mutex_unlock(&s->lock);
	if (__atomic_load_n(&s->listen, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&s->fast, __ATOMIC_ACQUIRE))
		efd_signal(s->watch_efd);
	/* Outside the lock: the reader's waker may run at once. */
	if (wake && s->notify_efd >= 0)
		efd_signal(s->notify_efd);
	return r;
}

int display_share_notify_fd(const struct display_share *s)
{
	return s->notify_efd;
}

bool display_share_take(struct display_share *s, struct display_share_update *out)
{
	bool any;

	pthread_mutex_lock(&s->lock);
	any = s->pending_any;
	if (any) {
		out->width = s->pending.width;
		out->height = s->pending.height;
		out->resized = s->pending.resized;
		out->n_rects = s->pending.n_rects;
		memcpy(out->rects, s->pending.rects, s->pending.n_rects * sizeof(out->rects[0]));
		s->pending.resized = false;
		s->pending.n_rects = 0;
		s->pending_any = false;
		s->stats.takes++;
	}
	pthread_mutex_unlock(&s->lock);
	return any;
}

const uint8_t *display_share_lock_shadow(struct display_share *s, uint32_t width,
					 uint32_t height)
{
	pthread_mutex_lock(&s->lock);
	if (s->tracker->width != width || s->tracker->height != height) {
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	return s->tracker->shadow;
}

void display_share_unlock_shadow(struct display_share *s)
{
	pthread_mutex_unlock(&s->lock);
}

void display_share_activity(struct display_share *s)
{
	__atomic_add_fetch(&s->stats.activity, 1, __ATOMIC_RELAXED);
	efd_signal(s->activity_efd);
}

int display_share_activity_fd(const struct display_share *s)
{
	return s->activity_efd;
}

bool display_share_take_activity(struct display_share *s)
{
	return efd_drain(s->activity_efd);
}

void display_share_set_watch(struct display_share *s, bool listen, bool fast)
{
	unsigned int was_fast = __atomic_exchange_n(&s->fast, fast, __ATOMIC_ACQ_REL);
	unsigned int was_listening = __atomic_exchange_n(&s->listen, listen, __ATOMIC_ACQ_REL);

	/* A refresher with nothing to do sleeps without a timeout: wake it. */
	if ((fast && !was_fast) || (listen && !was_listening))
		efd_signal(s->activity_efd);
}

bool display_share_refresh_wanted(const struct display_share *s)
{
	return s->notify_efd >= 0 || __atomic_load_n(&s->listen, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&s->fast, __ATOMIC_ACQUIRE);
}

bool display_share_fast_wanted(const struct display_share *s)
{
	return __atomic_load_n(&s->fast, __ATOMIC_ACQUIRE);
}

int display_share_watch_fd(const struct display_share *s)
{
	return s->watch_efd;
}

void display_share_get_info(struct display_share *s, struct display_share_info *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->info;
	pthread_mutex_unlock(&s->lock);
}

const uint8_t *display_share_lock_current(struct display_share *s,
					  struct display_share_info *info)
{
	pthread_mutex_lock(&s->lock);
	*info = s->info;
	return s->tracker->shadow;
}

void display_share_print_stats(struct display_share *s, FILE *out)
{
	struct display_share_stats st;

	pthread_mutex_lock(&s->lock);
	st = s->stats;
	pthread_mutex_unlock(&s->lock);
	fprintf(out, "stats: display-share: refreshes=%" PRIu64 " notifies=%" PRIu64
		" takes=%" PRIu64 " merges=%" PRIu64 " activity=%" PRIu64 "\n", st.refreshes,
		st.notifies, st.takes, st.merges,
		__atomic_load_n(&s->stats.activity, __ATOMIC_RELAXED));
}
