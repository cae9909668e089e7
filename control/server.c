/*
 * The control socket server (see server.h for the threading model and
 * protocol.h for the wire format).
 *
 * Per client: an input buffer of one line (CONTROL_LINE_MAX_BYTES plus the
 * newline), and an output queue bounded by CONTROL_OUT_MAX_BYTES. Commands
 * of one client run in order, one at a time: a command that takes time
 * (send-key, type, wait-screen, a screendump waiting for a refresh) leaves
 * the client "waiting", its next lines stay unread in its buffer until the
 * reply is queued. Other clients are served meanwhile.
 */
#include "control/server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/keys.h"
#include "control/png.h"
#include "control/protocol.h"
#include "devices/display.h"
#include "display/schedule.h"
#include "display/share.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"
#include "stack/stack_sizes.h"
#include "stack/thread.h"

/* Bytes read from a client per recv(). */
#define CONTROL_READ_CHUNK 4096
/* A screendump dumps the shadow as it is when a refresh ran this recently
 * (the refresher is keeping up); else it asks for one and waits for it, at
 * most CONTROL_DUMP_WAIT_MS (then it dumps what the shadow has). */
#define CONTROL_DUMP_FRESH_MS (REFRESH_MIN_MS + 4)
#define CONTROL_DUMP_WAIT_MS 1000
/* VNC connect/disconnect notices queued for the control thread. */
#define CONTROL_VNC_QUEUE 32
#define CONTROL_VNC_ADDR_BYTES 56
/* The socket's listen() backlog: the 9th client is accepted to be told. */
#define CONTROL_BACKLOG 16

/* stop, VM stop, VNC notices, share watch, share activity, listener, clients. */
#define CONTROL_POLL_FDS (6 + CONTROL_MAX_CLIENTS)

enum client_wait {
	WAIT_NONE,
	WAIT_KEYS,     /* its key job is playing */
	WAIT_SCREEN,   /* wait-screen */
	WAIT_DUMP,     /* screendump waiting for a refresh */
};

struct key_job;

struct control_client {
	int fd;
	unsigned int serial;
	char name[32];                 /* "pid=1234" (SO_PEERCRED) */
	char *in;                      /* CONTROL_LINE_MAX_BYTES + 1 bytes */
	size_t in_len;
	struct byte_buf out;
	size_t out_off;                /* bytes of out already sent */
	bool closing;                  /* read nothing more; close once out is sent */
	uint64_t closing_since_ms;
	enum client_wait wait;
	struct control_request req;    /* the waiting command */
	struct key_job *job;
	uint64_t wait_start_ms, deadline_ms;
	uint64_t changes_seen, refreshes_seen;
	/* The share's change count when the previous command arrived (or at
	 * connect): wait-screen change's baseline, so "type; wait-screen"
	 * sees the change the keys made even when a refresh found it first. */
	uint64_t changes_at_prev_cmd;
};

/* A send-key or type being played into the input sink. It outlives a
 * client that leaves: its releases must still reach the guest. */
struct key_job {
	struct key_job *next;
	struct control_client *client;   /* NULL once the client is gone */
	struct key_event *events;
	size_t n, next_event;
	uint64_t due_ms;
};

struct vnc_notice {
	char addr[CONTROL_VNC_ADDR_BYTES];
	bool connected;
};

struct control_server {
	struct control_config cfg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int stop_efd;
	struct thread *thread;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
	unsigned int n_clients, next_serial;
	struct key_job *jobs, **jobs_tail;
	bool stop_reported;
	uint32_t last_width, last_height;
	bool dimensions_known;
	struct refresh_schedule schedule;   /* refresh_self only */
	int last_x, last_y;                  /* pointer: last position sent */
	unsigned int last_buttons;
	unsigned int vnc_clients;

	pthread_mutex_t vnc_lock;
	int vnc_efd;
	struct vnc_notice vnc_queue[CONTROL_VNC_QUEUE];   /* under vnc_lock */
	unsigned int vnc_queued;

	struct control_stats stats;
};

/* ---- output ---- */

static void client_drop(struct control_server *s, struct control_client *c, const char *why);

static bool client_queue(struct control_server *s, struct control_client *c, const char *text,
			 size_t len)
{
	static const char nl = '\n';

	if (c->fd < 0)
		return false;
	if (c->out.len - c->out_off + len + 1 > CONTROL_OUT_MAX_BYTES) {
		s->stats.dropped++;
		client_drop(s, c, "its unread replies passed the output limit");
		return false;
	}
	/* Sent bytes are discarded before the buffer grows. */
	if (c->out_off && c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
	} else if (c->out_off > c->out.cap / 2) {
		memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	if (byte_buf_append(&c->out, text, len) < 0 || byte_buf_append(&c->out, &nl, 1) < 0) {
		client_drop(s, c, "out of memory");
		return false;
	}
	return true;
}

static void client_send_json(struct control_server *s, struct control_client *c,
			     struct json_object *obj)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (text)
		client_queue(s, c, text, len);
}

/* {"return": ret, "id": id}; takes ret. */
static void reply_return(struct control_server *s, struct control_client *c,
			 struct json_object *id, struct json_object *ret)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "return", ret ? ret : json_object_new_object());
	if (id)
		json_object_object_add(obj, "id", json_object_get(id));
	client_send_json(s, c, obj);
	json_object_put(obj);
}

