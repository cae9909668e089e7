#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
static enum log_format current_format = LOG_FORMAT_TEXT;
static bool raw_terminal;
static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }
void log_set_format(enum log_format format) { current_format = format; }
enum log_format log_get_format(void) { return current_format; }
void log_set_raw_terminal(bool raw) { raw_terminal = raw; }

uint64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_ERROR: return "error";
	case LOG_WARN: return "warn";
	case LOG_INFO: return "info";
	case LOG_DEBUG: return "debug";
	}
	return "info";
}

/* A bounded line buffer: an append that does not fit sets `full` and
 * writes nothing, so what is there always ends on a whole character. */
struct line {
	char *buf;
	size_t len, cap;
	bool full;
};

static void line_putn(struct line *l, const char *s, size_t n)
{
	if (l->full || n > l->cap - l->len) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
	line_putn(l, s, strlen(s));
}

/* s[0..n) as the inside of a JSON string (RFC 8259 section 7). */
static void line_put_json(struct line *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n && !l->full; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', (char)c };
		size_t len = 2;

		if (c == '\n') {
			esc[1] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		} else if (c != '"' && c != '\\') {
			esc[0] = (char)c;
			len = 1;
		}
		line_putn(l, esc, len);
	}
}

/* ,"key":"value" — whole or not at all. */
static void line_put_field(struct line *l, const char *key, size_t key_len, const char *value,
			   size_t value_len)
{
	size_t start = l->len;

	line_puts(l, ",\"");
	line_put_json(l, key, key_len);
	line_puts(l, "\":\"");
	line_put_json(l, value, value_len);
	line_puts(l, "\"");
	if (l->full)
		l->len = start;
}

static bool is_key_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* Fields the message itself carries as `key=value` words (the text format's
 * convention, STYLE.md), so JSON readers need not parse messages. Keys that
 * would shadow the fixed members are left in the message only. */
static void line_put_message_fields(struct line *l, const char *msg)
{
	static const char *const reserved[] = { "time", "level", "component", "thread",
						"message" };
	const char *p = msg;

	while (*p && !l->full) {
		const char *key = p, *eq, *value, *end;
		bool skip = false;

		while (*p && *p != ' ' && *p != '\t')
			p++;
		end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		eq = memchr(key, '=', (size_t)(end - key));
		if (!eq || eq == key || eq + 1 == end)
			continue;
		for (const char *k = key; k < eq; k++)
			if (!is_key_char(*k, k == key))
				skip = true;
		for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (strlen(reserved[i]) == (size_t)(eq - key) &&
			    !memcmp(reserved[i], key, (size_t)(eq - key)))
				skip = true;
		if (skip)
			continue;
		value = eq + 1;
		line_put_field(l, key, (size_t)(eq - key), value, (size_t)(end - value));
	}
}

static void write_line(const char *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* {"time":"2026-12-05T00:12:49.123Z","level":"info","component":"vnc",
 *  "thread":"vnc","message":"...", then the fields}. A line that does not
 * fit the buffer keeps what fits of the message, whole fields only, and
 * says "truncated":true. */
static void log_json(enum log_level level, const char *subsys, const char *msg,
		     const struct log_field *fields, size_t n_fields)
{
	static const char closing_truncated[] = "\",\"truncated\":true}\r\n";
	char out[4096];
	char stamp[64], thread[16] = "";
	/* Room kept for the closing: the message's quote, the marker, "}\r\n". */
	struct line l = { .buf = out, .cap = sizeof(out) - sizeof(closing_truncated) };
	struct timespec ts;
	bool truncated;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
	if (pthread_getname_np(pthread_self(), thread, sizeof(thread)) != 0)
		thread[0] = '\0';
	line_puts(&l, "{\"time\":\"");
	line_puts(&l, stamp);
	line_puts(&l, "\",\"level\":\"");
	line_puts(&l, level_name(level));
	line_puts(&l, "\",\"component\":\"");
	line_put_json(&l, subsys, strlen(subsys));
	line_puts(&l, "\",\"thread\":\"");
	line_put_json(&l, thread, strlen(thread));
	line_puts(&l, "\",\"message\":\"");
	line_put_json(&l, msg, strlen(msg));
	truncated = l.full;
	l.full = false;
	line_puts(&l, "\"");
	line_put_message_fields(&l, msg);
	for (size_t i = 0; i < n_fields; i++)
		line_put_field(&l, fields[i].key, strlen(fields[i].key), fields[i].value,
			       strlen(fields[i].value));
	truncated |= l.full;
	l.cap = sizeof(out);
	l.full = false;
	if (truncated)
		line_puts(&l, ",\"truncated\":true");
	line_puts(&l, "}");
	if (raw_terminal)
		line_puts(&l, "\r");
	line_puts(&l, "\n");
	write_line(out, l.len);
}

static void log_vmsg(enum log_level level, const char *subsys, const struct log_field *fields,
		     size_t n_fields, const char *fmt, va_list ap)
{
	/* One buffer, one write(2): lines from different threads never interleave. */
	char line[1024];
	size_t n, cap = sizeof(line) - 2; /* room for "\r\n" */
	int r;

	if (current_format == LOG_FORMAT_JSON) {
		r = vsnprintf(line, sizeof(line), fmt, ap);
		if (r < 0)
			line[0] = '\0';
		log_json(level, subsys, line, fields, n_fields);
		return;
	}
	r = snprintf(line, cap, "%s: %s", subsys,
		     level == LOG_ERROR ? "error: " : level == LOG_WARN ? "warning: " : "");
	n = r < 0 ? 0 : (size_t)r < cap ? (size_t)r : cap - 1;
	r = vsnprintf(line + n, cap - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < cap - n ? (size_t)r : cap - n - 1;
	if (raw_terminal)
		line[n++] = '\r';
	line[n++] = '\n';
	write_line(line, n);
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, subsys, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_msg_fields(enum log_level level, const char *subsys, const struct log_field *fields,
		    size_t n_fields, const char *fmt, ...)
{
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, subsys, fields, n_fields, fmt, ap);
	va_end(ap);
}

bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned int *suppressed)
{
	uint64_t now = log_now_ms();
	bool allow;

	pthread_mutex_lock(&ratelimit_lock);
	*suppressed = 0;
	if (rl->window_start_ms == 0 || now - rl->window_start_ms >= LOG_RATELIMIT_WINDOW_MS) {
		*suppressed = rl->suppressed;
		rl->window_start_ms = now ? now : 1;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	allow = rl->printed < LOG_RATELIMIT_BURST;
	if (allow)
		rl->printed++;
	else
		rl->suppressed++;
	pthread_mutex_unlock(&ratelimit_lock);
	return allow;
}
