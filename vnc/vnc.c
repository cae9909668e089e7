/*
 * The VNC server (see vnc.h for the threading model). libvncserver 0.9.14
 * facts this file relies on (LibVNC/libvncserver libvncserver/main.c,
 * rfbserver.c, sockets.c; shared/specs/interfaces.md section 6):
 *  - it encodes straight from screen->frameBuffer and would paint its
 *    software cursor into it: frameBuffer is the tracker's shadow, cursor NULL;
 *  - rfbGetScreen and rfbNewFramebuffer set the server pixel format to bytes
 *    R,G,B,X (redShift 0); the shadow is XRGB8888 (bytes B,G,R,X), so the
 *    shifts are set to 16/8/0 after both, and after rfbNewFramebuffer every
 *    client's translation is rebuilt with screen->setTranslateFunction
 *    (rfbSetTranslateFunction; rfbNewFramebuffer built it for the format it
 *    had just reset). Converting in the tracker instead would cost a pass
 *    over every changed pixel; this costs one table rebuild per resize;
 *  - with port and ipv6port 0 it opens no socket: vnc/io.c listens and
 *    hands each client over as one end of a socketpair (rfbNewClient);
 *  - kbdReleaseAllKeys is never called: held keys are released in the
 *    clientGoneHook;
 *  - pointer coordinates are not clamped (vnc/input.c clamps).
 */
#include "vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "display/share.h"
#include "display/tracker.h"
#include "hypervisor/log.h"
#include "stack/stack_sizes.h"
#include "stack/thread.h"
#include "vnc/auth.h"
#include "vnc/ext_key.h"
#include "vnc/gate.h"
#include "vnc/input.h"
#include "vnc/io.h"
#include "vnc/rfblog.h"
#include "display/schedule.h"

/* Rectangles one refresh may report; the tracker merges beyond this. Each
 * becomes a rectangle of the update (libvncserver's own cap is 50). */
#define VNC_MAX_RECTS 48

/* After a client arrives, refreshes stay at REFRESH_MIN_MS this long
 * instead of backing off on an unchanged screen: a viewer that connects
 * while the guest is about to draw (fbvm just started: ramfb-demo draws
 * within about 150 ms of the start) gets the picture within one refresh of
 * its drawing, not one back-off step (50-3000 ms) later. Measured with
 * 2000 ms: a static screen's VNC CPU over the next 10 s rose from 0.007% to
 * 0.03-0.04% of a core; 500 ms keeps that cost out of a static screen's
 * steady state. */
#define VNC_NEW_CLIENT_FAST_MS 500

/* How long vnc_stop waits for the vnc thread. Nothing on it waits for a
 * client any more, but it calls out (the input sink: a device and its
 * lock); if that ever hangs, fbvm still ends: the thread is left running
 * and the process exits without it. */
#define VNC_STOP_WAIT_MS 1000
#define VNC_STOP_POLL_MS 2

/* "[" + IPv6 address + "]:" + port + NUL. */
#define VNC_ADDR_BYTES (INET6_ADDRSTRLEN + 8)

/* Server pixel format: the shadow's XRGB8888 read as a little-endian word. */
#define VNC_RED_SHIFT   16
#define VNC_GREEN_SHIFT 8
#define VNC_BLUE_SHIFT  0

/* stop eventfd, the share's activity eventfd, the I/O thread's handoff
 * eventfd, clients. */
#define VNC_POLL_FDS (3 + VNC_MAX_CLIENTS)

struct vnc_client {
	char addr[VNC_ADDR_BYTES];
	struct vnc_backoff_addr peer;  /* its address, as auth back-off keys it */
	struct vnc_input_client input;
};

struct vnc_server {
	rfbScreenInfoPtr screen;
	struct tracker *tracker;
	struct display_share *share;   /* NULL: VNC is the tracker's only reader */
	struct vnc_auth *auth;         /* NULL: no password (vnc/auth.h) */
	void (*client_event)(void *ctx, const char *addr, bool connected);
	void *client_event_ctx;
	struct vnc_input input;
	struct refresh_schedule schedule;
	struct thread *thread;
	atomic_bool thread_done;       /* vnc_thread_main has returned */
	bool thread_abandoned;         /* it did not stop within VNC_STOP_WAIT_MS */
	struct vnc_io *io;             /* the sockets (vnc/io.h) */
	char new_client_addr[VNC_ADDR_BYTES];   /* for vnc_on_new_client */
	int stop_efd;
	char host[INET6_ADDRSTRLEN];   /* listen6Interface points here */
	char listen_addr[VNC_ADDR_BYTES];
	unsigned int clients;          /* connected (any protocol state) */
	uint64_t fast_until_ms;        /* VNC_NEW_CLIENT_FAST_MS after the last arrival */
	struct vnc_stats stats;
	struct fb_rect rects[VNC_MAX_RECTS];
};

