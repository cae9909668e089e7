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
 *  - it listens on IPv6 "any" unless ipv6port is 0 or listen6Interface set,
 *    and rfbInitServer reports nothing: listenSock/listen6Sock say;
 *  - kbdReleaseAllKeys is never called: held keys are released in the
 *    clientGoneHook;
 *  - pointer coordinates are not clamped (vnc/input.c clamps).
 */
#include "vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <rfb/rfb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
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
#include "vnc/rfblog.h"
#include "display/schedule.h"

/* Rectangles one refresh may report; the tracker merges beyond this. Each
 * becomes a rectangle of the update (libvncserver's own cap is 50). */
#define VNC_MAX_RECTS 48

/* "[" + IPv6 address + "]:" + port + NUL. */
#define VNC_ADDR_BYTES (INET6_ADDRSTRLEN + 8)

/* Server pixel format: the shadow's XRGB8888 read as a little-endian word. */
#define VNC_RED_SHIFT   16
#define VNC_GREEN_SHIFT 8
#define VNC_BLUE_SHIFT  0

/* stop eventfd, the share's activity eventfd, IPv4 and IPv6 listening
 * sockets, clients. */
#define VNC_POLL_FDS (4 + VNC_MAX_CLIENTS)

/* How often a client whose message is only partly here is looked at again
 * (it cannot be polled for "more data": its socket stays readable). */
#define VNC_GATE_RECHECK_MS 5

struct vnc_client {
	char addr[VNC_ADDR_BYTES];
	struct vnc_backoff_addr peer;  /* its address, as auth back-off keys it */
	struct vnc_input_client input;
	uint64_t incomplete_since_ms;  /* its next message is partly here; 0: not */
	bool held;                     /* on hold for this rfbProcessEvents */
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
	int stop_efd;
	char host[INET6_ADDRSTRLEN];   /* listen6Interface points here */
	char listen_addr[VNC_ADDR_BYTES];
	unsigned int clients;          /* connected (any protocol state) */
	bool client_arrived;           /* the first client came: refresh everything */
	struct vnc_stats stats;
	struct fb_rect rects[VNC_MAX_RECTS];
};

static struct vnc_client *vnc_client_of(rfbClientPtr cl)
{
	return cl->clientData;
}

static void vnc_format_addr(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
	} else {
		snprintf(buf, len, "unknown");
	}
}

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

/* libvncserver writes in blocking 5 s select() steps; with this the kernel
 * aborts a connection whose data stays unacknowledged (a zero window
 * included: a client that stopped reading) for VNC_MAX_CLIENT_WAIT_MS, and
 * the blocked write fails at once. */
static void vnc_limit_unacked_time(int sock)
{
	unsigned int ms = VNC_MAX_CLIENT_WAIT_MS;

	if (setsockopt(sock, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)) < 0)
		log_ratelimited(LOG_WARN, "vnc", "TCP_USER_TIMEOUT: %s", strerror(errno));
}

static enum rfbNewClientAction vnc_on_new_client(rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	struct vnc_client *c;

	if (s->clients >= VNC_MAX_CLIENTS) {
		s->stats.clients_refused++;
		log_ratelimited(LOG_WARN, "vnc", "client %s refused: %u clients connected already",
				cl->host, s->clients);
		return RFB_CLIENT_REFUSE;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		s->stats.clients_refused++;
		log_ratelimited(LOG_WARN, "vnc", "client %s refused: out of memory", cl->host);
		return RFB_CLIENT_REFUSE;
	}
	vnc_limit_unacked_time(cl->sock);
	memset(&peer, 0, sizeof(peer));
	if (getpeername(cl->sock, (struct sockaddr *)&peer, &peer_len) == 0)
		vnc_format_addr(c->addr, sizeof(c->addr), &peer);
	else
		snprintf(c->addr, sizeof(c->addr), "%s", cl->host);
	/* From the address as logged: the same key however the socket came. */
	vnc_backoff_addr_from_text(&c->peer, c->addr);
	if (s->auth && !vnc_auth_admit(s->auth, &c->peer, c->addr, log_now_ms())) {
		free(c);
		return RFB_CLIENT_REFUSE;
	}
	vnc_input_client_init(&c->input);
	cl->clientData = c;
	cl->clientGoneHook = vnc_on_client_gone;
	if (s->clients++ == 0)
		s->client_arrived = true;
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
	/* A control client waits for the screen: no backing off meanwhile. */
	if (s->share && display_share_fast_wanted(s->share))
		refresh_schedule_activity(&s->schedule, log_now_ms());
}

/* ---- complete messages only (vnc/gate.h) ---- */

