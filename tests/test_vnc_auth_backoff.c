/* Unit tests for vnc/auth_backoff.c: three free failures, then waits of 1 s
 * doubling to 60 s, cleared by a success or ten quiet minutes; addresses
 * keyed as IPv6 /64 or IPv4; a table that never holds more than 256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "vnc/auth_backoff.h"

static struct vnc_backoff *new_table(void)
{
	struct vnc_backoff *b = malloc(sizeof(*b));
	assert_non_null(b);
	vnc_backoff_init(b);
	return b;
}

static struct vnc_backoff_addr v4(const char *text)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct vnc_backoff_addr a;

	assert_int_equal(inet_pton(AF_INET, text, &sin.sin_addr), 1);
	assert_true(vnc_backoff_addr_from_sockaddr(&a, (const struct sockaddr *)&sin));
	return a;
}

static struct vnc_backoff_addr v6(const char *text)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct vnc_backoff_addr a;

	assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
	assert_true(vnc_backoff_addr_from_sockaddr(&a, (const struct sockaddr *)&sin6));
	return a;
}

static bool same(struct vnc_backoff_addr a, struct vnc_backoff_addr b)
{
	return !memcmp(&a, &b, sizeof(a));
}

static void test_vnc_backoff_keys_ipv4_and_ipv6_prefixes(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct vnc_backoff_addr a, zero;
	(void)state;
	assert_true(same(v4("192.0.2.7"), v6("::ffff:192.0.2.7")));
	assert_false(same(v4("192.0.2.7"), v4("192.0.2.8")));
	assert_true(same(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff:ffff:ffff:ffff")));
	assert_false(same(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1")));
	memset(&zero, 0, sizeof(zero));
	memset(&a, 0xaa, sizeof(a));
	assert_false(vnc_backoff_addr_from_sockaddr(&a, (const struct sockaddr *)&sun));
	assert_true(same(a, zero));
}

static void test_vnc_backoff_keys_addresses_as_logged(void **state)
{
	static const char *const bad[] = { "", ":1", "[]:1", "[::1", "host:1", "1.2.3:4",
					   "[1.2.3.4]:5", "unknown", "::1:5900" };
	struct vnc_backoff_addr a, zero;
	(void)state;
	assert_true(vnc_backoff_addr_from_text(&a, "192.0.2.7:50312"));
	assert_true(same(a, v4("192.0.2.7")));
	assert_true(vnc_backoff_addr_from_text(&a, "[2001:db8:1:2::7]:1"));
	assert_true(same(a, v6("2001:db8:1:2::1")));
	assert_true(vnc_backoff_addr_from_text(&a, "[::ffff:192.0.2.7]:9"));
	assert_true(same(a, v4("192.0.2.7")));
	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0xaa, sizeof(a));
		if (vnc_backoff_addr_from_text(&a, bad[i]) || !same(a, zero))
			fail_msg("'%s' accepted", bad[i]);
	}
}

static void test_vnc_backoff_three_failures_are_free_then_one_second(void **state)
{
	struct vnc_backoff *b = new_table();
	struct vnc_backoff_addr a = v4("10.1.1.1"), other = v4("10.1.1.2");
	uint32_t n;
	(void)state;
	assert_int_equal(vnc_backoff_wait_ms(b, &a, 100), 0);
	assert_int_equal(vnc_backoff_failed(b, &a, 100, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(vnc_backoff_failed(b, &a, 200, &n), 0);
	assert_int_equal(vnc_backoff_wait_ms(b, &a, 200), 0);
	assert_int_equal(vnc_backoff_failed(b, &a, 300, &n), 1000);
	assert_int_equal(n, 3);
	assert_int_equal(vnc_backoff_wait_ms(b, &a, 300), 1000);
	assert_int_equal(vnc_backoff_wait_ms(b, &a, 1299), 1);
	assert_int_equal(vnc_backoff_wait_ms(b, &a, 1300), 0);
	assert_int_equal(vnc_backoff_wait_ms(b, &other, 300), 0);
	free(b);
}

static void test_vnc_backoff_doubles_up_to_sixty_seconds(void **state)
{
	static const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000 };
	struct vnc_backoff *b = new_table();
	struct vnc_backoff_addr a = v4("10.1.1.3");
	uint64_t now = 0;
	uint32_t n;
	(void)state;
	vnc_backoff_failed(b, &a, now, &n);
	vnc_backoff_failed(b, &a, now, &n);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t wait = vnc_backoff_failed(b, &a, now, &n);
		if (wait != want[i])
			fail_msg("failure %u: wait %llu ms, want %llu", n, (unsigned long long)wait,
				 (unsigned long long)want[i]);
		now += wait;
		assert_int_equal(vnc_backoff_wait_ms(b, &a, now), 0);
	}
	free(b);
}

static void test_vnc_backoff_success_clears_the_address(void **state)
{
	struct vnc_backoff *b = new_table();
	struct vnc_backoff_addr a = v4("10.1.1.4");
	uint32_t n;
	(void)state;
	for (int i = 0; i < 5; i++)
		vnc_backoff_failed(b, &a, 0, &n);
	vnc_backoff_passed(b, &a);
	assert_int_equal(vnc_backoff_wait_ms(b, &a, 0), 0);
	assert_int_equal(vnc_backoff_entries_used(b), 0);
	assert_int_equal(vnc_backoff_failed(b, &a, 0, &n), 0);
	assert_int_equal(n, 1);
	free(b);
}

static void test_vnc_backoff_forgets_after_ten_quiet_minutes(void **state)
{
	struct vnc_backoff *b = new_table();
	struct vnc_backoff_addr a = v4("10.1.1.5");
	uint32_t n;
	(void)state;
	for (int i = 0; i < 6; i++)
		vnc_backoff_failed(b, &a, 0, &n);
	/* Nine minutes on: still the next doubled wait (16 s). */
	assert_int_equal(vnc_backoff_failed(b, &a, 9 * 60 * 1000, &n), 16000);
	/* Ten quiet minutes after that: a fresh start. */
	assert_int_equal(vnc_backoff_failed(b, &a, 19 * 60 * 1000 + 16000, &n), 0);
	assert_int_equal(n, 1);
	free(b);
}

