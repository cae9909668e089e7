/* Unit tests for control/protocol.c: every request the control socket
 * accepts is checked here, and the table of bad inputs (malformed JSON,
 * unknown commands and arguments, wrong types, out-of-range values) gets
 * the error class and a description naming the problem. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "control/protocol.h"
#include "devices/input.h"

static int parse(const char *line, struct control_request *req, struct control_error *err)
{
	return control_parse(line, strlen(line), req, err);
}

struct bad_case {
	const char *line;
	const char *cls;
	const char *desc_has;   /* a part of the description */
	bool has_id;            /* the error reply can echo the id */
};

static void test_control_rejects_bad_requests_with_an_error_naming_the_problem(void **state)
{
	static const struct bad_case cases[] = {
		/* malformed JSON */
		{ "{", CONTROL_ERR_GENERIC, "unexpected end", false },
		{ "{\"execute\": \"quit\"", CONTROL_ERR_GENERIC, "unexpected end", false },
		{ "not json", CONTROL_ERR_GENERIC, "JSON parse error", false },
		{ "{'execute': 'quit'}", CONTROL_ERR_GENERIC, "JSON parse error", false },
		{ "{\"execute\": \"quit\",}", CONTROL_ERR_GENERIC, "JSON parse error", false },
		{ "{\"execute\": \"quit\"} x", CONTROL_ERR_GENERIC, "JSON parse error", false },
		{ "{\"execute\": \"quit\"}{}", CONTROL_ERR_GENERIC, "JSON parse error", false },
		{ "{\"execute\": \"\xff\"}", CONTROL_ERR_GENERIC, "JSON parse error", false },
		{ "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", CONTROL_ERR_GENERIC, "JSON parse error",
		  false },
		{ "null", CONTROL_ERR_GENERIC, "null is not a command", false },
		/* not a command object */
		{ "[]", CONTROL_ERR_GENERIC, "must be a JSON object, not an array", false },
		{ "42", CONTROL_ERR_GENERIC, "must be a JSON object, not an integer", false },
		{ "\"quit\"", CONTROL_ERR_GENERIC, "not a string", false },
		{ "{}", CONTROL_ERR_GENERIC, "'execute' is missing", false },
		{ "{\"id\": 5}", CONTROL_ERR_GENERIC, "'execute' is missing", true },
		{ "{\"execute\": 1, \"id\": 5}", CONTROL_ERR_GENERIC, "must be a string", true },
		{ "{\"execute\": \"quit\", \"extra\": 1}", CONTROL_ERR_GENERIC, "unknown member 'extra'",
		  false },
		/* unknown command, arguments */
		{ "{\"execute\": \"reboot\", \"id\": \"a\"}", CONTROL_ERR_NOT_FOUND, "reboot", true },
		{ "{\"execute\": \"quit\", \"arguments\": []}", CONTROL_ERR_GENERIC,
		  "'arguments' must be an object", false },
		{ "{\"execute\": \"quit\", \"arguments\": {\"now\": true}}", CONTROL_ERR_GENERIC,
		  "unknown parameter 'now'", false },
		{ "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\"}}",
		  CONTROL_ERR_GENERIC, "unknown parameter 'filename'", false },
		/* wrong types and values */
		{ "{\"execute\": \"screendump\", \"arguments\": {\"file\": 3}}", CONTROL_ERR_GENERIC,
		  "'file' must be a string, not an integer", false },
		{ "{\"execute\": \"screendump\", \"arguments\": {\"file\": \"a\\u0000b\"}}",
		  CONTROL_ERR_GENERIC, "must not contain NUL", false },
		{ "{\"execute\": \"send-key\"}", CONTROL_ERR_GENERIC, "'keys' is missing", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": \"ctrl\"}}",
		  CONTROL_ERR_GENERIC, "'keys' must be an array", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": []}}", CONTROL_ERR_GENERIC,
		  "1..16 keys", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"ctrl\", \"nokey\"]}}",
		  CONTROL_ERR_GENERIC, "keys[1]: unknown key 'nokey'", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [1]}}", CONTROL_ERR_GENERIC,
		  "keys[0] must be a string", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"a\", \"a\"]}}",
		  CONTROL_ERR_GENERIC, "named twice", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [{\"type\": \"number\","
		  " \"data\": 30}]}}", CONTROL_ERR_GENERIC, "keys[0]: must be a qcode", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"a\"], \"hold-time\": -1}}",
		  CONTROL_ERR_GENERIC, "'hold-time': -1 is out of range", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"a\"], \"hold-time\": 10001}}",
		  CONTROL_ERR_GENERIC, "out of range 0..10000", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"a\"], \"hold-time\": 1.5}}",
		  CONTROL_ERR_GENERIC, "must be an integer, not a fraction", false },
		{ "{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"a\"], \"hold-time\":"
		  " 99999999999999999999999}}", CONTROL_ERR_GENERIC, "out of range", false },
		{ "{\"execute\": \"type\"}", CONTROL_ERR_GENERIC, "'text' is missing", false },
		{ "{\"execute\": \"type\", \"arguments\": {\"text\": \"\"}}", CONTROL_ERR_GENERIC,
		  "1..4096 characters", false },
		{ "{\"execute\": \"type\", \"arguments\": {\"text\": [\"a\"]}}", CONTROL_ERR_GENERIC,
		  "must be a string, not an array", false },
		{ "{\"execute\": \"type\", \"arguments\": {\"text\": \"caf\\u00e9\"}}",
		  CONTROL_ERR_GENERIC, "text[3]: character 0xc3 cannot be typed", false },
		{ "{\"execute\": \"type\", \"arguments\": {\"text\": \"a\\rb\"}}", CONTROL_ERR_GENERIC,
		  "text[1]: character 0x0d", false },
		{ "{\"execute\": \"pointer\", \"arguments\": {\"x\": 1}}", CONTROL_ERR_GENERIC,
		  "'y' is missing", false },
		{ "{\"execute\": \"pointer\", \"arguments\": {\"x\": -1, \"y\": 0}}",
		  CONTROL_ERR_GENERIC, "'x': -1 is out of range", false },
		{ "{\"execute\": \"pointer\", \"arguments\": {\"x\": \"1\", \"y\": 0}}",
		  CONTROL_ERR_GENERIC, "'x' must be an integer, not a string", false },
		{ "{\"execute\": \"pointer\", \"arguments\": {\"x\": 1, \"y\": 0, \"buttons\": [\"up\"]}}",
		  CONTROL_ERR_GENERIC, "buttons[0]: 'up' must be left, middle or right", false },
		{ "{\"execute\": \"pointer\", \"arguments\": {\"x\": 1, \"y\": 0, \"buttons\": \"left\"}}",
		  CONTROL_ERR_GENERIC, "'buttons' must be an array", false },
		{ "{\"execute\": \"wait-screen\"}", CONTROL_ERR_GENERIC, "needs \"change\": true",
		  false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"change\": false}}",
		  CONTROL_ERR_GENERIC, "'change' must be true", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"change\": 1}}",
		  CONTROL_ERR_GENERIC, "'change' must be true", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"change\": true, \"color\": \"#000000\"}}",
		  CONTROL_ERR_GENERIC, "not both", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [0, 0, 1, 1]}}",
		  CONTROL_ERR_GENERIC, "needs \"change\": true", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [0, 0, 1], \"color\":"
		  " \"#000000\"}}", CONTROL_ERR_GENERIC, "must be [x, y, w, h]", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [0, 0, 0, 1], \"color\":"
		  " \"#000000\"}}", CONTROL_ERR_GENERIC, "region[2]: 0 is out of range", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [0, 0, 1, \"1\"],"
		  " \"color\": \"#000000\"}}", CONTROL_ERR_GENERIC, "region[3] must be an integer",
		  false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [0, 0, 1, 1], \"color\":"
		  " \"red\"}}", CONTROL_ERR_GENERIC, "'red' must be \"#rrggbb\"", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [0, 0, 1, 1], \"color\":"
		  " \"#12345g\"}}", CONTROL_ERR_GENERIC, "must be \"#rrggbb\"", false },
		{ "{\"execute\": \"wait-screen\", \"arguments\": {\"change\": true, \"timeout\":"
		  " 3600001}}", CONTROL_ERR_GENERIC, "'timeout': 3600001 is out of range", false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct control_request req;
		struct control_error err = { 0 };
		int ret = parse(cases[i].line, &req, &err);

		if (ret != -EINVAL)
			fail_msg("%s: accepted", cases[i].line);
		if (strcmp(err.cls, cases[i].cls))
			fail_msg("%s: class %s, want %s", cases[i].line, err.cls, cases[i].cls);
		if (!strstr(err.desc, cases[i].desc_has))
			fail_msg("%s: '%s' does not say '%s'", cases[i].line, err.desc,
				 cases[i].desc_has);
		if ((req.id != NULL) != cases[i].has_id)
			fail_msg("%s: id %s", cases[i].line, req.id ? "read" : "not read");
		control_request_free(&req);
	}
}