static void reply_error(struct control_server *s, struct control_client *c,
			struct json_object *id, const char *cls, const char *desc)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *err = json_object_new_object();

	json_object_object_add(err, "class", json_object_new_string(cls));
	json_object_object_add(err, "desc", json_object_new_string(desc));
	json_object_object_add(obj, "error", err);
	if (id)
		json_object_object_add(obj, "id", json_object_get(id));
	s->stats.errors++;
	client_send_json(s, c, obj);
	json_object_put(obj);
}

/* {"event": name, "data": data, "timestamp": {...}} to every client; takes data. */
static void broadcast_event(struct control_server *s, const char *name, struct json_object *data)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *stamp = json_object_new_object();
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(stamp, "seconds", json_object_new_int64(ts.tv_sec));
	json_object_object_add(stamp, "microseconds", json_object_new_int64(ts.tv_nsec / 1000));
	json_object_object_add(obj, "event", json_object_new_string(name));
	json_object_object_add(obj, "data", data ? data : json_object_new_object());
	json_object_object_add(obj, "timestamp", stamp);
	s->stats.events++;
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (s->clients[i] && !s->clients[i]->closing)
			client_send_json(s, s->clients[i], obj);
	json_object_put(obj);
}

/* ---- clients ---- */

static void client_finish_wait(struct control_client *c)
{
	c->wait = WAIT_NONE;
	control_request_free(&c->req);
}

static void client_free(struct control_server *s, struct control_client *c)
{
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (s->clients[i] == c)
			s->clients[i] = NULL;
	if (c->job)
		c->job->client = NULL;
	if (c->fd >= 0)
		close(c->fd);
	control_request_free(&c->req);
	byte_buf_free(&c->out);
	free(c->in);
	free(c);
	s->n_clients--;
}

/* Closes the socket now; the struct goes at the end of the loop pass. */
static void client_drop(struct control_server *s, struct control_client *c, const char *why)
{
	const struct log_field field = { "client", c->name };

	(void)s;
	if (c->fd < 0)
		return;
	log_msg_fields(LOG_INFO, "control", &field, 1, "client %s disconnected%s%s", c->name,
		       why ? ": " : "", why ? why : "");
	close(c->fd);
	c->fd = -1;
}

static void client_set_closing(struct control_client *c)
{
	if (!c->closing) {
		c->closing = true;
		c->closing_since_ms = log_now_ms();
	}
}