/* libvncserver sets depth = bits per pixel (32); 24 is what 32-bit true
 * colour means everywhere else (QEMU, TigerVNC) and what some clients expect. */
static void vnc_apply_format(rfbScreenInfoPtr screen)
{
	screen->serverFormat.depth = 24;
	screen->serverFormat.redShift = VNC_RED_SHIFT;
	screen->serverFormat.greenShift = VNC_GREEN_SHIFT;
	screen->serverFormat.blueShift = VNC_BLUE_SHIFT;
}

/* "vnc: client ADDR connected" (rate-limited: clients can connect at any
 * rate), with the address as a field of JSON logs. */
#define vnc_log_client(addr, fmt, ...)                                         \
	do {                                                                   \
		static struct log_ratelimit rl_;                               \
		const struct log_field field_ = { "client", addr };            \
		unsigned int sup_;                                             \
		if (log_ratelimit_allow(&rl_, &sup_)) {                        \
			if (sup_)                                              \
				log_info("vnc", "%u similar messages suppressed", sup_); \
			log_msg_fields(LOG_INFO, "vnc", &field_, 1, "client %s " fmt, \
				       addr, ##__VA_ARGS__);                   \
		}                                                              \
	} while (0)

/* ---- libvncserver hooks (vnc thread, inside rfbProcessEvents) ---- */

static void vnc_on_client_gone(rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;
	uint64_t updates, rects = 0;

	vnc_ext_key_forget_client(cl);
	if (!c)
		return;
	vnc_input_release_all(&s->input, &c->input);
	updates = (uint64_t)rfbStatGetMessageCountSent(cl, rfbFramebufferUpdate);
	for (const rfbStatList *e = cl->statEncList; e; e = e->Next)
		rects += e->sentCount;
	s->stats.updates_sent += updates;
	s->stats.rects_sent += rects;
	s->stats.bytes_sent += (uint64_t)rfbStatGetSentBytes(cl);
	vnc_log_client(c->addr, "disconnected updates=%" PRIu64, updates);
	if (s->client_event)
		s->client_event(s->client_event_ctx, c->addr, false);
	cl->clientData = NULL;
	free(c);
	s->clients--;
}

static enum rfbNewClientAction vnc_on_new_client(rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vnc_client *c;
	char *host;

	/* Before any refusal: the hook frees the Extended Key Event record
	 * (vnc/ext_key.c) of a refused client too. */
	cl->clientGoneHook = vnc_on_client_gone;
	if (s->clients >= VNC_MAX_CLIENTS) {
		s->stats.clients_refused++;
		log_ratelimited(LOG_WARN, "vnc", "client %s refused: %u clients connected already",
				s->new_client_addr, s->clients);
		return RFB_CLIENT_REFUSE;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		s->stats.clients_refused++;
		log_ratelimited(LOG_WARN, "vnc", "client %s refused: out of memory",
				s->new_client_addr);
		return RFB_CLIENT_REFUSE;
	}
	/* cl->sock is our socketpair: the address comes from vnc/io.c, and
	 * libvncserver's own lines name it too (it frees cl->host). */
	snprintf(c->addr, sizeof(c->addr), "%s", s->new_client_addr);
	host = strdup(s->new_client_addr);
	if (host) {
		free(cl->host);
		cl->host = host;
	}
	/* From the address as logged: the same key however the socket came. */
	vnc_backoff_addr_from_text(&c->peer, c->addr);
	if (s->auth && !vnc_auth_admit(s->auth, &c->peer, c->addr, log_now_ms())) {
		free(c);
		return RFB_CLIENT_REFUSE;
	}
	vnc_input_client_init(&c->input);
	cl->clientData = c;
	cl->clientGoneHook = vnc_on_client_gone;
	s->clients++;
	s->stats.clients_served++;
	vnc_log_client(c->addr, "connected");
	if (s->client_event)
		s->client_event(s->client_event_ctx, c->addr, true);
	return RFB_CLIENT_ACCEPT;
}

/* screen->passwordCheck: the client's VNC authentication response. */
static rfbBool vnc_on_password(rfbClientPtr cl, const char *response, int len)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;

	if (!c || len < 0)
		return FALSE;
	return vnc_auth_check(s->auth, &c->peer, c->addr, cl->authChallenge,
			      (const uint8_t *)response, (size_t)len, log_now_ms());
}

