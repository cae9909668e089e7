/*
 * One-line, subsystem-tagged logging with per-call-site rate limiting.
 *
 * Every line is built in one buffer on the caller's stack and written with
 * one write(2), so lines from different threads never interleave. It uses
 * snprintf and pthread_getname_np, so it is not async-signal-safe: no signal
 * handler calls it (the fault handler and the terminal's handlers write
 * their own lines with write(2); hypervisor/thread.c, terminal.c).
 */
#ifndef FBVM_LOG_H
#define FBVM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_INFO; --verbose sets LOG_DEBUG. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* --log-format: text (default) "subsys: message", or one JSON object per
 * line: {"time":"2026-12-05T00:12:49.123Z" (UTC), "level":"info",
 * "component":"vnc", "thread":"vnc", "message":"...", then the message's
 * own key=value words and any log_msg_fields() fields as string members}. */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
void log_set_format(enum log_format format);
enum log_format log_get_format(void);

/* While the terminal is in raw mode a bare '\n' does not return the carriage. */
void log_set_raw_terminal(bool raw);

/* Writes "subsys: message\n" (warnings and errors say so) to stderr as one write(2). */
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A named value for JSON logs (text logs leave it out: the message says it). */
struct log_field {
	const char *key;
	const char *value;
};

/* log_msg with extra fields for --log-format json, e.g. the client address. */
void log_msg_fields(enum log_level level, const char *subsys, const struct log_field *fields,
		    size_t n_fields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define log_error(subsys, ...) log_msg(LOG_ERROR, subsys, __VA_ARGS__)
#define log_warn(subsys, ...)  log_msg(LOG_WARN, subsys, __VA_ARGS__)
#define log_info(subsys, ...)  log_msg(LOG_INFO, subsys, __VA_ARGS__)
#define log_debug(subsys, ...) log_msg(LOG_DEBUG, subsys, __VA_ARGS__)

/*
 * Rate limit for events a guest or a client can trigger at any rate:
 * at most LOG_RATELIMIT_BURST lines per LOG_RATELIMIT_WINDOW_MS per call site;
 * the next allowed line reports how many were suppressed.
 */
#define LOG_RATELIMIT_BURST 5
#define LOG_RATELIMIT_WINDOW_MS 5000
struct log_ratelimit {
	uint64_t window_start_ms;
	unsigned int printed;
	unsigned int suppressed;
};

/* True when a line may be printed now; *suppressed gets the count dropped before it. */
bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned int *suppressed);

#define log_ratelimited(level, subsys, ...)                                    \
	do {                                                                   \
		static struct log_ratelimit log_rl_;                           \
		unsigned int log_sup_;                                         \
		if (log_ratelimit_allow(&log_rl_, &log_sup_)) {                \
			if (log_sup_)                                          \
				log_msg(level, subsys,                          \
					"%u similar messages suppressed",      \
					log_sup_);                             \
			log_msg(level, subsys, __VA_ARGS__);                   \
		}                                                              \
	} while (0)

/* Monotonic milliseconds, for rate limits and intervals. */
uint64_t log_now_ms(void);

#endif
