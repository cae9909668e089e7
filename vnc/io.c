/*
 * The VNC I/O thread (see io.h for what it does and why). One connection
 * struct per accepted socket, on one of two lists: `hello` (waiting for the
 * client's ProtocolVersion, oldest first, so the first one's deadline is
 * the next one due) and `live` (handed to libvncserver, at most
 * VNC_MAX_CLIENTS, scanned for deadlines each round). epoll is level
 * triggered; each socket's interest follows what its buffers allow:
 *   client socket: IN while the input buffer has room, OUT while updates wait;
 *   pair end:      IN always (drain at once), OUT while complete messages
 *                  wait for room in the pair.
 *
 * Over 800 lines on purpose: one thread's event loop and every state a
 * connection passes through (hello, live RFB, live WebSocket) share the
 * connection struct and the epoll bookkeeping; the parts that stand alone
 * already live apart (message sizing in gate.c, WebSocket framing in
 * websocket.c).
 */
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/log.h"
#include "stack/stack_sizes.h"
#include "stack/thread.h"
#include "vnc/gate.h"
#include "vnc/vnc.h"
#include "vnc/websocket.h"

#define RFB_VERSION_BYTES 12
/* What libvncserver 0.9.14 announces (rfbProtocolMajorVersion/Minor). */
static const char rfb_server_version[RFB_VERSION_BYTES + 1] = "RFB 003.008\n";

/* epoll events taken per wait; more wait for the next round. */
#define IO_EVENTS 64
/* Connections accepted per readiness of the listening socket: a flood
 * cannot keep the loop from serving the others. */
#define IO_ACCEPT_BATCH 32
/* Read from a pair per readiness, so one busy client cannot starve the
 * rest; level triggering brings the loop back for what is left. */
#define IO_DRAIN_BATCH_BYTES (1u << 20)
#define IO_CHUNK_BYTES (64u * 1024)
/* After EMFILE/ENFILE the listening socket stays readable: pause it. */
#define IO_ACCEPT_PAUSE_MS 100
/* Client bytes buffered before they are forwarded: a whole message of the
 * longest kind plus what a WebSocket frame may add while it waits. */
#define IO_IN_MAX_BYTES (2 * VNC_GATE_MAX_BYTES)
/* A WebSocket client's undecoded bytes: one whole frame of the largest
 * allowed payload (a frame larger than a message is refused). */
#define IO_WS_FRAME_MAX_BYTES VNC_GATE_MAX_BYTES
#define IO_WS_RAW_MAX_BYTES (IO_WS_FRAME_MAX_BYTES + WS_MAX_HEADER_BYTES)
/* Bytes per server frame: a 16-bit length, a 4-byte header. */
#define IO_WS_OUT_FRAME_BYTES 0xffffu

/* Slots for clients handed off but not yet taken by the vnc thread; a
 * closed client's pair may still wait there, hence twice the clients. */
#define IO_MAILBOX_SLOTS (2 * VNC_MAX_CLIENTS)

enum io_watch_kind { WATCH_STOP, WATCH_LISTEN, WATCH_WS_LISTEN, WATCH_SOCK, WATCH_PAIR };

struct io_conn;

/* What an epoll event's data points at. */
struct io_watch {
	enum io_watch_kind kind;
	struct io_conn *conn;
};

/* A byte queue: data[head, head + len) is queued. */
struct io_bytes {
	uint8_t *data;
	size_t head, len, cap;
};

struct io_conn {
	struct io_conn *prev, *next;
	bool live;
	bool ws;                         /* came in on the WebSocket port */
	bool ws_upgraded;                /* its HTTP upgrade is answered */
	bool ws_fragmented;              /* inside a binary message's fragments */
	struct io_bytes raw;             /* WebSocket bytes not yet decoded */
	int sock, pair;                  /* pair: our end, -1 before handoff */
	char addr[VNC_IO_ADDR_BYTES];
	uint64_t deadline_ms;            /* hello, or an incomplete message; 0: none */
	uint32_t sock_events, pair_events;
	struct io_bytes in;              /* client bytes not yet in the pair */
	size_t in_ready;                 /* of those, complete messages */
	struct io_bytes out;             /* libvncserver's bytes for the client */
	size_t skip_out;                 /* of libvncserver's version, still to drop */
	struct vnc_gate gate;
	struct io_watch w_sock, w_pair;
	/* The client closed (or its socket failed): what it sent before is
	 * still owed to libvncserver (a script that types and disconnects
	 * loses no key), then the pair is half-closed and the connection ends
	 * when libvncserver closes its end, or at deadline_ms. */
	bool draining;
	bool sock_dead;                  /* sends fail: updates are dropped, not watched */
	bool pair_shut;                  /* our end's SHUT_WR is done */
	uint64_t drain_deadline_ms;
};

struct io_list {
	struct io_conn *head, *tail;
	unsigned int n;
};

struct io_handoff {
	int fd;
	char addr[VNC_IO_ADDR_BYTES];
};

