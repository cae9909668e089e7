/*
 * VNC password authentication (see auth.h for the file rules and why the
 * password lives where it does). The DES response is computed with
 * libvncserver's rfbEncryptBytes (rfb/rfbproto.h; common/vncauth.c: the
 * password NUL-padded to 8 bytes as the key, each byte bit-reversed, DES-ECB
 * over the 16-byte challenge), the same code its own rfbCheckPasswordByList
 * uses, and compared in constant time.
 *
 * The challenge is libvncserver's too (rfbVncAuthSendChallenge ->
 * rfbRandomBytes): 16 outputs of libc's random(), which it seeds once with
 * time() ^ getpid(). Someone who guesses that seed (from one challenge and
 * a rough start time) knows every later challenge, and a known challenge
 * lets a fake server collect the right answer from a user ahead of time.
 * So every admitted client reseeds random() from getrandom() first, and
 * libvncserver's own first-use seeding is spent at start-up.
 */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <rfb/rfbproto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/log.h"

_Static_assert(VNC_AUTH_CHALLENGE_BYTES == CHALLENGESIZE, "libvncserver's challenge size");

struct vnc_auth {
	char *key;                 /* VNC_AUTH_PASSWORD_BYTES + NUL, in key_page */
	void *key_page;
	size_t key_page_bytes;
	struct vnc_backoff backoff;
	struct vnc_auth_stats stats;
};

/* Reads up to len bytes (fewer only at end of file). */
static ssize_t vnc_auth_read_some(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The rules of auth.h on an open file; 0 or -EINVAL with err set. */
static int vnc_auth_check_file(int fd, const char *path, char *err, size_t err_len)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, err_len, "--vnc-password-file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "--vnc-password-file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		snprintf(err, err_len, "--vnc-password-file %s: mode %04o lets group or others"
			 " read or write it; chmod 600 it", path, (unsigned int)(st.st_mode & 07777));
		return -EINVAL;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, err_len, "--vnc-password-file %s: owned by uid %u; must be yours"
			 " (uid %u) or root's", path, (unsigned int)st.st_uid,
			 (unsigned int)geteuid());
		return -EINVAL;
	}
	return 0;
}

int vnc_auth_read_password_file(const char *path, char key[VNC_AUTH_PASSWORD_BYTES + 1],
				bool *longer, char *err, size_t err_len)
{
	char *buf;
	size_t line;
	ssize_t n;
	int fd, ret;

	memset(key, 0, VNC_AUTH_PASSWORD_BYTES + 1);
	*longer = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, err_len, "--vnc-password-file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	ret = vnc_auth_check_file(fd, path, err, err_len);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	buf = malloc(VNC_AUTH_FILE_READ_BYTES);
	if (!buf) {
		close(fd);
		snprintf(err, err_len, "--vnc-password-file %s: out of memory", path);
		return -ENOMEM;
	}
	n = vnc_auth_read_some(fd, buf, VNC_AUTH_FILE_READ_BYTES);
	close(fd);
	if (n < 0) {
		snprintf(err, err_len, "--vnc-password-file %s: read failed: %s", path,
			 strerror((int)-n));
		ret = -EINVAL;
		goto out;
	}
	for (line = 0; line < (size_t)n && buf[line] != '\n'; line++)
		;
	if (line > 0 && line < (size_t)n && buf[line - 1] == '\r')
		line--;
	if (line == 0) {
		snprintf(err, err_len, "--vnc-password-file %s: the first line is empty; it must"
			 " hold the password", path);
		ret = -EINVAL;
		goto out;
	}
	if (memchr(buf, '\0', line)) {
		snprintf(err, err_len, "--vnc-password-file %s: the password contains a NUL byte",
			 path);
		ret = -EINVAL;
		goto out;
	}
	*longer = line > VNC_AUTH_PASSWORD_BYTES;
	memcpy(key, buf, *longer ? VNC_AUTH_PASSWORD_BYTES : line);
	ret = 0;
out:
	explicit_bzero(buf, VNC_AUTH_FILE_READ_BYTES);
	free(buf);
	return ret;
}

