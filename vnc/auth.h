/*
 * VNC password authentication (RFC 6143 7.2.2, "VNC Authentication"): the
 * password from --vnc-password-file, the check of a client's DES response,
 * and who may try at all (vnc/auth_backoff.h: addresses that failed three
 * times wait, 1 s doubling up to 60 s).
 *
 * libvncserver runs the handshake: with screen->authPasswdData set it offers
 * only VNC authentication, sends the 16-byte challenge (cl->authChallenge)
 * and hands the client's 16-byte response to screen->passwordCheck, which
 * calls vnc_auth_check(). The vnc server's newClientHook calls
 * vnc_auth_admit() first, so an address that is waiting is refused at
 * connect time without a read, a sleep or a DES computation: nothing here
 * blocks the vnc loop.
 *
 * The password file (the rules, in the order they are checked; each failure
 * is one line "--vnc-password-file PATH: ..." and fbvm exits with status 2):
 *  - it opens for reading and is a regular file;
 *  - no group or other permission to read or write it (mode 0600 or 0400,
 *    as ssh wants of a private key): a password others can read protects
 *    nothing, one others can write is theirs;
 *  - it is owned by the user running fbvm or by root (an owner who is
 *    someone else could make it readable again);
 *  - its first line (up to '\n', a '\r' before it dropped; the whole file
 *    when it has no newline), as QEMU's password-secret file, is the
 *    password: not empty, no NUL byte.
 * VNC authentication keys DES with the password's first 8 bytes and ignores
 * the rest (every server and viewer does): a longer password is accepted with
 * one warning line, since viewers truncate it the same way.
 *
 * The password is kept, NUL-padded to 8 bytes, in a page of its own that is
 * locked in memory (never swapped, when RLIMIT_MEMLOCK allows) and left out
 * of core dumps, and zeroed when the server is destroyed. The buffers it
 * passes through while the file is read are zeroed too. It never appears in
 * a log line, --stats or argv (only the file's path does).
 */
#ifndef FBVM_VNC_AUTH_H
#define FBVM_VNC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vnc/auth_backoff.h"

/* What VNC authentication uses of a password: the DES key is 8 bytes. */
#define VNC_AUTH_PASSWORD_BYTES 8

/* The RFB challenge and response (libvncserver's CHALLENGESIZE). */
#define VNC_AUTH_CHALLENGE_BYTES 16

/* How much of the file is read to find the first line; a first line longer
 * than this is still fine (only its first 8 bytes count). */
#define VNC_AUTH_FILE_READ_BYTES 4096

struct vnc_auth;

struct vnc_auth_stats {
	uint64_t passed;          /* correct responses */
	uint64_t failed;          /* wrong responses (or any, from a waiting address) */
	uint64_t refused;         /* connections refused: their address was waiting */
};

/*
 * Reads the password from the file at path under the rules above into key
 * (NUL-padded to VNC_AUTH_PASSWORD_BYTES, plus a terminating NUL); *longer
 * says the first line had more than VNC_AUTH_PASSWORD_BYTES bytes. Returns 0,
 * or -EINVAL with one line in err ("--vnc-password-file PATH: ..."). Nothing
 * of the password is left anywhere but key.
 */
int vnc_auth_read_password_file(const char *path, char key[VNC_AUTH_PASSWORD_BYTES + 1],
				bool *longer, char *err, size_t err_len);

/*
 * Creates the authentication state with the password from the file at path
 * (logs one warning when it is longer than 8 bytes). 0, -EINVAL (err holds
 * the line) or -ENOMEM.
 */
int vnc_auth_create(struct vnc_auth **out, const char *path, char *err, size_t err_len);

/* Zeroes the password and frees everything. NULL is fine. */
void vnc_auth_destroy(struct vnc_auth *a);

/*
 * At connect time: may a client from peer try now? False (and a
 * rate-limited log line naming who, the client's "address:port") while the
 * address waits after failed authentications. True reseeds libc's random()
 * from getrandom(): libvncserver draws the client's challenge from it.
 */
bool vnc_auth_admit(struct vnc_auth *a, const struct vnc_backoff_addr *peer, const char *who,
		    uint64_t now_ms);

/*
 * Is response (len bytes) the challenge encrypted with the password? Records
 * the result for peer's back-off and logs failures (rate-limited, with who).
 * A client whose address started waiting while it was connected fails
 * whatever it sent, so parallel connections do not multiply the guesses.
 */
bool vnc_auth_check(struct vnc_auth *a, const struct vnc_backoff_addr *peer, const char *who,
		    const uint8_t challenge[VNC_AUTH_CHALLENGE_BYTES], const uint8_t *response,
		    size_t len, uint64_t now_ms);

void vnc_auth_get_stats(const struct vnc_auth *a, struct vnc_auth_stats *out);

/* The --stats line: "stats: vnc: auth passed=N failed=N refused=N ...". */
void vnc_auth_print_stats(const struct vnc_auth *a, FILE *out);

#endif
