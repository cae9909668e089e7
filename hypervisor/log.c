#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
static bool raw_terminal;
static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }
void log_set_raw_terminal(bool raw) { raw_terminal = raw; }

uint64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void log_msg(enum log_level level, const char *subsys, const char *fmt, ...)
{
	/* One buffer, one write(2): lines from different threads never interleave. */
	char line[1024];
	size_t n, cap = sizeof(line) - 2; /* room for "\r\n" */
	int r;
	va_list ap;

	if (level > current_level)
		return;
	r = snprintf(line, cap, "%s: %s", subsys,
		     level == LOG_ERROR ? "error: " : level == LOG_WARN ? "warning: " : "");
	n = r < 0 ? 0 : (size_t)r < cap ? (size_t)r : cap - 1;
	va_start(ap, fmt);
	r = vsnprintf(line + n, cap - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < cap - n ? (size_t)r : cap - n - 1;
	if (raw_terminal)
		line[n++] = '\r';
	line[n++] = '\n';
	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
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
