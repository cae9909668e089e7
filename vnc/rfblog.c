#include "rfblog.h"

#include <rfb/rfb.h>
#include <stdio.h>
#include <string.h>

#include "hypervisor/log.h"

/* libvncserver's longest messages (a host name plus a sentence) fit easily;
 * longer ones are cut, not split. */
#define RFBLOG_LINE_BYTES 512

static _Atomic bool rfblog_quiet;

void vnc_rfblog_set_quiet(bool quiet)
{
	rfblog_quiet = quiet;
}

size_t vnc_rfblog_format(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t start = 0, len, out = 0;
	int n = vsnprintf(buf, size, fmt, ap);

	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	len = strlen(buf);
	while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	while (len > start && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	for (size_t i = start; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];
		buf[out++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	buf[out] = '\0';
	return out;
}

static void rfblog_info(const char *fmt, ...)
{
	char line[RFBLOG_LINE_BYTES];
	va_list ap;

	if (log_get_level() < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vnc_rfblog_format(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (line[0])
		log_debug("vnc", "libvncserver: %s", line);
}

static void rfblog_error(const char *fmt, ...)
{
	char line[RFBLOG_LINE_BYTES];
	va_list ap;

	if (rfblog_quiet && log_get_level() < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vnc_rfblog_format(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!line[0])
		return;
	if (rfblog_quiet)
		log_debug("vnc", "libvncserver: %s", line);
	else
		log_ratelimited(LOG_WARN, "vnc", "libvncserver: %s", line);
}

void vnc_rfblog_install(void)
{
	rfbLog = rfblog_info;
	rfbErr = rfblog_error;
}
