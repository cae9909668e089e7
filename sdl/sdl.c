/*
 * The SDL2 window (see sdl.h for the threading model). SDL 2.26 facts this
 * file relies on (libsdl-org/SDL, release-2.26.x, src/video/SDL_video.c,
 * src/events/SDL_events.c, src/video/x11/):
 *  - SDL_WaitEvent blocks in the video driver's WaitEventTimeout (X11:
 *    select() on the display connection) when no joystick or sensor
 *    subsystem is initialised, and SDL_PushEvent from another thread wakes
 *    it (SDL_SendWakeupEvent): no polling. Measured under Xvfb, an idle
 *    window woke once in 10 s; SDL_WaitEventTimeout(10 ms) woke 99 times a
 *    second and cost 0.25 % of a core, about 350 times more;
 *  - SDL_GetWindowSurface on X11 makes an OpenGL texture "framebuffer"
 *    unless SDL_HINT_FRAMEBUFFER_ACCELERATION is 0; with it 0 the surface is
 *    an XShm image and SDL_UpdateWindowSurfaceRects puts just those rects;
 *  - SDL_INIT_VIDEO installs SIGINT/SIGTERM handlers that turn the signals
 *    into SDL_QUIT unless SDL_HINT_NO_SIGNAL_HANDLERS is set;
 *  - SDL_SetWindowSize invalidates the window surface at once (the next
 *    SDL_GetWindowSurface returns one of the new size);
 *  - SDL installs no Xlib I/O error handler, and Xlib's default one prints
 *    and calls exit(1) when the X server goes away: status 1 is a guest's
 *    "pass" verdict (isa-debug-exit), so fbvm installs its own.
 */
#include "sdl.h"

#include <SDL.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "display/share.h"
#include "display/tracker.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"
#include "sdl/scale.h"
#include "display/schedule.h"

#define SDL_TITLE_BYTES 256

/* The codes of our one registered SDL event type. */
#define SDL_WAKE_CODE_FRAME 1
#define SDL_WAKE_CODE_STOP  2

/* The refresher is told about input at most this often: any activity makes
 * it look again within REFRESH_MIN_MS, and mouse motion arrives at up
 * to 1000 events a second, each of which would otherwise wake it. */
#define SDL_ACTIVITY_INTERVAL_MS (REFRESH_MIN_MS / 2)

/* How long to wait after SDL_WaitEvent reports an error (it should not),
 * so a broken connection does not spin. */
#define SDL_WAIT_ERROR_BACKOFF_MS 100

struct sdl_frontend {
	SDL_Window *window;
	uint32_t event_type;           /* from SDL_RegisterEvents */
	char name[SDL_TITLE_BYTES / 2];
	enum window_scale scale;
	struct display_share *share;
	bool refresh_self;             /* --vnc none: this loop refreshes the tracker */
	struct refresh_schedule schedule;  /* when refresh_self */
	struct sdl_input input;
	bool grabbed;
	uint64_t last_activity_ms;

	/* The picture. */
	uint32_t guest_w, guest_h;     /* geometry shown; 0 before the first update */
	SDL_Surface *surface;          /* the window surface `view` was computed for */
	uint32_t surf_w, surf_h;
	uint32_t view_guest_w, view_guest_h;
	struct sdl_view view;
	uint32_t *col_map;             /* per view column: the guest column it shows */
	uint32_t *row_buf;             /* one scaled line, for non-XRGB8888 surfaces */
	size_t line_cap;               /* entries allocated in col_map and row_buf */
	bool redraw_all;               /* repaint the whole window next */
	bool expose_pending;           /* push the window surface again */
	bool update_due;               /* the share may have changes */

	atomic_bool stop;
	bool closed;
	struct sdl_stats stats;
	struct display_share_update update;
	SDL_Rect dirty[DISPLAY_SHARE_MAX_RECTS];
	struct fb_rect refresh_rects[DISPLAY_SHARE_MAX_RECTS];
};

