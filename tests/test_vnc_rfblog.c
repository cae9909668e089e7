/* Unit tests for vnc/rfblog.c: libvncserver's messages as one clean line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vnc/rfblog.h"

static size_t format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vnc_rfblog_format(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void test_vnc_rfblog_strips_trailing_newline_and_leading_blanks(void **state)
{
	char buf[128];
	(void)state;
	assert_int_equal(format(buf, sizeof(buf), "  Client %s gone\n", "127.0.0.1"), 21);
	assert_string_equal(buf, "Client 127.0.0.1 gone");
	format(buf, sizeof(buf), "\t%s: %s \r\n\n", "ReadExact", "timeout");
	assert_string_equal(buf, "ReadExact: timeout");
}

static void test_vnc_rfblog_turns_control_characters_into_spaces(void **state)
{
	char buf[128];
	(void)state;
	/* A client-supplied string (a bad protocol version) may contain anything. */
	format(buf, sizeof(buf), "not a valid RFB client: %s\n", "RFB\x1b[2J\n003");
	assert_string_equal(buf, "not a valid RFB client: RFB [2J 003");
}

static void test_vnc_rfblog_cuts_long_messages(void **state)
{
	char buf[16];
	(void)state;
	assert_int_equal(format(buf, sizeof(buf), "%s", "0123456789abcdefghij"), 15);
	assert_string_equal(buf, "0123456789abcde");
}

static void test_vnc_rfblog_blank_message_is_empty(void **state)
{
	char buf[16] = "x";
	(void)state;
	assert_int_equal(format(buf, sizeof(buf), " \n"), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnc_rfblog_strips_trailing_newline_and_leading_blanks),
		cmocka_unit_test(test_vnc_rfblog_turns_control_characters_into_spaces),
		cmocka_unit_test(test_vnc_rfblog_cuts_long_messages),
		cmocka_unit_test(test_vnc_rfblog_blank_message_is_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
