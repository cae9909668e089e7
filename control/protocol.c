#include "control/protocol.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devices/input.h"

/* json-c's nesting limit for a request: the deepest real one is 3 (the
 * object, "arguments", "region"); anything deeper is refused while parsing
 * (json-c parses iteratively, and frees what it built). */
#define CONTROL_JSON_MAX_DEPTH 8

struct command_spec {
	const char *name;
	enum control_cmd cmd;
	const char *const *args;   /* the argument names it takes, NULL-terminated */
};

static const char *const no_args[] = { NULL };
static const char *const screendump_args[] = { "file", NULL };
static const char *const send_key_args[] = { "keys", "hold-time", NULL };
static const char *const type_args[] = { "text", NULL };
static const char *const pointer_args[] = { "x", "y", "buttons", NULL };
static const char *const wait_args[] = { "change", "region", "color", "timeout", NULL };

static const struct command_spec commands[] = {
	{ "qmp_capabilities", CONTROL_CMD_QMP_CAPABILITIES, no_args },
	{ "query-status", CONTROL_CMD_QUERY_STATUS, no_args },
	{ "screendump", CONTROL_CMD_SCREENDUMP, screendump_args },
	{ "send-key", CONTROL_CMD_SEND_KEY, send_key_args },
	{ "type", CONTROL_CMD_TYPE, type_args },
	{ "pointer", CONTROL_CMD_POINTER, pointer_args },
	{ "wait-screen", CONTROL_CMD_WAIT_SCREEN, wait_args },
	{ "system_reset", CONTROL_CMD_SYSTEM_RESET, no_args },
	{ "quit", CONTROL_CMD_QUIT, no_args },
};

const char *control_cmd_name(enum control_cmd cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "?";
}

