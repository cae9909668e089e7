#include "control/client.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/png.h"

/* The id every request of ours carries. */
#define CTL_ID 1

int ctl_unescape(const char *in, char *out, size_t *out_len)
{
	size_t n = 0;

	while (*in) {
		char c = *in++;
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		c = *in++;
		switch (c) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'b': out[n++] = '\b'; break;
		case 'e': out[n++] = 0x1b; break;
		case '\\': out[n++] = '\\'; break;
		case 'x': {
			unsigned int v = 0;
			for (int i = 0; i < 2; i++) {
				char h = *in++;
				int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ?
					h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
				if (d < 0)
					return -EINVAL;
				v = v << 4 | (unsigned int)d;
			}
			/* JSON strings are UTF-8: one byte is ASCII. */
			if (v == 0 || v > 0x7f)
				return -EINVAL;
			out[n++] = (char)v;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	out[n] = '\0';
	*out_len = n;
	return 0;
}

__attribute__((format(printf, 1, 2)))
static int usage(const char *fmt, ...)
{
	va_list ap;

	fputs("fbvm ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see fbvm --help)\n", stderr);
	return CTL_EXIT_USAGE;
}

static bool parse_uint(const char *s, unsigned long max, int64_t *out)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = (int64_t)v;
	return true;
}

/* "X,Y,W,H" */
static struct json_object *parse_region(const char *s)
{
	struct json_object *arr = json_object_new_array();
	char buf[64];
	char *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int64_t v;
		if (!parse_uint(tok, 65535, &v) || n == 4) {
			json_object_put(arr);
			return NULL;
		}
		json_object_array_add(arr, json_object_new_int64(v));
		n++;
	}
	if (n != 4) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

/* Builds the arguments of cmd from argv; NULL after printing a usage error.
 * *inline_dump: screendump to stdout. */
static int build_args(const char *cmd, int argc, char **argv, struct json_object *args,
		      bool *inline_dump, const char **dump_path)
{
	if (!strcmp(cmd, "query-status") || !strcmp(cmd, "system_reset") || !strcmp(cmd, "quit")) {
		if (argc)
			return usage("%s takes no arguments", cmd);
		return 0;
	}
	if (!strcmp(cmd, "screendump")) {
		char cwd[PATH_MAX];
		if (argc != 1)
			return usage("screendump FILE.png, or - for stdout");
		if (!strcmp(argv[0], "-")) {
			*inline_dump = true;
			return 0;
		}
		*dump_path = argv[0];
		/* fbvm's working directory is not ours: send an absolute path. */
		if (argv[0][0] != '/' && getcwd(cwd, sizeof(cwd))) {
			char *abs;
			if (asprintf(&abs, "%s/%s", cwd, argv[0]) < 0)
				return usage("out of memory");
			json_object_object_add(args, "file", json_object_new_string(abs));
			free(abs);
		} else {
			json_object_object_add(args, "file", json_object_new_string(argv[0]));
		}
		return 0;
	}
	if (!strcmp(cmd, "type")) {
		char *text;
		size_t len;
		if (argc != 1)
			return usage("type TEXT (one argument; quote it)");
		text = malloc(strlen(argv[0]) + 1);
		if (!text)
			return usage("out of memory");
		if (ctl_unescape(argv[0], text, &len) < 0) {
			free(text);
			return usage("type %s: unknown escape (\\n \\t \\b \\e \\\\ \\xHH"
				     " with HH 01..7f)", argv[0]);
		}
		json_object_object_add(args, "text", json_object_new_string_len(text, (int)len));
		free(text);
		return 0;
	}
	if (!strcmp(cmd, "send-key")) {
		struct json_object *keys = json_object_new_array();
		int i = 0;
		if (argc >= 2 && !strcmp(argv[0], "--hold")) {
			int64_t ms;
			if (!parse_uint(argv[1], 10000, &ms)) {
				json_object_put(keys);
				return usage("send-key --hold %s: must be 0..10000 ms", argv[1]);
			}
			json_object_object_add(args, "hold-time", json_object_new_int64(ms));
			i = 2;
		}
		if (i >= argc) {
			json_object_put(keys);
			return usage("send-key [--hold MS] KEY... (QEMU key names: ctrl alt delete)");
		}
		for (; i < argc; i++)
			json_object_array_add(keys, json_object_new_string(argv[i]));
		json_object_object_add(args, "keys", keys);
		return 0;
	}
	if (!strcmp(cmd, "pointer")) {
		int64_t x, y;
		if ((argc != 2 && argc != 3) || !parse_uint(argv[0], 65535, &x) ||
		    !parse_uint(argv[1], 65535, &y))
			return usage("pointer X Y [left,middle,right]");
		json_object_object_add(args, "x", json_object_new_int64(x));
		json_object_object_add(args, "y", json_object_new_int64(y));
		if (argc == 3) {
			struct json_object *buttons = json_object_new_array();
			char buf[64], *save = NULL;
			snprintf(buf, sizeof(buf), "%s", argv[2]);
			for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
				json_object_array_add(buttons, json_object_new_string(t));
			json_object_object_add(args, "buttons", buttons);
		}
		return 0;
	}
	if (!strcmp(cmd, "wait-screen")) {
		for (int i = 0; i < argc; i++) {
			const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
			int64_t ms;
			if (!strcmp(opt, "--change")) {
				json_object_object_add(args, "change", json_object_new_boolean(1));
				continue;
			}
			if (!val)
				return usage("wait-screen %s: needs a value", opt);
			i++;
			if (!strcmp(opt, "--timeout")) {
				if (!parse_uint(val, 3600000, &ms))
					return usage("wait-screen --timeout %s: must be 0..3600000 ms",
						     val);
				json_object_object_add(args, "timeout", json_object_new_int64(ms));
			} else if (!strcmp(opt, "--region")) {
				struct json_object *r = parse_region(val);
				if (!r)
					return usage("wait-screen --region %s: must be X,Y,W,H", val);
				json_object_object_add(args, "region", r);
			} else if (!strcmp(opt, "--color")) {
				json_object_object_add(args, "color", json_object_new_string(val));
			} else {
				return usage("wait-screen: unknown option %s", opt);
			}
		}
		return 0;
	}
	return usage("unknown command '%s'", cmd);
}

static int connect_socket(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "fbvm ctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "fbvm ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		data += w;
		len -= (size_t)w;
	}
	return true;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decodes base64 to stdout. */
static int write_base64(const char *s)
{
	uint32_t acc = 0;
	int bits = 0;
	struct byte_buf out = { 0 };
	int ret = CTL_EXIT_OK;

	for (; *s && *s != '='; s++) {
		int v = b64_value(*s);
		if (v < 0) {
			fprintf(stderr, "fbvm ctl: bad base64 in the reply\n");
			byte_buf_free(&out);
			return CTL_EXIT_ERROR;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			uint8_t byte = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
			if (byte_buf_append(&out, &byte, 1) < 0) {
				byte_buf_free(&out);
				return CTL_EXIT_ERROR;
			}
		}
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, "fbvm ctl: writing stdout: %s\n", strerror(errno));
		ret = CTL_EXIT_ERROR;
	}
	byte_buf_free(&out);
	return ret;
}

