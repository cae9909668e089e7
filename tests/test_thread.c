/* Tests for stack/thread.c: guarded stacks, names, high-water marks, the
 * registry and its lookups for the fault report. The report itself is
 * tested in tests/test_fault_report.c. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "tests/death_test.h"

#include "stack/stack_sizes.h"
#include "stack/thread.h"

#define TEST_STACK_BYTES ((size_t)KiB(64))

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* ---- helpers ---------------------------------------------------------- */

static void *return_arg_plus_one(void *arg) { return (char *)arg + 1; }

/* Writes every byte of a 1 KiB frame per level, `kib` levels deep, and
 * records the lowest byte written. Adds after the call so it is no tail call. */
static uintptr_t deepest_written;

static __attribute__((noinline)) int use_stack_kib(unsigned int kib)
{
	volatile char buf[1024];
	int sum = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	if ((uintptr_t)&buf[0] < deepest_written || !deepest_written)
		deepest_written = (uintptr_t)&buf[0];
	if (kib > 1)
		sum = use_stack_kib(kib - 1);
	return sum + buf[kib % sizeof(buf)];
}

/* Finds the /proc/self/maps line for exactly [lo, hi) and returns its perms. */
static int maps_perms(uintptr_t lo, uintptr_t hi, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char p[5];

		if (sscanf(line, "%lx-%lx %4s", &a, &b, p) == 3 && a == lo && b == hi) {
			memcpy(perms, p, 5);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static size_t maps_line_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static size_t resident_bytes(uintptr_t lo, uintptr_t hi)
{
	size_t page = page_size(), pages = (hi - lo) / page, n = 0;
	unsigned char *vec = malloc(pages);

	assert_non_null(vec);
	assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n * page;
}

/* A pipe whose read end blocks threads until the write end is closed. */
static int gate[2];

static void *wait_at_gate(void *arg)
{
	char c;

	(void)arg;
	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* ---- tests -------------------------------------------------------------- */

static void test_thread_join_returns_value_of_fn_called_with_arg(void **state)
{
	static char token[2];
	struct thread *t = NULL;
	void *ret = NULL;

	(void)state;
	assert_int_equal(thread_start(&t, "retval", TEST_STACK_BYTES, return_arg_plus_one, token),
			 0);
	assert_non_null(t);
	assert_int_equal(thread_join(t, &ret), 0);
	assert_ptr_equal(ret, token + 1);
}

struct names {
	char pthread_name[32];
	char comm[32];
};

static void *read_own_names(void *arg)
{
	struct names *n = arg;
	FILE *f;

	pthread_getname_np(pthread_self(), n->pthread_name, sizeof(n->pthread_name));
	f = fopen("/proc/thread-self/comm", "r");
	if (f) {
		if (!fgets(n->comm, sizeof(n->comm), f))
			n->comm[0] = '\0';
		fclose(f);
	}
	return NULL;
}

static void test_thread_name_is_the_kernel_thread_name(void **state)
{
	struct names n = { "", "" };
	struct thread *t;

	(void)state;
	assert_int_equal(thread_start(&t, "vcpu15-longname", TEST_STACK_BYTES, read_own_names, &n),
			 0);
	assert_int_equal(thread_join(t, NULL), 0);
	assert_string_equal(n.pthread_name, "vcpu15-longname");
	assert_string_equal(n.comm, "vcpu15-longname\n");
}

static void test_thread_start_rejects_invalid_arguments(void **state)
{
	static const struct {
		const char *name;
		size_t stack_bytes;
		int null_fn;
	} bad[] = {
		{ NULL, KiB(64), 0 },
		{ "", KiB(64), 0 },
		{ "sixteen-chars-xx", KiB(64), 0 },
		{ "ok", 0, 0 },
		{ "ok", KiB(64) + 1, 0 },
		{ "ok", KiB(64), 1 },
	};
	size_t maps_before = maps_line_count();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct thread *t = (struct thread *)&bad; /* must stay untouched */

		assert_int_equal(thread_start(&t, bad[i].name, bad[i].stack_bytes,
					      bad[i].null_fn ? NULL : return_arg_plus_one, NULL),
				 -EINVAL);
		assert_ptr_equal(t, (struct thread *)&bad);
	}
	assert_int_equal(maps_line_count(), maps_before);
}

static void test_thread_guard_below_stack_is_prot_none(void **state)
{
	struct thread_layout l;
	struct thread *t;
	char perms[5];

	(void)state;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(thread_start(&t, "guarded", TEST_STACK_BYTES, wait_at_gate, NULL), 0);
	thread_get_layout(t, &l);
	assert_int_equal(l.stack_hi - l.stack_lo, TEST_STACK_BYTES);
	assert_int_equal(l.guard_hi, l.stack_lo);
	assert_int_equal(l.guard_hi - l.guard_lo, STACK_GUARD_BYTES);
	assert_true(l.altstack_hi - l.altstack_lo >= STACK_SIGALT_BYTES);

	assert_true(maps_perms(l.guard_lo, l.guard_hi, perms));
	assert_string_equal(perms, "---p");
	assert_true(maps_perms(l.stack_lo, l.stack_hi, perms));
	assert_string_equal(perms, "rw-p");
	/* The alternate signal stack has its own guard directly below. */
	assert_true(maps_perms(l.altstack_lo - STACK_GUARD_BYTES, l.altstack_lo, perms));
	assert_string_equal(perms, "---p");

	close(gate[1]);
	assert_int_equal(thread_join(t, NULL), 0);
	close(gate[0]);
}

static void test_thread_stack_commits_only_the_painted_top(void **state)
{
	struct thread_layout l;
	struct thread *t;
	size_t stack_rss, alt_rss;

	(void)state;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(thread_start(&t, "rss", STACK_VNC_BYTES, wait_at_gate, NULL), 0);
	thread_get_layout(t, &l);
	stack_rss = resident_bytes(l.stack_lo, l.stack_hi);
	alt_rss = resident_bytes(l.altstack_lo, l.altstack_hi);
	print_message("512 KiB stack: %zu KiB resident, altstack %zu KiB resident\n",
		      stack_rss / 1024, alt_rss / 1024);
	assert_true(stack_rss >= STACK_PAINT_BYTES);
	assert_true(stack_rss <= STACK_PAINT_BYTES + 2 * page_size());
	assert_int_equal(alt_rss, 0);
	close(gate[1]);
	assert_int_equal(thread_join(t, NULL), 0);
	close(gate[0]);
}

static void test_thread_high_water_of_idle_thread_is_small(void **state)
{
	struct thread *t;
	size_t hw;

	(void)state;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(thread_start(&t, "idle", STACK_VCPU_BYTES, wait_at_gate, NULL), 0);
	hw = thread_stack_high_water(t);
	print_message("idle thread high-water: %zu bytes\n", hw);
	/* glibc's TCB and TLS at least; an idle thread fits in a few KiB
	 * (more under ASan, whose frames carry redzones). */
	assert_true(hw >= 512);
	assert_true(hw <= KiB(16));
	close(gate[1]);
	assert_int_equal(thread_join(t, NULL), 0);
	close(gate[0]);
}

struct hw_probe {
	unsigned int kib;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, measured;
};

/* Uses p->kib KiB of stack, then waits until the test has measured. */
static void *use_then_wait(void *arg)
{
	struct hw_probe *p = arg;

	deepest_written = 0;
	use_stack_kib(p->kib);
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_broadcast(&p->cond);
	while (!p->measured)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Runs a thread that uses `kib` KiB and returns its high-water mark measured
 * while it waits; *expected gets the bytes it is known to have written. */
static size_t measure_use(unsigned int kib, size_t stack_bytes, size_t *expected)
{
	struct hw_probe p = { .kib = kib };
	struct thread_layout l;
	struct thread *t;
	size_t hw;

	p.lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	p.cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	assert_int_equal(thread_start(&t, "hwuse", stack_bytes, use_then_wait, &p), 0);
	thread_get_layout(t, &l);
	pthread_mutex_lock(&p.lock);
	while (!p.done)
		pthread_cond_wait(&p.cond, &p.lock);
	hw = thread_stack_high_water(t);
	*expected = l.stack_hi - deepest_written;
	p.measured = 1;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	assert_int_equal(thread_join(t, NULL), 0);
	return hw;
}

static void test_thread_high_water_counts_use_within_painted_top(void **state)
{
	size_t expected, hw;

	(void)state;
	hw = measure_use(32, STACK_VCPU_BYTES, &expected);
	print_message("used %zu bytes, high-water %zu bytes\n", expected, hw);
	assert_true(expected >= KiB(32));
	assert_true(expected < STACK_PAINT_BYTES);
	/* Exact to the word, plus whatever the deepest frame saved below its
	 * buffer (a few registers; ASan's bookkeeping calls). */
	assert_true(hw >= expected);
	assert_true(hw <= expected + 1024);
}

static void test_thread_high_water_counts_use_below_painted_top_by_page(void **state)
{
	size_t expected, hw;

	(void)state;
	hw = measure_use(160, STACK_VCPU_BYTES, &expected);
	print_message("used %zu bytes, high-water %zu bytes\n", expected, hw);
	assert_true(expected >= KiB(160));
	assert_true(expected < STACK_VCPU_BYTES);
	assert_true(hw >= expected);
	assert_true(hw <= expected + page_size() + 1024);
}

static const char *find_stats_line(const char *table, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = table; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return p;
	return NULL;
}

static void test_thread_print_stats_lists_running_and_exited_threads(void **state)
{
	struct thread *running, *exited;
	char *table = NULL;
	size_t table_len = 0;
	const char *line;
	FILE *out;
	char name[32], st[32];
	size_t stack_kib;
	double hw_kib, pct;

	(void)state;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(thread_start(&running, "stats-run", STACK_VCPU_BYTES, wait_at_gate, NULL),
			 0);
	assert_int_equal(thread_start(&exited, "stats-done", STACK_VNC_BYTES, return_arg_plus_one,
				      NULL),
			 0);
	assert_int_equal(thread_join(exited, NULL), 0);

	out = open_memstream(&table, &table_len);
	assert_non_null(out);
	thread_print_stats(out);
	fclose(out);
	print_message("%s", table);

	assert_true(!strncmp(table, "thread ", 7));
	line = find_stats_line(table, "stats-run");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "%31s %zu %lf %lf%% %31s", name, &stack_kib, &hw_kib, &pct, st),
			 5);
	assert_int_equal(stack_kib, 256);
	assert_true(hw_kib > 0 && hw_kib < 16);
	assert_string_equal(st, "running");

	line = find_stats_line(table, "stats-done");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "%31s %zu %lf %lf%% %31s", name, &stack_kib, &hw_kib, &pct, st),
			 5);
	assert_int_equal(stack_kib, 512);
	assert_true(hw_kib > 0 && hw_kib < 16);
	assert_string_equal(st, "exited");

	free(table);
	close(gate[1]);
	assert_int_equal(thread_join(running, NULL), 0);
	close(gate[0]);
}