static void test_control_rejects_a_line_over_the_limit(void **state)
{
	size_t len = CONTROL_LINE_MAX_BYTES + 1;
	char *line = malloc(len);
	struct control_request req;
	struct control_error err;

	(void)state;
	assert_non_null(line);
	memset(line, ' ', len);
	assert_int_equal(control_parse(line, len, &req, &err), -EINVAL);
	assert_non_null(strstr(err.desc, "longer than 65536 bytes"));
	control_request_free(&req);
	free(line);
}

static void test_control_parses_every_command(void **state)
{
	struct control_request req;
	struct control_error err;

	(void)state;
	assert_int_equal(parse("{\"execute\": \"query-status\", \"id\": 7}", &req, &err), 0);
	assert_int_equal(req.cmd, CONTROL_CMD_QUERY_STATUS);
	assert_int_equal(json_object_get_int(req.id), 7);
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"qmp_capabilities\"}", &req, &err), 0);
	assert_int_equal(req.cmd, CONTROL_CMD_QMP_CAPABILITIES);
	assert_null(req.id);
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"screendump\"}", &req, &err), 0);
	assert_null(req.u.screendump.file);
	control_request_free(&req);
	assert_int_equal(parse("{\"execute\": \"screendump\", \"arguments\": {\"file\": \"/tmp/a b.png\"}}",
			       &req, &err), 0);
	assert_string_equal(req.u.screendump.file, "/tmp/a b.png");
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"send-key\", \"arguments\": {\"keys\": [\"ctrl\","
			       " \"alt\", {\"type\": \"qcode\", \"data\": \"delete\"}]}}", &req, &err), 0);
	assert_int_equal(req.cmd, CONTROL_CMD_SEND_KEY);
	assert_int_equal(req.u.send_key.n, 3);
	assert_int_equal(req.u.send_key.qnums[0], 0x1d);
	assert_int_equal(req.u.send_key.qnums[1], 0x38);
	assert_int_equal(req.u.send_key.qnums[2], 0xd3);
	assert_int_equal(req.u.send_key.hold_ms, CONTROL_HOLD_DEFAULT_MS);
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"type\", \"arguments\": {\"text\": \"ls -l\\n\"}}",
			       &req, &err), 0);
	assert_int_equal(req.u.type.len, 6);
	assert_memory_equal(req.u.type.text, "ls -l\n", 6);
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"pointer\", \"arguments\": {\"x\": 1023, \"y\": 767,"
			       " \"buttons\": [\"left\", \"right\"]}}", &req, &err), 0);
	assert_int_equal(req.u.pointer.x, 1023);
	assert_int_equal(req.u.pointer.y, 767);
	assert_int_equal(req.u.pointer.buttons, INPUT_BUTTON_LEFT | INPUT_BUTTON_RIGHT);
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"wait-screen\", \"arguments\": {\"change\": true}}",
			       &req, &err), 0);
	assert_true(req.u.wait.change);
	assert_int_equal(req.u.wait.timeout_ms, CONTROL_WAIT_DEFAULT_MS);
	control_request_free(&req);

	assert_int_equal(parse("{\"execute\": \"wait-screen\", \"arguments\": {\"region\": [1, 2, 3, 4],"
			       " \"color\": \"#A0b1C2\", \"timeout\": 0}}", &req, &err), 0);
	assert_false(req.u.wait.change);
	assert_int_equal(req.u.wait.x, 1);
	assert_int_equal(req.u.wait.h, 4);
	assert_int_equal(req.u.wait.rgb, 0xa0b1c2);
	assert_int_equal(req.u.wait.timeout_ms, 0);
	control_request_free(&req);

	assert_int_equal(parse("  {\"execute\": \"system_reset\"}  \r", &req, &err), 0);
	assert_int_equal(req.cmd, CONTROL_CMD_SYSTEM_RESET);
	control_request_free(&req);
	assert_int_equal(parse("{\"execute\": \"quit\", \"arguments\": {}}", &req, &err), 0);
	assert_int_equal(req.cmd, CONTROL_CMD_QUIT);
	control_request_free(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_rejects_bad_requests_with_an_error_naming_the_problem),
		cmocka_unit_test(test_control_rejects_a_line_over_the_limit),
		cmocka_unit_test(test_control_parses_every_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
