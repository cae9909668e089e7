/* Tests for stack/fault_report.c: the SIGSEGV/SIGBUS handler's report.
 * Test-only threads fault on purpose: deep recursion, a frame larger than
 * the guard, a NULL write (on a thread of ours, on main, on a thread we did
 * not start), and the way the bug report's VNC server did (one function
 * reserving a 3 MB frame on a small stack), where the report must name that
 * function and the frame it tried to reserve. Faults run in fork()ed
 * children (tests/death_test.h); the parent reads their stderr and checks
 * how they died. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "tests/death_test.h"

#include "stack/fault_report.h"
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

/* ---- running the faulting code in a child ---------------------------- */

/* Prints the child's stderr so a failing death test explains itself. */
static void assert_died_by_sigabrt(const struct child_result *r)
{
	if (!WIFSIGNALED(r->status) || WTERMSIG(r->status) != SIGABRT)
		fprintf(stderr, "child status %#x, stderr:\n%s\n", r->status, r->err);
	assert_true(WIFSIGNALED(r->status));
	assert_int_equal(WTERMSIG(r->status), SIGABRT);
}

/* True when `line` is a whole line of `text`. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

static void assert_has_line(const struct child_result *r, const char *line)
{
	if (!has_line(r->err, line))
		fprintf(stderr, "expected line: %s\nchild stderr:\n%s\n", line, r->err);
	assert_true(has_line(r->err, line));
}

static void start_child_protection(void)
{
	int err = thread_register_main("main");

	if (err)
		_exit(100);
	fault_report_install();
}

/* Runs fn on a 64 KiB helper thread called `name`; returns only on failure. */
static void run_on_thread(const char *name, void *(*fn)(void *))
{
	struct thread *t;

	start_child_protection();
	if (thread_start(&t, name, TEST_STACK_BYTES, fn, NULL))
		_exit(101);
	thread_join(t, NULL);
	_exit(102); /* fn should have died */
}

static volatile unsigned int recursion_limit = UINT_MAX;

static __attribute__((noinline)) unsigned int recurse(unsigned int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth >= recursion_limit)
		return (unsigned char)pad[0];
	return recurse(depth + 1) + (unsigned char)pad[0];
}

static void *recurse_forever(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)recurse(0);
}

/* One frame four times the guard: without stack-clash probes it would jump
 * over the guard; with them the first probe below the stack hits it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wframe-larger-than="
static __attribute__((noinline)) int touch_big_frame(void)
{
	volatile char big[4 * STACK_GUARD_BYTES];

	big[0] = 1; /* the far end: lowest address */
	return big[0];
}
#pragma GCC diagnostic pop

static void *big_frame(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)touch_big_frame();
}

/* Inline asm so neither UBSan nor ASan intercepts the store first. */
static void write_to_null(void)
{
	void *volatile p = NULL;

	__asm__ volatile("movb $1, (%0)" : : "r"(p) : "memory");
}

static void *null_write(void *arg)
{
	(void)arg;
	write_to_null();
	return NULL;
}

static void child_huge_frame(void) { run_on_thread("vnc", huge_frame_thread); }
static void child_probed_frame(void) { run_on_thread("prober", probed_frame_thread); }
static void child_deep_recursion(void) { run_on_thread("deep", recurse_forever); }
static void child_big_frame(void) { run_on_thread("bigframe", big_frame); }
static void child_null_write(void) { run_on_thread("nullw", null_write); }

static void child_null_write_on_main(void)
{
	start_child_protection();
	write_to_null();
}

static void child_null_write_on_foreign_thread(void)
{
	pthread_t p;

	start_child_protection();
	if (pthread_create(&p, NULL, null_write, NULL))
		_exit(101);
	pthread_join(p, NULL);
	_exit(102);
}