static void test_thread_start_fails_with_eagain_when_registry_full_leaving_nothing(void **state)
{
	struct thread *threads[THREAD_REGISTRY_SLOTS], *extra = NULL;
	size_t started = 0, maps_before;

	(void)state;
	assert_int_equal(pipe(gate), 0);
	for (; started < THREAD_REGISTRY_SLOTS; started++)
		if (thread_start(&threads[started], "filler", TEST_STACK_BYTES, wait_at_gate, NULL))
			break;
	assert_int_equal(started, THREAD_REGISTRY_SLOTS);
	maps_before = maps_line_count();
	assert_int_equal(thread_start(&extra, "extra", TEST_STACK_BYTES, wait_at_gate, NULL),
			 -EAGAIN);
	assert_null(extra);
	assert_int_equal(maps_line_count(), maps_before);
	close(gate[1]);
	for (size_t i = 0; i < started; i++)
		assert_int_equal(thread_join(threads[i], NULL), 0);
	close(gate[0]);
}

static void register_twice(void)
{
	if (thread_register_main("main") != 0)
		_exit(1);
	if (thread_register_main("main") != -EEXIST)
		_exit(2);
	_exit(0);
}

static void test_thread_register_main_refuses_second_registration(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(register_twice, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
}

/* The tid of the calling thread, published for the test to read. */
struct tid_probe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pid_t tid;
};