static void vnc_on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;

	if (!c)
		return;
	vnc_input_keysym(&s->input, &c->input, (uint32_t)keysym, down);
	refresh_schedule_activity(&s->schedule, log_now_ms());
}

static void vnc_on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;

	if (!c)
		return;
	vnc_input_pointer(&s->input, &c->input, (unsigned int)mask, x, y,
			  (uint32_t)s->screen->width, (uint32_t)s->screen->height);
	refresh_schedule_activity(&s->schedule, log_now_ms());
}

static void vnc_on_ext_key_enabled(rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;

	if (vnc_ext_key_send_ack(cl, s->screen->width, s->screen->height))
		s->stats.ext_key_acks++;
}

static void vnc_on_ext_key(rfbClientPtr cl, uint32_t keysym, uint32_t keycode, bool down)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;

	if (!c)
		return;
	vnc_input_ext_key(&s->input, &c->input, keysym, keycode, down);
	refresh_schedule_activity(&s->schedule, log_now_ms());
}

static const struct vnc_ext_key_handler vnc_ext_key_handler = {
	.enabled = vnc_on_ext_key_enabled,
	.event = vnc_on_ext_key,
};

/* ---- refresh ---- */

static void vnc_resize(struct vnc_server *s)
{
	struct tracker *t = s->tracker;

	rfbNewFramebuffer(s->screen, (char *)t->shadow, (int)t->width, (int)t->height, 8, 3, 4);
	vnc_apply_format(s->screen);
	for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next)
		if (cl->sock >= 0)
			s->screen->setTranslateFunction(cl);
	s->stats.resizes++;
	log_info("vnc", "desktop resized to %ux%u", t->width, t->height);
}

static void vnc_refresh(struct vnc_server *s)
{
	size_t n = 0;
	enum tracker_result r = s->share ?
		display_share_refresh(s->share, s->rects, VNC_MAX_RECTS, &n) :
		tracker_refresh(s->tracker, s->rects, VNC_MAX_RECTS, &n);
	bool changed = false;

	s->stats.refreshes++;
	if (r == TRACKER_RESIZED || (char *)s->tracker->shadow != s->screen->frameBuffer) {
		vnc_resize(s);
		changed = true;
	} else if (r == TRACKER_UPDATED) {
		for (size_t i = 0; i < n; i++) {
			const struct fb_rect *rc = &s->rects[i];
			rfbMarkRectAsModified(s->screen, (int)rc->x, (int)rc->y,
					      (int)(rc->x + rc->w), (int)(rc->y + rc->h));
		}
		changed = n > 0;
	}
	if (changed)
		s->stats.refreshes_changed++;
	refresh_schedule_refreshed(&s->schedule, log_now_ms(), changed);
	if (log_now_ms() < s->fast_until_ms)
		refresh_schedule_hold_fast(&s->schedule, log_now_ms());
	/* A control client waits for the screen: no backing off meanwhile. */
	if (s->share && display_share_fast_wanted(s->share))
		refresh_schedule_hold_fast(&s->schedule, log_now_ms());
}

/* ---- new clients (vnc/io.h) ---- */

/* Gives libvncserver the clients the I/O thread has waiting. The shadow is
 * brought up to date first, so a new viewer's first update is the current
 * screen: with nobody watching it was not refreshed at all (a viewer would
 * see whatever it held, black at first), and with viewers the schedule may
 * have backed off for seconds. */
static void vnc_take_clients(struct vnc_server *s)
{
	int fd;

	while (vnc_io_take(s->io, &fd, s->new_client_addr, sizeof(s->new_client_addr))) {
		if (!s->clients && !s->share)
			tracker_invalidate(s->tracker);
		s->fast_until_ms = log_now_ms() + VNC_NEW_CLIENT_FAST_MS;
		vnc_refresh(s);
		refresh_schedule_reset(&s->schedule, log_now_ms());
		/* It reports getnameinfo and TCP_NODELAY failing on a socketpair. */
		vnc_rfblog_set_quiet(true);
		rfbNewClient(s->screen, fd);
		vnc_rfblog_set_quiet(false);
	}
}