__attribute__((format(printf, 3, 4)))
static int fail(struct control_error *err, const char *cls, const char *fmt, ...)
{
	va_list ap;

	err->cls = cls;
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *type_name(json_type t)
{
	switch (t) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fraction";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

/* An integer argument in [min, max]. */
static int get_uint(struct json_object *args, const char *key, uint32_t min, uint32_t max,
		    bool required, uint32_t *out, struct control_error *err)
{
	struct json_object *v;
	int64_t n;

	if (!args || !json_object_object_get_ex(args, key, &v)) {
		if (required)
			return fail(err, CONTROL_ERR_GENERIC, "parameter '%s' is missing", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return fail(err, CONTROL_ERR_GENERIC, "parameter '%s' must be an integer, not %s",
			    key, type_name(json_object_get_type(v)));
	n = json_object_get_int64(v);
	/* json-c clamps what does not fit an int64 to its limits. */
	if (n < (int64_t)min || n > (int64_t)max)
		return fail(err, CONTROL_ERR_GENERIC, "parameter '%s': %lld is out of range"
			    " %u..%u", key, (long long)n, min, max);
	*out = (uint32_t)n;
	return 0;
}

static int get_string(struct json_object *args, const char *key, bool required,
		      const char **out, size_t *len, struct control_error *err)
{
	struct json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v)) {
		if (required)
			return fail(err, CONTROL_ERR_GENERIC, "parameter '%s' is missing", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail(err, CONTROL_ERR_GENERIC, "parameter '%s' must be a string, not %s",
			    key, type_name(json_object_get_type(v)));
	*out = json_object_get_string(v);
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	else if ((size_t)json_object_get_string_len(v) != strlen(*out))
		return fail(err, CONTROL_ERR_GENERIC, "parameter '%s' must not contain NUL", key);
	return 0;
}

static int parse_send_key(struct json_object *args, struct control_request *req,
			  struct control_error *err)
{
	struct json_object *keys;
	size_t n;

	req->u.send_key.hold_ms = CONTROL_HOLD_DEFAULT_MS;
	if (get_uint(args, "hold-time", 0, CONTROL_HOLD_MAX_MS, false, &req->u.send_key.hold_ms,
		     err))
		return -EINVAL;
	if (!args || !json_object_object_get_ex(args, "keys", &keys))
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'keys' is missing");
	if (!json_object_is_type(keys, json_type_array))
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'keys' must be an array, not %s",
			    type_name(json_object_get_type(keys)));
	n = json_object_array_length(keys);
	if (n == 0 || n > CONTROL_SEND_KEY_MAX)
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'keys' must name 1..%d keys,"
			    " not %zu", CONTROL_SEND_KEY_MAX, n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);
		const char *name;
		uint16_t qnum;

		/* QMP's form {"type": "qcode", "data": "ctrl"} too. */
		if (json_object_is_type(k, json_type_object)) {
			struct json_object *t, *d;
			if (!json_object_object_get_ex(k, "type", &t) ||
			    !json_object_object_get_ex(k, "data", &d) ||
			    !json_object_is_type(t, json_type_string) ||
			    strcmp(json_object_get_string(t), "qcode") ||
			    !json_object_is_type(d, json_type_string) ||
			    json_object_object_length(k) != 2)
				return fail(err, CONTROL_ERR_GENERIC, "keys[%zu]: must be a qcode name"
					    " or {\"type\": \"qcode\", \"data\": NAME}", i);
			k = d;
		}
		if (!json_object_is_type(k, json_type_string))
			return fail(err, CONTROL_ERR_GENERIC, "keys[%zu] must be a string, not %s", i,
				    type_name(json_object_get_type(k)));
		name = json_object_get_string(k);
		qnum = (size_t)json_object_get_string_len(k) == strlen(name) ?
			control_qcode_qnum(name) : 0;
		if (!qnum)
			return fail(err, CONTROL_ERR_GENERIC, "keys[%zu]: unknown key '%.64s' (QEMU"
				    " QKeyCode names: ctrl, alt, delete, a, ret ...)", i, name);
		for (size_t j = 0; j < i; j++)
			if (req->u.send_key.qnums[j] == qnum)
				return fail(err, CONTROL_ERR_GENERIC, "keys[%zu]: '%.64s' is named"
					    " twice", i, name);
		req->u.send_key.qnums[i] = qnum;
	}
	req->u.send_key.n = n;
	return 0;
}

static int parse_type(struct json_object *args, struct control_request *req,
		      struct control_error *err)
{
	const char *text;
	size_t len;

	if (get_string(args, "text", true, &text, &len, err))
		return -EINVAL;
	if (len == 0 || len > CONTROL_TYPE_MAX_CHARS)
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'text' must have 1..%d"
			    " characters, not %zu", CONTROL_TYPE_MAX_CHARS, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (control_char_qnum(c))
			continue;
		if (c >= 0x20 && c < 0x7f)
			return fail(err, CONTROL_ERR_GENERIC, "text[%zu]: '%c' cannot be typed on a"
				    " US keyboard; nothing was sent", i, c);
		return fail(err, CONTROL_ERR_GENERIC, "text[%zu]: character 0x%02x cannot be"
			    " typed on a US keyboard (ASCII letters, digits, punctuation, space,"
			    " \\n, \\t, \\b and escape can); nothing was sent", i, c);
	}
	req->u.type.text = text;
	req->u.type.len = len;
	return 0;
}

static int parse_pointer(struct json_object *args, struct control_request *req,
			 struct control_error *err)
{
	struct json_object *buttons;

