/* Per-address back-off after failed VNC authentications (see auth_backoff.h). */
#include "auth_backoff.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* An IPv6 address is keyed by its first 8 bytes, the /64 prefix. */
#define VNC_BACKOFF_IPV6_PREFIX_BYTES 8

void vnc_backoff_init(struct vnc_backoff *b)
{
	memset(b, 0, sizeof(*b));
}

bool vnc_backoff_addr_from_sockaddr(struct vnc_backoff_addr *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->bytes[10] = 0xff;
		out->bytes[11] = 0xff;
		memcpy(&out->bytes[12], &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(out->bytes, &in6->sin6_addr, 16);
		/* An IPv4-mapped address is that IPv4 host: keep all of it. */
		if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memset(&out->bytes[VNC_BACKOFF_IPV6_PREFIX_BYTES], 0,
			       16 - VNC_BACKOFF_IPV6_PREFIX_BYTES);
		return true;
	}
	return false;
}

bool vnc_backoff_addr_from_text(struct vnc_backoff_addr *out, const char *addr_port)
{
	char host[INET6_ADDRSTRLEN];
	const char *start = addr_port, *end;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (*start == '[') {
		start++;
		end = strchr(start, ']');
	} else {
		end = strrchr(start, ':');
	}
	if (!end || end == start || (size_t)(end - start) >= sizeof(host))
		return false;
	len = (size_t)(end - start);
	memcpy(host, start, len);
	host[len] = '\0';
	if (addr_port[0] == '[') {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
			return false;
		return vnc_backoff_addr_from_sockaddr(out, (const struct sockaddr *)&sin6);
	} else {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return false;
		return vnc_backoff_addr_from_sockaddr(out, (const struct sockaddr *)&sin);
	}
}

/* An entry that stopped failing long ago and waits no more is as good as none. */
static bool vnc_backoff_stale(const struct vnc_backoff_entry *e, uint64_t now_ms)
{
	return now_ms >= e->wait_until_ms && now_ms - e->last_failure_ms >= VNC_BACKOFF_FORGET_MS;
}

static struct vnc_backoff_entry *vnc_backoff_find(struct vnc_backoff *b,
						  const struct vnc_backoff_addr *addr)
{
	for (unsigned int i = 0; i < VNC_BACKOFF_ENTRIES; i++) {
		struct vnc_backoff_entry *e = &b->entries[i];
		if (e->used && !memcmp(&e->addr, addr, sizeof(*addr)))
			return e;
	}
	return NULL;
}

/* A free entry, else the least recently seen one (forgotten). */
static struct vnc_backoff_entry *vnc_backoff_take(struct vnc_backoff *b)
{
	struct vnc_backoff_entry *oldest = &b->entries[0];

	for (unsigned int i = 0; i < VNC_BACKOFF_ENTRIES; i++) {
		struct vnc_backoff_entry *e = &b->entries[i];
		if (!e->used)
			return e;
		if (e->last_seen_ms < oldest->last_seen_ms)
			oldest = e;
	}
	b->stats.evictions++;
	return oldest;
}

uint64_t vnc_backoff_wait_ms(struct vnc_backoff *b, const struct vnc_backoff_addr *addr,
			     uint64_t now_ms)
{
	struct vnc_backoff_entry *e = vnc_backoff_find(b, addr);

	if (!e)
		return 0;
	e->last_seen_ms = now_ms;
	return now_ms < e->wait_until_ms ? e->wait_until_ms - now_ms : 0;
}

uint64_t vnc_backoff_failed(struct vnc_backoff *b, const struct vnc_backoff_addr *addr,
			    uint64_t now_ms, uint32_t *failures)
{
	struct vnc_backoff_entry *e = vnc_backoff_find(b, addr);
	uint64_t wait = 0;

	if (e && vnc_backoff_stale(e, now_ms))
		memset(e, 0, sizeof(*e));
	if (!e || !e->used) {
		if (!e)
			e = vnc_backoff_take(b);
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->addr = *addr;
		e->next_wait_ms = VNC_BACKOFF_FIRST_MS;
	}
	e->last_seen_ms = now_ms;
	e->last_failure_ms = now_ms;
	if (e->failures < UINT32_MAX)
		e->failures++;
	if (e->failures >= VNC_BACKOFF_FREE_FAILURES) {
		wait = e->next_wait_ms;
		e->wait_until_ms = now_ms + wait;
		e->next_wait_ms = e->next_wait_ms >= VNC_BACKOFF_MAX_MS / 2 ?
			VNC_BACKOFF_MAX_MS : e->next_wait_ms * 2;
		b->stats.waits_started++;
	}
	*failures = e->failures;
	return wait;
}

void vnc_backoff_passed(struct vnc_backoff *b, const struct vnc_backoff_addr *addr)
{
	struct vnc_backoff_entry *e = vnc_backoff_find(b, addr);

	if (e)
		memset(e, 0, sizeof(*e));
}

unsigned int vnc_backoff_entries_used(const struct vnc_backoff *b)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < VNC_BACKOFF_ENTRIES; i++)
		n += b->entries[i].used;
	return n;
}