static void child_deep_recursion_on_main(void)
{
	/* The kernel checks RLIMIT_STACK whenever main's stack grows, so a
	 * small limit makes the overflow quick. */
	struct rlimit small = { KiB(512), KiB(512) };

	if (setrlimit(RLIMIT_STACK, &small))
		_exit(103);
	start_child_protection();
	recurse(0);
	_exit(102);
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

static void test_fault_report_names_function_and_its_huge_frame(void **state)
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

static void test_fault_report_keeps_stack_guard_and_sp_lines(void **state)
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

static void test_fault_report_decodes_unrolled_probes_of_recursive_frame(void **state)
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

/* ---- tests: the headline and the other lines -------------------------- */

static void test_fault_report_deep_recursion_reports_stack_overflow_and_aborts(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(child_deep_recursion, &r);
	assert_died_by_sigabrt(&r);
	assert_has_line(&r, "fatal: stack overflow in thread 'deep' (stack 64 KiB)");
	assert_non_null(strstr(r.err, " guard=0x"));
	assert_non_null(strstr(r.err, "fatal: fault_addr=0x"));
	assert_has_line(&r, "fatal: stack sizes are set in stack/stack_sizes.h");
}

static void test_fault_report_frame_larger_than_guard_reports_stack_overflow_and_aborts(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(child_big_frame, &r);
	assert_died_by_sigabrt(&r);
	assert_has_line(&r, "fatal: stack overflow in thread 'bigframe' (stack 64 KiB)");
}

static void test_fault_report_null_write_reports_thread_name_and_address_and_aborts(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(child_null_write, &r);
	assert_died_by_sigabrt(&r);
	assert_has_line(&r, "fatal: SIGSEGV in thread 'nullw' at address 0x0");
	assert_null(strstr(r.err, "stack overflow"));
}

static void test_fault_report_null_write_on_main_names_main(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(child_null_write_on_main, &r);
	assert_died_by_sigabrt(&r);
	assert_has_line(&r, "fatal: SIGSEGV in thread 'main' at address 0x0");
}

static void test_fault_report_fault_on_foreign_thread_reports_unknown_with_tid(void **state)
{
	struct child_result r;
	const char *p;
	int tid = 0;

	(void)state;
	run_in_child(child_null_write_on_foreign_thread, &r);
	assert_died_by_sigabrt(&r);
	p = strstr(r.err, "fatal: SIGSEGV in thread 'unknown' (tid ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "fatal: SIGSEGV in thread 'unknown' (tid %d)", &tid), 1);
	assert_true(tid > 0);
	assert_non_null(strstr(p, ") at address 0x0\n"));
}

static void test_fault_report_deep_recursion_on_main_reports_stack_overflow_in_main(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(child_deep_recursion_on_main, &r);
	assert_died_by_sigabrt(&r);
	assert_non_null(strstr(r.err, "fatal: stack overflow in thread 'main' (stack "));
	assert_has_line(&r, "fatal: main's stack is bounded by RLIMIT_STACK (ulimit -s)");
}

/* Runs body with stderr on a pseudo-terminal in raw mode, as fbvm's is
 * while the serial console owns the terminal; collects what it wrote. */
static void run_in_child_on_raw_pty(void (*body)(void), struct child_result *r)
{
	int master, slave;
	size_t len = 0;
	struct termios raw;
	pid_t pid;

	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	assert_int_equal(tcgetattr(slave, &raw), 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(slave, TCSANOW, &raw), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		close(master);
		dup2(slave, STDERR_FILENO);
		setrlimit(RLIMIT_CORE, &no_core);
		alarm(30);
		body();
		_exit(0);
	}
	close(slave);
	for (;;) {
		ssize_t n = read(master, r->err + len, sizeof(r->err) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EIO once the child, the last holder of the slave, exits */
		len += (size_t)n;
	}
	r->err[len] = '\0';
	close(master);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	print_message("child terminal:\n%s", r->err);
}

static void test_fault_report_ends_lines_with_crlf_on_a_raw_terminal(void **state)
{
	struct child_result r;
	const char *first;

	(void)state;
	run_in_child_on_raw_pty(child_null_write, &r);
	assert_died_by_sigabrt(&r);
	first = strstr(r.err, "fatal: SIGSEGV in thread 'nullw' at address 0x0\r\n");
	assert_non_null(first);
	/* Every line of the report: "\r\n", never a bare "\n". */
	for (const char *p = strchr(r.err, '\n'); p; p = strchr(p + 1, '\n'))
		assert_true(p > r.err && p[-1] == '\r');
	assert_non_null(strstr(first, "\r\nfatal: fault_addr=0x0 "));
}

/* The same report on a pipe: plain "\n" line ends. */
static void test_fault_report_ends_lines_with_lf_on_a_pipe(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(child_null_write, &r);
	assert_died_by_sigabrt(&r);
	assert_non_null(strstr(r.err, "fatal: SIGSEGV in thread 'nullw' at address 0x0\n"));
	assert_null(strchr(r.err, '\r'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_report_names_function_and_its_huge_frame),
		cmocka_unit_test(test_fault_report_keeps_stack_guard_and_sp_lines),
		cmocka_unit_test(test_fault_report_decodes_unrolled_probes_of_recursive_frame),
		cmocka_unit_test(test_fault_report_deep_recursion_reports_stack_overflow_and_aborts),
		cmocka_unit_test(test_fault_report_frame_larger_than_guard_reports_stack_overflow_and_aborts),
		cmocka_unit_test(test_fault_report_null_write_reports_thread_name_and_address_and_aborts),
		cmocka_unit_test(test_fault_report_null_write_on_main_names_main),
		cmocka_unit_test(test_fault_report_fault_on_foreign_thread_reports_unknown_with_tid),
		cmocka_unit_test(test_fault_report_deep_recursion_on_main_reports_stack_overflow_in_main),
		cmocka_unit_test(test_fault_report_ends_lines_with_crlf_on_a_raw_terminal),
		cmocka_unit_test(test_fault_report_ends_lines_with_lf_on_a_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
