/* Unit tests for vnc/auth.c: the --vnc-password-file rules, the DES response
 * check (known answers computed independently with OpenSSL's DES-ECB over
 * the bit-reversed key), and refusing addresses that wait after failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <rfb/rfbproto.h>

#include "vnc/auth.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fbvm-test-auth-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes len bytes to dir/name with mode; returns the path (static buffer). */
static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_vnc_auth_reads_the_first_line(void **state)
{
	static const struct { const char *what, *text; const char *key; bool longer; } cases[] = {
		{ "line and more", "abc\nsecond line\n", "abc", false },
		{ "CRLF", "abc\r\n", "abc", false },
		{ "no newline", "abc", "abc", false },
		{ "exactly 8", "12345678\n", "12345678", false },
		{ "longer than 8", "secretpw-and-more\n", "secretpw", true },
		{ "spaces kept", " a b \n", " a b ", false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char key[VNC_AUTH_PASSWORD_BYTES + 1], err[256] = "";
		const char *p = write_file("pw", cases[i].text, strlen(cases[i].text), 0600);
		bool longer = !cases[i].longer;
		if (vnc_auth_read_password_file(p, key, &longer, err, sizeof(err)) != 0)
			fail_msg("%s: refused: %s", cases[i].what, err);
		if (strcmp(key, cases[i].key) || longer != cases[i].longer)
			fail_msg("%s: key '%s' longer=%d", cases[i].what, key, longer);
		/* The key is NUL-padded: DES uses all 8 bytes. */
		for (size_t j = strlen(cases[i].key); j <= VNC_AUTH_PASSWORD_BYTES; j++)
			assert_int_equal(key[j], 0);
	}
}

static void test_vnc_auth_accepts_owner_only_modes(void **state)
{
	static const mode_t ok[] = { 0600, 0400, 0700, 0200 | 0400 };
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char key[VNC_AUTH_PASSWORD_BYTES + 1], err[256] = "";
		bool longer;
		const char *p = write_file("pw", "abc\n", 4, ok[i]);
		if (vnc_auth_read_password_file(p, key, &longer, err, sizeof(err)) != 0)
			fail_msg("mode %04o refused: %s", (unsigned int)ok[i], err);
	}
}

static void test_vnc_auth_refuses_files_others_can_read_or_write(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0620, 0604, 0602, 0660, 0666, 0610 | 0040 };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char key[VNC_AUTH_PASSWORD_BYTES + 1], err[256] = "", want[256];
		bool longer;
		const char *p = write_file("pw", "abc\n", 4, bad[i]);
		assert_int_equal(vnc_auth_read_password_file(p, key, &longer, err, sizeof(err)),
				 -EINVAL);
		snprintf(want, sizeof(want), "--vnc-password-file %s: mode %04o lets group or others"
			 " read or write it; chmod 600 it", p, (unsigned int)bad[i]);
		assert_string_equal(err, want);
		assert_string_equal(key, "");
	}
}

