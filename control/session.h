/*
 * The control server's state, shared by its two halves: control/server.c
 * (the socket, clients' buffers, events, the thread's loop) and
 * control/commands.c (what each command does). Only those two include it;
 * everything here runs on the control thread unless marked.
 */
#ifndef FBVM_CONTROL_SESSION_H
#define FBVM_CONTROL_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "control/png.h"
#include "control/protocol.h"
#include "control/server.h"
#include "display/schedule.h"

struct json_object;

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
	/* Its unread replies are past CONTROL_OUT_PAUSE_BYTES and it has read
	 * none of them since this time; 0: not stalled. */
	uint64_t stalled_since_ms;
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
	unsigned int vnc_clients;

	pthread_mutex_t vnc_lock;
	int vnc_efd;
	struct vnc_notice vnc_queue[CONTROL_VNC_QUEUE];   /* under vnc_lock */
	unsigned int vnc_queued;

	struct control_stats stats;
};


/* ---- server.c ---- */

/* {"return": ret, "id": id} (takes ret; NULL: {}); {"error": ...}. */
void control_reply(struct control_server *s, struct control_client *c, struct json_object *id,
		   struct json_object *ret);
void control_reply_error(struct control_server *s, struct control_client *c,
			 struct json_object *id, const char *cls, const char *desc);
/* {"event": name, "data": data, "timestamp": ...} to every client; takes data. */
void control_broadcast(struct control_server *s, const char *name, struct json_object *data);
/* The waiting command is answered: the client may run its next line. */
void control_client_finish_wait(struct control_client *c);

/* ---- commands.c ---- */

/* Runs one parsed command for c (takes req: freed, or kept while c waits). */
void control_execute(struct control_server *s, struct control_client *c,
		     struct control_request *req);
/* After a refresh: RESIZE events, waits and screendumps it ends. */
void control_check_waits(struct control_server *s);
/* A wait-screen past its deadline: the timeout error. */
void control_wait_timeout(struct control_server *s, struct control_client *c);
/* screendump's reply for req, from the shadow as it is now. */
void control_screendump(struct control_server *s, struct control_client *c,
			const struct control_request *req);
/* With --vnc none: one refresh of the share, on this thread. */
void control_refresh_now(struct control_server *s);
/* Plays the key events due at now; returns when the next is (0: none). */
uint64_t control_play_keys(struct control_server *s, uint64_t now);

#endif
