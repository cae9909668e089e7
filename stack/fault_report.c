/*
 * The fault report (see fault_report.h): the SIGSEGV/SIGBUS handler and its
 * async-signal-safe message writer. Split from the thread code (git log
 * --follow stack/thread.c has the history before the split).
 */
#include "fault_report.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "hypervisor/terminal.h"
#include "stack/frame_decode.h"
#include "stack/stack_sizes.h"
#include "stack/symbolize.h"
#include "stack/thread.h"

/* Bytes of a prologue the decoder reads: gcc's longest (stack protector,
 * ASan frame setup) reserve within the first few dozen instructions. */
#define FAULT_PROLOGUE_BYTES 512
/* x86-64's smallest page: what is surely mapped around an executing ip
 * (sysconf is not async-signal-safe). */
#define FAULT_MIN_PAGE_BYTES ((uintptr_t)4096)

/*
 * The message writer. Async-signal-safe: it formats into a buffer on the
 * alternate stack by hand and writes it with write(2).
 */

struct fault_msg {
	char buf[1024];
	size_t len;
	bool crlf;
};

static void msg_str(struct fault_msg *m, const char *s)
{
	/* Keep room for the line end. */
	while (*s && m->len < sizeof(m->buf) - 2)
		m->buf[m->len++] = *s++;
}

static void msg_dec(struct fault_msg *m, uint64_t v)
{
	char digits[21];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && m->len < sizeof(m->buf) - 2)
		m->buf[m->len++] = digits[--n];
}

static void msg_hex(struct fault_msg *m, uint64_t v)
{
	char digits[17];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	msg_str(m, "0x");
	while (n && m->len < sizeof(m->buf) - 2)
		m->buf[m->len++] = digits[--n];
}

static void msg_size(struct fault_msg *m, uint64_t bytes)
{
	if (bytes % 1024 == 0) {
		msg_dec(m, bytes / 1024);
		msg_str(m, " KiB");
	} else {
		msg_dec(m, bytes);
		msg_str(m, " bytes");
	}
}

static void msg_range(struct fault_msg *m, uintptr_t lo, uintptr_t hi)
{
	msg_hex(m, lo);
	msg_str(m, "-");
	msg_hex(m, hi);
}

static void msg_eol(struct fault_msg *m)
{
	if (m->len > sizeof(m->buf) - 2)
		m->len = sizeof(m->buf) - 2; /* a full buffer still ends its line */
	if (m->crlf)
		m->buf[m->len++] = '\r';
	m->buf[m->len++] = '\n';
}