/* The reply with our id: prints it, returns the exit status. */
static int handle_reply(struct json_object *reply, bool inline_dump, const char *dump_path)
{
	struct json_object *ret, *err, *desc, *data;

	if (json_object_object_get_ex(reply, "error", &err)) {
		fprintf(stderr, "fbvm ctl: %s\n",
			json_object_object_get_ex(err, "desc", &desc) ?
			json_object_get_string(desc) : json_object_to_json_string(err));
		return CTL_EXIT_ERROR;
	}
	if (!json_object_object_get_ex(reply, "return", &ret)) {
		fprintf(stderr, "fbvm ctl: reply without return or error: %s\n",
			json_object_to_json_string(reply));
		return CTL_EXIT_ERROR;
	}
	if (inline_dump) {
		if (!json_object_object_get_ex(ret, "data", &data)) {
			fprintf(stderr, "fbvm ctl: screendump reply without data\n");
			return CTL_EXIT_ERROR;
		}
		return write_base64(json_object_get_string(data));
	}
	if (dump_path)
		return CTL_EXIT_OK;
	/* {} says nothing: print only results with content. */
	if (json_object_is_type(ret, json_type_object) && json_object_object_length(ret) == 0)
		return CTL_EXIT_OK;
	printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	return CTL_EXIT_OK;
}

