/*
 * libvncserver's own messages (the printf-style globals rfbLog and rfbErr,
 * which by default write time-stamped lines to stderr) routed through
 * hypervisor/log.h as "vnc: libvncserver: ..." lines: rfbLog's chatter
 * ("Enabling NewFBSize ...") at debug level, rfbErr at warn level,
 * rate-limited because clients can trigger it at any rate.
 */
#ifndef FBVM_VNC_RFBLOG_H
#define FBVM_VNC_RFBLOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Points rfbLog and rfbErr at our logger. Idempotent; any thread, before the
 * first rfbGetScreen. */
void vnc_rfblog_install(void);

/* While quiet, rfbErr messages go to debug level too: vnc_create reports a
 * failed bind itself, in one line, instead of libvncserver's perror. */
void vnc_rfblog_set_quiet(bool quiet);

/* Formats one libvncserver message into buf (size > 0) as one line: leading
 * blanks, trailing newlines and blanks removed, inner newlines and other
 * control characters turned into spaces. Returns the length. */
size_t vnc_rfblog_format(char *buf, size_t size, const char *fmt, va_list ap);

#endif
