#include <stdint.h>

#include "fmt.h"

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;     /* bytes the full output needs, without the NUL */
};

static void fmt_put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		fmt_put(o, c);
}

/* Emits digits (already reversed in tmp) with sign and padding. */
static void fmt_number(struct fmt_out *o, uint64_t v, unsigned base, int upper,
		       int negative, int width, int left, int zero)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + (negative ? 1 : 0);
	if (!left && !zero)
		fmt_pad(o, ' ', width - len);
	if (negative)
		fmt_put(o, '-');
	if (!left && zero)
		fmt_pad(o, '0', width - len);
	while (n)
		fmt_put(o, tmp[--n]);
	if (left)
		fmt_pad(o, ' ', width - len);
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int left = 0, zero = 0, width = 0, longs = 0;

		if (*fmt != '%') {
			fmt_put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				zero = 1;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

			fmt_number(&o, mag, 10, 0, v < 0, width, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);

			fmt_number(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, width, left, zero);
			break;
		}
		case 'p':
			fmt_put(&o, '0');
			fmt_put(&o, 'x');
			fmt_number(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, width, left, zero);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = 0;

			if (!s)
				s = "(null)";
			while (s[len])
				len++;
			if (!left)
				fmt_pad(&o, ' ', width - len);
			while (*s)
				fmt_put(&o, *s++);
			if (left)
				fmt_pad(&o, ' ', width - len);
			break;
		}
		case 'c':
			fmt_pad(&o, ' ', left ? 0 : width - 1);
			fmt_put(&o, (char)va_arg(ap, int));
			fmt_pad(&o, ' ', left ? width - 1 : 0);
			break;
		case '%':
			fmt_put(&o, '%');
			break;
		case '\0':
			fmt--;  /* lone '%' at the end: stop at the NUL */
			break;
		default:        /* unknown conversion: print it as written */
			fmt_put(&o, '%');
			fmt_put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
