#include "terminal.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"

/* Written before raw_active is set and never while it is set, so signal
 * handlers may read them whenever raw_active says so. */
static struct termios saved_tty;
static struct termios raw_tty;
static int saved_fd = -1;
static atomic_int raw_active; /* lock-free, hence usable from signal handlers */
static bool handlers_installed;

/* Signals whose default action would end fbvm with the terminal left raw. */
static const int fatal_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGABRT };

static const char escape_help[] =
	"\r\n"
	"C-a h    print this help\r\n"
	"C-a x    exit fbvm\r\n"
	"C-a C-a  send C-a\r\n";

/* QEMU's qemu_chr_set_echo_stdio(echo=false) with signal=off, as -nographic
 * and -serial mon:stdio use. OPOST is set, not cleared: QEMU keeps output
 * processing, so ONLCR (if the user had it) still turns '\n' into "\r\n". */
static void terminal_make_raw(struct termios *tty)
{
	tty->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	tty->c_oflag |= OPOST;
	tty->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
	tty->c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	tty->c_cflag |= CS8;
	tty->c_cc[VMIN] = 1;
	tty->c_cc[VTIME] = 0;
}

void terminal_restore(void)
{
	int saved_errno = errno;

	if (atomic_exchange(&raw_active, 0)) {
		/* TCSANOW: draining could block forever in a signal handler
		 * if output is stopped (^S). */
		tcsetattr(saved_fd, TCSANOW, &saved_tty);
		log_set_raw_terminal(false);
	}
	errno = saved_errno;
}

static void terminal_on_fatal_signal(int sig)
{
	terminal_restore();
	/* Die of the same signal, as without us. It stays blocked until the
	 * handler returns, then the default action runs. */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A shell restores its own settings when a job stops; re-apply ours when
 * continued, as QEMU does, but only in the foreground: tcsetattr from a
 * background process group would stop us again with SIGTTOU. */
static void terminal_on_sigcont(int sig)
{
	int saved_errno = errno;
	pid_t fg;

	(void)sig;
	if (atomic_load(&raw_active)) {
		fg = tcgetpgrp(saved_fd);
		if (fg < 0 || fg == getpgrp())
			tcsetattr(saved_fd, TCSANOW, &raw_tty);
	}
	errno = saved_errno;
}

static void terminal_install_handler(int sig, void (*handler)(int), int flags)
{
	struct sigaction sa, old;

	if (sigaction(sig, NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) ||
	    old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void terminal_install_handlers(void)
{
	if (handlers_installed)
		return;
	handlers_installed = true;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		terminal_install_handler(fatal_signals[i], terminal_on_fatal_signal, 0);
	terminal_install_handler(SIGCONT, terminal_on_sigcont, SA_RESTART);
	atexit(terminal_restore);
}

int terminal_enter_raw(int fd)
{
	struct termios tty;

	if (atomic_load(&raw_active))
		return -EBUSY;
	if (tcgetattr(fd, &tty) != 0)
		return -errno;
	saved_tty = tty;
	saved_fd = fd;
	terminal_make_raw(&tty);
	raw_tty = tty;
	terminal_install_handlers();
	/* Marked raw before switching so that a signal arriving in between
	 * still restores; restoring settings that are still cooked is harmless. */
	atomic_store(&raw_active, 1);
	if (tcsetattr(fd, TCSANOW, &raw_tty) != 0) {
		int err = -errno;

		atomic_store(&raw_active, 0);
		return err;
	}
	log_set_raw_terminal(true);
	return 0;
}

void terminal_escape_init(struct terminal_escape *e, int help_fd)
{
	e->pending = false;
	e->help_fd = help_fd;
}

static void terminal_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* help text is best effort */
		buf += n;
		len -= (size_t)n;
	}
}

size_t terminal_escape_feed(struct terminal_escape *e, const uint8_t *in, size_t len,
			    uint8_t *out, size_t out_cap, bool *quit)
{
	size_t n = 0;

	*quit = false;
	if (len > out_cap)
		len = out_cap;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (!e->pending) {
			if (c == TERMINAL_ESCAPE_CHAR)
				e->pending = true;
			else
				out[n++] = c;
			continue;
		}
		e->pending = false;
		switch (c) {
		case TERMINAL_ESCAPE_CHAR:
			out[n++] = c;
			break;
		case 'x':
			*quit = true;
			return n;
		case 'h':
		case '?':
			if (e->help_fd >= 0)
				terminal_write_all(e->help_fd, escape_help, sizeof(escape_help) - 1);
			break;
		default:
			break;
		}
	}
	return n;
}