static void refuse_client(struct control_server *s, int fd)
{
	static const char line[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"too many"
				   " control clients: at most 8 at once\"}}\n";
	_Static_assert(CONTROL_MAX_CLIENTS == 8, "the refusal line names the limit");

	s->stats.refused++;
	if (send(fd, line, sizeof(line) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* It is going away either way. */
	}
	close(fd);
	log_ratelimited(LOG_WARN, "control", "client refused: %u clients connected already",
			s->n_clients);
}

static void send_greeting(struct control_server *s, struct control_client *c)
{
	static const char greeting[] = "{\"QMP\": {\"version\": {\"fbvm\": \"" FBVM_VERSION "\"},"
				       " \"capabilities\": []}}";

	client_queue(s, c, greeting, sizeof(greeting) - 1);
}

static void accept_client(struct control_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct control_client *c;
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	unsigned int slot;

	if (fd < 0)
		return;
	if (s->n_clients >= CONTROL_MAX_CLIENTS) {
		refuse_client(s, fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->in = malloc(CONTROL_LINE_MAX_BYTES + 1);
	if (!c || !c->in) {
		free(c);
		close(fd);
		log_ratelimited(LOG_WARN, "control", "client refused: out of memory");
		return;
	}
	for (slot = 0; s->clients[slot]; slot++)
		;
	s->clients[slot] = c;
	s->n_clients++;
	s->stats.clients++;
	c->fd = fd;
	c->serial = ++s->next_serial;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0)
		snprintf(c->name, sizeof(c->name), "pid=%d", (int)cred.pid);
	else
		snprintf(c->name, sizeof(c->name), "#%u", c->serial);
	{
		const struct log_field field = { "client", c->name };
		log_msg_fields(LOG_INFO, "control", &field, 1, "client %s connected", c->name);
	}
	{
		struct display_share_info info;
		display_share_get_info(s->cfg.share, &info);
		c->changes_at_prev_cmd = info.changes;
	}
	send_greeting(s, c);
}

/* ---- the picture ---- */

static const char *display_device(const struct control_server *s,
				  const struct display_surface *surf)
{
	if (!surf->enabled)
		return "none";
	if (surf->gpa >= s->cfg.vram_gpa && surf->gpa - s->cfg.vram_gpa < s->cfg.vram_bytes)
		return "vga";
	return "ramfb";
}

/* Refreshes the share here, when this thread is the refresher. */
static void refresh_now(struct control_server *s)
{
	struct fb_rect rects[DISPLAY_SHARE_MAX_RECTS];
	size_t n = 0;
	enum tracker_result r = display_share_refresh(s->cfg.share, rects,
						      DISPLAY_SHARE_MAX_RECTS, &n);
	bool changed = r == TRACKER_RESIZED || (r == TRACKER_UPDATED && n > 0);

	refresh_schedule_refreshed(&s->schedule, log_now_ms(), changed);
	if (display_share_fast_wanted(s->cfg.share))
		refresh_schedule_activity(&s->schedule, log_now_ms());
}

/* Copies the shadow; NULL with *no_frame when the guest has shown nothing. */
static uint8_t *copy_frame(struct control_server *s, struct display_share_info *info,
			   bool *no_frame)
{
	const uint8_t *shadow = display_share_lock_current(s->cfg.share, info);
	size_t bytes = (size_t)info->width * info->height * 4;
	uint8_t *copy = NULL;

	*no_frame = !info->have_frame;
	if (info->have_frame) {
		copy = malloc(bytes);
		if (copy)
			memcpy(copy, shadow, bytes);
	}
	display_share_unlock_shadow(s->cfg.share);
	return copy;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

static void do_screendump(struct control_server *s, struct control_client *c,
			  const struct control_request *req)
{
	struct display_share_info info;
	struct byte_buf png = { 0 };
	struct json_object *ret;
	char desc[320];
	bool no_frame;
	uint8_t *frame = copy_frame(s, &info, &no_frame);
	int err;

	if (!frame) {
		reply_error(s, c, req->id, CONTROL_ERR_GENERIC, no_frame ?
			    "no frame yet: the guest has not set up a display" : "out of memory");
		return;
	}
	err = png_encode_xrgb(frame, info.width, info.height, &png);
	free(frame);
	if (err < 0) {
		reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "PNG encoding failed");
		byte_buf_free(&png);
		return;
	}
	ret = json_object_new_object();
	json_object_object_add(ret, "width", json_object_new_int64(info.width));
	json_object_object_add(ret, "height", json_object_new_int64(info.height));
	json_object_object_add(ret, "format", json_object_new_string("png"));
	json_object_object_add(ret, "bytes", json_object_new_int64((int64_t)png.len));
	if (req->u.screendump.file) {
		err = write_file(req->u.screendump.file, png.data, png.len);
		if (err < 0) {
			snprintf(desc, sizeof(desc), "screendump: %.256s: %s", req->u.screendump.file,
				 strerror(-err));
			reply_error(s, c, req->id, CONTROL_ERR_GENERIC, desc);
			json_object_put(ret);
			byte_buf_free(&png);
			return;
		}
		json_object_object_add(ret, "file", json_object_new_string(req->u.screendump.file));
	} else {
		char *b64;
		if (png.len / 3 * 4 + 256 > CONTROL_OUT_MAX_BYTES - (c->out.len - c->out_off)) {
			reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "screendump: the picture is"
				    " too large to send inline; give a \"file\"");
			json_object_put(ret);
			byte_buf_free(&png);
			return;
		}
		b64 = base64_encode(png.data, png.len);
		if (!b64) {
			reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
			json_object_put(ret);
			byte_buf_free(&png);
			return;
		}
		json_object_object_add(ret, "data", json_object_new_string(b64));
		free(b64);
	}
	byte_buf_free(&png);
	reply_return(s, c, req->id, ret);
}

/* ---- wait-screen ---- */

/* True when every pixel of the region has the color; else *at gets the
 * first pixel that differs and *found its color. False too when the region
 * does not fit the screen (*at = UINT32_MAX). */
static bool region_matches(struct control_server *s, const struct control_request *req,
			   uint32_t *at_x, uint32_t *at_y, uint32_t *found)
{
	struct display_share_info info;
	const uint8_t *shadow = display_share_lock_current(s->cfg.share, &info);
	const uint32_t x0 = req->u.wait.x, y0 = req->u.wait.y;
	bool match = info.have_frame && x0 < info.width && y0 < info.height &&
		     req->u.wait.w <= info.width - x0 && req->u.wait.h <= info.height - y0;

	*at_x = *at_y = UINT32_MAX;
	*found = 0;
	for (uint32_t y = y0; match && y < y0 + req->u.wait.h; y++) {
		const uint32_t *row = (const uint32_t *)(shadow + (size_t)y * info.width * 4);
		for (uint32_t x = x0; x < x0 + req->u.wait.w; x++) {
			if ((row[x] & 0xffffff) != req->u.wait.rgb) {
				*at_x = x;
				*at_y = y;
				*found = row[x] & 0xffffff;
				match = false;
				break;
			}
		}
	}
	display_share_unlock_shadow(s->cfg.share);
	return match;
}

static void wait_done(struct control_server *s, struct control_client *c)
{
	struct json_object *ret = json_object_new_object();

	json_object_object_add(ret, "elapsed-ms",
			       json_object_new_int64((int64_t)(log_now_ms() - c->wait_start_ms)));
	reply_return(s, c, c->req.id, ret);
	client_finish_wait(c);
}

static void wait_timeout(struct control_server *s, struct control_client *c)
{
	char desc[256];

	if (c->req.u.wait.change) {
		snprintf(desc, sizeof(desc), "wait-screen: timeout: the screen did not change in"
			 " %u ms", c->req.u.wait.timeout_ms);
	} else {
		uint32_t x, y, found;
		if (region_matches(s, &c->req, &x, &y, &found)) {
			wait_done(s, c);
			return;
		}
		if (x == UINT32_MAX)
			snprintf(desc, sizeof(desc), "wait-screen: timeout after %u ms: the region"
				 " is not on the screen", c->req.u.wait.timeout_ms);
		else
			snprintf(desc, sizeof(desc), "wait-screen: timeout after %u ms: pixel"
				 " (%u,%u) is #%06x, not #%06x", c->req.u.wait.timeout_ms, x, y,
				 found, c->req.u.wait.rgb);
	}
	reply_error(s, c, c->req.id, CONTROL_ERR_GENERIC, desc);
	client_finish_wait(c);
}

/* After a refresh: the waits it may have ended. */
static void check_waits(struct control_server *s)
{
	struct display_share_info info;

	display_share_get_info(s->cfg.share, &info);
	if (!s->dimensions_known) {
		s->dimensions_known = true;
		s->last_width = info.width;
		s->last_height = info.height;
	} else if (info.width != s->last_width || info.height != s->last_height) {
		struct json_object *data = json_object_new_object();
		s->last_width = info.width;
		s->last_height = info.height;
		json_object_object_add(data, "width", json_object_new_int64(info.width));
		json_object_object_add(data, "height", json_object_new_int64(info.height));
		broadcast_event(s, "RESIZE", data);
	}
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = s->clients[i];
		uint32_t x, y, found;

		if (!c || c->fd < 0)
			continue;
		if (c->wait == WAIT_DUMP && (info.refreshes != c->refreshes_seen)) {
			do_screendump(s, c, &c->req);
			client_finish_wait(c);
		} else if (c->wait == WAIT_SCREEN && info.changes != c->changes_seen) {
			c->changes_seen = info.changes;
			if (c->req.u.wait.change || region_matches(s, &c->req, &x, &y, &found))
				wait_done(s, c);
		}
	}
}

static void start_wait(struct control_server *s, struct control_client *c,
		       struct control_request *req, uint64_t baseline)
{
	struct display_share_info info;
	uint32_t x, y, found;

	display_share_get_info(s->cfg.share, &info);
	if (!req->u.wait.change) {
		char desc[160];
		if (req->u.wait.x >= info.width || req->u.wait.y >= info.height ||
		    req->u.wait.w > info.width - req->u.wait.x ||
		    req->u.wait.h > info.height - req->u.wait.y) {
			snprintf(desc, sizeof(desc), "wait-screen: region [%u, %u, %u, %u] is not"
				 " inside the %ux%u screen", req->u.wait.x, req->u.wait.y,
				 req->u.wait.w, req->u.wait.h, info.width, info.height);
			reply_error(s, c, req->id, CONTROL_ERR_GENERIC, desc);
			control_request_free(req);
			return;
		}
	}
	c->req = *req;
	memset(req, 0, sizeof(*req));
	c->wait = WAIT_SCREEN;
	c->wait_start_ms = log_now_ms();
	c->deadline_ms = c->wait_start_ms + c->req.u.wait.timeout_ms;
	c->changes_seen = c->req.u.wait.change ? baseline : info.changes;
	if (c->req.u.wait.change ? info.changes != baseline :
	    region_matches(s, &c->req, &x, &y, &found))
		wait_done(s, c);
}

/* ---- keys ---- */

static void start_key_job(struct control_server *s, struct control_client *c,
			  struct control_request *req, struct key_event *events, size_t n)
{
	struct key_job *job = calloc(1, sizeof(*job));

	if (!job) {
		free(events);
		reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
		control_request_free(req);
		return;
	}
	job->client = c;
	job->events = events;
	job->n = n;
	job->due_ms = log_now_ms();
	/* The guest will draw: the refresher looks again within a frame. */
	display_share_activity(s->cfg.share);
	*s->jobs_tail = job;
	s->jobs_tail = &job->next;
	c->job = job;
	c->req = *req;
	memset(req, 0, sizeof(*req));
	c->wait = WAIT_KEYS;
}

/* Plays the events that are due; returns when the next one is (0: none left). */
static uint64_t play_keys(struct control_server *s, uint64_t now)
{
	while (s->jobs) {
		struct key_job *job = s->jobs;

		while (job->next_event < job->n && job->due_ms <= now) {
			const struct key_event *e = &job->events[job->next_event++];
			if (s->cfg.input.ops && s->cfg.input.ops->key)
				s->cfg.input.ops->key(s->cfg.input.opaque, e->qnum, e->down);
			s->stats.key_events++;
			job->due_ms = now + e->pause_ms;
		}
		if (job->next_event < job->n)
			return job->due_ms;
		/* Done: the reply, then the next job after this one's last pause. */
		if (job->client) {
			struct control_client *c = job->client;
			c->job = NULL;
			reply_return(s, c, c->req.id, NULL);
			client_finish_wait(c);
		}
		s->jobs = job->next;
		if (!s->jobs)
			s->jobs_tail = &s->jobs;
		else if (s->jobs->due_ms < job->due_ms)
			s->jobs->due_ms = job->due_ms;
		free(job->events);
		free(job);
	}
	return 0;
}

static void do_send_key(struct control_server *s, struct control_client *c,
			struct control_request *req)
{
	struct key_event *events = calloc(2 * req->u.send_key.n, sizeof(*events));

	if (!events) {
		reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
		control_request_free(req);
		return;
	}
	start_key_job(s, c, req, events,
		      control_keys_chord(req->u.send_key.qnums, req->u.send_key.n,
					 req->u.send_key.hold_ms, events));
}

static void do_type(struct control_server *s, struct control_client *c,
		    struct control_request *req)
{
	struct key_event *events = calloc(control_keys_text_max(req->u.type.len), sizeof(*events));
	unsigned char bad;
	long n;

	if (!events) {
		reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
		control_request_free(req);
		return;
	}
	/* control_parse checked every character already. */
	n = control_keys_text(req->u.type.text, req->u.type.len, events, &bad);
	if (n < 0) {
		free(events);
		reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "type: a character cannot be typed");
		control_request_free(req);
		return;
	}
	start_key_job(s, c, req, events, (size_t)n);
}

