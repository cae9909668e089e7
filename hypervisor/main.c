/*
 * fbvm: CLI entry point and the event loop for serial input, signals and the
 * halt watchdog. Without --sdl that loop is the main thread's. With --sdl the
 * main thread belongs to the SDL window (sdl_run blocks in SDL_WaitEvent,
 * SDL's rule: it stays on the main thread) and the same loop runs on the
 * "console" thread, which also wakes the window: when a stop is requested,
 * and when the vnc thread's refresh left changes in the display share.
 *
 * Why a thread and not one loop: SDL2 does not give a pollable fd for its
 * events, and pumping SDL from poll() with a timeout is a busy loop.
 * Measured under Xvfb with an idle window: SDL_WaitEvent woke once in 10 s
 * (0.0007 % of a core); SDL_WaitEventTimeout(10 ms) or poll() + SDL_PollEvent
 * every 10 ms woke 99 times a second (0.2-0.25 %, 300 times more).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/client.h"
#include "display/share.h"
#include "hypervisor/cli.h"
#include "hypervisor/log.h"
#include "hypervisor/machine.h"
#include "stack/fault_report.h"
#include "stack/stack_sizes.h"
#include "hypervisor/terminal.h"
#include "stack/thread.h"
#include "hypervisor/vmstop.h"
#include "sdl/sdl.h"

/* Largest kernel or initrd we read: far above any real one, and it keeps a
 * typo (a disk image) from eating host memory. */
#define MAX_IMAGE_BYTES (1ull << 30)
#define WATCHDOG_INTERVAL_MS 1000
#define STDIN_CHUNK_BYTES 256
#define STDIN_PENDING_BYTES 4096

struct main_loop {
	struct machine *m;
	int signal_fd;
	bool stdin_open;        /* serial input comes from stdin */
	bool stdin_is_tty;      /* raw mode and the Ctrl-A escape apply */
	struct terminal_escape escape;
	uint8_t pending[STDIN_PENDING_BYTES];   /* typed bytes COM1 has not taken yet */
	size_t pending_len;
	size_t pending_off;
	uint64_t input_dropped;
	struct sdl_frontend *sdl;   /* --sdl: this loop runs on the console thread */
	int frame_fd;               /* the display share's notify fd, or -1 */
};

static int read_whole_file(const char *option, const char *path, uint8_t **out, size_t *size,
			   char *err, size_t err_len)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, err_len, "%s %s: %s", option, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s %s: not a regular file", option, path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > MAX_IMAGE_BYTES || st.st_size == 0) {
		snprintf(err, err_len, "%s %s: size %lld bytes, must be 1 byte to 1 GiB", option,
			 path, (long long)st.st_size);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		snprintf(err, err_len, "%s %s: out of memory", option, path);
		close(fd);
		return -1;
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, err_len, "%s %s: read failed: %s", option, path,
				 r < 0 ? strerror(errno) : "file shrank");
			free(buf);
			close(fd);
			return -1;
		}
		done += (size_t)r;
	}
	close(fd);
	*out = buf;
	*size = done;
	return 0;
}

/* Offers buffered stdin bytes to COM1; keeps what the FIFO cannot take. */
static void feed_serial(struct main_loop *loop)
{
	size_t taken = serial_receive(&loop->m->serial, loop->pending + loop->pending_off,
				      loop->pending_len - loop->pending_off);

	loop->pending_off += taken;
	if (loop->pending_off == loop->pending_len)
		loop->pending_off = loop->pending_len = 0;
}

/* Reads typed bytes. Keeps reading while COM1 is full so Ctrl-A x always
 * works, even when the guest never reads its serial port; guest bytes beyond
 * the buffer are dropped and counted. */
static void read_stdin(struct main_loop *loop)
{
	uint8_t chunk[STDIN_CHUNK_BYTES];
	ssize_t r = read(STDIN_FILENO, chunk, sizeof(chunk));
	size_t n, room;

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		/* End of input: the guest keeps running, it just gets no more. */
		loop->stdin_open = false;
		return;
	}
	n = (size_t)r;
	if (loop->stdin_is_tty) {
		bool quit = false;
		n = terminal_escape_feed(&loop->escape, chunk, n, chunk, sizeof(chunk), &quit);
		if (quit)
			vm_request_stop(VM_STOP_POWEROFF, EXIT_STATUS_OK, "Ctrl-A x");
	}
	/* Compact, then append what fits. */
	if (loop->pending_off) {
		memmove(loop->pending, loop->pending + loop->pending_off,
			loop->pending_len - loop->pending_off);
		loop->pending_len -= loop->pending_off;
		loop->pending_off = 0;
	}
	room = sizeof(loop->pending) - loop->pending_len;
	if (n > room) {
		loop->input_dropped += n - room;
		log_ratelimited(LOG_WARN, "serial", "guest is not reading COM1: dropped %zu typed"
				" bytes", n - room);
		n = room;
	}
	memcpy(loop->pending + loop->pending_len, chunk, n);
	loop->pending_len += n;
	feed_serial(loop);
}