static void test_vnc_backoff_table_stays_bounded_under_an_address_flood(void **state)
{
	struct vnc_backoff *b = new_table();
	struct vnc_backoff_addr first = v4("10.2.0.0"), last;
	uint32_t n;
	(void)state;
	for (unsigned int i = 0; i < 1000; i++) {
		struct vnc_backoff_addr a;
		char text[32];
		snprintf(text, sizeof(text), "10.2.%u.%u", i / 256, i % 256);
		a = v4(text);
		for (int k = 0; k < 3; k++)
			vnc_backoff_failed(b, &a, i, &n);
		last = a;
	}
	assert_int_equal(vnc_backoff_entries_used(b), VNC_BACKOFF_ENTRIES);
	assert_int_equal(b->stats.evictions, 1000 - VNC_BACKOFF_ENTRIES);
	/* The newest are remembered, the oldest forgotten. */
	assert_int_equal(vnc_backoff_wait_ms(b, &last, 999), 1000);
	assert_int_equal(vnc_backoff_wait_ms(b, &first, 999), 0);
	free(b);
}

static void test_vnc_backoff_keeps_a_waiting_address_that_keeps_trying(void **state)
{
	struct vnc_backoff *b = new_table();
	struct vnc_backoff_addr attacker = v4("10.3.0.1");
	uint32_t n;
	(void)state;
	for (int k = 0; k < 3; k++)
		vnc_backoff_failed(b, &attacker, 0, &n);
	/* 300 other addresses fail once each while the attacker keeps knocking:
	 * being seen refreshes it, so it is not the one forgotten. */
	for (unsigned int i = 0; i < 300; i++) {
		struct vnc_backoff_addr a;
		char text[32];
		snprintf(text, sizeof(text), "10.4.%u.%u", i / 256, i % 256);
		a = v4(text);
		vnc_backoff_failed(b, &a, 1 + i, &n);
		assert_true(vnc_backoff_wait_ms(b, &attacker, 1 + i) > 0);
	}
	assert_int_equal(vnc_backoff_entries_used(b), VNC_BACKOFF_ENTRIES);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnc_backoff_keys_ipv4_and_ipv6_prefixes),
		cmocka_unit_test(test_vnc_backoff_keys_addresses_as_logged),
		cmocka_unit_test(test_vnc_backoff_three_failures_are_free_then_one_second),
		cmocka_unit_test(test_vnc_backoff_doubles_up_to_sixty_seconds),
		cmocka_unit_test(test_vnc_backoff_success_clears_the_address),
		cmocka_unit_test(test_vnc_backoff_forgets_after_ten_quiet_minutes),
		cmocka_unit_test(test_vnc_backoff_table_stays_bounded_under_an_address_flood),
		cmocka_unit_test(test_vnc_backoff_keeps_a_waiting_address_that_keeps_trying),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
