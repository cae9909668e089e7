/* One-line, subsystem-tagged logging with per-call-site rate limiting. */
#ifndef FBVM_LOG_H
#define FBVM_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_INFO; --verbose sets LOG_DEBUG. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* While the terminal is in raw mode a bare '\n' does not return the carriage. */
void log_set_raw_terminal(bool raw);

/* Writes "subsys: message\n" (warnings and errors say so) to stderr as one write(2). */
void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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