/* Relative PS/2 motion from the last position this socket sent: the guest
 * pointer follows exactly only when it started at (0,0) or a corner and the
 * guest applies no acceleration (README "Control socket"). */
static void do_pointer(struct control_server *s, const struct control_request *req)
{
	int x = (int)req->u.pointer.x, y = (int)req->u.pointer.y;
	int dx = s->last_x >= 0 ? x - s->last_x : 0, dy = s->last_y >= 0 ? y - s->last_y : 0;

	s->last_x = x;
	s->last_y = y;
	s->last_buttons = req->u.pointer.buttons;
	if (s->cfg.input.ops && s->cfg.input.ops->pointer)
		s->cfg.input.ops->pointer(s->cfg.input.opaque, dx, dy, 0, req->u.pointer.buttons);
	display_share_activity(s->cfg.share);
}

/* ---- query-status ---- */

static struct json_object *status_object(struct control_server *s)
{
	struct json_object *ret = json_object_new_object();
	struct json_object *disp = json_object_new_object();
	struct display_surface surf;
	bool stopped = vm_stop_requested();
	char fourcc[5];

	display_snapshot(s->cfg.display, &surf);
	json_object_object_add(ret, "status", json_object_new_string(stopped ? "stopped" :
								       "running"));
	json_object_object_add(ret, "running", json_object_new_boolean(!stopped));
	if (stopped) {
		json_object_object_add(ret, "reason",
				       json_object_new_string(vm_stop_reason_name(vm_stop_reason())));
		json_object_object_add(ret, "exit-status",
				       json_object_new_int(vm_stop_exit_status()));
	}
	json_object_object_add(ret, "uptime-ms",
			       json_object_new_int64((int64_t)(log_now_ms() - s->cfg.start_ms)));
	for (int i = 0; i < 4; i++) {
		char ch = (char)(surf.format >> (8 * i));
		fourcc[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	fourcc[4] = '\0';
	json_object_object_add(disp, "device", json_object_new_string(display_device(s, &surf)));
	json_object_object_add(disp, "width", json_object_new_int64(surf.enabled ? surf.width : 0));
	json_object_object_add(disp, "height",
			       json_object_new_int64(surf.enabled ? surf.height : 0));
	json_object_object_add(disp, "format", json_object_new_string(surf.enabled ? fourcc : ""));
	json_object_object_add(disp, "generation", json_object_new_int64(surf.generation));
	json_object_object_add(ret, "display", disp);
	json_object_object_add(ret, "vnc-clients", json_object_new_int64(s->vnc_clients));
	json_object_object_add(ret, "control-clients", json_object_new_int64(s->n_clients));
	return ret;
}

/* ---- commands ---- */

static void execute(struct control_server *s, struct control_client *c,
		    struct control_request *req)
{
	struct display_share_info info;
	uint64_t baseline = c->changes_at_prev_cmd;

	s->stats.commands++;
	display_share_get_info(s->cfg.share, &info);
	c->changes_at_prev_cmd = info.changes;
	switch (req->cmd) {
	case CONTROL_CMD_QMP_CAPABILITIES:
		reply_return(s, c, req->id, NULL);
		break;
	case CONTROL_CMD_QUERY_STATUS:
		reply_return(s, c, req->id, status_object(s));
		break;
	case CONTROL_CMD_SCREENDUMP:
		if (s->cfg.refresh_self)
			refresh_now(s);
		display_share_get_info(s->cfg.share, &info);
		if (!s->cfg.refresh_self &&
		    (!info.have_frame || log_now_ms() - info.last_refresh_ms > CONTROL_DUMP_FRESH_MS)) {
			/* The refresher is idle (no viewer): ask it for a frame. */
			c->req = *req;
			memset(req, 0, sizeof(*req));
			c->wait = WAIT_DUMP;
			c->refreshes_seen = info.refreshes;
			c->wait_start_ms = log_now_ms();
			c->deadline_ms = c->wait_start_ms + CONTROL_DUMP_WAIT_MS;
			return;
		}
		do_screendump(s, c, req);
		break;
	case CONTROL_CMD_SEND_KEY:
		do_send_key(s, c, req);
		return;
	case CONTROL_CMD_TYPE:
		do_type(s, c, req);
		return;
	case CONTROL_CMD_POINTER:
		do_pointer(s, req);
		reply_return(s, c, req->id, NULL);
		break;
	case CONTROL_CMD_WAIT_SCREEN:
		start_wait(s, c, req, baseline);
		return;
	case CONTROL_CMD_SYSTEM_RESET:
		reply_return(s, c, req->id, NULL);
		vm_request_stop(VM_STOP_RESET, EXIT_STATUS_RESET, "system_reset from the control"
				" socket");
		break;
	case CONTROL_CMD_QUIT:
		reply_return(s, c, req->id, NULL);
		vm_request_stop(VM_STOP_POWEROFF, EXIT_STATUS_OK, "quit from the control socket");
		break;
	}
	control_request_free(req);
}

static void handle_line(struct control_server *s, struct control_client *c, const char *line,
			size_t len)
{
	struct control_request req;
	struct control_error err;

	/* Blank lines are allowed between commands, as in QMP. */
	if (len == 0 || (len == 1 && line[0] == '\r'))
		return;
	if (control_parse(line, len, &req, &err) < 0) {
		s->stats.commands++;
		reply_error(s, c, req.id, err.cls, err.desc);
		control_request_free(&req);
		return;
	}
	execute(s, c, &req);
}

/* Runs the complete lines in c's buffer while it is not waiting. */
static void process_input(struct control_server *s, struct control_client *c)
{
	size_t off = 0;

	while (c->fd >= 0 && !c->closing && c->wait == WAIT_NONE &&
	       c->out.len - c->out_off < CONTROL_OUT_PAUSE_BYTES) {
		char *nl = memchr(c->in + off, '\n', c->in_len - off);
		if (!nl)
			break;
		handle_line(s, c, c->in + off, (size_t)(nl - (c->in + off)));
		off = (size_t)(nl - c->in) + 1;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->fd >= 0 && !c->closing && c->in_len > CONTROL_LINE_MAX_BYTES &&
	    !memchr(c->in, '\n', c->in_len)) {
		char desc[96];
		s->stats.long_lines++;
		snprintf(desc, sizeof(desc), "line longer than %d bytes; closing the connection",
			 CONTROL_LINE_MAX_BYTES);
		reply_error(s, c, NULL, CONTROL_ERR_GENERIC, desc);
		log_ratelimited(LOG_WARN, "control", "client %s sent a line over %d bytes: closing",
				c->name, CONTROL_LINE_MAX_BYTES);
		client_set_closing(c);
	}
}

/* Room in the input buffer and no backlog: read more. */
static bool client_wants_input(const struct control_client *c)
{
	return c->fd >= 0 && !c->closing && c->wait == WAIT_NONE &&
	       c->in_len <= CONTROL_LINE_MAX_BYTES &&
	       c->out.len - c->out_off < CONTROL_OUT_PAUSE_BYTES;
}

static void client_read(struct control_server *s, struct control_client *c)
{
	size_t room = CONTROL_LINE_MAX_BYTES + 1 - c->in_len;
	ssize_t r = recv(c->fd, c->in + c->in_len, room < CONTROL_READ_CHUNK ? room :
			 CONTROL_READ_CHUNK, MSG_DONTWAIT);

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		client_drop(s, c, NULL);
		return;
	}
	c->in_len += (size_t)r;
	process_input(s, c);
}

static void client_write(struct control_server *s, struct control_client *c)
{
	while (c->fd >= 0 && c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			client_drop(s, c, NULL);
			return;
		}
		c->out_off += (size_t)w;
	}
	if (c->fd >= 0 && c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->closing)
			client_drop(s, c, "closed after an error");
	}
}

