/* Unit tests for hypervisor/log.c's --log-format json: each line one JSON
 * object (json-c must parse it), the fixed members, fields from key=value
 * words and from log_msg_fields, escaping, and a cut-off line that stays
 * valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "hypervisor/log.h"

/* Runs fn with stderr on a pipe; returns what it wrote (static buffer). */
static const char *capture(void (*fn)(void))
{
	static char buf[65536];
	int fds[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static struct json_object *parse_one_line(const char *text)
{
	const char *nl = strchr(text, '\n');
	struct json_object *obj;

	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');   /* exactly one line */
	obj = json_tokener_parse(text);
	if (!obj)
		fail_msg("not JSON: %s", text);
	return obj;
}

static const char *member(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static void log_plain(void)
{
	log_warn("vnc", "client 127.0.0.1:5000 dropped \"slow\"\tbytes=12 updates=3");
}

static void log_with_fields(void)
{
	const struct log_field fields[] = { { "client", "[::1]:5901" }, { "exit_reason", "a\\b" } };

	log_msg_fields(LOG_INFO, "vm", fields, 2, "stopping (exit status %d)", 4);
}

static void log_huge(void)
{
	char big[900];

	memset(big, '"', sizeof(big) - 1);   /* each escapes to two bytes */
	big[sizeof(big) - 1] = '\0';
	log_info("test", "%s k=v", big);
}

static void log_text(void)
{
	log_info("vnc", "client 1.2.3.4:5 connected");
}

static void test_log_json_line_has_the_fixed_members_and_key_value_fields(void **state)
{
	struct json_object *obj;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	obj = parse_one_line(capture(log_plain));
	assert_string_equal(member(obj, "level"), "warn");
	assert_string_equal(member(obj, "component"), "vnc");
	assert_string_equal(member(obj, "message"),
			    "client 127.0.0.1:5000 dropped \"slow\"\tbytes=12 updates=3");
	assert_string_equal(member(obj, "bytes"), "12");
	assert_string_equal(member(obj, "updates"), "3");
	assert_non_null(member(obj, "thread"));
	/* 2026-12-05T00:12:49.123Z */
	assert_int_equal(strlen(member(obj, "time")), 24);
	assert_int_equal(member(obj, "time")[23], 'Z');
	json_object_put(obj);
	log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_json_adds_explicit_fields(void **state)
{
	struct json_object *obj;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	obj = parse_one_line(capture(log_with_fields));
	assert_string_equal(member(obj, "message"), "stopping (exit status 4)");
	assert_string_equal(member(obj, "client"), "[::1]:5901");
	assert_string_equal(member(obj, "exit_reason"), "a\\b");
	assert_string_equal(member(obj, "level"), "info");
	json_object_put(obj);
	log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_json_cut_line_stays_one_valid_object(void **state)
{
	struct json_object *obj;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	obj = parse_one_line(capture(log_huge));
	assert_non_null(member(obj, "message"));
	assert_string_equal(member(obj, "component"), "test");
	json_object_put(obj);
	log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_text_format_is_unchanged(void **state)
{
	(void)state;
	assert_string_equal(capture(log_text), "vnc: client 1.2.3.4:5 connected\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_json_line_has_the_fixed_members_and_key_value_fields),
		cmocka_unit_test(test_log_json_adds_explicit_fields),
		cmocka_unit_test(test_log_json_cut_line_stays_one_valid_object),
		cmocka_unit_test(test_log_text_format_is_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