static void *publish_tid_then_wait(void *arg)
{
	struct tid_probe *p = arg;

	pthread_mutex_lock(&p->lock);
	p->tid = gettid();
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return wait_at_gate(NULL);
}

static void test_thread_find_by_tid_and_guard_describe_a_running_thread(void **state)
{
	struct tid_probe p = { .tid = 0 };
	struct thread_info by_tid, by_guard;
	struct thread_layout l;
	struct thread *t;

	(void)state;
	p.lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	p.cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(thread_start(&t, "findme", TEST_STACK_BYTES, publish_tid_then_wait, &p), 0);
	thread_get_layout(t, &l);
	pthread_mutex_lock(&p.lock);
	while (!p.tid)
		pthread_cond_wait(&p.cond, &p.lock);
	pthread_mutex_unlock(&p.lock);

	assert_true(thread_find_by_tid(p.tid, &by_tid));
	assert_string_equal(by_tid.name, "findme");
	assert_false(by_tid.is_main);
	assert_int_equal(by_tid.stack_bytes, TEST_STACK_BYTES);
	assert_int_equal(by_tid.stack_lo, l.stack_lo);
	assert_int_equal(by_tid.stack_hi, l.stack_hi);
	assert_int_equal(by_tid.guard_lo, l.guard_lo);
	assert_int_equal(by_tid.guard_hi, l.guard_hi);
	assert_int_equal(by_tid.alt_lo, l.altstack_lo);
	assert_int_equal(by_tid.alt_hi, l.altstack_hi);

	/* Any byte of the guard names the thread; the stack itself does not. */
	assert_true(thread_find_by_guard(l.guard_lo, &by_guard));
	assert_string_equal(by_guard.name, "findme");
	assert_true(thread_find_by_guard(l.guard_hi - 1, &by_guard));
	assert_string_equal(by_guard.name, "findme");
	assert_false(thread_find_by_guard(l.stack_lo, &by_guard));

	close(gate[1]);
	assert_int_equal(thread_join(t, NULL), 0);
	close(gate[0]);
	/* Joined: its tid may be reused and its guard is unmapped. */
	assert_false(thread_find_by_tid(p.tid, &by_tid));
	assert_false(thread_find_by_guard(l.guard_lo, &by_guard));
}

