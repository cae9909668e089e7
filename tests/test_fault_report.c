/* Tests for the overflow report's function line (stack/thread.c): a
 * test-only thread overflows on purpose, the way the bug report's VNC server
 * did (one function reserving a 3 MB frame on a small stack), and the report
 * must name that function and the frame it tried to reserve. Faults run in
 * fork()ed children; the parent reads their stderr. Also table-driven tests
 * of the prologue decoder on machine code gcc emits. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "tests/death_test.h"

#include "stack/stack_sizes.h"
#include "stack/thread.h"

#define TEST_STACK_BYTES ((size_t)KiB(64))

/* The bug report's frame: 3 MB on a stack a fraction of that size. */
#define HUGE_FRAME_BYTES ((size_t)3 << 20)
/* Between two and three pages: gcc probes it with unrolled probes. */
#define PROBED_FRAME_BYTES ((size_t)9000)

/* ---- the overflowing code -------------------------------------------- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wframe-larger-than="
/* Writes the far (lowest) end of its frame first, as a careless encoder
 * filling a buffer from the top would. */
static __attribute__((noinline)) int stack_report_huge_frame(void)
{
	volatile char buf[HUGE_FRAME_BYTES];

	buf[0] = 1;
	return buf[0];
}

/* Far deeper than any test stack holds; volatile, so gcc cannot see the
 * recursion is unbounded. */
static volatile unsigned int probed_depth_limit = 1u << 30;

static __attribute__((noinline)) int stack_report_probed_frame(unsigned int depth)
{
	volatile char buf[PROBED_FRAME_BYTES];

	buf[0] = (char)depth;
	if (depth >= probed_depth_limit)
		return buf[0];
	return stack_report_probed_frame(depth + 1) + buf[0];
}
#pragma GCC diagnostic pop

static void *huge_frame_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)stack_report_huge_frame();
}

static void *probed_frame_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)stack_report_probed_frame(0);
}

/* ---- death-test plumbing (as in tests/test_thread.c) ------------------ */


static void run_on_thread(const char *name, void *(*fn)(void *))
{
	struct thread *t;

	if (thread_register_main("main"))
		_exit(100);
	thread_install_fault_handler();
	if (thread_start(&t, name, TEST_STACK_BYTES, fn, NULL))
		_exit(101);
	thread_join(t, NULL);
	_exit(102); /* fn should have died */
}

static void child_huge_frame(void) { run_on_thread("vnc", huge_frame_thread); }
static void child_probed_frame(void) { run_on_thread("prober", probed_frame_thread); }

static void assert_died_by_sigabrt(const struct child_result *r)
{
	assert_true(WIFSIGNALED(r->status));
	assert_int_equal(WTERMSIG(r->status), SIGABRT);
}

/* The line of `text` starting with `prefix`, copied into line[], or NULL. */
static const char *find_line(const char *text, const char *prefix, char *line, size_t size)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, prefix, n)) {
			size_t len = strcspn(p, "\n");

			if (len >= size)
				len = size - 1;
			memcpy(line, p, len);
			line[len] = '\0';
			return line;
		}
	}
	return NULL;
}

/* "fatal: NAME reserves N bytes (...)": N, or 0 when the line is missing. */
static uint64_t reserved_by(const char *err, const char *name, char *line, size_t size)
{
	char prefix[128];
	uint64_t bytes = 0;

	snprintf(prefix, sizeof(prefix), "fatal: %s reserves ", name);
	if (!find_line(err, prefix, line, size))
		return 0;
	if (sscanf(line + strlen(prefix), "%" SCNu64 " bytes (", &bytes) != 1)
		return 0;
	return bytes;
}

/* ---- tests: the report -------------------------------------------------- */

