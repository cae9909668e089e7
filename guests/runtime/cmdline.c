#include "guest.h"

static char cmdline_buf[CMDLINE_MAX_BYTES];

void cmdline_init(uint64_t paddr)
{
	const char *src = (const char *)(uintptr_t)paddr;
	size_t i = 0;

	if (paddr && paddr < 0xFFFFFFFFull - CMDLINE_MAX_BYTES) {
		for (; i < CMDLINE_MAX_BYTES - 1 && src[i]; i++)
			cmdline_buf[i] = src[i];
	}
	cmdline_buf[i] = '\0';
}

const char *cmdline_text(void)
{
	return cmdline_buf;
}

static int cmdline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Finds the last word whose name (up to '=' or the word's end) equals key.
 * Returns a pointer to the word and sets *name_len and *word_len.
 */
static const char *cmdline_find(const char *key, size_t *name_len, size_t *word_len)
{
	const char *p = cmdline_buf, *found = NULL;
	size_t key_len = str_len(key);

	while (*p) {
		size_t len = 0, nlen;

		while (cmdline_is_space(*p))
			p++;
		while (p[len] && !cmdline_is_space(p[len]))
			len++;
		for (nlen = 0; nlen < len && p[nlen] != '='; nlen++)
			;
		if (len && nlen == key_len && str_ncmp(p, key, key_len) == 0) {
			found = p;
			*name_len = nlen;
			*word_len = len;
		}
		p += len;
	}
	return found;
}

int cmdline_get(const char *key, char *buf, size_t size)
{
	size_t nlen, wlen, vlen;
	const char *w = cmdline_find(key, &nlen, &wlen);

	if (!w || nlen == wlen)         /* absent, or a bare flag */
		return -ENOENT;
	vlen = wlen - nlen - 1;
	if (vlen + 1 > size)
		return -ENOSPC;
	memcpy(buf, w + nlen + 1, vlen);
	buf[vlen] = '\0';
	return (int)vlen;
}

int cmdline_get_u64(const char *key, uint64_t *out)
{
	char val[32];
	const char *p = val;
	unsigned base = 10;
	uint64_t v = 0;
	int n = cmdline_get(key, val, sizeof(val));

	if (n == -ENOSPC)
		return -EINVAL;
	if (n < 0)
		return n;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -EINVAL;
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			return -EINVAL;
	}
	*out = v;
	return 0;
}

int cmdline_has_flag(const char *flag)
{
	size_t nlen, wlen;
	const char *w = cmdline_find(flag, &nlen, &wlen);

	return w && nlen == wlen;
}