/* A terminal is always read (Ctrl-A x must work); a pipe or file only while
 * a whole chunk fits, so piped input waits for the guest instead of dropping. */
static bool stdin_wanted(const struct main_loop *loop)
{
	return loop->stdin_open &&
	       (loop->stdin_is_tty || loop->pending_len + STDIN_CHUNK_BYTES <= sizeof(loop->pending));
}

static void handle_signal(struct main_loop *loop)
{
	struct signalfd_siginfo si;
	char detail[48];

	if (read(loop->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(detail, sizeof(detail), "received %s", strsignal((int)si.ssi_signo));
	vm_request_stop(VM_STOP_POWEROFF, 128 + (int)si.ssi_signo, detail);
}

/* The vnc thread's refresh left changes for the window: one SDL event per
 * notification (the share signals again only after the window took them). */
static void wake_window(struct main_loop *loop)
{
	uint64_t v;

	if (read(loop->frame_fd, &v, sizeof(v)) == sizeof(v))
		sdl_wake(loop->sdl, SDL_WAKE_FRAME);
}

static void run_main_loop(struct main_loop *loop)
{
	int stop_fd = vm_stop_eventfd();
	uint64_t next_watchdog = log_now_ms() + WATCHDOG_INTERVAL_MS;

	while (!vm_stop_requested()) {
		struct pollfd fds[5] = {
			{ .fd = stop_fd, .events = POLLIN },
			{ .fd = loop->signal_fd, .events = POLLIN },
			{ .fd = stdin_wanted(loop) ? STDIN_FILENO : -1, .events = POLLIN },
			/* Bytes waiting: wake when the guest drains COM1. */
			{ .fd = loop->pending_len ? loop->m->serial_rx_efd : -1, .events = POLLIN },
			{ .fd = loop->frame_fd, .events = POLLIN },
		};
		uint64_t now = log_now_ms();
		int timeout = now >= next_watchdog ? 0 : (int)(next_watchdog - now);

		if (poll(fds, 5, timeout) < 0 && errno != EINTR) {
			vm_request_stop(VM_STOP_HOST_ERROR, EXIT_STATUS_HOST, "poll failed");
			break;
		}
		if (fds[1].revents & POLLIN)
			handle_signal(loop);
		if (fds[3].revents) {
			uint64_t v;
			if (read(loop->m->serial_rx_efd, &v, sizeof(v)) < 0) {
				/* Already drained: retry the feed anyway. */
			}
			feed_serial(loop);
		}
		if (fds[2].revents)
			read_stdin(loop);
		if (fds[4].revents)
			wake_window(loop);
		if (log_now_ms() >= next_watchdog) {
			machine_watchdog_tick(loop->m);
			next_watchdog = log_now_ms() + WATCHDOG_INTERVAL_MS;
		}
	}
	if (loop->sdl)
		sdl_wake(loop->sdl, SDL_WAKE_STOP);
}

static void *console_thread_main(void *arg)
{
	run_main_loop(arg);
	return NULL;
}

/* --sdl: the window on this (the main) thread until a stop is requested or
 * the user closes it (a clean power-off, status 0 like Ctrl-A x); the serial
 * console, signals and the watchdog on the console thread meanwhile. */
static void run_window(struct main_loop *loop)
{
	struct thread *console;
	int ret = thread_start(&console, "console", STACK_CONSOLE_BYTES, console_thread_main, loop);

	if (ret < 0) {
		log_error("main", "starting thread console: %s", strerror(-ret));
		vm_request_stop(VM_STOP_HOST_ERROR, EXIT_STATUS_HOST, "no console thread");
		return;
	}
	if (sdl_run(loop->sdl) == SDL_RUN_CLOSED)
		vm_request_stop(VM_STOP_POWEROFF, EXIT_STATUS_OK, "window closed");
	thread_join(console, NULL);
}

/* The window title's name for the VM: the kernel file's name. */
static const char *vm_name(const char *kernel_path)
{
	const char *slash = strrchr(kernel_path, '/');

	return slash && slash[1] ? slash + 1 : kernel_path;
}

/* --sdl: the window opens before any thread starts, so a missing display is
 * a start-up error (status 2), and after the signals are blocked, so any
 * thread SDL's libraries start inherits the mask. */
static int open_window(struct main_loop *loop, const struct run_config *cfg)
{
	const struct sdl_config scfg = { .vm_name = vm_name(cfg->kernel_path),
					 .scale = cfg->sdl_scale };
	char err[512];

	if (!cfg->sdl)
		return 0;
	if (sdl_open(&loop->sdl, &scfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fbvm: %s\n", err);
		return EXIT_STATUS_USAGE;
	}
	/* The vnc thread refreshes the display when there is one, else the
	 * control thread (--control), else the window itself. */
	sdl_attach(loop->sdl, &loop->m->share, machine_input_sink(loop->m),
		   !cfg->vnc_enabled && !cfg->control_path);
	if (cfg->vnc_enabled || cfg->control_path)
		loop->frame_fd = display_share_notify_fd(&loop->m->share);
	return 0;
}

static int setup_signals(int *signal_fd)
{
	sigset_t set;

	/* Blocked before any thread starts so every thread inherits the mask and
	 * only the signalfd sees them. SIGPIPE: a closed stdout must not kill us. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	*signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return *signal_fd < 0 ? -1 : 0;
}

static int run(const struct run_config *cfg)
{
	static struct machine machine;
	struct main_loop loop = { .m = &machine, .signal_fd = -1, .frame_fd = -1 };
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t kernel_size = 0, initrd_size = 0;
	char err[512];
	int status;

	if (read_whole_file("--kernel", cfg->kernel_path, &kernel, &kernel_size, err,
			    sizeof(err)) < 0 ||
	    (cfg->initrd_path && read_whole_file("--initrd", cfg->initrd_path, &initrd,
						 &initrd_size, err, sizeof(err)) < 0)) {
		fprintf(stderr, "fbvm: %s\n", err);
		free(kernel);
		return EXIT_STATUS_USAGE;
	}
	fault_report_install();
	thread_register_main("main");

	/* The machine keeps the images for an in-place reset: freed at the end. */
	status = machine_create(&machine, cfg, kernel, kernel_size, initrd, initrd_size, err,
				sizeof(err));
	if (status) {
		fprintf(stderr, "fbvm: %s\n", err);
		goto out;
	}
	if (setup_signals(&loop.signal_fd) < 0) {
		fprintf(stderr, "fbvm: cannot set up signal handling: %s\n", strerror(errno));
		status = EXIT_STATUS_HOST;
		goto out;
	}
	status = open_window(&loop, cfg);
	if (status)
		goto out;
	if (cfg->serial == SERIAL_STDIO) {
		loop.stdin_open = true;
		terminal_escape_init(&loop.escape, STDERR_FILENO);
		if (isatty(STDIN_FILENO) && terminal_enter_raw(STDIN_FILENO) == 0)
			loop.stdin_is_tty = true;
	}
	vm_stop_eventfd();
	status = machine_start(&machine, err, sizeof(err));
	if (status) {
		fprintf(stderr, "fbvm: %s\n", err);
		vm_request_stop(VM_STOP_HOST_ERROR, status, err);
	}
	if (loop.sdl)
		run_window(&loop);
	else
		run_main_loop(&loop);
	machine_join(&machine);
	terminal_restore();
	if (cfg->stats) {
		machine_print_stats(&machine, stderr);
		if (loop.sdl)
			sdl_print_stats(loop.sdl, stderr);
	}
	sdl_close(loop.sdl);
	status = vm_stop_exit_status();
out:
	machine_destroy(&machine);
	if (loop.signal_fd >= 0)
		close(loop.signal_fd);
	free(kernel);
	free(initrd);
	return status;
}

int main(int argc, char **argv)
{
	struct run_config cfg;
	char err[256];

	switch (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
	case CLI_HELP:
		cli_print_help("fbvm");
		return 0;
	case CLI_VERSION:
		printf("fbvm %s\n", FBVM_VERSION);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "fbvm: %s\n", err);
		return EXIT_STATUS_USAGE;
	case CLI_CTL:
		return ctl_main(argc - 2, argv + 2);
	case CLI_RUN:
		break;
	}
	if (cfg.verbose)
		log_set_level(LOG_DEBUG);
	if (cfg.log_json)
		log_set_format(LOG_FORMAT_JSON);
	return run(&cfg);
}
