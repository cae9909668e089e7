/* Unit tests for control/client.c's `fbvm ctl type` escapes: what a shell
 * user writes ('ls\n') becomes the characters `type` sends, and a bad or
 * non-ASCII escape is refused before anything is sent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/client.h"

static void test_ctl_unescape_decodes_backslash_escapes(void **state)
{
	static const struct { const char *in; const char *out; size_t len; } cases[] = {
		{ "ls -l\\n", "ls -l\n", 6 },
		{ "a\\tb", "a\tb", 3 },
		{ "x\\by", "x\by", 3 },
		{ "\\e:q!\\n", "\x1b:q!\n", 5 },
		{ "back\\\\slash", "back\\slash", 10 },
		{ "\\x41\\x7e", "A~", 2 },
		{ "plain", "plain", 5 },
		{ "", "", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		size_t len = 99;

		if (ctl_unescape(cases[i].in, out, &len) != 0)
			fail_msg("%s: refused", cases[i].in);
		if (len != cases[i].len || memcmp(out, cases[i].out, len) || out[len] != '\0')
			fail_msg("%s: got %zu bytes '%s'", cases[i].in, len, out);
	}
}

static void test_ctl_unescape_refuses_bad_escapes(void **state)
{
	static const char *const bad[] = {
		"\\q", "end\\", "\\x4", "\\xzz", "\\x00", "\\x80", "\\xff", "\\r",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[64];
		size_t len;

		if (ctl_unescape(bad[i], out, &len) != -EINVAL)
			fail_msg("%s: accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_unescape_decodes_backslash_escapes),
		cmocka_unit_test(test_ctl_unescape_refuses_bad_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
