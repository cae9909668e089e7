/* Unit tests for vnc/websocket.c: the upgrade answer (RFC 6455's own
 * example key) and client frame headers, the good and the refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vnc/websocket.h"

static void test_ws_answers_rfc_6455_example_key(void **state)
{
	static const char req[] = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
		"upgrade: WebSocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Protocol: chat, binary\r\nSec-WebSocket-Version: 13\r\n\r\nextra";
	char resp[WS_MAX_RESPONSE_BYTES];
	size_t used = 0;
	int n;

	(void)state;
	n = ws_answer_upgrade(req, sizeof(req) - 1, resp, &used);
	assert_true(n > 0);
	assert_int_equal(used, sizeof(req) - 1 - strlen("extra"));
	assert_non_null(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	assert_non_null(strstr(resp, "Sec-WebSocket-Protocol: binary\r\n"));
	assert_int_equal(memcmp(resp, "HTTP/1.1 101 ", 13), 0);
}

static void test_ws_refuses_bad_upgrades(void **state)
{
	static const char *const bad[] = {
		"POST / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: a\r\n\r\n",
		"GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\n\r\n",                 /* no Upgrade */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",                   /* no key */
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: a\r\n"
		"Sec-WebSocket-Protocol: base64\r\n\r\n",                         /* not binary */
	};
	char resp[WS_MAX_RESPONSE_BYTES];
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ws_answer_upgrade(bad[i], strlen(bad[i]), resp, &used), -EINVAL);
	/* Not finished yet: wait; too long without an end: refuse. */
	assert_int_equal(ws_answer_upgrade("GET / HTTP/1.1\r\nHost: x\r\n", 25, resp, &used),
			 -EAGAIN);
	{
		static char big[WS_MAX_REQUEST_BYTES];
		memset(big, 'a', sizeof(big));
		assert_int_equal(ws_answer_upgrade(big, sizeof(big), resp, &used), -EINVAL);
	}
}

static void test_ws_parses_client_frame_headers(void **state)
{
	static const uint8_t small[] = { 0x82, 0x85, 1, 2, 3, 4 };
	static const uint8_t mid[] = { 0x02, 0xfe, 0x01, 0x00, 9, 9, 9, 9 };
	static const uint8_t big[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 9, 1, 1, 1, 1 };
	struct ws_frame f;

	(void)state;
	assert_int_equal(ws_parse_frame_header(small, 1, 100, &f), -EAGAIN);
	assert_int_equal(ws_parse_frame_header(small, sizeof(small), 100, &f), 0);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_BINARY);
	assert_int_equal(f.payload_bytes, 5);
	assert_int_equal(f.header_bytes, 6);
	assert_int_equal(ws_parse_frame_header(mid, 4, 1000, &f), -EAGAIN);
	assert_int_equal(ws_parse_frame_header(mid, sizeof(mid), 1000, &f), 0);
	assert_false(f.fin);
	assert_int_equal(f.payload_bytes, 256);
	assert_int_equal(ws_parse_frame_header(big, sizeof(big), 1 << 20, &f), -E2BIG);
	assert_int_equal(ws_parse_frame_header(big, sizeof(big), (1 << 20) + 9, &f), 0);
}

static void test_ws_refuses_frames_a_client_must_not_send(void **state)
{
	static const uint8_t bad[][2] = {
		{ 0x82, 0x05 },        /* unmasked */
		{ 0xc2, 0x85 },        /* reserved bit */
		{ 0x83, 0x85 },        /* opcode 3 */
		{ 0x09, 0x85 },        /* ping, not final */
		{ 0x89, 0xfe },        /* ping of 126+ bytes */
	};
	struct ws_frame f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ws_parse_frame_header(bad[i], 2, 1000, &f), -EINVAL);
}

static void test_ws_server_headers_use_the_shortest_length(void **state)
{
	uint8_t h[10];

	(void)state;
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 125), 2);
	assert_int_equal(h[0], 0x82);
	assert_int_equal(h[1], 125);
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 126), 4);
	assert_int_equal(h[1], 126);
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 65535), 4);
	assert_int_equal(ws_frame_header(h, WS_OP_BINARY, 65536), 10);
	assert_int_equal(h[1], 127);
	assert_int_equal(h[7], 1);
}

static void test_ws_unmask_continues_at_an_offset(void **state)
{
	static const uint8_t mask[4] = { 1, 2, 3, 4 };
	uint8_t p[6] = { 0 };

	(void)state;
	ws_unmask(p, 2, mask, 0);
	ws_unmask(p + 2, 4, mask, 2);
	assert_memory_equal(p, ((uint8_t[]){ 1, 2, 3, 4, 1, 2 }), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_answers_rfc_6455_example_key),
		cmocka_unit_test(test_ws_refuses_bad_upgrades),
		cmocka_unit_test(test_ws_parses_client_frame_headers),
		cmocka_unit_test(test_ws_refuses_frames_a_client_must_not_send),
		cmocka_unit_test(test_ws_server_headers_use_the_shortest_length),
		cmocka_unit_test(test_ws_unmask_continues_at_an_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