	if (get_uint(args, "x", 0, CONTROL_COORD_MAX, true, &req->u.pointer.x, err) ||
	    get_uint(args, "y", 0, CONTROL_COORD_MAX, true, &req->u.pointer.y, err))
		return -EINVAL;
	if (!json_object_object_get_ex(args, "buttons", &buttons))
		return 0;
	if (!json_object_is_type(buttons, json_type_array))
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'buttons' must be an array,"
			    " not %s", type_name(json_object_get_type(buttons)));
	for (size_t i = 0; i < json_object_array_length(buttons); i++) {
		struct json_object *b = json_object_array_get_idx(buttons, i);
		const char *name = json_object_get_string(b);

		if (!json_object_is_type(b, json_type_string))
			return fail(err, CONTROL_ERR_GENERIC, "buttons[%zu] must be a string, not"
				    " %s", i, type_name(json_object_get_type(b)));
		if (!strcmp(name, "left"))
			req->u.pointer.buttons |= INPUT_BUTTON_LEFT;
		else if (!strcmp(name, "middle"))
			req->u.pointer.buttons |= INPUT_BUTTON_MIDDLE;
		else if (!strcmp(name, "right"))
			req->u.pointer.buttons |= INPUT_BUTTON_RIGHT;
		else
			return fail(err, CONTROL_ERR_GENERIC, "buttons[%zu]: '%.32s' must be left,"
				    " middle or right", i, name);
	}
	return 0;
}

/* "#rrggbb" */
static bool parse_color(const char *s, uint32_t *rgb)
{
	uint32_t v = 0;

	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*rgb = v;
	return true;
}

static int parse_wait(struct json_object *args, struct control_request *req,
		      struct control_error *err)
{
	struct json_object *change = NULL, *region = NULL;
	const char *color = NULL;
	uint32_t *dims[4] = { &req->u.wait.x, &req->u.wait.y, &req->u.wait.w, &req->u.wait.h };

	req->u.wait.timeout_ms = CONTROL_WAIT_DEFAULT_MS;
	if (get_uint(args, "timeout", 0, CONTROL_WAIT_MAX_MS, false, &req->u.wait.timeout_ms,
		     err) ||
	    get_string(args, "color", false, &color, NULL, err))
		return -EINVAL;
	if (args) {
		json_object_object_get_ex(args, "change", &change);
		json_object_object_get_ex(args, "region", &region);
	}
	if (change) {
		if (!json_object_is_type(change, json_type_boolean) ||
		    !json_object_get_boolean(change))
			return fail(err, CONTROL_ERR_GENERIC, "parameter 'change' must be true");
		if (region || color)
			return fail(err, CONTROL_ERR_GENERIC, "wait-screen takes 'change' or"
				    " 'region' with 'color', not both");
		req->u.wait.change = true;
		return 0;
	}
	if (!region || !color)
		return fail(err, CONTROL_ERR_GENERIC, "wait-screen needs \"change\": true, or"
			    " 'region' [x, y, w, h] with 'color' \"#rrggbb\"");
	if (!json_object_is_type(region, json_type_array) ||
	    json_object_array_length(region) != 4)
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'region' must be [x, y, w, h]");
	for (size_t i = 0; i < 4; i++) {
		struct json_object *v = json_object_array_get_idx(region, i);
		int64_t n;

		if (!json_object_is_type(v, json_type_int))
			return fail(err, CONTROL_ERR_GENERIC, "region[%zu] must be an integer, not"
				    " %s", i, type_name(json_object_get_type(v)));
		n = json_object_get_int64(v);
		if (n < (i < 2 ? 0 : 1) || n > CONTROL_COORD_MAX)
			return fail(err, CONTROL_ERR_GENERIC, "region[%zu]: %lld is out of range"
				    " %d..%d", i, (long long)n, i < 2 ? 0 : 1, CONTROL_COORD_MAX);
		*dims[i] = (uint32_t)n;
	}
	if (!parse_color(color, &req->u.wait.rgb))
		return fail(err, CONTROL_ERR_GENERIC, "parameter 'color': '%.32s' must be"
			    " \"#rrggbb\"", color);
	return 0;
}

static const struct command_spec *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int check_arg_names(const struct command_spec *spec, struct json_object *args,
			   struct control_error *err)
{
	json_object_object_foreach(args, key, val) {
		bool known = false;
		(void)val;
		for (const char *const *a = spec->args; *a; a++)
			known |= !strcmp(*a, key);
		if (!known)
			return fail(err, CONTROL_ERR_GENERIC, "%s: unknown parameter '%.64s'",
				    spec->name, key);
	}
	return 0;
}