struct vnc_io {
	int listen_fd, ws_listen_fd, epfd, stop_efd, handoff_efd;
	bool auth;
	struct thread *thread;
	struct io_watch w_stop, w_listen, w_ws_listen;
	uint64_t accept_paused_until_ms;
	struct io_list hello, live;
	pthread_mutex_t lock;            /* the mailbox */
	struct io_handoff mailbox[IO_MAILBOX_SLOTS];
	unsigned int mailbox_n;
	struct vnc_io_stats stats;
	/* The epoll batch being handled: io_close clears later events that
	 * name the connection it frees. */
	struct epoll_event *batch;
	int batch_n;
};

/* ---- byte queues ---- */

/* Makes room for `more` bytes at the tail, keeping the queue at most `max`
 * long. False: it would pass max, or out of memory. */
static bool io_bytes_reserve(struct io_bytes *b, size_t more, size_t max)
{
	size_t need, cap;
	uint8_t *p;

	if (more > max || b->len > max - more)
		return false;
	need = b->len + more;
	if (b->head + need <= b->cap)
		return true;
	if (need <= b->cap) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
		return true;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (b->head) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
	}
	p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

static void io_bytes_consume(struct io_bytes *b, size_t n)
{
	b->head += n;
	b->len -= n;
	if (!b->len)
		b->head = 0;
}

static void io_bytes_free(struct io_bytes *b)
{
	free(b->data);
	*b = (struct io_bytes){ 0 };
}

/* ---- lists ---- */