/* SDL_GetError() as one line of bounded length. */
static const char *sdl_error_line(char *buf, size_t len)
{
	snprintf(buf, len, "%s", SDL_GetError());
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (!buf[0])
		snprintf(buf, len, "unknown SDL error");
	return buf;
}

static void sdl_set_title(struct sdl_frontend *f)
{
	char title[SDL_TITLE_BYTES], size[32] = "";

	if (f->guest_w)
		snprintf(size, sizeof(size), " %ux%u", f->guest_w, f->guest_h);
	if (f->grabbed)
		snprintf(title, sizeof(title), "%s%s - fbvm - input grabbed, %s releases", f->name,
			 size, SDL_INPUT_GRAB_KEY_NAME);
	else
		snprintf(title, sizeof(title), "%s%s - fbvm - %s grabs input", f->name, size,
			 SDL_INPUT_GRAB_KEY_NAME);
	SDL_SetWindowTitle(f->window, title);
}

/* ---- drawing ---- */

/* Takes the current window surface; recomputes the view (and asks for a
 * full redraw) when the surface or the picture changed. False when there is
 * no surface to draw on. */
static bool sdl_prepare(struct sdl_frontend *f)
{
	SDL_Surface *s = SDL_GetWindowSurface(f->window);
	char msg[160];

	if (!s) {
		log_ratelimited(LOG_WARN, "sdl", "no window surface: %s",
				sdl_error_line(msg, sizeof(msg)));
		return false;
	}
	if (s == f->surface && (uint32_t)s->w == f->surf_w && (uint32_t)s->h == f->surf_h &&
	    f->view_guest_w == f->guest_w && f->view_guest_h == f->guest_h)
		return true;
	if (s->w <= 0 || s->h <= 0)
		return false;
	f->surface = s;
	f->surf_w = (uint32_t)s->w;
	f->surf_h = (uint32_t)s->h;
	f->view_guest_w = f->guest_w;
	f->view_guest_h = f->guest_h;
	f->redraw_all = true;
	if (!f->guest_w)
		return true;
	sdl_view_compute(f->guest_w, f->guest_h, f->surf_w, f->surf_h, f->scale, &f->view);
	if (f->view.w > f->line_cap) {
		uint32_t *cols = calloc(f->view.w, sizeof(*cols));
		uint32_t *row = calloc(f->view.w, sizeof(*row));
		if (!cols || !row) {
			free(cols);
			free(row);
			f->view_guest_w = 0;   /* try again next time */
			log_ratelimited(LOG_ERROR, "sdl", "out of memory for a %u pixel wide window",
					f->view.w);
			return false;
		}
		free(f->col_map);
		free(f->row_buf);
		f->col_map = cols;
		f->row_buf = row;
		f->line_cap = f->view.w;
	}
	for (uint32_t d = 0; d < f->view.w; d++)
		f->col_map[d] = sdl_scale_sample(f->guest_w, f->view.w, d);
	return true;
}

/*
 * Scales guest rectangle r of the shadow into the window surface (locked if
 * it must be) and says which window rectangle changed. False when shrinking
 * leaves none of its pixels visible.
 */
