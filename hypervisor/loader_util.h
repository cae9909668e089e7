/*
 * Helpers the kernel loaders share: little-endian field access in image and
 * boot-structure bytes, and the one-sentence error they hand back.
 */
#ifndef FBVM_LOADER_UTIL_H
#define FBVM_LOADER_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "guest_mem.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static inline void wr8(uint8_t *p, unsigned int off, uint8_t v)
{
	p[off] = v;
}

static inline void wr16(uint8_t *p, unsigned int off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static inline void wr32(uint8_t *p, unsigned int off, uint32_t v)
{
	wr16(p, off, (uint16_t)v);
	wr16(p, off + 2, (uint16_t)(v >> 16));
}

static inline void wr64(uint8_t *p, unsigned int off, uint64_t v)
{
	wr32(p, off, (uint32_t)v);
	wr32(p, off + 4, (uint32_t)(v >> 32));
}

/* Formats one sentence into err (when err_len > 0) and returns ret, so a
 * failure reads `return loader_error(err, err_len, -ENOEXEC, "...", ...);`. */
static inline int loader_error(char *err, size_t err_len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline int loader_error(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static inline unsigned long long ram_mib(const struct guest_mem *mem)
{
	return (unsigned long long)(mem->ram_bytes >> 20);
}

#endif
