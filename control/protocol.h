/*
 * The control socket's wire protocol, in QMP's shape (QEMU docs/interop/
 * qmp-spec.rst): one JSON object per line each way.
 *
 *   -> {"execute": "screendump", "arguments": {"file": "/tmp/s.png"}, "id": 7}
 *   <- {"return": {...}, "id": 7}
 *   <- {"error": {"class": "GenericError", "desc": "..."}, "id": 7}
 *   <- {"event": "STOP", "data": {...}, "timestamp": {"seconds": .., "microseconds": ..}}
 *
 * This unit turns one received line into a checked request, or an error
 * reply's class and text: it owns every "is this input acceptable" rule
 * that does not depend on the VM's state (tests/test_control_protocol.c
 * holds the table of bad inputs). json-c parses; nothing here is
 * hand-written JSON reading.
 */
#ifndef FBVM_CONTROL_PROTOCOL_H
#define FBVM_CONTROL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/keys.h"

struct json_object;

/* Longest line a client may send, newline excluded. A longer one gets an
 * error and the connection is closed (its end cannot be found safely). */
#define CONTROL_LINE_MAX_BYTES (64 * 1024)

/* wait-screen's timeout: default and upper bound. */
#define CONTROL_WAIT_DEFAULT_MS 10000
#define CONTROL_WAIT_MAX_MS     3600000

/* Screen coordinates a request may name (devices/display.h allows 4096). */
#define CONTROL_COORD_MAX 65535

enum control_cmd {
	CONTROL_CMD_QMP_CAPABILITIES,  /* accepted and ignored, for QMP clients */
	CONTROL_CMD_QUERY_STATUS,
	CONTROL_CMD_SCREENDUMP,
	CONTROL_CMD_SEND_KEY,
	CONTROL_CMD_TYPE,
	CONTROL_CMD_POINTER,
	CONTROL_CMD_WAIT_SCREEN,
	CONTROL_CMD_SYSTEM_RESET,
	CONTROL_CMD_QUIT,
};

/* QMP's error classes that apply here. */
#define CONTROL_ERR_GENERIC   "GenericError"
#define CONTROL_ERR_NOT_FOUND "CommandNotFound"

struct control_request {
	enum control_cmd cmd;
	struct json_object *root;   /* the parsed line; strings below point into it */
	struct json_object *id;     /* the client's "id", echoed; NULL when absent */
	union {
		struct {
			const char *file;   /* NULL: inline base64 */
		} screendump;
		struct {
			uint16_t qnums[CONTROL_SEND_KEY_MAX];
			size_t n;
			uint32_t hold_ms;
		} send_key;
		struct {
			const char *text;
			size_t len;
		} type;
		struct {
			uint32_t x, y;
			unsigned int buttons;   /* INPUT_BUTTON_* */
		} pointer;
		struct {
			bool change;            /* else region + color */
			uint32_t x, y, w, h;
			uint32_t rgb;           /* 0xRRGGBB */
			uint32_t timeout_ms;
		} wait;
	} u;
};

struct control_error {
	const char *cls;
	char desc[256];
};

/*
 * Parses line[0..len) (no newline). On success fills req (free it with
 * control_request_free) and returns 0. On failure returns -EINVAL with the
 * error in err, and req->id is the line's "id" when one could be read (the
 * error reply echoes it; free with control_request_free as well).
 */
int control_parse(const char *line, size_t len, struct control_request *req,
		  struct control_error *err);

void control_request_free(struct control_request *req);

/* The command's wire name ("screendump"). */
const char *control_cmd_name(enum control_cmd cmd);

#endif