static bool sdl_blit(struct sdl_frontend *f, const uint8_t *shadow, const struct fb_rect *r,
		     SDL_Rect *out)
{
	SDL_Surface *s = f->surface;
	const struct sdl_view *v = &f->view;
	uint32_t dx0, dx1, dy0, dy1, prev_sy = UINT32_MAX;
	size_t bpp = s->format->BytesPerPixel, n;
	bool native = s->format->format == SDL_PIXELFORMAT_RGB888;
	const uint8_t *prev = NULL;

	sdl_scale_span(f->guest_w, v->w, r->x, r->x + r->w, &dx0, &dx1);
	sdl_scale_span(f->guest_h, v->h, r->y, r->y + r->h, &dy0, &dy1);
	if (dx0 >= dx1 || dy0 >= dy1)
		return false;
	n = dx1 - dx0;
	for (uint32_t dy = dy0; dy < dy1; dy++) {
		uint32_t sy = sdl_scale_sample(f->guest_h, v->h, dy);
		uint8_t *dst = (uint8_t *)s->pixels + (size_t)(v->y + dy) * (size_t)s->pitch +
			       (size_t)(v->x + dx0) * bpp;
		const uint32_t *src = (const uint32_t *)(shadow + (size_t)sy * f->guest_w * 4);
		uint32_t *line = native ? (uint32_t *)dst : f->row_buf;

		if (sy == prev_sy) {
			/* Enlarging: the line above shows the same guest line. */
			memcpy(dst, prev, n * bpp);
			continue;
		}
		if (v->w == f->guest_w)
			memcpy(line, src + dx0, n * 4);
		else
			for (size_t i = 0; i < n; i++)
				line[i] = src[f->col_map[dx0 + i]];
		if (!native)
			SDL_ConvertPixels((int)n, 1, SDL_PIXELFORMAT_RGB888, line, (int)(n * 4),
					  s->format->format, dst, s->pitch);
		prev = dst;
		prev_sy = sy;
	}
	*out = (SDL_Rect){ .x = (int)(v->x + dx0), .y = (int)(v->y + dy0), .w = (int)n,
			   .h = (int)(dy1 - dy0) };
	f->stats.pixels += (uint64_t)n * (dy1 - dy0);
	return true;
}

static void sdl_fill_black(SDL_Surface *s, int x, int y, int w, int h)
{
	SDL_Rect r = { .x = x, .y = y, .w = w, .h = h };

	if (w > 0 && h > 0)
		SDL_FillRect(s, &r, SDL_MapRGB(s->format, 0, 0, 0));
}

/* The whole window: black border, the whole picture. */
static void sdl_draw_all(struct sdl_frontend *f)
{
	const struct sdl_view *v = &f->view;
	const uint8_t *shadow = NULL;
	SDL_Surface *s;
	SDL_Rect unused;

	if (!sdl_prepare(f))
		return;
	s = f->surface;
	if (SDL_MUSTLOCK(s) && SDL_LockSurface(s) < 0)
		return;
	if (f->guest_w)
		shadow = display_share_lock_shadow(f->share, f->guest_w, f->guest_h);
	if (!shadow) {
		/* Nothing yet, or the geometry moved on (the next take resizes). */
		sdl_fill_black(s, 0, 0, s->w, s->h);
	} else {
		const struct fb_rect all = { .x = 0, .y = 0, .w = f->guest_w, .h = f->guest_h };
		int right = (int)(v->x + v->w), bottom = (int)(v->y + v->h);

		sdl_fill_black(s, 0, 0, s->w, (int)v->y);
		sdl_fill_black(s, 0, bottom, s->w, s->h - bottom);
		sdl_fill_black(s, 0, (int)v->y, (int)v->x, (int)v->h);
		sdl_fill_black(s, right, (int)v->y, s->w - right, (int)v->h);
		sdl_blit(f, shadow, &all, &unused);
		display_share_unlock_shadow(f->share);
	}
	if (SDL_MUSTLOCK(s))
		SDL_UnlockSurface(s);
	SDL_UpdateWindowSurface(f->window);
	f->redraw_all = false;
	f->expose_pending = false;
	f->stats.full_redraws++;
}

/* The picture has new geometry: the window follows (1:1 when the screen
 * has room), the title says so. */
static void sdl_set_geometry(struct sdl_frontend *f, uint32_t width, uint32_t height)
{
	uint32_t max_w = 0, max_h = 0, win_w, win_h;
	int index = SDL_GetWindowDisplayIndex(f->window), cur_w, cur_h, x, y;
	SDL_Rect usable;

	f->guest_w = width;
	f->guest_h = height;
	if (index >= 0 && SDL_GetDisplayUsableBounds(index, &usable) == 0 && usable.w > 0 &&
	    usable.h > 0) {
		max_w = (uint32_t)usable.w;
		max_h = (uint32_t)usable.h;
	}
	sdl_window_size_for(width, height, max_w, max_h, &win_w, &win_h);
	SDL_GetWindowSize(f->window, &cur_w, &cur_h);
	if ((uint32_t)cur_w != win_w || (uint32_t)cur_h != win_h) {
		SDL_SetWindowSize(f->window, (int)win_w, (int)win_h);
		SDL_GetWindowPosition(f->window, &x, &y);
		if (max_w && (x < usable.x || y < usable.y ||
			      x + (int64_t)win_w > (int64_t)usable.x + usable.w ||
			      y + (int64_t)win_h > (int64_t)usable.y + usable.h))
			SDL_SetWindowPosition(f->window, SDL_WINDOWPOS_CENTERED_DISPLAY(index),
					      SDL_WINDOWPOS_CENTERED_DISPLAY(index));
	}
	sdl_set_title(f);
	f->redraw_all = true;
	log_info("sdl", "showing %ux%u in a %ux%u window", width, height, win_w, win_h);
}