/* ---- the thread ---- */

/* The stop eventfd, the share's activity, new clients, then every client's
 * end of its socketpair. */
static nfds_t vnc_poll_set(struct vnc_server *s, struct pollfd *fds)
{
	nfds_t n = 0;

	fds[n++] = (struct pollfd){ .fd = s->stop_efd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = s->share ? display_share_activity_fd(s->share) : -1,
				    .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = vnc_io_handoff_fd(s->io), .events = POLLIN };
	for (rfbClientPtr cl = s->screen->clientHead; cl && n < VNC_POLL_FDS; cl = cl->next)
		if (cl->sock >= 0)
			fds[n++] = (struct pollfd){ .fd = cl->sock, .events = POLLIN };
	return n;
}

static void *vnc_thread_main(void *arg)
{
	struct vnc_server *s = arg;
	struct pollfd fds[VNC_POLL_FDS];

	for (;;) {
		uint64_t now = log_now_ms();
		/* Nobody to show the screen to: no refresh at all. The share
		 * asks for refreshes for the --sdl window and the control
		 * socket's watchers (display/share.h). */
		const bool watched = s->clients || (s->share && display_share_refresh_wanted(s->share));
		int timeout = watched ? (int)refresh_schedule_wait_ms(&s->schedule, now) : -1;
		nfds_t n = vnc_poll_set(s, fds);

		if (poll(fds, n, timeout) < 0 && errno != EINTR) {
			log_error("vnc", "poll failed: %s; no longer serving clients",
				  strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents && display_share_take_activity(s->share))
			refresh_schedule_activity(&s->schedule, log_now_ms());
		if (fds[2].revents)
			vnc_take_clients(s);
		if (watched && refresh_schedule_wait_ms(&s->schedule, log_now_ms()) == 0)
			vnc_refresh(s);
		/* Each client's socketpair holds complete messages only, and
		 * vnc/io.c drains what libvncserver writes: nothing here waits
		 * for a client. */
		rfbProcessEvents(s->screen, 0);
	}
	atomic_store(&s->thread_done, true);
	return NULL;
}

/* Disconnects every client (releasing what they held), on the thread that
 * owns the screen. */
static void vnc_shutdown(struct vnc_server *s)
{
	rfbClientPtr cl = s->screen->clientHead;

	while (cl) {
		rfbClientPtr next = cl->next;
		if (cl->sock >= 0)
			rfbCloseClient(cl);
		rfbClientConnectionGone(cl);
		cl = next;
	}
	rfbShutdownServer(s->screen, FALSE);
}

/* ---- setup ---- */

static bool vnc_is_loopback(int family, const void *addr)
{
	if (family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)addr);
	return (ntohl(((const struct in_addr *)addr)->s_addr) >> 24) == 127;
}

int vnc_create(struct vnc_server **out, const struct vnc_config *cfg, struct tracker *tracker,
	       struct input_sink input, char *err, size_t err_len)
{
	struct in6_addr addr6;
	struct in_addr addr4;
	int family, argc = 0, ret;
	struct vnc_server *s;
	int listen_fd, ws_fd;

