/* Tests for hypervisor/terminal.c: the Ctrl-A escape parser, and raw mode
 * against a real pseudo-terminal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "hypervisor/terminal.h"

/* ---- escape parser ---- */

struct escape_case {
	const char *name;
	const char *chunks[3]; /* fed one after another; NULL ends */
	const char *guest;     /* everything the guest receives */
	bool quit;             /* seen in the last chunk fed */
	bool help;
};

static const struct escape_case escape_cases[] = {
	{ "plain bytes pass", { "hello" }, "hello", false, false },
	{ "ctrl-c goes to the guest", { "\x03" }, "\x03", false, false },
	{ "other control bytes pass", { "\x1b[A\x04\x1a\x1c\r" }, "\x1b[A\x04\x1a\x1c\r", false, false },
	{ "ctrl-a x quits", { "ab\x01xcd" }, "ab", true, false },
	{ "ctrl-a ctrl-a sends one ctrl-a", { "\x01\x01" }, "\x01", false, false },
	{ "ctrl-a ctrl-a then x is data", { "\x01\x01x" }, "\x01x", false, false },
	{ "ctrl-a h prints help", { "a\x01hb" }, "ab", false, true },
	{ "ctrl-a ? prints help", { "\x01?" }, "", false, true },
	{ "ctrl-a unknown drops both", { "a\x01zb" }, "ab", false, false },
	{ "ctrl-a capital X is unknown", { "\x01X" }, "", false, false },
	{ "ctrl-a c (no monitor) is dropped", { "\x01" "c" }, "", false, false },
	{ "escape split across reads", { "a\x01", "x" }, "a", true, false },
	{ "doubled ctrl-a split across reads", { "\x01", "\x01", "y" }, "\x01y", false, false },
	{ "trailing ctrl-a waits for more", { "ab\x01", "q" }, "ab", false, false },
	{ "x alone is data", { "xx" }, "xx", false, false },
};

static size_t drain_pipe(int fd, char *buf, size_t cap)
{
	size_t total = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (total < cap && poll(&p, 1, 0) == 1) {
		ssize_t n = read(fd, buf + total, cap - total);

		if (n <= 0)
			break;
		total += (size_t)n;
	}
	return total;
}

static void test_terminal_escape_parser_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
		const struct escape_case *c = &escape_cases[i];
		struct terminal_escape e;
		uint8_t out[64], guest[64];
		char help[512];
		size_t guest_len = 0;
		bool quit = false;
		int pipefd[2];

		assert_int_equal(pipe(pipefd), 0);
		terminal_escape_init(&e, pipefd[1]);
		for (size_t k = 0; k < 3 && c->chunks[k]; k++) {
			size_t len = strlen(c->chunks[k]);
			size_t n = terminal_escape_feed(&e, (const uint8_t *)c->chunks[k], len, out,
							sizeof(out), &quit);

			memcpy(guest + guest_len, out, n);
			guest_len += n;
		}
		print_message("case: %s\n", c->name);
		assert_int_equal(guest_len, strlen(c->guest));
		assert_memory_equal(guest, c->guest, guest_len);
		assert_int_equal(quit, c->quit);
		size_t help_len = drain_pipe(pipefd[0], help, sizeof(help) - 1);
		help[help_len] = '\0';
		if (c->help)
			assert_non_null(strstr(help, "C-a x"));
		else
			assert_int_equal(help_len, 0);
		close(pipefd[0]);
		close(pipefd[1]);
	}
}

static void test_terminal_escape_filters_in_place(void **state)
{
	struct terminal_escape e;
	uint8_t buf[] = "a\x01\x01" "b\x01zc";
	bool quit;
	size_t n;

	(void)state;
	terminal_escape_init(&e, -1);
	n = terminal_escape_feed(&e, buf, sizeof(buf) - 1, buf, sizeof(buf), &quit);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "a\x01" "bc", 4);
	assert_false(quit);
}

static void test_terminal_escape_reads_at_most_out_cap_bytes(void **state)
{
	struct terminal_escape e;
	uint8_t out[2];
	bool quit;

	(void)state;
	terminal_escape_init(&e, -1);
	/* Only "ab" is read, so the escape after it is not seen. */
	assert_int_equal(terminal_escape_feed(&e, (const uint8_t *)"ab\x01x", 4, out, sizeof(out),
					      &quit), 2);
	assert_false(quit);
	assert_false(e.pending);
}