/* Draws what the share says changed. */
static void sdl_update(struct sdl_frontend *f)
{
	struct display_share_update *u = &f->update;
	const uint8_t *shadow;
	SDL_Surface *s;
	int n = 0;

	if (!display_share_take(f->share, u))
		return;
	if (u->resized || u->width != f->guest_w || u->height != f->guest_h)
		sdl_set_geometry(f, u->width, u->height);
	if (!sdl_prepare(f))
		return;
	if (f->redraw_all) {
		sdl_draw_all(f);
		return;
	}
	s = f->surface;
	if (SDL_MUSTLOCK(s) && SDL_LockSurface(s) < 0)
		return;
	shadow = display_share_lock_shadow(f->share, f->guest_w, f->guest_h);
	if (shadow) {
		for (size_t i = 0; i < u->n_rects; i++)
			if (sdl_blit(f, shadow, &u->rects[i], &f->dirty[n]))
				n++;
		display_share_unlock_shadow(f->share);
	} else {
		f->stats.stale_updates++;
	}
	if (SDL_MUSTLOCK(s))
		SDL_UnlockSurface(s);
	if (n) {
		SDL_UpdateWindowSurfaceRects(f->window, f->dirty, n);
		f->stats.updates++;
		f->stats.rects += (uint64_t)n;
	}
}

/* --vnc none: this loop is the refresher. */
static void sdl_refresh(struct sdl_frontend *f)
{
	size_t n = 0;
	enum tracker_result r = display_share_refresh(f->share, f->refresh_rects,
						      DISPLAY_SHARE_MAX_RECTS, &n);
	bool changed = r == TRACKER_RESIZED || (r == TRACKER_UPDATED && n > 0);

	f->stats.refreshes++;
	refresh_schedule_refreshed(&f->schedule, log_now_ms(), changed);
	if (changed)
		f->update_due = true;
}

/* ---- input ---- */

static void sdl_activity(struct sdl_frontend *f)
{
	uint64_t now = log_now_ms();

	if (f->refresh_self) {
		refresh_schedule_activity(&f->schedule, now);
	} else if (f->share && now - f->last_activity_ms >= SDL_ACTIVITY_INTERVAL_MS) {
		f->last_activity_ms = now;
		display_share_activity(f->share);
	}
}

static void sdl_set_grab(struct sdl_frontend *f, bool on)
{
	char msg[160];

	f->grabbed = on;
	SDL_SetWindowGrab(f->window, on ? SDL_TRUE : SDL_FALSE);
	if (SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE) < 0 && on)
		log_ratelimited(LOG_WARN, "sdl", "relative mouse mode: %s",
				sdl_error_line(msg, sizeof(msg)));
	/* Relative motion moved the guest's pointer away from the host's. */
	sdl_input_forget_position(&f->input);
	sdl_set_title(f);
	if (on)
		log_info("sdl", "input grabbed, %s releases", SDL_INPUT_GRAB_KEY_NAME);
	else
		log_info("sdl", "input released");
}

static unsigned int sdl_button_bit(uint8_t button)
{
	switch (button) {
	case SDL_BUTTON_LEFT: return INPUT_BUTTON_LEFT;
	case SDL_BUTTON_MIDDLE: return INPUT_BUTTON_MIDDLE;
	case SDL_BUTTON_RIGHT: return INPUT_BUTTON_RIGHT;
	default: return 0;
	}
}