static bool vnc_gate_phase_of(rfbClientPtr cl, enum vnc_gate_phase *phase)
{
	switch (cl->state) {
	case RFB_PROTOCOL_VERSION: *phase = VNC_GATE_VERSION; return true;
	case RFB_SECURITY_TYPE: *phase = VNC_GATE_SECURITY; return true;
	case RFB_AUTHENTICATION: *phase = VNC_GATE_AUTH; return true;
	case RFB_INITIALISATION: *phase = VNC_GATE_INIT; return true;
	case RFB_NORMAL: *phase = VNC_GATE_NORMAL; return true;
	default: return false;   /* reads nothing (implicit ClientInit) or closing */
	}
}

/* True when cl has part of a message waiting but not all of it: libvncserver
 * must not start reading it yet. Drops the client once it has kept us
 * waiting VNC_MAX_CLIENT_WAIT_MS. WebSocket and TLS clients are framed or
 * encrypted: the gate cannot size their messages and passes them through. */
static bool vnc_gate_must_wait(struct vnc_server *s, rfbClientPtr cl, struct vnc_client *c,
			       uint64_t now)
{
	uint8_t buf[VNC_GATE_PEEK_BYTES];
	struct pollfd hup = { .fd = cl->sock, .events = POLLRDHUP };
	enum vnc_gate_phase phase;
	int avail = 0;
	size_t need;
	ssize_t n;

	if (cl->sock < 0 || cl->wsctx || cl->sslctx || !vnc_gate_phase_of(cl, &phase) ||
	    ioctl(cl->sock, FIONREAD, &avail) < 0 || avail <= 0)
		goto complete;
	n = recv(cl->sock, buf, (size_t)avail < sizeof(buf) ? (size_t)avail : sizeof(buf),
		 MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0)
		goto complete;
	need = vnc_gate_message_bytes(phase, buf, (size_t)n);
	if (need == 0 || (size_t)avail >= need)
		goto complete;
	/* The rest will never come: libvncserver reads the end at once. */
	if (poll(&hup, 1, 0) > 0 && (hup.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		goto complete;
	if (!c->incomplete_since_ms) {
		c->incomplete_since_ms = now;
	} else if (now - c->incomplete_since_ms >= VNC_MAX_CLIENT_WAIT_MS) {
		s->stats.clients_stalled++;
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: %d of %zu bytes of a message"
				" for %u ms", c->addr, avail, need, VNC_MAX_CLIENT_WAIT_MS);
		rfbCloseClient(cl);
		goto complete;
	}
	return true;
complete:
	c->incomplete_since_ms = 0;
	return false;
}

static void vnc_gate_hold(struct vnc_server *s)
{
	uint64_t now = log_now_ms();

	for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
		struct vnc_client *c = vnc_client_of(cl);
		if (c && vnc_gate_must_wait(s, cl, c, now)) {
			c->held = true;
			cl->onHold = TRUE;
		}
	}
}

static void vnc_gate_release(struct vnc_server *s)
{
	for (rfbClientPtr cl = s->screen->clientHead; cl; cl = cl->next) {
		struct vnc_client *c = vnc_client_of(cl);
		if (c && c->held) {
			c->held = false;
			cl->onHold = FALSE;
		}
	}
}

/* ---- the thread ---- */

/* Fills fds; *waiting says a client's message is incomplete (look again in
 * VNC_GATE_RECHECK_MS: its socket is left out, it would stay readable). */
static nfds_t vnc_poll_set(struct vnc_server *s, struct pollfd *fds, bool *waiting)
{
	nfds_t n = 0;

	*waiting = false;
	fds[n++] = (struct pollfd){ .fd = s->stop_efd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = s->share ? display_share_activity_fd(s->share) : -1,
				    .events = POLLIN };
	if (s->screen->listenSock >= 0)
		fds[n++] = (struct pollfd){ .fd = s->screen->listenSock, .events = POLLIN };
	if (s->screen->listen6Sock >= 0)
		fds[n++] = (struct pollfd){ .fd = s->screen->listen6Sock, .events = POLLIN };
	for (rfbClientPtr cl = s->screen->clientHead; cl && n < VNC_POLL_FDS; cl = cl->next) {
		const struct vnc_client *c = vnc_client_of(cl);
		if (cl->sock < 0)
			continue;
		if (c && c->incomplete_since_ms)
			*waiting = true;
		else
			fds[n++] = (struct pollfd){ .fd = cl->sock, .events = POLLIN };
	}
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
		bool waiting;
		nfds_t n = vnc_poll_set(s, fds, &waiting);

		if (waiting && (timeout < 0 || timeout > VNC_GATE_RECHECK_MS))
			timeout = VNC_GATE_RECHECK_MS;
		if (poll(fds, n, timeout) < 0 && errno != EINTR) {
			log_error("vnc", "poll failed: %s; no longer serving clients",
				  strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents && display_share_take_activity(s->share))
			refresh_schedule_activity(&s->schedule, log_now_ms());
		if (watched && refresh_schedule_wait_ms(&s->schedule, log_now_ms()) == 0)
			vnc_refresh(s);
		vnc_gate_hold(s);
		rfbProcessEvents(s->screen, 0);
		vnc_gate_release(s);
		if (s->client_arrived) {
			/* Nothing was refreshed while nobody watched. */
			s->client_arrived = false;
			tracker_invalidate(s->tracker);
			refresh_schedule_reset(&s->schedule, log_now_ms());
		}
	}
	return NULL;
}

