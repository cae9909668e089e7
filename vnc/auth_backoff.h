/*
 * Back-off for addresses that fail VNC authentication: the first
 * VNC_BACKOFF_FREE_FAILURES failures in a row are free; from then on every
 * failure makes the address wait, VNC_BACKOFF_FIRST_MS the first time and
 * twice as long each time after, up to VNC_BACKOFF_MAX_MS. While it waits, its
 * connections are refused at connect time (no handshake, no DES, no sleep on
 * the vnc loop). A correct password clears the address; an address that has
 * not failed for VNC_BACKOFF_FORGET_MS starts afresh. TigerVNC's Xvnc keeps
 * a similar blacklist (-BlacklistThreshold 5, -BlacklistTimeout 10 s,
 * doubling).
 *
 * So a brute-force loop gets 3 guesses, then one after 1 s, 2 s, 4 s, ... and
 * one a minute from the 9th failure on (about 1440 a day per address), while
 * a viewer with the right password that mistyped it twice loses nothing.
 *
 * Addresses are keyed as IPv6 (IPv4 as ::ffff:a.b.c.d); IPv6 ones by their
 * /64 prefix, the smallest block a host is normally given (one host can pick
 * any address in its /64). The table holds VNC_BACKOFF_ENTRIES addresses and
 * forgets the least recently seen one when full, so a flood of addresses
 * cannot grow memory; it can only make an attacker with more than that many
 * addresses start afresh on some of them (documented in README).
 *
 * Pure bookkeeping on the vnc thread: no locks, no clock of its own (callers
 * pass now_ms), no logging.
 */
#ifndef FBVM_VNC_AUTH_BACKOFF_H
#define FBVM_VNC_AUTH_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;

#define VNC_BACKOFF_FREE_FAILURES 3
#define VNC_BACKOFF_FIRST_MS      1000u
#define VNC_BACKOFF_MAX_MS        60000u
#define VNC_BACKOFF_FORGET_MS     (10u * 60u * 1000u)
#define VNC_BACKOFF_ENTRIES       256

/* An address as the table keys it (see above). */
struct vnc_backoff_addr {
	uint8_t bytes[16];
};

struct vnc_backoff_entry {
	struct vnc_backoff_addr addr;
	uint64_t last_seen_ms;      /* for least-recently-seen eviction */
	uint64_t last_failure_ms;
	uint64_t wait_until_ms;     /* refused before this */
	uint32_t next_wait_ms;      /* the wait the next failure starts */
	uint32_t failures;          /* in a row */
	bool used;
};

struct vnc_backoff_stats {
	uint64_t waits_started;
	uint64_t evictions;         /* entries forgotten to make room */
};

struct vnc_backoff {
	struct vnc_backoff_entry entries[VNC_BACKOFF_ENTRIES];
	struct vnc_backoff_stats stats;
};

/* Empties the table. */
void vnc_backoff_init(struct vnc_backoff *b);

/* The key of an AF_INET or AF_INET6 socket address; false for other
 * families (they are all one key, zero: e.g. a local socket). */
bool vnc_backoff_addr_from_sockaddr(struct vnc_backoff_addr *out, const struct sockaddr *sa);

/* 0 when addr may try now, else how many ms it still waits. */
uint64_t vnc_backoff_wait_ms(struct vnc_backoff *b, const struct vnc_backoff_addr *addr,
			     uint64_t now_ms);

/* Records a failed authentication from addr; returns the wait it starts (0
 * while the failures are still free). *failures gets the count in a row. */
uint64_t vnc_backoff_failed(struct vnc_backoff *b, const struct vnc_backoff_addr *addr,
			    uint64_t now_ms, uint32_t *failures);

/* Records a successful authentication: addr starts afresh. */
void vnc_backoff_passed(struct vnc_backoff *b, const struct vnc_backoff_addr *addr);

/* The key of a client address as fbvm logs it: "192.0.2.7:50312" or
 * "[2001:db8::7]:50312" (the port is ignored). False, and the zero key,
 * for anything else. */
bool vnc_backoff_addr_from_text(struct vnc_backoff_addr *out, const char *addr_port);

/* Addresses the table holds now (for tests and --stats). */
unsigned int vnc_backoff_entries_used(const struct vnc_backoff *b);

#endif