static void io_list_append(struct io_list *l, struct io_conn *c)
{
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

static void io_list_remove(struct io_list *l, struct io_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->n--;
}

/* ---- sockets ---- */

static void io_format_addr(char *buf, size_t len, const struct sockaddr_storage *ss)
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

int vnc_io_listen(int family, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, ret;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Restart on the same port while old connections are in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* A backlog like libvncserver's (32) would drop SYNs under a connect
	 * flood; accepting is cheap here, so let the kernel queue more. */
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 256) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static void io_watch(struct vnc_io *io, int fd, uint32_t *cur, uint32_t want,
		     struct io_watch *w)
{
	struct epoll_event ev = { .events = want, .data.ptr = w };

	if (*cur == want)
		return;
	if (epoll_ctl(io->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		log_ratelimited(LOG_WARN, "vnc", "epoll_ctl: %s", strerror(errno));
	*cur = want;
}

/* Sets each socket's interest from the state of its buffers. */
static void io_update_interest(struct vnc_io *io, struct io_conn *c)
{
	uint32_t sock = 0;

	if (c->out.len && !c->sock_dead)
		sock |= EPOLLOUT;
	if (!c->live) {
		sock |= EPOLLIN;
	} else if (c->draining) {
		io_watch(io, c->pair, &c->pair_events, EPOLLIN | (c->in_ready ? EPOLLOUT : 0),
			 &c->w_pair);
		if (c->sock_dead)
			return;
	} else {
		if (c->ws ? c->raw.len < IO_WS_RAW_MAX_BYTES : c->in.len < VNC_GATE_MAX_BYTES)
			sock |= EPOLLIN;
		io_watch(io, c->pair, &c->pair_events, EPOLLIN | (c->in_ready ? EPOLLOUT : 0),
			 &c->w_pair);
	}
	io_watch(io, c->sock, &c->sock_events, sock, &c->w_sock);
}

/* Closes c and forgets it; libvncserver sees its end of the pair close. */
static void io_close(struct vnc_io *io, struct io_conn *c)
{
	for (int i = 0; i < io->batch_n; i++)
		if (io->batch[i].data.ptr == &c->w_sock || io->batch[i].data.ptr == &c->w_pair)
			io->batch[i].data.ptr = NULL;
	io_list_remove(c->live ? &io->live : &io->hello, c);
	close(c->sock);
	if (c->pair >= 0)
		close(c->pair);
	io_bytes_free(&c->in);
	io_bytes_free(&c->out);
	io_bytes_free(&c->raw);
	free(c);
}

/* Writes complete messages into the pair, as far as it takes them. */
static bool io_forward(struct vnc_io *io, struct io_conn *c)
{
	ssize_t n;

	(void)io;
	while (c->in_ready) {
		n = send(c->pair, c->in.data + c->in.head, c->in_ready, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		io_bytes_consume(&c->in, (size_t)n);
		c->in_ready -= (size_t)n;
	}
	return true;
}

/* Finds the complete messages in c->in past in_ready. False: refused. */
static bool io_scan_messages(struct vnc_io *io, struct io_conn *c, uint64_t now)
{
	for (;;) {
		size_t have = c->in.len - c->in_ready;
		const uint8_t *m = c->in.data + c->in.head + c->in_ready;
		size_t need;

		if (!have) {
			c->deadline_ms = 0;
			return true;
		}
		need = vnc_gate_message_bytes(c->gate.phase, m, have < VNC_GATE_PEEK_BYTES ? have :
					      VNC_GATE_PEEK_BYTES);
		if (need == 0) {
			io->stats.dropped_message++;
			if (have >= 8 && c->gate.phase == VNC_GATE_NORMAL)
				log_ratelimited(LOG_WARN, "vnc", "client %s dropped: message type %u"
						" refused (unknown, or over %u bytes)", c->addr, m[0],
						VNC_GATE_MAX_BYTES);
			else
				log_ratelimited(LOG_WARN, "vnc", "client %s dropped: message type %u"
						" refused", c->addr, m[0]);
			return false;
		}
		if (need > have) {
			if (!c->deadline_ms)
				c->deadline_ms = now + VNC_MAX_CLIENT_WAIT_MS;
			return true;
		}
		vnc_gate_passed(&c->gate, m);
		c->in_ready += need;
		c->deadline_ms = 0;
	}
}

/* ---- hello ---- */

static void io_accept(struct vnc_io *io, bool ws, uint64_t now)
{
	const int listen_fd = ws ? io->ws_listen_fd : io->listen_fd;
	struct io_watch *w_listen = ws ? &io->w_ws_listen : &io->w_listen;

	for (int i = 0; i < IO_ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		struct epoll_event ev = { .events = EPOLLIN };
		struct io_conn *c;
		int fd, one = 1;

		memset(&peer, 0, sizeof(peer));
		fd = accept4(listen_fd, (struct sockaddr *)&peer, &peer_len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS) {
				log_ratelimited(LOG_WARN, "vnc", "accept: %s; not accepting for"
						" %u ms", strerror(errno), IO_ACCEPT_PAUSE_MS);
				io->accept_paused_until_ms = now + IO_ACCEPT_PAUSE_MS;
				ev.events = 0;
				ev.data.ptr = w_listen;
				epoll_ctl(io->epfd, EPOLL_CTL_MOD, listen_fd, &ev);
			}
			return;   /* EAGAIN: all taken; others: that one is gone */
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		io->stats.accepted++;
		/* Each update goes out as soon as it is queued. libvncserver sets
		 * TCP_NODELAY on the socket it is given, here a socketpair, where it
		 * fails; without it Nagle holds a small update back until the
		 * viewer ACKs the last one: the small-change demo's 60 updates/s
		 * fell to about 40, 16 tight viewers' to 28-47 (make bench). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->ws = ws;
		c->sock = fd;
		c->pair = -1;
		io_format_addr(c->addr, sizeof(c->addr), &peer);
		c->deadline_ms = now + VNC_MAX_CLIENT_WAIT_MS;
		c->w_sock = (struct io_watch){ WATCH_SOCK, c };
		c->w_pair = (struct io_watch){ WATCH_PAIR, c };
		c->sock_events = EPOLLIN;
		ev.data.ptr = &c->w_sock;
		if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_ratelimited(LOG_WARN, "vnc", "epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		if (io->hello.n >= VNC_IO_MAX_HELLO) {
			struct io_conn *old = io->hello.head;
			io->stats.dropped_hello++;
			log_ratelimited(LOG_WARN, "vnc", "client %s dropped: no protocol version yet,"
					" %u newer connections waiting", old->addr, VNC_IO_MAX_HELLO);
			io_close(io, old);
		}
		io_list_append(&io->hello, c);
		/* A fresh socket's send buffer always has room for 12 bytes.
		 * A WebSocket client gets them after its upgrade. */
		if (!ws && send(fd, rfb_server_version, RFB_VERSION_BYTES, MSG_NOSIGNAL) !=
		    RFB_VERSION_BYTES) {
			io_close(io, c);
			continue;
		}
		log_ratelimited(LOG_DEBUG, "vnc", "client %s connecting", c->addr);
	}
}

/* "RFB 003.008\n": 0 and the minor version, or -1. */
static int io_parse_version(const uint8_t *v, unsigned int *minor)
{
	unsigned int major = 0, m = 0;

	if (memcmp(v, "RFB ", 4) != 0 || v[7] != '.' || v[11] != '\n')
		return -1;
	for (int i = 4; i < 7; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		major = major * 10 + (v[i] - '0');
	}
	for (int i = 8; i < 11; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		m = m * 10 + (v[i] - '0');
	}
	/* libvncserver serves 3.x only; 3.889 is Apple's 3.8. */
	if (major != 3)
		return -1;
	*minor = m;
	return 0;
}

/* Tells a client in RFB terms why it is not served (RFC 6143 7.1.2: no
 * security types and a reason; 3.3 clients: security type 0 and the
 * reason), best effort: the socket is about to close. */
static void io_send_refusal(int sock, unsigned int minor, const char *reason)
{
	uint8_t msg[128];
	size_t len = strlen(reason), n = 0;

	if (minor >= 7) {
		msg[n++] = 0;
	} else {
		memset(msg, 0, 4);
		n = 4;
	}
	msg[n++] = (uint8_t)(len >> 24);
	msg[n++] = (uint8_t)(len >> 16);
	msg[n++] = (uint8_t)(len >> 8);
	msg[n++] = (uint8_t)len;
	memcpy(msg + n, reason, len);
	n += len;
	if (send(sock, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* Gone already: nothing to tell. */
	}
}

static bool io_mailbox_put(struct vnc_io *io, int fd, const char *addr)
{
	uint64_t one = 1;
	bool ok = false;

	pthread_mutex_lock(&io->lock);
	if (io->mailbox_n < IO_MAILBOX_SLOTS) {
		struct io_handoff *h = &io->mailbox[io->mailbox_n++];
		h->fd = fd;
		snprintf(h->addr, sizeof(h->addr), "%s", addr);
		ok = true;
	}
	pthread_mutex_unlock(&io->lock);
	if (ok && write(io->handoff_efd, &one, sizeof(one)) < 0) {
		/* Cannot fail below the eventfd's maximum. */
	}
	return ok;
}

/* The client's version is here: make the pair and hand libvncserver its end. */
static void io_hand_off(struct vnc_io *io, struct io_conn *c, unsigned int minor)
{
	int sv[2], size = VNC_IO_PAIR_BUFFER_BYTES;
	struct epoll_event ev = { .events = EPOLLIN };

	if (io->live.n >= VNC_MAX_CLIENTS) {
		io->stats.refused_full++;
		log_ratelimited(LOG_WARN, "vnc", "client %s refused: %u clients connected already",
				c->addr, io->live.n);
		io_send_refusal(c->sock, minor, "too many clients");
		io_close(io, c);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: socketpair: %s", c->addr,
				strerror(errno));
		io_close(io, c);
		return;
	}
	/* libvncserver keeps its sockets in an fd_set. */
	if (sv[1] >= FD_SETSIZE) {
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: descriptor %d is over"
				" libvncserver's limit %d", c->addr, sv[1], FD_SETSIZE);
		close(sv[0]);
		close(sv[1]);
		io_close(io, c);
		return;
	}
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	ev.data.ptr = &c->w_pair;
	if (send(sv[0], c->in.data + c->in.head, RFB_VERSION_BYTES, MSG_NOSIGNAL) !=
	    RFB_VERSION_BYTES || epoll_ctl(io->epfd, EPOLL_CTL_ADD, sv[0], &ev) < 0) {
		close(sv[0]);
		close(sv[1]);
		io_close(io, c);
		return;
	}
	if (!io_mailbox_put(io, sv[1], c->addr)) {
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: the vnc thread is behind",
				c->addr);
		close(sv[1]);
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, sv[0], NULL);
		close(sv[0]);
		io_close(io, c);
		return;
	}
	io_bytes_consume(&c->in, RFB_VERSION_BYTES);
	io_list_remove(&io->hello, c);
	c->live = true;
	io_list_append(&io->live, c);
	c->pair = sv[0];
	c->pair_events = EPOLLIN;
	c->skip_out = RFB_VERSION_BYTES;
	c->deadline_ms = 0;
	vnc_gate_start(&c->gate, minor, io->auth);
	io->stats.handed_off++;
	/* A WebSocket client's frame may have carried more than the version. */
	if (!io_scan_messages(io, c, log_now_ms()) || !io_forward(io, c)) {
		io_close(io, c);
		return;
	}
	io_update_interest(io, c);
}

/* Sends queued updates as far as the client takes them. False: gone. */
static bool io_send_out(struct io_conn *c)
{
	while (c->out.len && !c->sock_dead) {
		ssize_t n = send(c->sock, c->out.data + c->out.head, c->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			if (!c->draining)
				return false;
			c->sock_dead = true;   /* nobody reads: libvncserver may finish */
		} else {
			io_bytes_consume(&c->out, (size_t)n);
		}
	}
	if (c->sock_dead)
		io_bytes_consume(&c->out, c->out.len);
	return true;
}

/* Reads what c sent into b (at most `max` queued); 1: read some, 0: nothing
 * now, -1: closed or failed. */
static int io_read(struct io_conn *c, struct io_bytes *b, size_t max)
{
	size_t room = max - b->len;
	ssize_t n;

	if (room > IO_CHUNK_BYTES)
		room = IO_CHUNK_BYTES;
	if (!room)
		return 0;
	if (!io_bytes_reserve(b, room, max))
		return -1;
	n = recv(c->sock, b->data + b->head + b->len, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	b->len += (size_t)n;
	return 1;
}

/* Queues a server frame for c (pongs, close). False: no room. */
static bool io_ws_queue(struct io_conn *c, enum ws_opcode op, const uint8_t *p, size_t n)
{
	uint8_t hdr[WS_MAX_HEADER_BYTES];
	size_t h = ws_frame_header(hdr, op, n);

	if (!io_bytes_reserve(&c->out, h + n, VNC_IO_QUEUE_MAX_BYTES))
		return false;
	memcpy(c->out.data + c->out.head + c->out.len, hdr, h);
	memcpy(c->out.data + c->out.head + c->out.len + h, p, n);
	c->out.len += h + n;
	return true;
}

/* Decodes c's complete WebSocket frames into c->in as far as it has room.
 * False: close c (logged where the client did wrong). */
static bool io_ws_decode(struct vnc_io *io, struct io_conn *c)
{
	/* Before its handoff a client sends its version and nothing else (it
	 * waits for the server's security types): a connection that has not
	 * shown it speaks RFB holds a few bytes, not megabytes. */
	const size_t in_max = c->live ? IO_IN_MAX_BYTES : 4 * RFB_VERSION_BYTES;

	for (;;) {
		uint8_t *b = c->raw.data + c->raw.head;
		struct ws_frame f;
		size_t total;
		int r = ws_parse_frame_header(b, c->raw.len, IO_WS_FRAME_MAX_BYTES, &f);

		if (r == -EAGAIN)
			return true;
		if (r < 0) {
			io->stats.dropped_message++;
			log_ratelimited(LOG_WARN, "vnc", "client %s dropped: %s WebSocket frame",
					c->addr, r == -E2BIG ? "an oversize" : "a malformed");
			return false;
		}
		total = f.header_bytes + (size_t)f.payload_bytes;
		if (c->raw.len < total)
			return true;
		switch (f.opcode) {
		case WS_OP_CONTINUATION:
		case WS_OP_BINARY:
			if ((f.opcode == WS_OP_CONTINUATION) != c->ws_fragmented) {
				log_ratelimited(LOG_WARN, "vnc", "client %s dropped: WebSocket"
						" fragments out of order", c->addr);
				return false;
			}
			if (c->in.len + f.payload_bytes > in_max)
				return true;   /* wait until the pair takes more */
			if (!io_bytes_reserve(&c->in, (size_t)f.payload_bytes, in_max))
				return false;
			memcpy(c->in.data + c->in.head + c->in.len, b + f.header_bytes,
			       (size_t)f.payload_bytes);
			ws_unmask(c->in.data + c->in.head + c->in.len, (size_t)f.payload_bytes,
				  f.mask, 0);
			c->in.len += (size_t)f.payload_bytes;
			c->ws_fragmented = !f.fin;
			break;
		case WS_OP_TEXT:
			log_ratelimited(LOG_WARN, "vnc", "client %s dropped: WebSocket text frames"
					" (only binary RFB is served)", c->addr);
			return false;
		case WS_OP_PING:
			ws_unmask(b + f.header_bytes, (size_t)f.payload_bytes, f.mask, 0);
			if (!io_ws_queue(c, WS_OP_PONG, b + f.header_bytes, (size_t)f.payload_bytes))
				return false;
			break;
		case WS_OP_PONG:
			break;
		case WS_OP_CLOSE: {
			/* Answer it (best effort, the connection ends now). */
			uint8_t hdr[2];
			size_t h = ws_frame_header(hdr, WS_OP_CLOSE, 0);
			if (io_send_out(c))
				send(c->sock, hdr, h, MSG_NOSIGNAL | MSG_DONTWAIT);
			return false;
		}
		}
		io_bytes_consume(&c->raw, total);
	}
}

/* A WebSocket client before its handoff: the upgrade, then frames until
 * the RFB version is in c->in. */
static bool io_ws_hello(struct vnc_io *io, struct io_conn *c)
{
	/* The upgrade request, then a frame with the version: a few KiB. */
	if (io_read(c, &c->raw, WS_MAX_REQUEST_BYTES) < 0)
		return false;
	if (!c->ws_upgraded) {
		char resp[WS_MAX_RESPONSE_BYTES];
		uint8_t version[2 + RFB_VERSION_BYTES];
		size_t req_bytes = 0;
		int n = ws_answer_upgrade((const char *)c->raw.data + c->raw.head, c->raw.len, resp,
					  &req_bytes);
		if (n == -EAGAIN)
			return true;
		if (n < 0) {
			io->stats.dropped_hello++;
			log_ratelimited(LOG_WARN, "vnc", "client %s dropped: not a WebSocket"
					" upgrade request", c->addr);
			return false;
		}
		io_bytes_consume(&c->raw, req_bytes);
		ws_frame_header(version, WS_OP_BINARY, RFB_VERSION_BYTES);
		memcpy(version + 2, rfb_server_version, RFB_VERSION_BYTES);
		/* A fresh socket takes a few hundred bytes at once. */
		if (send(c->sock, resp, (size_t)n, MSG_NOSIGNAL) != n ||
		    send(c->sock, version, sizeof(version), MSG_NOSIGNAL) != (ssize_t)sizeof(version))
			return false;
		c->ws_upgraded = true;
	}
	if (!io_ws_decode(io, c))
		return false;
	if (c->raw.len >= WS_MAX_REQUEST_BYTES && c->in.len < RFB_VERSION_BYTES) {
		/* Full, and still no version: it will not come (and the socket
		 * would stay readable for nothing). */
		io->stats.dropped_hello++;
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: %u bytes of WebSocket frames"
				" without a protocol version", c->addr, WS_MAX_REQUEST_BYTES);
		return false;
	}
	return true;
}

static void io_hello_readable(struct vnc_io *io, struct io_conn *c)
{
	unsigned int minor;
	ssize_t n;

	if (c->ws) {
		if (!io_ws_hello(io, c)) {
			io_close(io, c);
			return;
		}
		io_update_interest(io, c);
		if (c->in.len < RFB_VERSION_BYTES)
			return;
	} else {
		if (!io_bytes_reserve(&c->in, RFB_VERSION_BYTES, RFB_VERSION_BYTES)) {
			io_close(io, c);
			return;
		}
		/* Only the version: what follows is read once the client is live. */
		n = recv(c->sock, c->in.data + c->in.head + c->in.len,
			 RFB_VERSION_BYTES - c->in.len, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			log_ratelimited(LOG_DEBUG, "vnc", "client %s closed before its version",
					c->addr);
			io_close(io, c);
			return;
		}
		c->in.len += (size_t)n;
		if (c->in.len < RFB_VERSION_BYTES)
			return;
	}
	if (io_parse_version(c->in.data + c->in.head, &minor) < 0) {
		io->stats.dropped_hello++;
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: not an RFB %s", c->addr,
				memcmp(c->in.data + c->in.head, "GET ", 4) == 0 ?
				"client (an HTTP request: WebSocket clients use the websocket= port)" :
				"3.x protocol version");
		io_close(io, c);
		return;
	}
	io_hand_off(io, c, minor);
}