static void test_vnc_auth_refuses_bad_files_with_one_line(void **state)
{
	static const struct { const char *what; const char *text; size_t len; const char *want; }
	cases[] = {
		{ "empty file", "", 0, "the first line is empty; it must hold the password" },
		{ "empty first line", "\nabc\n", 5, "the first line is empty; it must hold the password" },
		{ "CR only", "\r\nabc\n", 6, "the first line is empty; it must hold the password" },
		{ "NUL byte", "ab\0c\n", 5, "the password contains a NUL byte" },
	};
	char key[VNC_AUTH_PASSWORD_BYTES + 1], err[256], want[256];
	bool longer;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = write_file("pw", cases[i].text, cases[i].len, 0600);
		err[0] = '\0';
		assert_int_equal(vnc_auth_read_password_file(p, key, &longer, err, sizeof(err)),
				 -EINVAL);
		snprintf(want, sizeof(want), "--vnc-password-file %s: %s", p, cases[i].want);
		if (strcmp(err, want))
			fail_msg("%s: '%s', want '%s'", cases[i].what, err, want);
	}
	snprintf(want, sizeof(want), "%s/missing", dir);
	assert_int_equal(vnc_auth_read_password_file(want, key, &longer, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing: No such file or directory"));
	assert_int_equal(vnc_auth_read_password_file(dir, key, &longer, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": not a regular file"));
}

static void test_vnc_auth_refuses_a_file_someone_else_owns(void **state)
{
	char key[VNC_AUTH_PASSWORD_BYTES + 1], err[256] = "", want[256];
	const char *p = write_file("pw", "abc\n", 4, 0600);
	bool longer;
	(void)state;
	/* Only root can give a file away; as anyone else there is nothing to try. */
	if (geteuid() != 0)
		skip();
	assert_int_equal(chown(p, 12345, 12345), 0);
	assert_int_equal(vnc_auth_read_password_file(p, key, &longer, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "--vnc-password-file %s: owned by uid 12345; must be yours"
		 " (uid 0) or root's", p);
	assert_string_equal(err, want);
}

static struct vnc_auth *create(const char *text)
{
	struct vnc_auth *a = NULL;
	char err[256] = "";
	const char *p = write_file("pw", text, strlen(text), 0600);

	if (vnc_auth_create(&a, p, err, sizeof(err)) != 0)
		fail_msg("create: %s", err);
	return a;
}

static struct vnc_backoff_addr addr4(const char *text)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct vnc_backoff_addr a;

	assert_int_equal(inet_pton(AF_INET, text, &sin.sin_addr), 1);
	assert_true(vnc_backoff_addr_from_sockaddr(&a, (const struct sockaddr *)&sin));
	return a;
}

/* openssl enc -des-ecb -nopad -K <password bit-reversed, NUL-padded> */
static const uint8_t challenge_0_15[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t secretpw_0_15[16] = { 0x50, 0x02, 0xa2, 0x0f, 0x40, 0xd9, 0x6c, 0x59,
					   0xec, 0x8a, 0x26, 0xf4, 0x7a, 0xe5, 0x68, 0x8d };
static const uint8_t challenge_f0_ff[16] = { 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
					     0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff };
static const uint8_t abc_f0_ff[16] = { 0xa1, 0x18, 0x06, 0x5e, 0x80, 0x36, 0x32, 0xa1,
				       0x82, 0x1b, 0xd9, 0x83, 0xb0, 0x39, 0x17, 0x9a };

static void test_vnc_auth_accepts_the_des_response_of_the_password(void **state)
{
	struct vnc_backoff_addr peer = addr4("10.0.0.1");
	struct vnc_auth *a = create("abc\n");
	struct vnc_auth_stats st;
	(void)state;
	assert_true(vnc_auth_check(a, &peer, "10.0.0.1:1", challenge_f0_ff, abc_f0_ff, 16, 1000));
	vnc_auth_destroy(a);
	/* Longer than 8: only "secretpw" counts, as in every viewer. */
	a = create("secretpw-and-more\n");
	assert_true(vnc_auth_check(a, &peer, "10.0.0.1:1", challenge_0_15, secretpw_0_15, 16, 1000));
	vnc_auth_get_stats(a, &st);
	assert_int_equal(st.passed, 1);
	assert_int_equal(st.failed, 0);
	vnc_auth_destroy(a);
}

static void test_vnc_auth_refuses_wrong_responses(void **state)
{
	struct vnc_backoff_addr peer = addr4("10.0.0.2");
	struct vnc_auth *a = create("abc\n");
	uint8_t flipped[16];
	struct vnc_auth_stats st;
	(void)state;
	/* Another password's answer, another challenge's, one bit off, short. */
	assert_false(vnc_auth_check(a, &peer, "x", challenge_0_15, secretpw_0_15, 16, 1000));
	assert_false(vnc_auth_check(a, &peer, "x", challenge_0_15, abc_f0_ff, 16, 1000));
	vnc_auth_destroy(a);
	a = create("abc\n");
	memcpy(flipped, abc_f0_ff, 16);
	flipped[15] ^= 1;
	assert_false(vnc_auth_check(a, &peer, "x", challenge_f0_ff, flipped, 16, 1000));
	assert_false(vnc_auth_check(a, &peer, "x", challenge_f0_ff, abc_f0_ff, 15, 1000));
	vnc_auth_get_stats(a, &st);
	assert_int_equal(st.failed, 2);
	vnc_auth_destroy(a);
}

static void test_vnc_auth_makes_an_address_wait_after_three_failures(void **state)
{
	struct vnc_backoff_addr bad = addr4("10.0.0.3"), good = addr4("10.0.0.4");
	struct vnc_auth *a = create("abc\n");
	struct vnc_auth_stats st;
	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(vnc_auth_admit(a, &bad, "10.0.0.3:1", 1000));
		assert_false(vnc_auth_check(a, &bad, "10.0.0.3:1", challenge_0_15, secretpw_0_15, 16,
					    1000));
	}
	/* Refused at connect time for 1 s; another address is not. */
	assert_false(vnc_auth_admit(a, &bad, "10.0.0.3:2", 1000));
	assert_false(vnc_auth_admit(a, &bad, "10.0.0.3:2", 1999));
	assert_true(vnc_auth_admit(a, &good, "10.0.0.4:1", 1000));
	/* A connection made before the wait fails even with the right answer. */
	assert_false(vnc_auth_check(a, &bad, "10.0.0.3:3", challenge_f0_ff, abc_f0_ff, 16, 1500));
	/* That failure doubled the wait: 2 s from 1500. */
	assert_false(vnc_auth_admit(a, &bad, "10.0.0.3:4", 3499));
	assert_true(vnc_auth_admit(a, &bad, "10.0.0.3:4", 3500));
	assert_true(vnc_auth_check(a, &bad, "10.0.0.3:4", challenge_f0_ff, abc_f0_ff, 16, 3500));
	/* The right password clears it: three free failures again. */
	for (int i = 0; i < 2; i++)
		assert_false(vnc_auth_check(a, &bad, "x", challenge_0_15, secretpw_0_15, 16, 4000));
	assert_true(vnc_auth_admit(a, &bad, "x", 4000));
	vnc_auth_get_stats(a, &st);
	assert_int_equal(st.passed, 1);
	assert_int_equal(st.failed, 6);
	assert_int_equal(st.refused, 3);
	vnc_auth_destroy(a);
}

/* Without the reseed, the same seed gives the same challenge; libvncserver
 * seeds with time() ^ getpid(), which an attacker can guess. */
static void test_vnc_auth_admitting_reseeds_the_challenge(void **state)
{
	struct vnc_backoff_addr peer = addr4("10.0.0.9");
	struct vnc_auth *a = create("abc\n");
	uint8_t first[16], second[16];
	(void)state;
	srandom(1);
	assert_true(vnc_auth_admit(a, &peer, "10.0.0.9:1", 0));
	rfbRandomBytes(first);
	srandom(1);
	assert_true(vnc_auth_admit(a, &peer, "10.0.0.9:2", 0));
	rfbRandomBytes(second);
	assert_memory_not_equal(first, second, sizeof(first));
	vnc_auth_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnc_auth_reads_the_first_line),
		cmocka_unit_test(test_vnc_auth_accepts_owner_only_modes),
		cmocka_unit_test(test_vnc_auth_refuses_files_others_can_read_or_write),
		cmocka_unit_test(test_vnc_auth_refuses_bad_files_with_one_line),
		cmocka_unit_test(test_vnc_auth_refuses_a_file_someone_else_owns),
		cmocka_unit_test(test_vnc_auth_accepts_the_des_response_of_the_password),
		cmocka_unit_test(test_vnc_auth_refuses_wrong_responses),
		cmocka_unit_test(test_vnc_auth_makes_an_address_wait_after_three_failures),
		cmocka_unit_test(test_vnc_auth_admitting_reseeds_the_challenge),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
