/*
 * The control socket (`fbvm run --control PATH`): programs drive the VM
 * over a UNIX socket with QMP-shaped JSON lines (control/protocol.h) —
 * screendump, keys, typing, pointer, wait-screen, reset, quit, events.
 *
 * Threads: everything happens on one thread, "control", started by
 * thread_start() with STACK_CONTROL_BYTES. It poll()s its listening socket,
 * its clients (non-blocking), the VM's stop eventfd, the display share's
 * watch eventfd and an eventfd for VNC connect/disconnect notices, which
 * the vnc thread posts through control_vnc_client_event() (a mutex-guarded
 * queue). It never waits for a client: each has a bounded input buffer
 * (one line of CONTROL_LINE_MAX_BYTES) and a bounded output queue.
 *
 * The picture comes from the display share (display/share.h): screendump
 * copies the tracker's shadow under the share's lock — the pixels VNC
 * viewers are sent — and wait-screen wakes on the share's watch eventfd,
 * which the refresher (the vnc thread; this thread itself with --vnc none)
 * signals after each refresh.
 *
 * Keys go to the input sink (devices/input.h) at the pace control/keys.h
 * describes, one key job after another.
 */
#ifndef FBVM_CONTROL_SERVER_H
#define FBVM_CONTROL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/input.h"

struct display;
struct display_share;
struct control_server;

/* Clients served at once; the next is told so in an error line and closed. */
#define CONTROL_MAX_CLIENTS 8

/* A client whose unread replies pass this has its commands left unread
 * until it catches up (the kernel's socket buffer then holds its writes). */
#define CONTROL_OUT_PAUSE_BYTES (256u * 1024)
/* Unread replies and events past this drop the client: it is not reading.
 * Room for a few inline screendumps of the largest screen. */
#define CONTROL_OUT_MAX_BYTES (64u << 20)
/* A client past CONTROL_OUT_PAUSE_BYTES that reads nothing for this long is
 * dropped: it would hold one of the CONTROL_MAX_CLIENTS places for good. A
 * program reading a UNIX socket drains a megabyte in well under 1 ms. */
#define CONTROL_STALL_MS 5000
/* How long a closing connection (after a too-long line, or at exit) may
 * take to read what is left for it. */
#define CONTROL_FLUSH_MS 1000

struct control_config {
	const char *path;                 /* the socket to create */
	struct display *display;          /* for query-status */
	struct display_share *share;      /* the picture */
	bool refresh_self;                /* no vnc thread: this thread refreshes the share */
	struct input_sink input;
	uint64_t vram_gpa, vram_bytes;    /* a surface here is the std VGA's, else ramfb's */
	uint64_t start_ms;                /* log_now_ms() at VM start, for uptime */
	/* system_reset: reboots the guest in place (the board's machine_reset);
	 * 0 or a negative errno. Runs on the control thread. */
	int (*reset)(void *ctx);
	void *reset_ctx;
};

struct control_stats {
	uint64_t clients;          /* accepted */
	uint64_t refused;          /* over CONTROL_MAX_CLIENTS */
	uint64_t dropped;          /* output queue over CONTROL_OUT_MAX_BYTES */
	uint64_t commands;         /* lines executed */
	uint64_t errors;           /* error replies */
	uint64_t long_lines;       /* lines over CONTROL_LINE_MAX_BYTES */
	uint64_t key_events;       /* sent to the input sink */
	uint64_t key_holds;        /* presses held a millisecond: the guest was behind */
	uint64_t events;           /* event lines broadcast */
	uint64_t vnc_events_lost;  /* VNC notices over the queue's bound */
};

/*
 * Creates the socket at cfg->path with mode 0600, listening; no thread yet.
 * PATH may exist only as a stale socket (one nobody listens on, owned by
 * us), which is replaced. Returns 0, or a negative errno with one line in
 * err: -EEXIST (something else is there, or another process listens),
 * -ENAMETOOLONG, or the bind/listen error.
 */
int control_create(struct control_server **out, const struct control_config *cfg, char *err,
		   size_t err_len);

/* Starts the "control" thread. 0 or a negative errno. */
int control_start(struct control_server *s);

/* Any thread, non-blocking: a VNC viewer connected or left (VNC_CONNECTED /
 * VNC_DISCONNECTED events, query-status's count). ctx is the server, or
 * NULL (no control socket: nothing to do). */
void control_vnc_client_event(void *ctx, const char *addr, bool connected);

/* After the VM stopped: answers waiting commands, gives clients up to
 * CONTROL_FLUSH_MS to read what is left (the STOP event), closes them and
 * joins the thread. Idempotent. */
void control_stop(struct control_server *s);

/* Stops if needed, removes the socket file, frees. NULL is fine. */
void control_destroy(struct control_server *s);

void control_print_stats(const struct control_server *s, FILE *out);

#endif