/* ---- live clients ---- */

/* A draining client's socket failed (reset, or hung up for good): its
 * updates go nowhere, and epoll must not report it again and again. */
static void io_sock_gone(struct vnc_io *io, struct io_conn *c)
{
	if (c->sock_dead)
		return;
	c->sock_dead = true;
	io_bytes_consume(&c->out, c->out.len);
	epoll_ctl(io->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	c->sock_events = 0;
}

/* Forwards what a draining client completed before it left; once all of
 * it is in the pair, half-closes our end: libvncserver reads those
 * messages, then its end reads EOF and it closes the client (an unfinished
 * last message is dropped). False: close c now. */
static bool io_drain(struct vnc_io *io, struct io_conn *c, uint64_t now)
{
	if ((c->ws && !io_ws_decode(io, c)) || !io_scan_messages(io, c, now) ||
	    !io_forward(io, c))
		return false;
	if (!c->in_ready && !c->pair_shut) {
		c->pair_shut = true;
		if (shutdown(c->pair, SHUT_WR) < 0)
			return false;
	}
	io_update_interest(io, c);
	return true;
}


static void io_sock_readable(struct vnc_io *io, struct io_conn *c, uint32_t ev, uint64_t now)
{
	int r = c->ws ? io_read(c, &c->raw, IO_WS_RAW_MAX_BYTES) :
		io_read(c, &c->in, VNC_GATE_MAX_BYTES);

	/* Gone (libvncserver logs the disconnect), or reported whatever the
	 * interest: gone while its input waits for room. What it sent before
	 * still reaches libvncserver. */
	if (r < 0 || (r == 0 && (ev & (EPOLLHUP | EPOLLERR)) &&
		      (c->ws ? c->raw.len >= IO_WS_RAW_MAX_BYTES : c->in.len >= VNC_GATE_MAX_BYTES))) {
		c->draining = true;
		c->drain_deadline_ms = now + VNC_MAX_CLIENT_WAIT_MS;
		if (ev & (EPOLLHUP | EPOLLERR))
			io_sock_gone(io, c);
		if (!io_drain(io, c, now))
			io_close(io, c);
		return;
	}
	if ((c->ws && !io_ws_decode(io, c)) || !io_scan_messages(io, c, now) ||
	    !io_forward(io, c)) {
		io_close(io, c);
		return;
	}
	io_update_interest(io, c);
}

static void io_pair_readable(struct vnc_io *io, struct io_conn *c)
{
	size_t total = 0;
	bool closed = false;

	while (total < IO_DRAIN_BATCH_BYTES) {
		/* WebSocket: room for a frame header in front of the bytes. */
		const size_t hdr = c->ws ? 4 : 0;
		uint8_t *dst;
		ssize_t n;

		if (!io_bytes_reserve(&c->out, IO_CHUNK_BYTES + hdr, VNC_IO_QUEUE_MAX_BYTES)) {
			io->stats.dropped_slow++;
			log_ratelimited(LOG_WARN, "vnc", "client %s dropped: %zu bytes of updates"
					" unread", c->addr, c->out.len);
			io_close(io, c);
			return;
		}
		dst = c->out.data + c->out.head + c->out.len;
		n = recv(c->pair, dst + hdr, c->ws ? IO_WS_OUT_FRAME_BYTES : IO_CHUNK_BYTES, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			closed = true;
			break;
		}
		total += (size_t)n;
		if (c->skip_out) {
			/* libvncserver's first bytes, its version: ours went out
			 * at the start. */
			size_t skip = c->skip_out < (size_t)n ? c->skip_out : (size_t)n;
			memmove(dst + hdr, dst + hdr + skip, (size_t)n - skip);
			n -= (ssize_t)skip;
			c->skip_out -= skip;
			if (!n)
				continue;
		}
		if (c->ws) {
			uint8_t h[WS_MAX_HEADER_BYTES];
			size_t hl = ws_frame_header(h, WS_OP_BINARY, (uint64_t)n);
			if (hl < hdr)
				memmove(dst + hl, dst + hdr, (size_t)n);
			memcpy(dst, h, hl);
			c->out.len += hl;
		}
		c->out.len += (size_t)n;
	}
	if (!io_send_out(c) || closed) {
		/* libvncserver closed the client: what it said last (a refusal
		 * reason) goes out if the socket takes it now. */
		io_close(io, c);
		return;
	}
	io_update_interest(io, c);
}

static void io_event(struct vnc_io *io, struct io_watch *w, uint32_t ev, uint64_t now)
{
	struct io_conn *c = w->conn;

	if (w->kind == WATCH_SOCK && !c->live) {
		if ((ev & EPOLLOUT) && !io_send_out(c)) {
			io_close(io, c);
			return;
		}
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			io_hello_readable(io, c);
		else
			io_update_interest(io, c);
		return;
	}
	if (w->kind == WATCH_PAIR) {
		if ((ev & EPOLLOUT) && c->draining) {
			if (!io_drain(io, c, now)) {
				io_close(io, c);
				return;
			}
		} else if (ev & EPOLLOUT) {
			/* Room in the pair: frames that waited for it, too. */
			if (!io_forward(io, c) || (c->ws && (!io_ws_decode(io, c) ||
			    !io_scan_messages(io, c, now) || !io_forward(io, c)))) {
				io_close(io, c);
				return;
			}
			io_update_interest(io, c);
		}
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			io_pair_readable(io, c);
		return;
	}
	if (c->draining) {
		/* Only its updates are owed now, while it reads them. */
		if (ev & (EPOLLHUP | EPOLLERR))
			io_sock_gone(io, c);
		else if (ev & EPOLLOUT)
			io_send_out(c);
		io_update_interest(io, c);
		return;
	}
	if (ev & EPOLLOUT) {
		if (!io_send_out(c)) {
			io_close(io, c);
			return;
		}
		io_update_interest(io, c);
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		io_sock_readable(io, c, ev, now);
}

/* Closes connections past their deadline; returns ms to the next one (-1:
 * none). */
static int io_deadlines(struct vnc_io *io, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	while (io->hello.head && io->hello.head->deadline_ms <= now) {
		io->stats.dropped_hello++;
		log_ratelimited(LOG_WARN, "vnc", "client %s dropped: no protocol version in %u ms",
				io->hello.head->addr, VNC_MAX_CLIENT_WAIT_MS);
		io_close(io, io->hello.head);
	}
	if (io->hello.head)
		next = io->hello.head->deadline_ms;
	for (struct io_conn *c = io->live.head, *nx; c; c = nx) {
		nx = c->next;
		if (c->draining) {
			/* libvncserver did not finish a departed client's messages. */
			if (c->drain_deadline_ms <= now) {
				log_ratelimited(LOG_DEBUG, "vnc", "client %s: closed after %u ms"
						" of draining", c->addr, VNC_MAX_CLIENT_WAIT_MS);
				io_close(io, c);
			} else if (c->drain_deadline_ms < next) {
				next = c->drain_deadline_ms;
			}
			continue;
		}
		if (!c->deadline_ms)
			continue;
		if (c->deadline_ms <= now) {
			io->stats.dropped_message++;
			log_ratelimited(LOG_WARN, "vnc", "client %s dropped: %zu bytes of a message"
					" for %u ms", c->addr, c->in.len - c->in_ready,
					VNC_MAX_CLIENT_WAIT_MS);
			io_close(io, c);
		} else if (c->deadline_ms < next) {
			next = c->deadline_ms;
		}
	}
	if (io->accept_paused_until_ms) {
		if (io->accept_paused_until_ms <= now) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &io->w_listen };
			io->accept_paused_until_ms = 0;
			epoll_ctl(io->epfd, EPOLL_CTL_MOD, io->listen_fd, &ev);
			if (io->ws_listen_fd >= 0) {
				ev.data.ptr = &io->w_ws_listen;
				epoll_ctl(io->epfd, EPOLL_CTL_MOD, io->ws_listen_fd, &ev);
			}
		} else if (io->accept_paused_until_ms < next) {
			next = io->accept_paused_until_ms;
		}
	}
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

static void *io_thread_main(void *arg)
{
	struct vnc_io *io = arg;
	struct epoll_event evs[IO_EVENTS];

	for (;;) {
		int timeout = io_deadlines(io, log_now_ms());
		int n = epoll_wait(io->epfd, evs, IO_EVENTS, timeout);
		uint64_t now = log_now_ms();

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("vnc", "epoll_wait failed: %s; no longer serving clients",
				  strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			if (evs[i].data.ptr == &io->w_stop)
				return NULL;
		io->batch = evs;
		io->batch_n = n;
		for (int i = 0; i < n; i++) {
			struct io_watch *w = evs[i].data.ptr;
			if (!w)
				continue;   /* its connection was closed meanwhile */
			if (w->kind == WATCH_LISTEN || w->kind == WATCH_WS_LISTEN)
				io_accept(io, w->kind == WATCH_WS_LISTEN, now);
			else
				io_event(io, w, evs[i].events, now);
		}
		io->batch_n = 0;
	}
	return NULL;
}

/* ---- lifecycle ---- */

int vnc_io_create(struct vnc_io **out, int listen_fd, int ws_listen_fd, bool auth)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct vnc_io *io;
	int ret;

	*out = NULL;
	io = calloc(1, sizeof(*io));
	if (!io) {
		close(listen_fd);
		if (ws_listen_fd >= 0)
			close(ws_listen_fd);
		return -ENOMEM;
	}
	io->listen_fd = listen_fd;
	io->ws_listen_fd = ws_listen_fd;
	io->auth = auth;
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	io->handoff_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&io->lock, NULL);
	io->w_stop = (struct io_watch){ WATCH_STOP, NULL };
	io->w_listen = (struct io_watch){ WATCH_LISTEN, NULL };
	io->w_ws_listen = (struct io_watch){ WATCH_WS_LISTEN, NULL };
	if (io->epfd < 0 || io->stop_efd < 0 || io->handoff_efd < 0)
		goto fail;
	ev.data.ptr = &io->w_stop;
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->stop_efd, &ev) < 0)
		goto fail;
	ev.data.ptr = &io->w_listen;
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->listen_fd, &ev) < 0)
		goto fail;
	ev.data.ptr = &io->w_ws_listen;
	if (io->ws_listen_fd >= 0 && epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->ws_listen_fd, &ev) < 0)
		goto fail;
	*out = io;
	return 0;