static void msg_write(const struct fault_msg *m)
{
	for (size_t off = 0; off < m->len;) {
		ssize_t w = write(STDERR_FILENO, m->buf + off, m->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static const char *fault_code_name(int sig, int code)
{
	if (code <= 0)
		return "sent by a process";
	if (sig == SIGSEGV) {
		switch (code) {
		case SEGV_MAPERR: return "SEGV_MAPERR (address not mapped)";
		case SEGV_ACCERR: return "SEGV_ACCERR (access not permitted)";
		}
	} else {
		switch (code) {
		case BUS_ADRALN: return "BUS_ADRALN (misaligned)";
		case BUS_ADRERR: return "BUS_ADRERR (no backing page, e.g. file truncated)";
		case BUS_OBJERR: return "BUS_OBJERR";
		}
	}
	return "other";
}

static bool in_range(uintptr_t x, uintptr_t lo, uintptr_t hi) { return x >= lo && x < hi; }

/*
 * Appends "fatal: NAME reserves N bytes (sub $0x..,%rsp)" for the function
 * holding ip, and returns true if it could name one. Uses the loader (not
 * async-signal-safe) only when ip is not in our own code.
 */
static bool fault_describe_function(struct fault_msg *m, uintptr_t ip)
{
	struct function_at f;
	uintptr_t window_end;
	char desc[160];
	size_t bytes;

	if (!symbolize_own(ip, &f) && !symbolize_loaded(ip, &f))
		return false;

	msg_str(m, "fatal: ");
	if (f.name && (!f.start || f.name_addr == f.start)) {
		msg_str(m, f.name);
		if (f.object && f.object[0]) {
			msg_str(m, " in ");
			msg_str(m, f.object);
		}
	} else {
		/* No symbol of its own (a static function of a library without
		 * .symtab): its offset in the object, for objdump/addr2line. */
		msg_str(m, "function ");
		msg_str(m, f.object && f.object[0] ? f.object : "?");
		msg_str(m, "+");
		msg_hex(m, f.start - f.base);
		if (f.name) {
			msg_str(m, " (after ");
			msg_str(m, f.name);
			msg_str(m, ")");
		}
	}
	if (!f.start) {
		msg_str(m, " at ip+");
		msg_hex(m, ip - f.name_addr);
		msg_str(m, ": its start is unknown, so its frame is too");
		msg_eol(m);
		return true;
	}
	/* Everything between the start and ip is mapped (ip is executing);
	 * past ip only up to the function's end, or the end of ip's page. */
	window_end = f.end ? f.end : (ip | (FAULT_MIN_PAGE_BYTES - 1)) + 1;
	if (window_end - f.start > FAULT_PROLOGUE_BYTES)
		window_end = f.start + FAULT_PROLOGUE_BYTES;
	if (window_end < f.start)
		window_end = f.start;
	bytes = frame_decode((const uint8_t *)f.start, window_end - f.start, desc, sizeof(desc));
	if (bytes) {
		msg_str(m, " reserves ");
		msg_dec(m, bytes);
		msg_str(m, " bytes (");
		msg_str(m, desc);
		msg_str(m, ")");
	} else {
		msg_str(m, " reserves no frame of its own");
	}
	msg_str(m, "; faulted at +");
	msg_hex(m, ip - f.start);
	if (bytes && bytes < STACK_GUARD_BYTES)
		msg_str(m, "; a frame smaller than the guard: the stack was already full"
			   " (deep recursion or call chain)");
	msg_eol(m);
	return true;
}

static void fault_handler(int sig, siginfo_t *si, void *ucontext)
{
	static atomic_flag reporting = ATOMIC_FLAG_INIT;
	const ucontext_t *uc = ucontext;
	const char *sig_name = sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
	uintptr_t addr = (uintptr_t)si->si_addr;
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	pid_t tid = gettid();
	struct thread_info self_info, guard_info;
	const struct thread_info *self, *guard_owner;
	struct fault_msg m = { .len = 0 };
	struct termios tio;
	struct sigaction dfl;
	bool overflow = false;

	/* Two threads faulting at once: one report, then abort kills both. */
	if (atomic_flag_test_and_set(&reporting))
		for (;;)
			pause();

	/* In raw terminal mode '\n' does not return the carriage. */
	m.crlf = tcgetattr(STDERR_FILENO, &tio) == 0 &&
		 (!(tio.c_oflag & OPOST) || !(tio.c_oflag & ONLCR));
	self = thread_find_by_tid(tid, &self_info) ? &self_info : NULL;
	guard_owner = thread_find_by_guard(addr, &guard_info) ? &guard_info : NULL;
	if (self && si->si_code > 0)
		overflow = in_range(addr, self->guard_lo, self->guard_hi) ||
			   (!in_range(sp, self->stack_lo, self->stack_hi) &&
			    !in_range(sp, self->alt_lo, self->alt_hi));

	msg_str(&m, "fatal: ");
	if (overflow) {
		msg_str(&m, "stack overflow in thread '");
		msg_str(&m, self->name);
		msg_str(&m, "' (stack ");
		msg_size(&m, self->stack_bytes);
		msg_str(&m, ")");
	} else {
		msg_str(&m, sig_name);
		msg_str(&m, " in thread '");
		msg_str(&m, self ? self->name : "unknown");
		msg_str(&m, "'");
		if (!self) {
			msg_str(&m, " (tid ");
			msg_dec(&m, (uint64_t)tid);
			msg_str(&m, ")");
		}
		msg_str(&m, " at address ");
		msg_hex(&m, addr);
	}
	msg_eol(&m);
	if (overflow) {
		/* Out before anything that may take the loader's lock. */
		msg_write(&m);
		m.len = 0;
		fault_describe_function(&m, ip);
	}

	if (self) {
		msg_str(&m, "fatal: tid=");
		msg_dec(&m, (uint64_t)tid);
		msg_str(&m, " stack=");
		msg_range(&m, self->stack_lo, self->stack_hi);
		msg_str(&m, " guard=");
		msg_range(&m, self->guard_lo, self->guard_hi);
		msg_eol(&m);
	}
	msg_str(&m, "fatal: fault_addr=");
	msg_hex(&m, addr);
	msg_str(&m, " sp=");
	msg_hex(&m, sp);
	msg_str(&m, " ip=");
	msg_hex(&m, ip);
	msg_str(&m, " code=");
	msg_str(&m, fault_code_name(sig, si->si_code));
	if (si->si_code <= 0) {
		msg_str(&m, " pid=");
		msg_dec(&m, (uint64_t)si->si_pid);
	}
	msg_eol(&m);
	if (overflow) {
		if (sp < self->stack_lo) {
			msg_str(&m, "fatal: sp is ");
			msg_dec(&m, self->stack_lo - sp);
			msg_str(&m, " bytes below the stack");
			msg_eol(&m);
		}
		msg_str(&m, self->is_main ? "fatal: main's stack is bounded by RLIMIT_STACK (ulimit -s)"
					  : "fatal: stack sizes are set in stack/stack_sizes.h");
		msg_eol(&m);
	} else if (guard_owner) {
		msg_str(&m, "fatal: the address is in the stack guard of thread '");
		msg_str(&m, guard_owner->name);
		msg_str(&m, "'");
		msg_eol(&m);
	}
	msg_write(&m);
	/* Leave the user a working terminal (async-signal-safe: tcsetattr only). */
	terminal_restore();

	/* abort() unblocks SIGABRT itself; make sure nothing catches it. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGABRT, &dfl, NULL);
	abort();
}

void fault_report_install(void)
{
	struct sigaction sa;

	symbolize_init();

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}