static void test_stack_report_names_function_and_its_huge_frame(void **state)
{
	struct child_result r;
	char line[512];
	uint64_t bytes;

	(void)state;
	run_in_child(child_huge_frame, &r);
	assert_died_by_sigabrt(&r);
	/* The first line keeps its format: tools and tests match it. */
	assert_non_null(strstr(r.err, "fatal: stack overflow in thread 'vnc' (stack 64 KiB)\n"));
	bytes = reserved_by(r.err, "stack_report_huge_frame", line, sizeof(line));
	/* The array, plus the stack protector's canary and alignment (and
	 * ASan's redzones around the array in the sanitizer build). */
	assert_true(bytes >= HUGE_FRAME_BYTES);
	assert_true(bytes <= HUGE_FRAME_BYTES + 4096);
	/* gcc -fstack-clash-protection turns a 3 MB frame into a probe loop. */
	assert_non_null(strstr(line, "(probe loop lea -0x300000(%rsp),%r11"));
	/* It is the second line, right under the headline. */
	assert_non_null(strstr(r.err, "(stack 64 KiB)\nfatal: stack_report_huge_frame reserves "));
}

static void test_stack_report_keeps_stack_guard_and_sp_lines(void **state)
{
	struct child_result r;
	char line[512];
	unsigned long long s_lo, s_hi, g_lo, g_hi, addr, sp;
	int tid;

	(void)state;
	run_in_child(child_huge_frame, &r);
	assert_died_by_sigabrt(&r);
	assert_non_null(find_line(r.err, "fatal: tid=", line, sizeof(line)));
	assert_int_equal(sscanf(line, "fatal: tid=%d stack=%llx-%llx guard=%llx-%llx", &tid, &s_lo,
				&s_hi, &g_lo, &g_hi), 5);
	assert_int_equal(s_hi - s_lo, TEST_STACK_BYTES);
	assert_int_equal(g_hi, s_lo);
	assert_int_equal(g_hi - g_lo, STACK_GUARD_BYTES);
	assert_non_null(find_line(r.err, "fatal: fault_addr=", line, sizeof(line)));
	assert_int_equal(sscanf(line, "fatal: fault_addr=%llx sp=%llx", &addr, &sp), 2);
	/* The first probe below the stack hits the guard. */
	assert_true(addr >= g_lo && addr < g_hi);
}

static void test_stack_report_decodes_unrolled_probes_of_recursive_frame(void **state)
{
	struct child_result r;
	char line[512];
	uint64_t bytes;

	(void)state;
	run_in_child(child_probed_frame, &r);
	assert_died_by_sigabrt(&r);
	assert_non_null(strstr(r.err, "fatal: stack overflow in thread 'prober' (stack 64 KiB)\n"));
	bytes = reserved_by(r.err, "stack_report_probed_frame", line, sizeof(line));
	assert_true(bytes >= PROBED_FRAME_BYTES);
	assert_true(bytes <= PROBED_FRAME_BYTES + 1024);
	/* Two probed pages, then the rest. */
	assert_non_null(strstr(line, "(sub $0x1000,%rsp; sub $0x1000,%rsp; sub $0x"));
	assert_non_null(strstr(line, "the stack was already full"));
}

/* ---- tests: the decoder, on code gcc 12 emits -------------------------- */

struct decode_case {
	const char *what;
	uint8_t code[64];
	size_t len;
	size_t bytes;
	const char *desc;
};