/* Reads lines until the reply with our id. */
static int await_reply(int fd, bool inline_dump, const char *dump_path)
{
	struct byte_buf in = { 0 };
	char chunk[4096];
	size_t scanned = 0;

	for (;;) {
		uint8_t *nl = in.len > scanned ? memchr(in.data + scanned, '\n', in.len - scanned) :
			      NULL;
		if (nl) {
			size_t len = (size_t)(nl - in.data);
			struct json_object *obj, *id;
			int status = -1;

			*nl = '\0';
			obj = json_tokener_parse((const char *)in.data);
			if (obj && json_object_object_get_ex(obj, "id", &id) &&
			    json_object_is_type(id, json_type_int) && json_object_get_int(id) == CTL_ID)
				status = handle_reply(obj, inline_dump, dump_path);
			else if (obj && json_object_object_get_ex(obj, "error", &id) &&
				 !json_object_object_get_ex(obj, "id", &id))
				/* An error without id is about the connection (too many clients). */
				status = handle_reply(obj, false, NULL);
			json_object_put(obj);
			if (status >= 0) {
				byte_buf_free(&in);
				return status;
			}
			memmove(in.data, nl + 1, in.len - len - 1);
			in.len -= len + 1;
			scanned = 0;
			continue;
		}
		scanned = in.len;
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "fbvm ctl: the connection closed before the reply%s%s\n",
				r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
			byte_buf_free(&in);
			return CTL_EXIT_CONNECT;
		}
		if (byte_buf_append(&in, chunk, (size_t)r) < 0) {
			fprintf(stderr, "fbvm ctl: out of memory\n");
			byte_buf_free(&in);
			return CTL_EXIT_ERROR;
		}
	}
}

int ctl_main(int argc, char **argv)
{
	struct json_object *req, *args;
	bool inline_dump = false;
	const char *dump_path = NULL;
	const char *text;
	size_t len;
	int fd, status;

	if (argc < 2)
		return usage("ctl SOCKET COMMAND [ARGS]");
	if (!strcmp(argv[1], "raw")) {
		struct json_object *id;
		if (argc != 3)
			return usage("raw '{\"execute\": ...}'");
		req = json_tokener_parse(argv[2]);
		if (!req || !json_object_is_type(req, json_type_object)) {
			json_object_put(req);
			return usage("raw: not a JSON object");
		}
		if (json_object_object_get_ex(req, "id", &id))
			json_object_object_del(req, "id");
	} else {
		req = json_object_new_object();
		args = json_object_new_object();
		status = build_args(argv[1], argc - 2, argv + 2, args, &inline_dump, &dump_path);
		if (status) {
			json_object_put(args);
			json_object_put(req);
			return status;
		}
		json_object_object_add(req, "execute", json_object_new_string(argv[1]));
		if (json_object_object_length(args))
			json_object_object_add(req, "arguments", args);
		else
			json_object_put(args);
	}
	json_object_object_add(req, "id", json_object_new_int(CTL_ID));
	fd = connect_socket(argv[0]);
	if (fd < 0) {
		json_object_put(req);
		return CTL_EXIT_CONNECT;
	}
	text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!send_all(fd, text, len) || !send_all(fd, "\n", 1)) {
		fprintf(stderr, "fbvm ctl: %s: sending: %s\n", argv[0], strerror(errno));
		json_object_put(req);
		close(fd);
		return CTL_EXIT_CONNECT;
	}
	json_object_put(req);
	status = await_reply(fd, inline_dump, dump_path);
	close(fd);
	return status;
}
