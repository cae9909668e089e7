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

#include "control/session.h"
#include "display/share.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"
#include "stack/stack_sizes.h"
#include "stack/thread.h"

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
void control_reply(struct control_server *s, struct control_client *c,
			 struct json_object *id, struct json_object *ret)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "return", ret ? ret : json_object_new_object());
	if (id)
		json_object_object_add(obj, "id", json_object_get(id));
	client_send_json(s, c, obj);
	json_object_put(obj);
}

void control_reply_error(struct control_server *s, struct control_client *c,
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
void control_broadcast(struct control_server *s, const char *name, struct json_object *data)
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

void control_client_finish_wait(struct control_client *c)
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
		control_reply_error(s, c, req.id, err.cls, err.desc);
		control_request_free(&req);
		return;
	}
	control_execute(s, c, &req);
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
		control_reply_error(s, c, NULL, CONTROL_ERR_GENERIC, desc);
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
		c->stalled_since_ms = 0;   /* it reads: reap_and_resume starts over */
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
		control_broadcast(s, queue[i].connected ? "VNC_CONNECTED" : "VNC_DISCONNECTED", data);
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
		control_broadcast(s, "RESET", data);
	}
	data = json_object_new_object();
	json_object_object_add(data, "reason", json_object_new_string(vm_stop_reason_name(reason)));
	json_object_object_add(data, "exit-status", json_object_new_int(vm_stop_exit_status()));
	control_broadcast(s, "STOP", data);
}

/* ---- the thread ---- */

static void expire_waits(struct control_server *s, uint64_t now)
{
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = s->clients[i];

		if (!c || c->fd < 0)
			continue;
		if (c->wait == WAIT_SCREEN && now >= c->deadline_ms) {
			control_wait_timeout(s, c);
		} else if (c->wait == WAIT_DUMP && now >= c->deadline_ms) {
			/* No refresh came: dump what the shadow has. */
			control_screendump(s, c, &c->req);
			control_client_finish_wait(c);
		}
		if (c->closing && now - c->closing_since_ms >= CONTROL_FLUSH_MS)
			client_drop(s, c, "it did not read its last replies");
		if (c->fd >= 0 && c->stalled_since_ms &&
		    now - c->stalled_since_ms >= CONTROL_STALL_MS) {
			s->stats.dropped++;
			client_drop(s, c, "it stopped reading its replies");
		}
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
		if (c->out.len - c->out_off < CONTROL_OUT_PAUSE_BYTES)
			c->stalled_since_ms = 0;
		else if (!c->stalled_since_ms)
			c->stalled_since_ms = log_now_ms();
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
		if (c->closing && (!d || c->closing_since_ms + CONTROL_FLUSH_MS < d))
			d = c->closing_since_ms + CONTROL_FLUSH_MS;
		if (c->stalled_since_ms && (!d || c->stalled_since_ms + CONTROL_STALL_MS < d))
			d = c->stalled_since_ms + CONTROL_STALL_MS;
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
	{
		/* RESIZE compares with the geometry the shadow had at start. */
		struct display_share_info info;
		display_share_get_info(s->cfg.share, &info);
		s->last_width = info.width;
		s->last_height = info.height;
		s->dimensions_known = true;
	}
	for (;;) {
		uint64_t now = log_now_ms();
		uint64_t keys_due = control_play_keys(s, now);
		uint64_t next;
		int timeout;
		nfds_t n = 0;

		if (s->cfg.refresh_self && display_share_refresh_wanted(s->cfg.share) &&
		    refresh_schedule_wait_ms(&s->schedule, now) == 0) {
			control_refresh_now(s);
			control_check_waits(s);
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
			control_check_waits(s);
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
			control_reply_error(s, c, c->req.id, CONTROL_ERR_GENERIC, "the VM has stopped");
			control_client_finish_wait(c);
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
		PRIu64 " key_holds=%" PRIu64 " events=%" PRIu64 " vnc_events_lost=%" PRIu64 "\n",
		s->path, st->clients, st->refused, st->dropped, st->commands, st->errors,
		st->long_lines, st->key_events, st->key_holds, st->events, st->vnc_events_lost);
}