	*out = NULL;
	if (inet_pton(AF_INET, cfg->host, &addr4) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, cfg->host, &addr6) == 1) {
		family = AF_INET6;
	} else {
		snprintf(err, err_len, "--vnc %s: not a numeric IPv4 or IPv6 address", cfg->host);
		return -EINVAL;
	}
	if (cfg->port == 0) {
		snprintf(err, err_len, "--vnc port 0: must be 1..65535");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_len, "vnc: out of memory");
		return -ENOMEM;
	}
	s->tracker = tracker;
	s->share = cfg->share;
	s->client_event = cfg->client_event;
	s->client_event_ctx = cfg->client_event_ctx;
	s->input.sink = input;
	snprintf(s->host, sizeof(s->host), "%s", cfg->host);
	snprintf(s->listen_addr, sizeof(s->listen_addr), family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 cfg->host, cfg->port);
	s->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_efd < 0) {
		ret = -errno;
		snprintf(err, err_len, "vnc: eventfd: %s", strerror(errno));
		free(s);
		return ret;
	}

	if (cfg->password_file) {
		ret = vnc_auth_create(&s->auth, cfg->password_file, err, err_len);
		if (ret < 0) {
			close(s->stop_efd);
			free(s);
			return ret;
		}
	}

	vnc_rfblog_install();
	vnc_ext_key_register(&vnc_ext_key_handler);
	s->screen = rfbGetScreen(&argc, NULL, (int)tracker->width, (int)tracker->height, 8, 3, 4);
	if (!s->screen) {
		snprintf(err, err_len, "vnc: libvncserver could not create the screen");
		vnc_auth_destroy(s->auth);
		close(s->stop_efd);
		free(s);
		return -ENOMEM;
	}
	s->screen->screenData = s;
	s->screen->frameBuffer = (char *)tracker->shadow;
	vnc_apply_format(s->screen);
	s->screen->cursor = NULL;
	s->screen->desktopName = cfg->desktop_name ? cfg->desktop_name : "fbvm";
	s->screen->alwaysShared = TRUE;
	s->screen->deferUpdateTime = 0;
	s->screen->maxClientWait = VNC_MAX_CLIENT_WAIT_MS;
	s->screen->httpPort = s->screen->http6Port = 0;
	s->screen->httpDir = NULL;
	s->screen->autoPort = FALSE;
	s->screen->kbdAddEvent = vnc_on_key;
	s->screen->ptrAddEvent = vnc_on_pointer;
	s->screen->newClientHook = vnc_on_new_client;
	if (s->auth) {
		/* Non-NULL makes libvncserver offer VNC authentication only. */
		s->screen->authPasswdData = s->auth;
		s->screen->passwordCheck = vnc_on_password;
	}
	/* libvncserver listens on nothing: vnc/io.c does. */
	s->screen->port = 0;
	s->screen->ipv6port = 0;
	vnc_rfblog_set_quiet(true);
	rfbInitServer(s->screen);
	vnc_rfblog_set_quiet(false);
	listen_fd = vnc_io_listen(family, cfg->host, cfg->port);
	ws_fd = listen_fd >= 0 && cfg->websocket_port ?
		vnc_io_listen(family, cfg->host, cfg->websocket_port) : -1;
	if (listen_fd < 0) {
		ret = listen_fd;
		snprintf(err, err_len, "--vnc %s: cannot listen: %s", s->listen_addr, strerror(-ret));
	} else if (ws_fd < 0 && cfg->websocket_port) {
		ret = ws_fd;
		close(listen_fd);
		snprintf(err, err_len, "--vnc %s,websocket=%u: cannot listen on %u: %s",
			 s->listen_addr, cfg->websocket_port, cfg->websocket_port, strerror(-ret));
	} else {
		ret = vnc_io_create(&s->io, listen_fd, ws_fd, false);
		if (ret < 0)
			snprintf(err, err_len, "vnc: %s", strerror(-ret));
	}
	if (ret < 0) {
		rfbShutdownServer(s->screen, FALSE);
		rfbScreenCleanup(s->screen);
		vnc_auth_destroy(s->auth);
		close(s->stop_efd);
		free(s);
		return ret;
	}
	if (vnc_is_loopback(family, family == AF_INET ? (const void *)&addr4 : (const void *)&addr6))
		log_info("vnc", "listening on %s (this host only)", s->listen_addr);
	else
		log_info("vnc", "listening on %s: reachable from other hosts%s", s->listen_addr,
			 s->auth ? ", VNC password required" : "");
	if (cfg->websocket_port)
		log_info("vnc", "WebSocket clients (noVNC) on %s%s%s:%u", family == AF_INET6 ? "[" : "",
			 cfg->host, family == AF_INET6 ? "]" : "", cfg->websocket_port);
	if (!s->auth && !vnc_is_loopback(family, family == AF_INET ? (const void *)&addr4 :
					 (const void *)&addr6))
		log_warn("vnc", "no password (--vnc-insecure): anyone who reaches %s controls"
			 " the guest's keyboard and mouse", s->listen_addr);
	*out = s;
	return 0;
}

int vnc_start(struct vnc_server *s)
{
	int ret;

	/* RFB 3.3 clients answer a password challenge without choosing a
	 * security type: the I/O thread must know whether one comes. */
	vnc_io_set_auth(s->io, s->screen->authPasswdData != NULL);
	ret = thread_start(&s->thread, "vnc", STACK_VNC_BYTES, vnc_thread_main, s);
	if (ret < 0)
		return ret;
	ret = vnc_io_start(s->io);
	if (ret < 0)
		vnc_stop(s);
	return ret;
}