static void sdl_on_key(struct sdl_frontend *f, const SDL_KeyboardEvent *k)
{
	switch (sdl_input_key(&f->input, (uint32_t)k->keysym.scancode, k->type == SDL_KEYDOWN)) {
	case SDL_INPUT_GRAB_TOGGLE:
		sdl_set_grab(f, !f->grabbed);
		break;
	case SDL_INPUT_PASSED:
		sdl_activity(f);
		break;
	case SDL_INPUT_DROPPED:
		break;
	}
}

static void sdl_on_motion(struct sdl_frontend *f, const SDL_MouseMotionEvent *m)
{
	int win_w, win_h;
	int64_t x = m->x, y = m->y;
	uint32_t gx, gy;

	if (f->grabbed) {
		sdl_input_motion_by(&f->input, m->xrel, m->yrel);
	} else if (f->guest_w && f->view.w) {
		/* Window coordinates to surface pixels (they differ on HiDPI
		 * Wayland outputs; on X11 they are the same). */
		SDL_GetWindowSize(f->window, &win_w, &win_h);
		if (win_w > 0 && win_h > 0) {
			x = x * f->surf_w / win_w;
			y = y * f->surf_h / win_h;
		}
		sdl_view_to_guest(&f->view, f->guest_w, f->guest_h, (int32_t)x, (int32_t)y, &gx,
				  &gy);
		sdl_input_motion_to(&f->input, gx, gy, f->guest_w, f->guest_h);
	}
	sdl_activity(f);
}

static void sdl_on_window(struct sdl_frontend *f, const SDL_WindowEvent *w)
{
	switch (w->event) {
	case SDL_WINDOWEVENT_CLOSE:
		f->closed = true;
		break;
	case SDL_WINDOWEVENT_SIZE_CHANGED:
		/* The surface is invalid now; sdl_prepare takes the new one. */
		f->redraw_all = true;
		break;
	case SDL_WINDOWEVENT_EXPOSED:
		f->expose_pending = true;
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		/* Keys released elsewhere would stay down in the guest. */
		sdl_input_release_all(&f->input);
		if (f->grabbed)
			sdl_set_grab(f, false);
		break;
	default:
		break;
	}
}

static void sdl_handle(struct sdl_frontend *f, const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_QUIT:
		f->closed = true;
		break;
	case SDL_WINDOWEVENT:
		sdl_on_window(f, &ev->window);
		break;
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		sdl_on_key(f, &ev->key);
		break;
	case SDL_MOUSEMOTION:
		sdl_on_motion(f, &ev->motion);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		sdl_input_button(&f->input, sdl_button_bit(ev->button.button),
				 ev->type == SDL_MOUSEBUTTONDOWN);
		sdl_activity(f);
		break;
	case SDL_MOUSEWHEEL:
		sdl_input_wheel(&f->input, ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ?
						   -ev->wheel.y : ev->wheel.y);
		sdl_activity(f);
		break;
	default:
		if (ev->type == f->event_type) {
			if (ev->user.code == SDL_WAKE_CODE_STOP)
				atomic_store(&f->stop, true);
			else
				f->update_due = true;
		}
		break;
	}
}

/* ---- the X server going away ---- */

/*
 * Xlib's I/O error handler (XSetIOErrorHandler): the connection to the X
 * server is gone and Xlib cannot go on; if the handler returns, Xlib exits
 * the process itself. A documented fatal path: status EXIT_STATUS_HOST,
 * the terminal restored by terminal.c's atexit handler.
 */
static int sdl_x11_io_error(void *display)
{
	(void)display;
	log_error("sdl", "lost the connection to the X display; stopping");
	exit(EXIT_STATUS_HOST);
}

/* SDL loads libX11 with RTLD_LOCAL: find it among what is loaded already.
 * Not inlined: tools/stackcheck.annotations names it for its one call
 * through a pointer (XSetIOErrorHandler, from dlsym). */