fail:
	ret = -errno;
	vnc_io_destroy(io);
	return ret ? ret : -EIO;
}

void vnc_io_set_auth(struct vnc_io *io, bool auth)
{
	io->auth = auth;
}

int vnc_io_start(struct vnc_io *io)
{
	return thread_start(&io->thread, "vnc-io", STACK_VNC_IO_BYTES, io_thread_main, io);
}

void vnc_io_stop(struct vnc_io *io)
{
	uint64_t one = 1;

	if (!io || !io->thread)
		return;
	if (write(io->stop_efd, &one, sizeof(one)) < 0) {
		/* Cannot fail below the eventfd's maximum. */
	}
	thread_join(io->thread, NULL);
	io->thread = NULL;
	while (io->hello.head)
		io_close(io, io->hello.head);
	while (io->live.head)
		io_close(io, io->live.head);
}

void vnc_io_destroy(struct vnc_io *io)
{
	int fd;
	char addr[VNC_IO_ADDR_BYTES];

	if (!io)
		return;
	vnc_io_stop(io);
	while (vnc_io_take(io, &fd, addr, sizeof(addr)))
		close(fd);
	if (io->listen_fd >= 0)
		close(io->listen_fd);
	if (io->ws_listen_fd >= 0)
		close(io->ws_listen_fd);
	if (io->epfd >= 0)
		close(io->epfd);
	if (io->stop_efd >= 0)
		close(io->stop_efd);
	if (io->handoff_efd >= 0)
		close(io->handoff_efd);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

int vnc_io_handoff_fd(const struct vnc_io *io)
{
	return io->handoff_efd;
}

bool vnc_io_take(struct vnc_io *io, int *fd, char *addr, size_t addr_len)
{
	uint64_t count;
	bool got = false;

	pthread_mutex_lock(&io->lock);
	if (io->mailbox_n) {
		*fd = io->mailbox[0].fd;
		snprintf(addr, addr_len, "%s", io->mailbox[0].addr);
		memmove(&io->mailbox[0], &io->mailbox[1],
			--io->mailbox_n * sizeof(io->mailbox[0]));
		got = true;
	} else if (read(io->handoff_efd, &count, sizeof(count)) < 0) {
		/* Nothing to reset: EAGAIN. */
	}
	pthread_mutex_unlock(&io->lock);
	return got;
}

void vnc_io_get_stats(const struct vnc_io *io, struct vnc_io_stats *out)
{
	*out = io->stats;
}
