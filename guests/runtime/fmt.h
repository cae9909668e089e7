/*
 * A small printf: conversions %d %i %u %x %X %p %s %c %%, flags '-' and
 * '0', a field width (digits or '*'), and the length modifiers l, ll, z for
 * 64-bit values. No floating point, no precision.
 */
#ifndef GUEST_FMT_H
#define GUEST_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like vsnprintf: writes at most size bytes including the NUL (when
 * size > 0) and returns the length the full output would have. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
