/* Unit tests for vnc/gate.c: the size of each client message, so that
 * libvncserver only ever starts reading a complete one, and the handshake
 * phases a client goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vnc/gate.h"

struct gate_case {
	const char *what;
	enum vnc_gate_phase phase;
	uint8_t bytes[VNC_GATE_PEEK_BYTES];
	size_t have;
	size_t want;
};

static void run_cases(const struct gate_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t got = vnc_gate_message_bytes(cases[i].phase, cases[i].bytes, cases[i].have);
		if (got != cases[i].want)
			fail_msg("%s: %zu bytes, want %zu", cases[i].what, got, cases[i].want);
	}
}

static void test_vnc_gate_sizes_handshake_messages(void **state)
{
	static const struct gate_case cases[] = {
		{ "version", VNC_GATE_VERSION, "RFB 003", 7, 12 },
		{ "security type", VNC_GATE_SECURITY, { 1 }, 1, 1 },
		{ "vnc auth response", VNC_GATE_AUTH, { 0xaa }, 1, 16 },
		{ "client init", VNC_GATE_INIT, { 1 }, 1, 1 },
	};
	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_vnc_gate_sizes_fixed_length_messages(void **state)
{
	static const struct gate_case cases[] = {
		{ "SetPixelFormat", VNC_GATE_NORMAL, { 0 }, 1, 20 },
		{ "FixColourMapEntries", VNC_GATE_NORMAL, { 1 }, 1, 6 },
		{ "FramebufferUpdateRequest", VNC_GATE_NORMAL, { 3, 1, 0 }, 3, 10 },
		{ "KeyEvent", VNC_GATE_NORMAL, { 4 }, 1, 8 },
		{ "PointerEvent", VNC_GATE_NORMAL, { 5, 1, 0, 0, 0, 0 }, 6, 6 },
		{ "FileTransfer header", VNC_GATE_NORMAL, { 7 }, 1, 12 },
		{ "SetScale", VNC_GATE_NORMAL, { 8 }, 1, 4 },
		{ "SetServerInput", VNC_GATE_NORMAL, { 9 }, 1, 4 },
		{ "SetSingleWindow", VNC_GATE_NORMAL, { 10 }, 1, 6 },
		{ "PalmVNC SetScaleFactor", VNC_GATE_NORMAL, { 15 }, 1, 4 },
		{ "Xvp", VNC_GATE_NORMAL, { 250 }, 1, 4 },
	};
	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_vnc_gate_sizes_variable_length_messages_from_their_header(void **state)
{
	static const struct gate_case cases[] = {
		{ "SetEncodings, count not here", VNC_GATE_NORMAL, { 2, 0, 0 }, 3, 4 },
		{ "SetEncodings, 3", VNC_GATE_NORMAL, { 2, 0, 0, 3 }, 4, 16 },
		{ "SetEncodings, 0", VNC_GATE_NORMAL, { 2, 0, 0, 0 }, 4, 4 },
		{ "SetEncodings, 65535", VNC_GATE_NORMAL, { 2, 0, 0xff, 0xff }, 4, 4 + 4 * 65535 },
		{ "ClientCutText, length not here", VNC_GATE_NORMAL, { 6, 0, 0, 0, 0, 0 }, 6, 8 },
		{ "ClientCutText, 5", VNC_GATE_NORMAL, { 6, 0, 0, 0, 0, 0, 0, 5 }, 8, 13 },
		{ "ClientCutText, extended clipboard -12", VNC_GATE_NORMAL,
		  { 6, 0, 0, 0, 0xff, 0xff, 0xff, 0xf4 }, 8, 20 },
		{ "ClientCutText, 4 GiB - 1 (libvncserver refuses)", VNC_GATE_NORMAL,
		  { 6, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff }, 8, 0 },
		{ "ClientCutText, INT32_MIN", VNC_GATE_NORMAL, { 6, 0, 0, 0, 0x80, 0, 0, 0 }, 8, 0 },
		{ "TextChat, 10", VNC_GATE_NORMAL, { 11, 0, 0, 0, 0, 0, 0, 10 }, 8, 18 },
		{ "TextChat, open command", VNC_GATE_NORMAL, { 11, 0, 0, 0, 0xff, 0xff, 0xff, 0xff }, 8, 8 },
		{ "TextChat, too long (refused)", VNC_GATE_NORMAL, { 11, 0, 0, 0, 0, 0, 0x10, 0 }, 8, 8 },
		{ "SetDesktopSize, 2 screens", VNC_GATE_NORMAL, { 251, 0, 4, 0, 3, 0, 2, 0 }, 8, 40 },
		{ "SetDesktopSize, header short", VNC_GATE_NORMAL, { 251, 0, 4, 0 }, 4, 8 },
		{ "QEMU, subtype not here", VNC_GATE_NORMAL, { 255 }, 1, 2 },
		{ "QEMU Extended Key Event", VNC_GATE_NORMAL, { 255, 0 }, 2, 12 },
		{ "QEMU other subtype (refused after 2 bytes)", VNC_GATE_NORMAL, { 255, 1 }, 2, 2 },
	};
	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_vnc_gate_refuses_unknown_types(void **state)
{
	static const struct gate_case cases[] = {
		{ "type 12", VNC_GATE_NORMAL, { 12 }, 1, 0 },
		{ "type 127", VNC_GATE_NORMAL, { 127 }, 1, 0 },
		{ "type 252", VNC_GATE_NORMAL, { 252 }, 1, 0 },
	};
	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_vnc_gate_refuses_messages_over_the_limit(void **state)
{
	static const struct gate_case cases[] = {
		{ "ClientCutText, 1 MiB (just fits)", VNC_GATE_NORMAL, { 6, 0, 0, 0, 0, 0x10, 0, 0 }, 8,
		  VNC_GATE_MAX_BYTES },
		{ "ClientCutText, 1 MiB + 1", VNC_GATE_NORMAL, { 6, 0, 0, 0, 0, 0x10, 0, 1 }, 8, 0 },
		{ "ClientCutText, extended -(1 MiB + 1)", VNC_GATE_NORMAL,
		  { 6, 0, 0, 0, 0xff, 0xef, 0xff, 0xff }, 8, 0 },
	};
	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_vnc_gate_follows_the_handshake_of_each_version(void **state)
{
	struct vnc_gate g;
	static const uint8_t none = 1, vnc_auth = 2, shared = 1;

	(void)state;
	vnc_gate_start(&g, 8, false);               /* 3.8, picks None */
	assert_int_equal(g.phase, VNC_GATE_SECURITY);
	vnc_gate_passed(&g, &none);
	assert_int_equal(g.phase, VNC_GATE_INIT);
	vnc_gate_passed(&g, &shared);
	assert_int_equal(g.phase, VNC_GATE_NORMAL);

	vnc_gate_start(&g, 7, true);                /* 3.7, picks VNC auth */
	vnc_gate_passed(&g, &vnc_auth);
	assert_int_equal(g.phase, VNC_GATE_AUTH);
	vnc_gate_passed(&g, &vnc_auth);             /* the 16-byte response */
	assert_int_equal(g.phase, VNC_GATE_INIT);

	vnc_gate_start(&g, 3, false);               /* 3.3: the server chose None */
	assert_int_equal(g.phase, VNC_GATE_INIT);
	vnc_gate_start(&g, 3, true);                /* 3.3: the server chose VNC auth */
	assert_int_equal(g.phase, VNC_GATE_AUTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnc_gate_sizes_handshake_messages),
		cmocka_unit_test(test_vnc_gate_sizes_fixed_length_messages),
		cmocka_unit_test(test_vnc_gate_sizes_variable_length_messages_from_their_header),
		cmocka_unit_test(test_vnc_gate_refuses_unknown_types),
		cmocka_unit_test(test_vnc_gate_refuses_messages_over_the_limit),
		cmocka_unit_test(test_vnc_gate_follows_the_handshake_of_each_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
