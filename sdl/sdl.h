/*
 * The SDL2 window (`fbvm run --sdl`): the guest's screen on the local
 * desktop, its keyboard and mouse, beside the VNC server.
 *
 * Threads: SDL runs on the main thread only (SDL's rule; macOS enforces it).
 * sdl_run() blocks in SDL_WaitEvent(), which on X11 sleeps in select() on
 * the X connection, so an idle window costs nothing. Other threads reach it
 * only through sdl_wake(), an SDL user event (SDL_PushEvent is
 * thread-safe and wakes SDL_WaitEvent).
 *
 * Picture: the display tracker's changes come through display/share.h. When
 * the vnc thread refreshes the tracker, its notify eventfd tells the waker
 * (main.c's console thread), which calls sdl_wake(SDL_WAKE_FRAME); with
 * --vnc none the window's loop refreshes the tracker itself, on the same
 * schedule VNC uses (display/schedule.h: 16 ms while the screen changes, backing
 * off to 3 s when it does not, 16 ms again after input). Only the changed
 * rectangles are scaled into the window surface and pushed to the display
 * (SDL_UpdateWindowSurfaceRects: XShmPutImage of each rect on X11), so a
 * static screen costs no copies at all.
 *
 * The window surface is used, not an SDL renderer: SDL_HINT_FRAMEBUFFER_
 * ACCELERATION=0 keeps SDL from making a GL context behind it (on a host
 * without a GPU that is Mesa's llvmpipe, which starts worker threads with
 * default stacks and redraws the whole window on every update); scaling is
 * ours (sdl/scale.h), nearest-neighbour, per changed rectangle.
 */
#ifndef FBVM_SDL_SDL_H
#define FBVM_SDL_SDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/input.h"
#include "hypervisor/cli.h"
#include "sdl/input.h"

struct display_share;
struct sdl_frontend;

struct sdl_config {
	const char *vm_name;        /* the title's first word, e.g. the kernel's file name */
	enum window_scale scale;
};

struct sdl_stats {
	uint64_t updates;           /* frames drawn from the tracker's changes */
	uint64_t full_redraws;      /* whole window: resize, first frame */
	uint64_t exposes;           /* window pushed again without redrawing */
	uint64_t rects;             /* rectangles pushed to the display */
	uint64_t pixels;            /* window pixels written */
	uint64_t stale_updates;     /* changes dropped: the geometry moved on */
	uint64_t refreshes;         /* tracker refreshes by the window itself (--vnc none) */
	uint64_t wakeups;           /* returns from SDL_WaitEvent */
};

/*
 * Main thread, before any thread is started: initialises SDL's video
 * subsystem (no signal handlers: main.c owns SIGINT/SIGTERM) and opens a
 * black, resizable window. Fails with -ENODEV and one line in err when there
 * is no usable display: neither DISPLAY nor WAYLAND_DISPLAY is set (unless
 * SDL_VIDEODRIVER names a driver), or SDL cannot open it or make a window.
 */
int sdl_open(struct sdl_frontend **out, const struct sdl_config *cfg, char *err,
	     size_t err_len);

/*
 * What the window shows and where its input goes; share and the sink must
 * outlive the window. refresh_self: no other thread refreshes the share's
 * tracker (--vnc none), the window's loop does; otherwise its input pokes
 * the refresher through display_share_activity().
 */
void sdl_attach(struct sdl_frontend *f, struct display_share *share, struct input_sink input,
		bool refresh_self);

enum sdl_run_result {
	SDL_RUN_STOPPED,   /* sdl_wake(SDL_WAKE_STOP) */
	SDL_RUN_CLOSED,    /* the user closed the window */
};

/* Main thread: shows the screen and handles input until stopped or closed. */
enum sdl_run_result sdl_run(struct sdl_frontend *f);

enum sdl_wake_reason {
	SDL_WAKE_FRAME,    /* the share's notify fd fired: changes to draw */
	SDL_WAKE_STOP,     /* make sdl_run return */
};

/* Any thread, between sdl_open and sdl_close. */
void sdl_wake(struct sdl_frontend *f, enum sdl_wake_reason why);

/* The --stats lines (after sdl_run returned). */
void sdl_print_stats(const struct sdl_frontend *f, FILE *out);

/* Main thread, after every thread that calls sdl_wake has been joined:
 * closes the window and quits SDL. NULL is fine. */
void sdl_close(struct sdl_frontend *f);

#endif
