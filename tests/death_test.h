/*
 * Death-test plumbing shared by tests that expect a fault report: runs a
 * body in a forked child (no core file, a 30 s alarm so a hang shows as
 * SIGALRM) and collects its stderr and wait status. Include after cmocka.h.
 */
#ifndef FBVM_TESTS_DEATH_TEST_H
#define FBVM_TESTS_DEATH_TEST_H

#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct child_result {
	int status;
	char err[4096];
};

static inline void run_in_child(void (*body)(void), struct child_result *r)
{
	int fds[2];
	size_t len = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Tests must not litter core files. */
		struct rlimit no_core = { 0, 0 };

		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		setrlimit(RLIMIT_CORE, &no_core);
		alarm(30); /* a hang shows up as SIGALRM, not as a stuck test */
		body();
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], r->err + len, sizeof(r->err) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	r->err[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
	print_message("child stderr:\n%s", r->err);
}

#endif