__attribute__((noinline)) static void sdl_x11_catch_io_errors(void)
{
	typedef int (*io_handler)(void *);
	io_handler (*set_handler)(io_handler);
	void *x11 = dlopen("libX11.so.6", RTLD_NOW | RTLD_NOLOAD);

	if (!x11) {
		log_debug("sdl", "libX11.so.6 not loaded: Xlib's own I/O error handler stays");
		return;
	}
	*(void **)&set_handler = dlsym(x11, "XSetIOErrorHandler");
	if (set_handler)
		set_handler(sdl_x11_io_error);
	dlclose(x11);
}

/* ---- public ---- */

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

int sdl_open(struct sdl_frontend **out, const struct sdl_config *cfg, char *err,
	     size_t err_len)
{
	const char *where = env_set("WAYLAND_DISPLAY") ? "WAYLAND_DISPLAY" : "DISPLAY";
	struct sdl_frontend *f;
	char msg[200];

	*out = NULL;
	if (!env_set("SDL_VIDEODRIVER") && !env_set("DISPLAY") && !env_set("WAYLAND_DISPLAY")) {
		snprintf(err, err_len, "--sdl: no display to open a window on (neither DISPLAY"
			 " nor WAYLAND_DISPLAY is set)");
		return -ENODEV;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, err_len, "--sdl: out of memory");
		return -ENOMEM;
	}
	snprintf(f->name, sizeof(f->name), "%s", cfg->vm_name ? cfg->vm_name : "guest");
	f->scale = cfg->scale;
	atomic_init(&f->stop, false);

	/* Only a driver that puts a window on the user's screen: left to
	 * itself SDL falls back to "offscreen" when X11 and Wayland fail, and
	 * the VM would run with a window nobody can see. SDL_VIDEODRIVER, when
	 * set, is the user's explicit choice and wins. */
	if (!env_set("SDL_VIDEODRIVER"))
		SDL_SetHint(SDL_HINT_VIDEODRIVER,
			    !env_set("WAYLAND_DISPLAY") ? "x11" :
			    env_set("DISPLAY") ? "wayland,x11" : "wayland");
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	SDL_SetHint(SDL_HINT_APP_NAME, "fbvm");
	/* A preview window is no reason to keep the host's screen awake. */
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
	/* While grabbed, Alt-Tab and the like go to the guest, as in QEMU. */
	SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
		snprintf(err, err_len, "--sdl: cannot use the display (%s=%s): %s", where,
			 getenv(where) ? getenv(where) : "", sdl_error_line(msg, sizeof(msg)));
		goto fail_free;
	}
	/* X11 has a framebuffer of its own (XShm): no GL behind the surface.
	 * Wayland has none, and SDL's texture framebuffer is all it can use.
	 * Read at the first SDL_GetWindowSurface. */
	if (!strcmp(SDL_GetCurrentVideoDriver(), "x11")) {
		SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
		sdl_x11_catch_io_errors();
	}
	f->event_type = SDL_RegisterEvents(1);
	if (f->event_type == (uint32_t)-1) {
		snprintf(err, err_len, "--sdl: no SDL user event left");
		goto fail_quit;
	}
	f->window = SDL_CreateWindow("fbvm", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
				     TRACKER_DEFAULT_WIDTH, TRACKER_DEFAULT_HEIGHT,
				     SDL_WINDOW_RESIZABLE);
	if (!f->window) {
		snprintf(err, err_len, "--sdl: cannot open a window on the display (%s=%s): %s",
			 where, getenv(where) ? getenv(where) : "",
			 sdl_error_line(msg, sizeof(msg)));
		goto fail_quit;
	}
	/* Keys, not text: no input method between the keyboard and the guest. */
	SDL_StopTextInput();
	sdl_set_title(f);
	f->redraw_all = true;
	log_info("sdl", "window open (video driver %s)", SDL_GetCurrentVideoDriver());
	*out = f;
	return 0;
fail_quit:
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	SDL_Quit();
fail_free:
	free(f);
	return -ENODEV;
}

