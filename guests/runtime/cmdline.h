/*
 * The kernel command line from hvm_start_info: words separated by spaces or
 * tabs, each either "key=value" or a bare flag. When a key repeats, the last
 * word wins. Lines longer than CMDLINE_MAX_BYTES - 1 are truncated.
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX_BYTES 1024

/* Copies the command line at paddr (0 = none) into a private buffer. */
void cmdline_init(uint64_t paddr);

/* The whole command line as given ("" when there was none). */
const char *cmdline_text(void);

/* Copies the value of key into buf (always terminated): returns its length,
 * -ENOENT when key is absent, -ENOSPC when it does not fit in buf. */
int cmdline_get(const char *key, char *buf, size_t size);

/* Parses the value of key as an unsigned number, decimal or 0x-prefixed
 * hex: 0, -ENOENT when absent, -EINVAL when malformed or above 2^64 - 1. */
int cmdline_get_u64(const char *key, uint64_t *out);

/* 1 when the bare word flag (no '=') is present, else 0. */
int cmdline_has_flag(const char *flag);

#endif