static const struct decode_case decode_cases[] = {
	{ "sub imm8",
	  { 0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0xe7, 0xe8, 0, 0, 0, 0 }, 12,
	  0x18, "sub $0x18,%rsp" },
	{ "sub imm32 without probes (no -fstack-clash-protection)",
	  { 0x48, 0x81, 0xec, 0xc0, 0x03, 0x30, 0x00, 0x48, 0x89, 0xe7, 0xe8, 0, 0, 0, 0 }, 15,
	  0x3003c0, "sub $0x3003c0,%rsp" },
	{ "add $-128, gcc's spelling of sub 128",
	  { 0x53, 0x48, 0x83, 0xc4, 0x80, 0xe8, 0, 0, 0, 0 }, 10,
	  128, "add $-0x80,%rsp" },
	{ "probe loop then sub, with the stack protector",
	  { 0x4c, 0x8d, 0x9c, 0x24, 0x00, 0x00, 0xd0, 0xff,       /* lea -0x300000(%rsp),%r11 */
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00,             /* sub $0x1000,%rsp */
	    0x48, 0x83, 0x0c, 0x24, 0x00,                         /* orq $0x0,(%rsp) */
	    0x4c, 0x39, 0xdc,                                     /* cmp %r11,%rsp */
	    0x75, 0xef,                                           /* jne */
	    0x48, 0x83, 0xec, 0x18,                               /* sub $0x18,%rsp */
	    0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0,          /* mov %fs:0x28,%rax */
	    0xe8, 0, 0, 0, 0 }, 43,
	  0x300018, "probe loop lea -0x300000(%rsp),%r11; sub $0x18,%rsp" },
	{ "unrolled probes",
	  { 0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00,
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00,
	    0x48, 0x81, 0xec, 0x38, 0x03, 0x00, 0x00, 0xc3 }, 32,
	  0x2338, "sub $0x1000,%rsp; sub $0x1000,%rsp; sub $0x338,%rsp" },
	{ "ASan prologue: endbr64, frame pointer, pushes, then the loop",
	  { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x41, 0x54, 0x53,
	    0x4c, 0x8d, 0x9c, 0x24, 0x00, 0x00, 0xd0, 0xff,
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00,
	    0x4c, 0x39, 0xdc, 0x75, 0xef,
	    0x48, 0x81, 0xec, 0x20, 0x01, 0x00, 0x00,
	    0x48, 0x8d, 0x05, 0, 0, 0, 0 }, 50,
	  0x300120, "probe loop lea -0x300000(%rsp),%r11; sub $0x120,%rsp" },
	{ "a fault inside the loop, window ending before cmp",
	  { 0x4c, 0x8d, 0x9c, 0x24, 0x00, 0x00, 0xfc, 0xff,
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00 }, 20,
	  0x40000, "probe loop lea -0x40000(%rsp),%r11" },
	{ "leaf function: no frame",
	  { 0x8d, 0x47, 0x01, 0xc3 }, 4, 0, "" },
	{ "frame released before any call: the prologue is over",
	  { 0x48, 0x83, 0xec, 0x08, 0x48, 0x83, 0xc4, 0x08, 0x48, 0x83, 0xec, 0x40, 0xc3 }, 13,
	  8, "sub $0x8,%rsp" },
	{ "truncated instruction",
	  { 0x48, 0x81, 0xec, 0x00 }, 4, 0, "" },
};

static void test_stack_report_decoder_reads_gcc_prologues(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		char desc[160];
		size_t bytes = thread_decode_frame(c->code, c->len, desc, sizeof(desc));

		if (bytes != c->bytes || strcmp(desc, c->desc))
			print_error("case '%s': got %zu \"%s\", want %zu \"%s\"\n", c->what, bytes,
				    desc, c->bytes, c->desc);
		assert_int_equal(bytes, c->bytes);
		assert_string_equal(desc, c->desc);
	}
}

static void test_stack_report_decoder_truncates_description_to_buffer(void **state)
{
	const struct decode_case *c = &decode_cases[3];
	char desc[8];

	(void)state;
	memset(desc, 'x', sizeof(desc));
	assert_int_equal(thread_decode_frame(c->code, c->len, desc, sizeof(desc)), c->bytes);
	assert_int_equal(strlen(desc), sizeof(desc) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_report_names_function_and_its_huge_frame),
		cmocka_unit_test(test_stack_report_keeps_stack_guard_and_sp_lines),
		cmocka_unit_test(test_stack_report_decodes_unrolled_probes_of_recursive_frame),
		cmocka_unit_test(test_stack_report_decoder_reads_gcc_prologues),
		cmocka_unit_test(test_stack_report_decoder_truncates_description_to_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