int control_parse(const char *line, size_t len, struct control_request *req,
		  struct control_error *err)
{
	struct json_tokener *tok;
	struct json_object *exec, *args = NULL;
	const struct command_spec *spec;
	enum json_tokener_error jerr;
	size_t end;

	memset(req, 0, sizeof(*req));
	if (len > CONTROL_LINE_MAX_BYTES)
		return fail(err, CONTROL_ERR_GENERIC, "line longer than %d bytes",
			    CONTROL_LINE_MAX_BYTES);
	tok = json_tokener_new_ex(CONTROL_JSON_MAX_DEPTH);
	if (!tok)
		return fail(err, CONTROL_ERR_GENERIC, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	req->root = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* The whole line went in and a bare number or literal may go on: a
	 * NUL ends the input. */
	if (jerr == json_tokener_continue) {
		req->root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(req->root);
		req->root = NULL;
		return fail(err, CONTROL_ERR_GENERIC, "JSON parse error: unexpected end of line");
	}
	if (jerr != json_tokener_success || !req->root) {
		json_object_put(req->root);
		req->root = NULL;
		return fail(err, CONTROL_ERR_GENERIC, "JSON parse error: %s",
			    jerr != json_tokener_success ? json_tokener_error_desc(jerr) :
			    "null is not a command");
	}
	for (; end < len; end++) {
		if (line[end] != ' ' && line[end] != '\t' && line[end] != '\r')
			return fail(err, CONTROL_ERR_GENERIC, "JSON parse error: text after the"
				    " object at byte %zu", end);
	}
	if (!json_object_is_type(req->root, json_type_object))
		return fail(err, CONTROL_ERR_GENERIC, "a command must be a JSON object, not %s",
			    type_name(json_object_get_type(req->root)));
	json_object_object_get_ex(req->root, "id", &req->id);
	json_object_object_foreach(req->root, key, val) {
		(void)val;
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id"))
			return fail(err, CONTROL_ERR_GENERIC, "unknown member '%.64s' (a command"
				    " has execute, arguments and id)", key);
	}
	if (!json_object_object_get_ex(req->root, "execute", &exec))
		return fail(err, CONTROL_ERR_GENERIC, "member 'execute' is missing");
	if (!json_object_is_type(exec, json_type_string))
		return fail(err, CONTROL_ERR_GENERIC, "member 'execute' must be a string, not %s",
			    type_name(json_object_get_type(exec)));
	spec = find_command(json_object_get_string(exec));
	if (!spec)
		return fail(err, CONTROL_ERR_NOT_FOUND, "the command %.64s has not been found",
			    json_object_get_string(exec));
	if (json_object_object_get_ex(req->root, "arguments", &args)) {
		if (!json_object_is_type(args, json_type_object))
			return fail(err, CONTROL_ERR_GENERIC, "member 'arguments' must be an object,"
				    " not %s", type_name(json_object_get_type(args)));
		if (check_arg_names(spec, args, err))
			return -EINVAL;
	}
	req->cmd = spec->cmd;
	switch (spec->cmd) {
	case CONTROL_CMD_SCREENDUMP:
		return get_string(args, "file", false, &req->u.screendump.file, NULL, err);
	case CONTROL_CMD_SEND_KEY:
		return parse_send_key(args, req, err);
	case CONTROL_CMD_TYPE:
		return parse_type(args, req, err);
	case CONTROL_CMD_POINTER:
		return parse_pointer(args, req, err);
	case CONTROL_CMD_WAIT_SCREEN:
		return parse_wait(args, req, err);
	default:
		return 0;
	}
}

void control_request_free(struct control_request *req)
{
	json_object_put(req->root);
	req->root = NULL;
	req->id = NULL;
}