/* Disconnects every client (releasing what they held) and closes the
 * listening sockets, on the thread that owns the screen. */
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

/* Why [host]:port could not be bound: libvncserver only logs it. */
static int vnc_bind_error(int family, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, ret = 0;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, host, &a->sin_addr);
		len = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The same options libvncserver sets, so the answer is the same. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0)
		ret = -errno;
	close(fd);
	return ret ? ret : -EIO;
}

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
	bool listening;

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
	if (family == AF_INET) {
		s->screen->port = cfg->port;
		s->screen->listenInterface = addr4.s_addr;
		s->screen->ipv6port = 0;
	} else {
		s->screen->port = 0;
		s->screen->ipv6port = cfg->port;
		s->screen->listen6Interface = s->host;
	}
	vnc_rfblog_set_quiet(true);
	rfbInitServer(s->screen);
	vnc_rfblog_set_quiet(false);
	listening = family == AF_INET ? s->screen->listenSock >= 0 : s->screen->listen6Sock >= 0;
	if (!listening) {
		ret = vnc_bind_error(family, cfg->host, cfg->port);
		snprintf(err, err_len, "--vnc %s: cannot listen: %s", s->listen_addr, strerror(-ret));
		rfbShutdownServer(s->screen, FALSE);
		rfbScreenCleanup(s->screen);
		vnc_auth_destroy(s->auth);
		close(s->stop_efd);
		free(s);
		return ret;
	}
	/* libvncserver's sockets are inherited by nothing we start, but say so. */
	if (s->screen->listenSock >= 0)
		fcntl(s->screen->listenSock, F_SETFD, FD_CLOEXEC);
	if (s->screen->listen6Sock >= 0)
		fcntl(s->screen->listen6Sock, F_SETFD, FD_CLOEXEC);
	if (vnc_is_loopback(family, family == AF_INET ? (const void *)&addr4 : (const void *)&addr6))
		log_info("vnc", "listening on %s (this host only)", s->listen_addr);
	else
		log_info("vnc", "listening on %s: reachable from other hosts%s", s->listen_addr,
			 s->auth ? ", VNC password required" : "");
	if (!s->auth && !vnc_is_loopback(family, family == AF_INET ? (const void *)&addr4 :
					 (const void *)&addr6))
		log_warn("vnc", "no password (--vnc-insecure): anyone who reaches %s controls"
			 " the guest's keyboard and mouse", s->listen_addr);
	*out = s;
	return 0;
}

int vnc_start(struct vnc_server *s)
{
	return thread_start(&s->thread, "vnc", STACK_VNC_BYTES, vnc_thread_main, s);
}

void vnc_stop(struct vnc_server *s)
{
	uint64_t one = 1;

	if (!s || !s->screen)
		return;
	if (s->thread) {
		if (write(s->stop_efd, &one, sizeof(one)) < 0) {
			/* Cannot fail for an eventfd below its maximum. */
		}
		thread_join(s->thread, NULL);
		s->thread = NULL;
	}
	vnc_shutdown(s);
	rfbScreenCleanup(s->screen);
	s->screen = NULL;
}

void vnc_destroy(struct vnc_server *s)
{
	if (!s)
		return;
	vnc_stop(s);
	vnc_auth_destroy(s->auth);
	close(s->stop_efd);
	free(s);
}

const char *vnc_listen_address(const struct vnc_server *s)
{
	return s->listen_addr;
}

void vnc_get_stats(const struct vnc_server *s, struct vnc_stats *out)
{
	*out = s->stats;
}

void vnc_print_stats(const struct vnc_server *s, FILE *out)
{
	const struct vnc_stats *st = &s->stats;
	const struct vnc_input_stats *in = &s->input.stats;

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
	if (s->auth)
		vnc_auth_print_stats(s->auth, out);
}
