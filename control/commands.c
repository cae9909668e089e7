/*
 * What each control-socket command does (see server.h and protocol.h):
 * query-status, screendump, send-key and type (key jobs played at
 * control/keys.h's pace), pointer, wait-screen, system_reset, quit.
 * control/server.c parses nothing and runs these on the control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/keys.h"
#include "control/png.h"
#include "control/protocol.h"
#include "control/session.h"
#include "devices/display.h"
#include "display/schedule.h"
#include "display/share.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"

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
void control_refresh_now(struct control_server *s)
{
	struct fb_rect rects[DISPLAY_SHARE_MAX_RECTS];
	size_t n = 0;
	enum tracker_result r = display_share_refresh(s->cfg.share, rects,
						      DISPLAY_SHARE_MAX_RECTS, &n);
	bool changed = r == TRACKER_RESIZED || (r == TRACKER_UPDATED && n > 0);

	refresh_schedule_refreshed(&s->schedule, log_now_ms(), changed);
	if (display_share_fast_wanted(s->cfg.share))
		refresh_schedule_hold_fast(&s->schedule, log_now_ms());
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

void control_screendump(struct control_server *s, struct control_client *c,
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
		control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, no_frame ?
			    "no frame yet: the guest has not set up a display" : "out of memory");
		return;
	}
	err = png_encode_xrgb(frame, info.width, info.height, &png);
	free(frame);
	if (err < 0) {
		control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "PNG encoding failed");
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
			control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, desc);
			json_object_put(ret);
			byte_buf_free(&png);
			return;
		}
		json_object_object_add(ret, "file", json_object_new_string(req->u.screendump.file));
	} else {
		char *b64;
		if (png.len / 3 * 4 + 256 > CONTROL_OUT_MAX_BYTES - (c->out.len - c->out_off)) {
			control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "screendump: the picture is"
				    " too large to send inline; give a \"file\"");
			json_object_put(ret);
			byte_buf_free(&png);
			return;
		}
		b64 = base64_encode(png.data, png.len);
		if (!b64) {
			control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
			json_object_put(ret);
			byte_buf_free(&png);
			return;
		}
		json_object_object_add(ret, "data", json_object_new_string(b64));
		free(b64);
	}
	byte_buf_free(&png);
	control_reply(s, c, req->id, ret);
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
	control_reply(s, c, c->req.id, ret);
	control_client_finish_wait(c);
}

void control_wait_timeout(struct control_server *s, struct control_client *c)
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
	control_reply_error(s, c, c->req.id, CONTROL_ERR_GENERIC, desc);
	control_client_finish_wait(c);
}

/* After a refresh: the waits it may have ended. */
void control_check_waits(struct control_server *s)
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
		control_broadcast(s, "RESIZE", data);
	}
	for (unsigned int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = s->clients[i];
		uint32_t x, y, found;

		if (!c || c->fd < 0)
			continue;
		if (c->wait == WAIT_DUMP && (info.refreshes != c->refreshes_seen)) {
			control_screendump(s, c, &c->req);
			control_client_finish_wait(c);
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
			control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, desc);
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
		control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
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
static unsigned int key_backlog(struct control_server *s)
{
	const struct input_ops *ops = s->cfg.input.ops;

	return ops && ops->key_backlog ? ops->key_backlog(s->cfg.input.opaque) : 0;
}

uint64_t control_play_keys(struct control_server *s, uint64_t now)
{
	while (s->jobs) {
		struct key_job *job = s->jobs;

		while (job->next_event < job->n && job->due_ms <= now) {
			const struct key_event *e = &job->events[job->next_event];
			/* The guest is behind: hold the next press (releases
			 * always go; the keyboard keeps room for them). */
			if (e->down && key_backlog(s) > CONTROL_KEY_BACKLOG_BYTES) {
				s->stats.key_holds++;
				job->due_ms = now + CONTROL_KEY_GAP_MS;
				break;
			}
			job->next_event++;
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
			control_reply(s, c, c->req.id, NULL);
			control_client_finish_wait(c);
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

/* system_reset: keys not yet sent belong to the boot being reset (a guest
 * initialising its keyboard takes a stray scancode for a bad reply), so
 * each job in progress ends with an error saying how many were dropped. */
static void drop_key_jobs(struct control_server *s)
{
	while (s->jobs) {
		struct key_job *job = s->jobs;

		if (job->client) {
			struct control_client *c = job->client;
			char desc[96];

			snprintf(desc, sizeof(desc), "interrupted by system_reset: %zu of %zu key"
				 " events not sent", job->n - job->next_event, job->n);
			c->job = NULL;
			control_reply_error(s, c, c->req.id, CONTROL_ERR_GENERIC, desc);
			control_client_finish_wait(c);
		}
		s->jobs = job->next;
		free(job->events);
		free(job);
	}
	s->jobs_tail = &s->jobs;
}

static void do_send_key(struct control_server *s, struct control_client *c,
			struct control_request *req)
{
	struct key_event *events = calloc(2 * req->u.send_key.n, sizeof(*events));

	if (!events) {
		control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
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
		control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "out of memory");
		control_request_free(req);
		return;
	}
	/* control_parse checked every character already. */
	n = control_keys_text(req->u.type.text, req->u.type.len, events, &bad);
	if (n < 0) {
		free(events);
		control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC, "type: a character cannot be typed");
		control_request_free(req);
		return;
	}
	start_key_job(s, c, req, events, (size_t)n);
}

/* An absolute position in pixels of the guest's current mode (the picture
 * screendump returns): the input device (vmmouse) hands it to a guest that
 * enabled absolute mode, else moves the PS/2 mouse by the distance from the
 * previous position any frontend gave (devices/input.h). */
static void do_pointer(struct control_server *s, const struct control_request *req)
{
	struct display_surface surf;
	struct display_share_info info;
	uint32_t width, height;

	display_snapshot(s->cfg.display, &surf);
	display_share_get_info(s->cfg.share, &info);
	width = surf.enabled ? surf.width : info.width;
	height = surf.enabled ? surf.height : info.height;
	if (s->cfg.input.ops && s->cfg.input.ops->pointer_abs)
		s->cfg.input.ops->pointer_abs(s->cfg.input.opaque, req->u.pointer.x,
					      req->u.pointer.y, width, height, 0,
					      req->u.pointer.buttons);
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

void control_execute(struct control_server *s, struct control_client *c,
		    struct control_request *req)
{
	struct display_share_info info;
	uint64_t baseline = c->changes_at_prev_cmd;

	s->stats.commands++;
	display_share_get_info(s->cfg.share, &info);
	c->changes_at_prev_cmd = info.changes;
	switch (req->cmd) {
	case CONTROL_CMD_QMP_CAPABILITIES:
		control_reply(s, c, req->id, NULL);
		break;
	case CONTROL_CMD_QUERY_STATUS:
		control_reply(s, c, req->id, status_object(s));
		break;
	case CONTROL_CMD_SCREENDUMP:
		if (s->cfg.refresh_self)
			control_refresh_now(s);
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
		control_screendump(s, c, req);
		break;
	case CONTROL_CMD_SEND_KEY:
		do_send_key(s, c, req);
		return;
	case CONTROL_CMD_TYPE:
		do_type(s, c, req);
		return;
	case CONTROL_CMD_POINTER:
		do_pointer(s, req);
		control_reply(s, c, req->id, NULL);
		break;
	case CONTROL_CMD_WAIT_SCREEN:
		start_wait(s, c, req, baseline);
		return;
	case CONTROL_CMD_SYSTEM_RESET: {
		/* In place, as QMP's system_reset without -no-reboot: the guest
		 * boots again and fbvm keeps running (a guest's own reset still
		 * ends it, status 4). */
		drop_key_jobs(s);
		int ret = s->cfg.reset(s->cfg.reset_ctx);

		if (ret < 0) {
			control_reply_error(s, c, req->id, CONTROL_ERR_GENERIC,
					    ret == -ECANCELED ? "the VM is stopping"
							      : "the reset failed; fbvm is stopping");
			break;
		}
		control_reply(s, c, req->id, NULL);
		struct json_object *data = json_object_new_object();
		json_object_object_add(data, "guest", json_object_new_boolean(false));
		json_object_object_add(data, "reason",
				       json_object_new_string("host-qmp-system-reset"));
		control_broadcast(s, "RESET", data);
		break;
	}
	case CONTROL_CMD_QUIT:
		control_reply(s, c, req->id, NULL);
		vm_request_stop(VM_STOP_POWEROFF, EXIT_STATUS_OK, "quit from the control socket");
		break;
	}
	control_request_free(req);
}