static void find_main_before_and_after_registering(void)
{
	struct thread_info info;

	if (thread_find_by_tid(gettid(), &info))
		_exit(1);
	if (thread_register_main("main"))
		_exit(2);
	if (!thread_find_by_tid(gettid(), &info) || strcmp(info.name, "main") || !info.is_main)
		_exit(3);
	/* main's guard is the region below its RLIMIT_STACK bound. */
	if (info.guard_hi != info.stack_lo || info.guard_hi - info.guard_lo != STACK_GUARD_BYTES)
		_exit(4);
	if (!thread_find_by_guard(info.stack_lo - 1, &info) || strcmp(info.name, "main"))
		_exit(5);
	_exit(0);
}

static void test_thread_find_by_tid_names_main_once_registered(void **state)
{
	struct child_result r;

	(void)state;
	run_in_child(find_main_before_and_after_registering, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_join_returns_value_of_fn_called_with_arg),
		cmocka_unit_test(test_thread_name_is_the_kernel_thread_name),
		cmocka_unit_test(test_thread_start_rejects_invalid_arguments),
		cmocka_unit_test(test_thread_guard_below_stack_is_prot_none),
		cmocka_unit_test(test_thread_stack_commits_only_the_painted_top),
		cmocka_unit_test(test_thread_high_water_of_idle_thread_is_small),
		cmocka_unit_test(test_thread_high_water_counts_use_within_painted_top),
		cmocka_unit_test(test_thread_high_water_counts_use_below_painted_top_by_page),
		cmocka_unit_test(test_thread_print_stats_lists_running_and_exited_threads),
		cmocka_unit_test(test_thread_start_fails_with_eagain_when_registry_full_leaving_nothing),
		cmocka_unit_test(test_thread_register_main_refuses_second_registration),
		cmocka_unit_test(test_thread_find_by_tid_and_guard_describe_a_running_thread),
		cmocka_unit_test(test_thread_find_by_tid_names_main_once_registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