/* ---- events from other threads and the VM ---- */

void control_vnc_client_event(void *ctx, const char *addr, bool connected)
{
	struct control_server *s = ctx;
	uint64_t one = 1;

	if (!s)
		return;
	pthread_mutex_lock(&s->vnc_lock);
	if (s->vnc_queued < CONTROL_VNC_QUEUE) {
		struct vnc_notice *n = &s->vnc_queue[s->vnc_queued++];
		snprintf(n->addr, sizeof(n->addr), "%s", addr);
		n->connected = connected;
	} else {
		s->stats.vnc_events_lost++;
	}
	pthread_mutex_unlock(&s->vnc_lock);
	if (write(s->vnc_efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow from these writes. */
	}
}

static void take_vnc_events(struct control_server *s)
{
	struct vnc_notice queue[CONTROL_VNC_QUEUE];
	unsigned int n;
	uint64_t v;

	if (read(s->vnc_efd, &v, sizeof(v)) < 0) {
		/* Drained already. */
	}
	pthread_mutex_lock(&s->vnc_lock);
	n = s->vnc_queued;
	memcpy(queue, s->vnc_queue, n * sizeof(queue[0]));
	s->vnc_queued = 0;
	pthread_mutex_unlock(&s->vnc_lock);
	for (unsigned int i = 0; i < n; i++) {
		struct json_object *data = json_object_new_object();
		if (queue[i].connected)
			s->vnc_clients++;
		else if (s->vnc_clients)
			s->vnc_clients--;
		json_object_object_add(data, "client", json_object_new_string(queue[i].addr));
		broadcast_event(s, queue[i].connected ? "VNC_CONNECTED" : "VNC_DISCONNECTED", data);
	}
}

static void report_stop(struct control_server *s)
{
	enum vm_stop_reason reason = vm_stop_reason();
	struct json_object *data;

	if (s->stop_reported)
		return;
	s->stop_reported = true;
	if (reason == VM_STOP_RESET) {
		data = json_object_new_object();
		json_object_object_add(data, "guest", json_object_new_boolean(true));
		broadcast_event(s, "RESET", data);
	}
	data = json_object_new_object();
	json_object_object_add(data, "reason", json_object_new_string(vm_stop_reason_name(reason)));
	json_object_object_add(data, "exit-status", json_object_new_int(vm_stop_exit_status()));
	broadcast_event(s, "STOP", data);
}

/* ---- the thread ---- */

static void expire_waits(struct control_server *s, uint64_t now)
{
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = s->clients[i];

		if (!c || c->fd < 0)
			continue;
		if (c->wait == WAIT_SCREEN && now >= c->deadline_ms) {
			wait_timeout(s, c);
		} else if (c->wait == WAIT_DUMP && now >= c->deadline_ms) {
			/* No refresh came: dump what the shadow has. */
			do_screendump(s, c, &c->req);
			client_finish_wait(c);
		}
		if (c->closing && now - c->closing_since_ms >= CONTROL_FLUSH_MS)
			client_drop(s, c, "it did not read its last replies");
	}
}