static void test_terminal_escape_help_without_fd_is_silent(void **state)
{
	struct terminal_escape e;
	uint8_t out[4];
	bool quit;

	(void)state;
	terminal_escape_init(&e, -1);
	assert_int_equal(terminal_escape_feed(&e, (const uint8_t *)"\x01h", 2, out, sizeof(out),
					      &quit), 0);
	assert_false(quit);
}

/* ---- raw mode on a pseudo-terminal ---- */

struct pty {
	int master;
	int slave;
	struct termios orig;
};

static int pty_setup(void **state)
{
	struct pty *p = calloc(1, sizeof(*p));

	if (!p || openpty(&p->master, &p->slave, NULL, NULL, NULL) != 0) {
		free(p);
		return -1;
	}
	if (tcgetattr(p->slave, &p->orig) != 0)
		return -1;
	*state = p;
	return 0;
}

static int pty_teardown(void **state)
{
	struct pty *p = *state;

	terminal_restore();
	close(p->master);
	close(p->slave);
	free(p);
	return 0;
}

static void assert_termios_equal(const struct termios *a, const struct termios *b)
{
	assert_int_equal(a->c_iflag, b->c_iflag);
	assert_int_equal(a->c_oflag, b->c_oflag);
	assert_int_equal(a->c_cflag, b->c_cflag);
	assert_int_equal(a->c_lflag, b->c_lflag);
	assert_memory_equal(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

static bool readable_within(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static void test_terminal_enter_raw_applies_qemu_stdio_settings(void **state)
{
	struct pty *p = *state;
	struct termios t;

	/* The pty starts cooked, so the test shows each flag changing. */
	assert_true(p->orig.c_lflag & ECHO);
	assert_true(p->orig.c_lflag & ICANON);
	assert_true(p->orig.c_lflag & ISIG);
	assert_int_equal(terminal_enter_raw(p->slave), 0);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_int_equal(t.c_lflag & (ECHO | ECHONL | ICANON | IEXTEN | ISIG), 0);
	assert_int_equal(t.c_iflag & (IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON), 0);
	assert_int_equal(t.c_oflag & OPOST, OPOST);
	assert_int_equal(t.c_oflag & ONLCR, p->orig.c_oflag & ONLCR);
	assert_int_equal(t.c_cflag & (CSIZE | PARENB), CS8);
	assert_int_equal(t.c_cc[VMIN], 1);
	assert_int_equal(t.c_cc[VTIME], 0);
}

static void test_terminal_restore_puts_back_saved_settings(void **state)
{
	struct pty *p = *state;
	struct termios t;

	assert_int_equal(terminal_enter_raw(p->slave), 0);
	terminal_restore();
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_termios_equal(&t, &p->orig);
}

static void test_terminal_restore_is_idempotent(void **state)
{
	struct pty *p = *state;
	struct termios t, changed;

	terminal_restore(); /* not raw: nothing to do */
	assert_int_equal(terminal_enter_raw(p->slave), 0);
	terminal_restore();
	/* A later change by someone else is not undone by another restore. */
	changed = p->orig;
	changed.c_lflag &= ~(tcflag_t)ECHO;
	assert_int_equal(tcsetattr(p->slave, TCSANOW, &changed), 0);
	terminal_restore();
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_termios_equal(&t, &changed);
}

static void test_terminal_enter_raw_twice_is_busy(void **state)
{
	struct pty *p = *state;

	assert_int_equal(terminal_enter_raw(p->slave), 0);
	assert_int_equal(terminal_enter_raw(p->slave), -EBUSY);
}

static void test_terminal_enter_raw_rejects_non_terminal(void **state)
{
	int pipefd[2];

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(terminal_enter_raw(pipefd[0]), -ENOTTY);
	assert_int_equal(terminal_enter_raw(-1), -EBADF);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_terminal_raw_mode_delivers_ctrl_c_as_data_without_echo(void **state)
{
	struct pty *p = *state;
	uint8_t c = 0;

	assert_int_equal(terminal_enter_raw(p->slave), 0);
	assert_int_equal(write(p->master, "\x03", 1), 1);
	/* No newline needed (not canonical), and the byte is not a signal. */
	assert_true(readable_within(p->slave, 1000));
	assert_int_equal(read(p->slave, &c, 1), 1);
	assert_int_equal(c, 0x03);
	/* Nothing echoed back towards the user. */
	assert_false(readable_within(p->master, 50));
}

static void test_terminal_raw_mode_passes_carriage_return_untranslated(void **state)
{
	struct pty *p = *state;
	uint8_t c = 0;

	assert_int_equal(terminal_enter_raw(p->slave), 0);
	assert_int_equal(write(p->master, "\r", 1), 1);
	assert_true(readable_within(p->slave, 1000));
	assert_int_equal(read(p->slave, &c, 1), 1);
	assert_int_equal(c, '\r'); /* ICRNL off: the guest sees Enter as CR */
}

static void test_terminal_raw_mode_keeps_output_newline_translation(void **state)
{
	struct pty *p = *state;
	char buf[8];
	ssize_t n;

	assert_true(p->orig.c_oflag & ONLCR);
	assert_int_equal(terminal_enter_raw(p->slave), 0);
	assert_int_equal(write(p->slave, "\n", 1), 1);
	assert_true(readable_within(p->master, 1000));
	n = read(p->master, buf, sizeof(buf));
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "\r\n", 2);
}

static void test_terminal_sigcont_reapplies_raw_mode(void **state)
{
	struct pty *p = *state;
	struct termios t;

	assert_int_equal(terminal_enter_raw(p->slave), 0);
	/* As a shell does when the job stops. */
	assert_int_equal(tcsetattr(p->slave, TCSANOW, &p->orig), 0);
	raise(SIGCONT);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_int_equal(t.c_lflag & (ECHO | ICANON | ISIG), 0);
	terminal_restore();
	raise(SIGCONT); /* not raw any more: left alone */
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_termios_equal(&t, &p->orig);
}

static void restore_from_handler(int sig)
{
	(void)sig;
	terminal_restore();
}

static void test_terminal_restore_works_from_a_signal_handler(void **state)
{
	struct pty *p = *state;
	struct sigaction sa = { .sa_handler = restore_from_handler }, old;
	struct termios t;

	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(terminal_enter_raw(p->slave), 0);
	raise(SIGUSR1);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_termios_equal(&t, &p->orig);
	sigaction(SIGUSR1, &old, NULL);
}

/* Runs `how` in a child that went raw on the pty, and returns its wait status. */
enum child_exit { CHILD_EXIT, CHILD_SIGNAL };

static int run_raw_child(struct pty *p, enum child_exit how, int arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core); /* SIGQUIT and SIGABRT would dump */
		if (terminal_enter_raw(p->slave) != 0)
			_exit(99);
		if (how == CHILD_EXIT)
			exit(arg);
		raise(arg);
		_exit(98); /* the signal should have killed us */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_terminal_exit_restores_terminal(void **state)
{
	struct pty *p = *state;
	struct termios t;
	int status = run_raw_child(p, CHILD_EXIT, 3);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	assert_termios_equal(&t, &p->orig);
}

static void test_terminal_fatal_signals_restore_terminal_and_still_kill(void **state)
{
	struct pty *p = *state;
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT };

	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct termios t;
		int status = run_raw_child(p, CHILD_SIGNAL, signals[i]);

		print_message("signal %d\n", signals[i]);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), signals[i]);
		assert_int_equal(tcgetattr(p->slave, &t), 0);
		assert_termios_equal(&t, &p->orig);
	}
}