void vnc_stop(struct vnc_server *s)
{
	uint64_t one = 1;

	if (!s || !s->screen)
		return;
	if (s->thread) {
		uint64_t waited = 0;

		if (write(s->stop_efd, &one, sizeof(one)) < 0) {
			/* Cannot fail for an eventfd below its maximum. */
		}
		/* The I/O thread still drains what libvncserver writes, so
		 * the vnc thread cannot be waiting on a client here. */
		while (!atomic_load(&s->thread_done) && !s->thread_abandoned &&
		       waited < VNC_STOP_WAIT_MS) {
			usleep(VNC_STOP_POLL_MS * 1000);
			waited += VNC_STOP_POLL_MS;
		}
		if (!atomic_load(&s->thread_done)) {
			if (!s->thread_abandoned)
				log_error("vnc", "the vnc thread did not stop within %u ms; going on"
					  " without it", VNC_STOP_WAIT_MS);
			s->thread_abandoned = true;
			/* Its clients are closed; the server stays for it. */
			vnc_io_stop(s->io);
			return;
		}
		thread_join(s->thread, NULL);
		s->thread = NULL;
	}
	vnc_io_stop(s->io);
	vnc_shutdown(s);
	rfbScreenCleanup(s->screen);
	s->screen = NULL;
}

void vnc_destroy(struct vnc_server *s)
{
	if (!s)
		return;
	vnc_stop(s);
	if (s->thread)
		return;   /* abandoned and still running: it keeps what it uses */
	vnc_auth_destroy(s->auth);
	vnc_io_destroy(s->io);
	close(s->stop_efd);
	free(s);
}

bool vnc_thread_abandoned(const struct vnc_server *s)
{
	return s && s->thread_abandoned;
}

const char *vnc_listen_address(const struct vnc_server *s)
{
	return s->listen_addr;
}

void vnc_get_stats(const struct vnc_server *s, struct vnc_stats *out)
{
	struct vnc_io_stats io;

	*out = s->stats;
	vnc_io_get_stats(s->io, &io);
	out->clients_refused += io.refused_full;
	out->clients_stalled += io.dropped_message + io.dropped_slow;
}

void vnc_print_stats(const struct vnc_server *s, FILE *out)
{
	const struct vnc_input_stats *in = &s->input.stats;
	struct vnc_stats all, *st = &all;
	struct vnc_io_stats io;

	vnc_get_stats(s, &all);
	vnc_io_get_stats(s->io, &io);

	fprintf(out, "stats: vnc: %s clients=%" PRIu64 " refused=%" PRIu64 " stalled=%" PRIu64
		" updates=%" PRIu64 " rects=%" PRIu64 " bytes=%" PRIu64 " resizes=%" PRIu64 "\n",
		s->listen_addr, st->clients_served, st->clients_refused, st->clients_stalled,
		st->updates_sent, st->rects_sent, st->bytes_sent, st->resizes);
	fprintf(out, "stats: vnc: refreshes=%" PRIu64 " changed=%" PRIu64 " tiles_compared=%"
		PRIu64 " tiles_changed=%" PRIu64 "\n", st->refreshes, st->refreshes_changed,
		s->tracker->stats.tiles_compared, s->tracker->stats.tiles_changed);
	fprintf(out, "stats: vnc: keys=%" PRIu64 " ext_keys=%" PRIu64 " ext_key_acks=%" PRIu64
		" unknown_keysyms=%" PRIu64 " bad_keycodes=%" PRIu64 " stray_releases=%" PRIu64
		" released_on_disconnect=%" PRIu64 " pointer=%" PRIu64 "\n", in->key_events,
		in->ext_key_events, st->ext_key_acks, in->unknown_keysyms, in->bad_keycodes,
		in->stray_releases, in->released_on_disconnect, in->pointer_events);
	fprintf(out, "stats: vnc: io accepted=%" PRIu64 " handed_off=%" PRIu64 " refused_full=%"
		PRIu64 " dropped_hello=%" PRIu64 " dropped_message=%" PRIu64 " dropped_slow=%"
		PRIu64 "\n", io.accepted, io.handed_off, io.refused_full, io.dropped_hello,
		io.dropped_message, io.dropped_slow);
	if (s->auth)
		vnc_auth_print_stats(s->auth, out);
}
