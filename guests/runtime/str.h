/*
 * Memory and string helpers. memset/memcpy/memmove/memcmp are real symbols
 * because gcc emits calls to them even in freestanding code.
 */
#ifndef GUEST_STR_H
#define GUEST_STR_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t str_len(const char *s);
/* Length of s, at most max (s need not be terminated within max bytes). */
size_t str_nlen(const char *s, size_t max);
int str_cmp(const char *a, const char *b);
int str_ncmp(const char *a, const char *b, size_t n);
/* 1 when a and b are equal, else 0. */
int str_eq(const char *a, const char *b);
/* Copies at most size-1 bytes and always terminates (size > 0). Returns
 * str_len(src); a result >= size means src was truncated. */
size_t str_copy(char *dst, const char *src, size_t size);

#endif