/* Frees dropped clients; runs the lines of those no longer waiting. */
static void reap_and_resume(struct control_server *s)
{
	bool listen = false, fast = false;

	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = s->clients[i];

		if (!c)
			continue;
		if (c->fd < 0) {
			client_free(s, c);
			continue;
		}
		if (c->wait == WAIT_NONE && c->in_len)
			process_input(s, c);
		listen = true;
		fast |= c->wait == WAIT_SCREEN || c->wait == WAIT_DUMP;
	}
	display_share_set_watch(s->cfg.share, listen, fast);
}

static uint64_t next_deadline(struct control_server *s, uint64_t keys_due)
{
	uint64_t next = keys_due;

	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		const struct control_client *c = s->clients[i];
		uint64_t d = 0;

		if (!c || c->fd < 0)
			continue;
		if (c->wait == WAIT_SCREEN || c->wait == WAIT_DUMP)
			d = c->deadline_ms;
		if (c->closing)
			d = c->closing_since_ms + CONTROL_FLUSH_MS;
		if (d && (!next || d < next))
			next = d;
	}
	if (s->cfg.refresh_self && display_share_refresh_wanted(s->cfg.share)) {
		uint64_t r = s->schedule.next_ms;
		if (!next || r < next)
			next = r;
	}
	return next;
}