#define PTY_TEST(name) cmocka_unit_test_setup_teardown(name, pty_setup, pty_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminal_escape_parser_cases),
		cmocka_unit_test(test_terminal_escape_filters_in_place),
		cmocka_unit_test(test_terminal_escape_reads_at_most_out_cap_bytes),
		cmocka_unit_test(test_terminal_escape_help_without_fd_is_silent),
		PTY_TEST(test_terminal_enter_raw_applies_qemu_stdio_settings),
		PTY_TEST(test_terminal_restore_puts_back_saved_settings),
		PTY_TEST(test_terminal_restore_is_idempotent),
		PTY_TEST(test_terminal_enter_raw_twice_is_busy),
		cmocka_unit_test(test_terminal_enter_raw_rejects_non_terminal),
		PTY_TEST(test_terminal_raw_mode_delivers_ctrl_c_as_data_without_echo),
		PTY_TEST(test_terminal_raw_mode_passes_carriage_return_untranslated),
		PTY_TEST(test_terminal_raw_mode_keeps_output_newline_translation),
		PTY_TEST(test_terminal_sigcont_reapplies_raw_mode),
		PTY_TEST(test_terminal_restore_works_from_a_signal_handler),
		PTY_TEST(test_terminal_exit_restores_terminal),
		PTY_TEST(test_terminal_fatal_signals_restore_terminal_and_still_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