int vnc_auth_create(struct vnc_auth **out, const char *path, char *err, size_t err_len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vnc_auth *a;
	bool longer;
	int ret;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, err_len, "vnc: out of memory");
		return -ENOMEM;
	}
	a->key_page_bytes = page > 0 ? (size_t)page : 4096;
	a->key_page = mmap(NULL, a->key_page_bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->key_page == MAP_FAILED) {
		free(a);
		snprintf(err, err_len, "vnc: out of memory");
		return -ENOMEM;
	}
	/* Best effort: a lower RLIMIT_MEMLOCK only loses the no-swap promise. */
	if (mlock(a->key_page, a->key_page_bytes) < 0)
		log_debug("vnc", "cannot lock the password page: %s", strerror(errno));
	madvise(a->key_page, a->key_page_bytes, MADV_DONTDUMP);
	a->key = a->key_page;
	ret = vnc_auth_read_password_file(path, a->key, &longer, err, err_len);
	if (ret < 0) {
		vnc_auth_destroy(a);
		return ret;
	}
	if (longer)
		log_warn("vnc", "--vnc-password-file %s: the password is longer than %d characters;"
			 " VNC authentication uses only the first %d", path,
			 VNC_AUTH_PASSWORD_BYTES, VNC_AUTH_PASSWORD_BYTES);
	vnc_backoff_init(&a->backoff);
	{
		/* Spend libvncserver's one-time srandom(time ^ pid) now, so it
		 * never replaces a seed of ours (see the top of this file). */
		uint8_t spent[VNC_AUTH_CHALLENGE_BYTES];
		rfbRandomBytes(spent);
	}
	*out = a;
	return 0;
}

void vnc_auth_destroy(struct vnc_auth *a)
{
	if (!a)
		return;
	explicit_bzero(a->key_page, a->key_page_bytes);
	munlock(a->key_page, a->key_page_bytes);
	munmap(a->key_page, a->key_page_bytes);
	free(a);
}

bool vnc_auth_admit(struct vnc_auth *a, const struct vnc_backoff_addr *peer, const char *who,
		    uint64_t now_ms)
{
	uint64_t wait = vnc_backoff_wait_ms(&a->backoff, peer, now_ms);
	unsigned int seed;

	if (!wait) {
		/* This client's challenge comes from a seed nobody can know. */
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
			srandom(seed);
		else
			log_ratelimited(LOG_WARN, "vnc", "getrandom: %s; VNC challenges stay"
					" predictable", strerror(errno));
		explicit_bzero(&seed, sizeof(seed));
		return true;
	}
	a->stats.refused++;
	log_ratelimited(LOG_WARN, "vnc", "client %s refused: its address failed VNC"
			" authentication; it may try again in %" PRIu64 " ms", who, wait);
	return false;
}

/* Constant time: how much of a guess was right must not show in the timing. */
static bool vnc_auth_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

bool vnc_auth_check(struct vnc_auth *a, const struct vnc_backoff_addr *peer, const char *who,
		    const uint8_t challenge[VNC_AUTH_CHALLENGE_BYTES], const uint8_t *response,
		    size_t len, uint64_t now_ms)
{
	uint8_t expected[VNC_AUTH_CHALLENGE_BYTES];
	bool waiting = vnc_backoff_wait_ms(&a->backoff, peer, now_ms) > 0;
	bool ok = false;
	uint32_t failures;
	uint64_t wait;

	if (!waiting && len == VNC_AUTH_CHALLENGE_BYTES) {
		memcpy(expected, challenge, sizeof(expected));
		rfbEncryptBytes(expected, a->key);
		ok = vnc_auth_equal(expected, response, sizeof(expected));
		explicit_bzero(expected, sizeof(expected));
	}
	if (ok) {
		a->stats.passed++;
		vnc_backoff_passed(&a->backoff, peer);
		log_ratelimited(LOG_INFO, "vnc", "client %s passed VNC authentication", who);
		return true;
	}
	a->stats.failed++;
	wait = vnc_backoff_failed(&a->backoff, peer, now_ms, &failures);
	if (wait)
		log_ratelimited(LOG_WARN, "vnc", "client %s failed VNC authentication%s (%" PRIu32
				" in a row from its address); it waits %" PRIu64 " ms", who,
				waiting ? " while its address waits" : "", failures, wait);
	else
		log_ratelimited(LOG_WARN, "vnc", "client %s failed VNC authentication (%" PRIu32
				" in a row from its address)", who, failures);
	return false;
}

void vnc_auth_get_stats(const struct vnc_auth *a, struct vnc_auth_stats *out)
{
	*out = a->stats;
}

void vnc_auth_print_stats(const struct vnc_auth *a, FILE *out)
{
	fprintf(out, "stats: vnc: auth passed=%" PRIu64 " failed=%" PRIu64 " refused=%" PRIu64
		" waits=%" PRIu64 " addresses=%u evicted=%" PRIu64 "\n", a->stats.passed,
		a->stats.failed, a->stats.refused, a->backoff.stats.waits_started,
		vnc_backoff_entries_used(&a->backoff), a->backoff.stats.evictions);
}