static void *control_thread_main(void *arg)
{
	struct control_server *s = arg;
	struct pollfd fds[CONTROL_POLL_FDS];
	struct control_client *polled[CONTROL_POLL_FDS];
	int vm_stop_fd = vm_stop_eventfd();

	refresh_schedule_reset(&s->schedule, log_now_ms());
	for (;;) {
		uint64_t now = log_now_ms();
		uint64_t keys_due = play_keys(s, now);
		uint64_t next;
		int timeout;
		nfds_t n = 0;

		if (s->cfg.refresh_self && display_share_refresh_wanted(s->cfg.share) &&
		    refresh_schedule_wait_ms(&s->schedule, now) == 0) {
			refresh_now(s);
			check_waits(s);
		}
		expire_waits(s, log_now_ms());
		reap_and_resume(s);
		next = next_deadline(s, keys_due);
		now = log_now_ms();
		timeout = next == 0 ? -1 : next <= now ? 0 : (int)(next - now);

		fds[n++] = (struct pollfd){ .fd = s->stop_efd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->stop_reported ? -1 : vm_stop_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->vnc_efd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = display_share_watch_fd(s->cfg.share), .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->cfg.refresh_self ?
					    display_share_activity_fd(s->cfg.share) : -1,
					    .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			struct control_client *c = s->clients[i];
			short events = 0;

			if (!c || c->fd < 0)
				continue;
			if (client_wants_input(c))
				events |= POLLIN;
			if (c->out_off < c->out.len)
				events |= POLLOUT;
			polled[n] = c;
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = events };
		}
		if (poll(fds, n, timeout) < 0 && errno != EINTR) {
			log_error("control", "poll failed: %s; no longer serving clients",
				  strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents || (vm_stop_requested() && !s->stop_reported))
			report_stop(s);
		if (fds[2].revents)
			take_vnc_events(s);
		if (fds[3].revents) {
			uint64_t v;
			if (read(display_share_watch_fd(s->cfg.share), &v, sizeof(v)) < 0) {
				/* Drained already. */
			}
			check_waits(s);
		}
		if (fds[4].revents && display_share_take_activity(s->cfg.share))
			refresh_schedule_activity(&s->schedule, log_now_ms());
		if (fds[5].revents)
			accept_client(s);
		for (nfds_t i = 6; i < n; i++) {
			struct control_client *c = polled[i];
			if (c->fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				client_read(s, c);
			if (c->fd >= 0 && c->out_off < c->out.len)
				client_write(s, c);
		}
		/* Replies queued by events or other clients' commands. */
		for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++)
			if (s->clients[i] && s->clients[i]->fd >= 0 &&
			    s->clients[i]->out_off < s->clients[i]->out.len)
				client_write(s, s->clients[i]);
	}
	return NULL;
}

