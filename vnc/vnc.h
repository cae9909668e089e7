/*
 * The VNC server: libvncserver (0.9.14) serving the display tracker's shadow
 * framebuffer, with keyboard and pointer input going to an input sink.
 *
 * Threads: everything libvncserver does happens on one thread, "vnc", started
 * by thread_start() with STACK_VNC_BYTES; libvncserver runs in non-threaded
 * mode (we call rfbProcessEvents), so it never starts threads of its own.
 * The sockets belong to a second thread, "vnc-io" (vnc/io.h): it accepts,
 * handshakes and hands each client to the vnc thread as one end of a
 * socketpair that carries only complete messages, and drains what
 * libvncserver writes; libvncserver never waits for a client.
 * That thread alone touches the rfbScreen, the tracker and the per-client
 * state. Other threads only call vnc_stop() (an eventfd) and, once the thread
 * is joined, vnc_print_stats(); with a display share (--sdl) the window also
 * copies from the tracker's shadow, under the share's lock, which the vnc
 * thread holds while it refreshes (display/share.h).
 *
 * Each loop: poll() on the stop eventfd, the I/O thread's new-client eventfd
 * and every client's socketpair end, with a timeout that ends at the next refresh (display/schedule.h;
 * no timeout at all while no client is connected); then, when due,
 * tracker_refresh() → rfbMarkRectAsModified() / rfbNewFramebuffer(); new
 * clients are refreshed for and given to rfbNewClient(); then
 * rfbProcessEvents(screen, 0) reads messages and sends updates
 * (deferUpdateTime 0: the tracker already coalesces).
 */
#ifndef FBVM_VNC_H
#define FBVM_VNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/input.h"

struct display_share;
struct tracker;
struct vnc_server;

/* Clients served at once; more are refused at connect time. Each costs a
 * socket, encoder state (zlib/tight: a few hundred KiB) and send time. */
#define VNC_MAX_CLIENTS 16

/* How long a client may keep its connection half done: its protocol
 * version after connecting, or the rest of a message it has started
 * (vnc/io.c closes it then). Nobody else waits meanwhile; this bounds what
 * one client holds. A real client sends whole messages in one write, so 1 s
 * only cuts off stalled or hostile ones, or a link losing packets for a
 * second. Also libvncserver's maxClientWait, which nothing should reach. */
#define VNC_MAX_CLIENT_WAIT_MS 1000

struct vnc_config {
	const char *host;      /* numeric IPv4 or IPv6 address to listen on */
	uint16_t port;
	/* Nonzero: WebSocket clients (noVNC) on this port of the same host
	 * (QEMU's --vnc ...,websocket=PORT); vnc/websocket.h. */
	uint16_t websocket_port;
	const char *desktop_name;
	/* Optional (--sdl): another frontend reads the tracker's changes. The
	 * vnc thread then refreshes through display_share_refresh(), also while
	 * no client is connected, and refreshes sooner after the share's
	 * activity fd fires (input in the other frontend). */
	struct display_share *share;
	/* Optional (--vnc-password-file): clients must pass VNC authentication
	 * with the password on this file's first line (vnc/auth.h: the file's
	 * rules, the back-off after failures). NULL: no password. */
	const char *password_file;
	/* Optional (--control): told of each client's connect and disconnect,
	 * on the vnc thread; must not block. */
	void (*client_event)(void *ctx, const char *addr, bool connected);
	void *client_event_ctx;
};

struct vnc_stats {
	uint64_t clients_served;       /* connections accepted */
	uint64_t clients_refused;      /* over VNC_MAX_CLIENTS */
	uint64_t clients_stalled;      /* dropped: a message refused or left half
				        * sent, or updates left unread */
	uint64_t updates_sent;         /* FramebufferUpdate messages, all clients */
	uint64_t rects_sent;           /* rectangles in them */
	uint64_t bytes_sent;
	uint64_t refreshes;            /* tracker refreshes */
	uint64_t refreshes_changed;    /* of those, ones that found changes */
	uint64_t resizes;              /* rfbNewFramebuffer calls */
	uint64_t ext_key_acks;
};

/*
 * Creates the server for cfg: the rfbScreen on the tracker's shadow, bound
 * and listening (IPv4 address: one IPv4 socket; IPv6 address: one IPv6-only
 * socket), but no thread yet. The tracker and the input sink must outlive
 * the server; from vnc_start() on they belong to the vnc thread. Returns 0,
 * or a negative errno with one line in err: -EADDRINUSE / -EADDRNOTAVAIL /
 * -EACCES when the address cannot be bound, -EINVAL for a malformed address
 * or a password file that breaks vnc/auth.h's rules, -ENOMEM. Nothing is left behind on failure.
 */
int vnc_create(struct vnc_server **out, const struct vnc_config *cfg, struct tracker *tracker,
	       struct input_sink input, char *err, size_t err_len);

/* Starts the "vnc" thread. 0 or a negative errno. */
int vnc_start(struct vnc_server *s);

/* Asks the vnc and vnc-io threads to stop and joins them: clients are
 * disconnected (their held keys released) and the sockets closed. Returns
 * within one loop iteration of each: neither waits for a client. Should
 * the vnc thread not stop within 1 s (stuck in an input sink), it is left
 * running with its server, one error line says so, and vnc_stop returns
 * anyway (the next call tries again; vnc_destroy then frees nothing it
 * uses). Idempotent; a server never started is fine. */
void vnc_stop(struct vnc_server *s);

/* True once vnc_stop gave up waiting for the vnc thread: it may still run and
 * use the tracker, the display and the input devices, so whoever owns them
 * must not free them (the process is about to exit anyway). */
bool vnc_thread_abandoned(const struct vnc_server *s);

/* Stops the server if needed and frees it. NULL is fine. */
void vnc_destroy(struct vnc_server *s);

/* "listening on 127.0.0.1:5900" or "[::1]:5900". */
const char *vnc_listen_address(const struct vnc_server *s);

/* Copies the counters (call after vnc_stop, or accept a racy snapshot). */
void vnc_get_stats(const struct vnc_server *s, struct vnc_stats *out);

/* The --stats lines: clients, updates, refreshes, input counters. */
void vnc_print_stats(const struct vnc_server *s, FILE *out);

#endif