void sdl_attach(struct sdl_frontend *f, struct display_share *share, struct input_sink input,
		bool refresh_self)
{
	f->share = share;
	f->refresh_self = refresh_self;
	sdl_input_init(&f->input, input);
}

enum sdl_run_result sdl_run(struct sdl_frontend *f)
{
	SDL_Event ev;
	char msg[160];

	if (f->refresh_self)
		refresh_schedule_reset(&f->schedule, log_now_ms());
	f->update_due = true;   /* the share's first take: the whole shadow */
	for (;;) {
		int timeout = -1, got;

		if (f->update_due) {
			f->update_due = false;
			sdl_update(f);
		}
		if (f->redraw_all) {
			sdl_draw_all(f);
		} else if (f->expose_pending) {
			/* Obscured parts are back: the surface still holds them. */
			f->expose_pending = false;
			if (sdl_prepare(f) && !f->redraw_all) {
				SDL_UpdateWindowSurface(f->window);
				f->stats.exposes++;
			} else if (f->redraw_all) {
				sdl_draw_all(f);
			}
		}
		if (atomic_load(&f->stop))
			break;
		if (f->closed) {
			sdl_input_release_all(&f->input);
			return SDL_RUN_CLOSED;
		}
		if (f->refresh_self)
			timeout = (int)refresh_schedule_wait_ms(&f->schedule, log_now_ms());
		got = timeout < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, timeout);
		f->stats.wakeups++;
		if (got) {
			sdl_handle(f, &ev);
			while (SDL_PollEvent(&ev))
				sdl_handle(f, &ev);
		} else if (timeout < 0) {
			log_ratelimited(LOG_WARN, "sdl", "waiting for events: %s",
					sdl_error_line(msg, sizeof(msg)));
			SDL_Delay(SDL_WAIT_ERROR_BACKOFF_MS);
		}
		if (f->refresh_self && refresh_schedule_wait_ms(&f->schedule, log_now_ms()) == 0)
			sdl_refresh(f);
	}
	sdl_input_release_all(&f->input);
	return SDL_RUN_STOPPED;
}

void sdl_wake(struct sdl_frontend *f, enum sdl_wake_reason why)
{
	SDL_Event ev;
	char msg[160];

	memset(&ev, 0, sizeof(ev));
	ev.type = f->event_type;
	ev.user.code = why == SDL_WAKE_STOP ? SDL_WAKE_CODE_STOP : SDL_WAKE_CODE_FRAME;
	if (why == SDL_WAKE_STOP)
		atomic_store(&f->stop, true);
	if (SDL_PushEvent(&ev) < 0)
		log_ratelimited(LOG_WARN, "sdl", "cannot wake the window loop: %s",
				sdl_error_line(msg, sizeof(msg)));
}

void sdl_print_stats(const struct sdl_frontend *f, FILE *out)
{
	const struct sdl_stats *st = &f->stats;
	const struct sdl_input_stats *in = &f->input.stats;

	fprintf(out, "stats: sdl: updates=%" PRIu64 " full_redraws=%" PRIu64 " exposes=%" PRIu64
		" rects=%" PRIu64 " pixels=%" PRIu64 " stale_updates=%" PRIu64 " refreshes=%"
		PRIu64 " wakeups=%" PRIu64 "\n", st->updates, st->full_redraws, st->exposes,
		st->rects, st->pixels, st->stale_updates, st->refreshes, st->wakeups);
	fprintf(out, "stats: sdl: keys=%" PRIu64 " unknown_scancodes=%" PRIu64 " stray_releases=%"
		PRIu64 " auto_released=%" PRIu64 " pointer=%" PRIu64 " grabs=%" PRIu64
		"\n", in->keys, in->unknown_scancodes, in->stray_releases,
		in->auto_released, in->pointer_events, in->grab_toggles);
}

void sdl_close(struct sdl_frontend *f)
{
	if (!f)
		return;
	if (f->window)
		SDL_DestroyWindow(f->window);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	SDL_Quit();
	free(f->col_map);
	free(f->row_buf);
	free(f);
}