/* Answers what still waits, then lets clients read for CONTROL_FLUSH_MS. */
static void control_shutdown(struct control_server *s)
{
	uint64_t end = log_now_ms() + CONTROL_FLUSH_MS;

	if (vm_stop_requested())
		report_stop(s);
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = s->clients[i];
		if (c && c->fd >= 0 && c->wait != WAIT_NONE && c->wait != WAIT_KEYS) {
			reply_error(s, c, c->req.id, CONTROL_ERR_GENERIC, "the VM has stopped");
			client_finish_wait(c);
		}
	}
	for (;;) {
		struct pollfd fds[CONTROL_MAX_CLIENTS];
		struct control_client *polled[CONTROL_MAX_CLIENTS];
		uint64_t now = log_now_ms();
		nfds_t n = 0;

		for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			struct control_client *c = s->clients[i];
			if (c && c->fd >= 0 && c->out_off < c->out.len) {
				polled[n] = c;
				fds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
			}
		}
		if (n == 0 || now >= end)
			break;
		if (poll(fds, n, (int)(end - now)) < 0 && errno != EINTR)
			break;
		for (nfds_t i = 0; i < n; i++)
			if (fds[i].revents)
				client_write(s, polled[i]);
	}
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (s->clients[i]) {
			client_drop(s, s->clients[i], NULL);
			client_free(s, s->clients[i]);
		}
	}
	while (s->jobs) {
		struct key_job *job = s->jobs;
		s->jobs = job->next;
		free(job->events);
		free(job);
	}
	s->jobs_tail = &s->jobs;
}

/* ---- setup ---- */

/* PATH may be replaced only when it is a socket of ours nobody listens on. */
static int check_existing(const char *path, char *err, size_t err_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, err_len, "--control %s: %s", path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, err_len, "--control %s: exists and is not a socket; not replacing it",
			 path);
		return -EEXIST;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, err_len, "--control %s: a socket of another user; not replacing it",
			 path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "--control: socket: %s", strerror(errno));
		return ret;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	if (ret == 0) {
		snprintf(err, err_len, "--control %s: another process is listening on it", path);
		return -EEXIST;
	}
	if (errno != ECONNREFUSED) {
		ret = -errno;
		snprintf(err, err_len, "--control %s: %s; not replacing it", path, strerror(errno));
		return ret;
	}
	/* A stale socket: its process is gone. */
	if (unlink(path) < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, err_len, "--control %s: cannot remove the stale socket: %s", path,
			 strerror(errno));
		return ret;
	}
	log_info("control", "replacing stale socket %s", path);
	return 0;
}

int control_create(struct control_server **out, const struct control_config *cfg, char *err,
		   size_t err_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct control_server *s;
	size_t len = strlen(cfg->path);
	mode_t old_umask;
	int ret;

	if (len == 0 || len >= sizeof(addr.sun_path)) {
		snprintf(err, err_len, "--control %s: the path must have 1..%zu bytes", cfg->path,
			 sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	ret = check_existing(cfg->path, err, err_len);
	if (ret < 0)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_len, "control: out of memory");
		return -ENOMEM;
	}
	s->cfg = *cfg;
	memcpy(s->path, cfg->path, len + 1);
	s->jobs_tail = &s->jobs;
	s->last_x = s->last_y = -1;
	s->listen_fd = s->stop_efd = s->vnc_efd = -1;
	pthread_mutex_init(&s->vnc_lock, NULL);
	s->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->vnc_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->stop_efd < 0 || s->vnc_efd < 0 || s->listen_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "control: %s", strerror(errno));
		goto fail;
	}
	memcpy(addr.sun_path, cfg->path, len + 1);
	/* No thread runs yet, so the process-wide umask can make the socket
	 * 0600 from its creation: no moment where others may connect. */
	old_umask = umask(0177);
	ret = bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (ret < 0 || listen(s->listen_fd, CONTROL_BACKLOG) < 0) {
		ret = -errno;
		snprintf(err, err_len, "--control %s: %s", cfg->path, strerror(errno));
		if (ret != -EADDRINUSE)
			unlink(cfg->path);
		goto fail;
	}
	log_info("control", "listening on %s", cfg->path);
	*out = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_efd >= 0)
		close(s->stop_efd);
	if (s->vnc_efd >= 0)
		close(s->vnc_efd);
	pthread_mutex_destroy(&s->vnc_lock);
	free(s);
	return ret;
}

int control_start(struct control_server *s)
{
	return thread_start(&s->thread, "control", STACK_CONTROL_BYTES, control_thread_main, s);
}

void control_stop(struct control_server *s)
{
	uint64_t one = 1;

	if (!s || !s->thread)
		return;
	if (write(s->stop_efd, &one, sizeof(one)) < 0) {
		/* Cannot fail for an eventfd below its maximum. */
	}
	thread_join(s->thread, NULL);
	s->thread = NULL;
	control_shutdown(s);
}

void control_destroy(struct control_server *s)
{
	if (!s)
		return;
	control_stop(s);
	control_shutdown(s);
	close(s->listen_fd);
	unlink(s->path);
	close(s->stop_efd);
	close(s->vnc_efd);
	pthread_mutex_destroy(&s->vnc_lock);
	free(s);
}

void control_print_stats(const struct control_server *s, FILE *out)
{
	const struct control_stats *st = &s->stats;

	fprintf(out, "stats: control: %s clients=%" PRIu64 " refused=%" PRIu64 " dropped=%" PRIu64
		" commands=%" PRIu64 " errors=%" PRIu64 " long_lines=%" PRIu64 " key_events=%"
		PRIu64 " events=%" PRIu64 " vnc_events_lost=%" PRIu64 "\n", s->path, st->clients,
		st->refused, st->dropped, st->commands, st->errors, st->long_lines, st->key_events,
		st->events, st->vnc_events_lost);
}
