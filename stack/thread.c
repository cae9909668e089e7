/*
 * Threads with fixed, guarded stacks and a fault handler that names them.
 *
 * Memory of one thread (addresses grow upwards):
 *
 *   [guard | stack .............. painted top]   [guard | alternate signal stack]
 *    PROT_NONE                  ^ glibc's TCB+TLS  PROT_NONE
 *
 * Both regions are mmap'd with MAP_NORESERVE: untouched pages cost address
 * space only. The registry below is what the signal handler reads; it is a
 * fixed array whose slots are published with a release store of `state`, so
 * the handler needs no lock and no allocation.
 */
#include "thread.h"
#include "hypervisor/terminal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "stack_sizes.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RESERVED, /* thread_start is filling it in */
	SLOT_RUNNING,  /* the fault handler names this thread */
	SLOT_FINISHED, /* fn returned: its tid may be reused, stack mapped until join */
	SLOT_JOINED,   /* stacks unmapped; only the statistics remain */
};

struct thread_slot {
	_Atomic int state;
	bool is_main;
	pid_t tid;
	char name[THREAD_NAME_MAX + 1];
	size_t stack_bytes;
	uintptr_t stack_lo, stack_hi;
	uintptr_t guard_lo, guard_hi;
	uintptr_t alt_lo, alt_hi;
	size_t final_high_water; /* once SLOT_JOINED */
	uint64_t joined_seq;     /* the oldest joined slot is recycled first */
};

/* Slots change state under registry_lock (except the thread's own
 * RUNNING/FINISHED transitions); the fault handler only reads them. */
static struct thread_slot registry[THREAD_REGISTRY_SLOTS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t registry_joined_seq;
static pthread_once_t registry_atfork_once = PTHREAD_ONCE_INIT;
static pid_t registry_fork_tid;

/* An mmap'd region with a PROT_NONE guard directly below the usable part. */
struct guarded_map {
	void *base;
	size_t total_bytes;
	uintptr_t lo, hi; /* usable part */
};

struct thread {
	pthread_t pthread;
	int slot;
	void *(*fn)(void *);
	void *arg;
	struct guarded_map stack;
	struct guarded_map alt;
	/* start handshake: thread_start returns once the thread is set up */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool start_done;
	int start_err;
};

static size_t page_bytes(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static bool name_valid(const char *name)
{
	return name && name[0] && strnlen(name, THREAD_NAME_MAX + 1) <= THREAD_NAME_MAX;
}

/* Our constant, unless this CPU's signal frame (AVX-512, AMX) needs more. */
static size_t altstack_bytes(void)
{
	size_t bytes = STACK_SIGALT_BYTES, page = page_bytes();
	long sys = sysconf(_SC_SIGSTKSZ);

	if (sys > 0 && (size_t)sys > bytes)
		bytes = (size_t)sys;
	return (bytes + page - 1) / page * page;
}

static int map_guarded(struct guarded_map *m, size_t usable_bytes, size_t guard_bytes)
{
	size_t total;
	void *p;

	if (__builtin_add_overflow(usable_bytes, guard_bytes, &total))
		return -ENOMEM;
	/* PROT_NONE first, so the guard is never writable, not even briefly. */
	p = mmap(NULL, total, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mprotect((char *)p + guard_bytes, usable_bytes, PROT_READ | PROT_WRITE)) {
		int err = -errno;
		munmap(p, total);
		return err;
	}
	/* A huge page would commit 2 MiB on the first touch and hide the
	 * page-granular high-water mark; failure (no THP) is harmless. */
	madvise((char *)p + guard_bytes, usable_bytes, MADV_NOHUGEPAGE);
	m->base = p;
	m->total_bytes = total;
	m->lo = (uintptr_t)p + guard_bytes;
	m->hi = m->lo + usable_bytes;
	return 0;
}

static void unmap_guarded(struct guarded_map *m)
{
	munmap(m->base, m->total_bytes);
}

static uintptr_t paint_lo(uintptr_t lo, uintptr_t hi)
{
	return hi - lo > STACK_PAINT_BYTES ? hi - STACK_PAINT_BYTES : lo;
}

static void stack_paint(uintptr_t lo, uintptr_t hi)
{
	for (uint64_t *w = (uint64_t *)paint_lo(lo, hi); w < (uint64_t *)hi; w++)
		*w = STACK_PAINT_PATTERN;
}

/*
 * Deepest point written below `hi`. Below the painted top the pages were
 * never touched by us, so the lowest resident page is the deepest the thread
 * went (a page swapped out would be missed). Not instrumented: under ASan the
 * painted words can sit in a live frame's redzones.
 */
__attribute__((no_sanitize_address))
static size_t stack_used_bytes(uintptr_t lo, uintptr_t hi)
{
	size_t page = page_bytes();
	uintptr_t painted = paint_lo(lo, hi);
	const volatile uint64_t *w;
	unsigned char vec[256];

	for (uintptr_t p = lo; p < painted;) {
		size_t pages = (painted - p) / page;

		if (pages > sizeof(vec))
			pages = sizeof(vec);
		if (mincore((void *)p, pages * page, vec))
			break;
		for (size_t i = 0; i < pages; i++)
			if (vec[i] & 1)
				return hi - (p + i * page);
		p += pages * page;
	}
	for (w = (const volatile uint64_t *)painted; (uintptr_t)w < hi; w++)
		if (*w != STACK_PAINT_PATTERN)
			break;
	return hi - (uintptr_t)w;
}

/* The kernel grows main's stack mapping on demand and never shrinks it, so
 * the lowest mapped page is the deepest main has been. */
static size_t main_stack_used_bytes(uintptr_t lo, uintptr_t hi)
{
	size_t page = page_bytes();
	uintptr_t a = (lo + page - 1) / page, b = hi / page - 1;
	unsigned char v;

	while (a < b) {
		uintptr_t mid = a + (b - a) / 2;

		if (mincore((void *)(mid * page), page, &v) == 0)
			b = mid;
		else
			a = mid + 1;
	}
	return hi - a * page;
}

static size_t slot_high_water(const struct thread_slot *s)
{
	if (atomic_load(&s->state) == SLOT_JOINED)
		return s->final_high_water;
	if (s->is_main)
		return main_stack_used_bytes(s->stack_lo, s->stack_hi);
	return stack_used_bytes(s->stack_lo, s->stack_hi);
}

/* In a forked child only the forking thread exists, with a new tid. */
static void registry_atfork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	registry_fork_tid = gettid();
}

static void registry_atfork_parent(void) { pthread_mutex_unlock(&registry_lock); }

static void registry_atfork_child(void)
{
	for (int i = 0; i < THREAD_REGISTRY_SLOTS; i++) {
		struct thread_slot *s = &registry[i];

		if (atomic_load(&s->state) != SLOT_RUNNING)
			continue;
		if (s->tid == registry_fork_tid)
			s->tid = gettid();
		else
			atomic_store(&s->state, SLOT_FINISHED);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void registry_install_atfork(void)
{
	pthread_atfork(registry_atfork_prepare, registry_atfork_parent, registry_atfork_child);
}

/* A free slot, else the longest-joined one; -EAGAIN when all are live. */
static int registry_reserve(void)
{
	int pick = -1;

	pthread_once(&registry_atfork_once, registry_install_atfork);
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < THREAD_REGISTRY_SLOTS; i++) {
		int state = atomic_load(&registry[i].state);

		if (state == SLOT_FREE) {
			pick = i;
			break;
		}
		if (state == SLOT_JOINED &&
		    (pick < 0 || registry[i].joined_seq < registry[pick].joined_seq))
			pick = i;
	}
	if (pick >= 0) {
		struct thread_slot *s = &registry[pick];

		atomic_store(&s->state, SLOT_RESERVED);
		s->is_main = false;
		s->tid = 0;
		s->final_high_water = 0;
		s->joined_seq = 0;
	}
	pthread_mutex_unlock(&registry_lock);
	return pick >= 0 ? pick : -EAGAIN;
}

static void registry_release(int slot)
{
	pthread_mutex_lock(&registry_lock);
	atomic_store(&registry[slot].state, SLOT_FREE);
	pthread_mutex_unlock(&registry_lock);
}

static void registry_fill(int slot, const char *name, uintptr_t stack_lo, uintptr_t stack_hi,
			  uintptr_t guard_lo, uintptr_t guard_hi, const struct guarded_map *alt)
{
	struct thread_slot *s = &registry[slot];

	memset(s->name, 0, sizeof(s->name));
	memcpy(s->name, name, strlen(name));
	s->stack_bytes = stack_hi - stack_lo;
	s->stack_lo = stack_lo;
	s->stack_hi = stack_hi;
	s->guard_lo = guard_lo;
	s->guard_hi = guard_hi;
	s->alt_lo = alt->lo;
	s->alt_hi = alt->hi;
}

/* Runs on the thread itself; the release store publishes the fields. */
static void registry_activate(int slot, pid_t tid)
{
	registry[slot].tid = tid;
	atomic_store_explicit(&registry[slot].state, SLOT_RUNNING, memory_order_release);
}

static void registry_retire(int slot, size_t high_water)
{
	pthread_mutex_lock(&registry_lock);
	registry[slot].final_high_water = high_water;
	registry[slot].joined_seq = ++registry_joined_seq;
	atomic_store(&registry[slot].state, SLOT_JOINED);
	pthread_mutex_unlock(&registry_lock);
}

static const struct thread_slot *registry_find_tid(pid_t tid)
{
	for (int i = 0; i < THREAD_REGISTRY_SLOTS; i++) {
		const struct thread_slot *s = &registry[i];

		if (atomic_load_explicit(&s->state, memory_order_acquire) == SLOT_RUNNING &&
		    s->tid == tid)
			return s;
	}
	return NULL;
}

static const struct thread_slot *registry_find_guard(uintptr_t addr)
{
	for (int i = 0; i < THREAD_REGISTRY_SLOTS; i++) {
		const struct thread_slot *s = &registry[i];
		int state = atomic_load_explicit(&s->state, memory_order_acquire);

		if ((state == SLOT_RUNNING || state == SLOT_FINISHED) &&
		    addr >= s->guard_lo && addr < s->guard_hi)
			return s;
	}
	return NULL;
}

static void thread_report_started(struct thread *t, int err)
{
	pthread_mutex_lock(&t->lock);
	t->start_err = err;
	t->start_done = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static void *thread_trampoline(void *p)
{
	struct thread *t = p;
	struct thread_slot *s = &registry[t->slot];
	stack_t alt = { .ss_sp = (void *)t->alt.lo, .ss_size = t->alt.hi - t->alt.lo };
	stack_t prev;
	void *ret;
	int err;

	err = -pthread_setname_np(pthread_self(), s->name);
	if (!err && sigaltstack(&alt, &prev))
		err = -errno;
	if (!err)
		registry_activate(t->slot, gettid());
	thread_report_started(t, err);
	if (err)
		return NULL;

	ret = t->fn(t->arg);

	/* Put back whatever was there (ASan installs its own and unmaps the
	 * current one at thread exit: it must not unmap ours). */
	sigaltstack(&prev, NULL);
	atomic_store(&s->state, SLOT_FINISHED);
	return ret;
}

int thread_start(struct thread **out, const char *name, size_t stack_bytes,
		 void *(*fn)(void *), void *arg)
{
	struct thread *t;
	pthread_attr_t attr;
	int err;

	if (!out || !fn || !name_valid(name) || stack_bytes == 0 || stack_bytes % page_bytes())
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	t->cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;

	err = map_guarded(&t->stack, stack_bytes, STACK_GUARD_BYTES);
	if (err)
		goto fail_free;
	err = map_guarded(&t->alt, altstack_bytes(), STACK_GUARD_BYTES);
	if (err)
		goto fail_stack;
	/* Before pthread_create: glibc writes its TCB and TLS at the top. */
	stack_paint(t->stack.lo, t->stack.hi);

	t->slot = registry_reserve();
	if (t->slot < 0) {
		err = t->slot;
		goto fail_alt;
	}
	registry_fill(t->slot, name, t->stack.lo, t->stack.hi,
		      (uintptr_t)t->stack.base, t->stack.lo, &t->alt);

	err = -pthread_attr_init(&attr);
	if (err)
		goto fail_slot;
	err = -pthread_attr_setstack(&attr, (void *)t->stack.lo, stack_bytes);
	if (!err)
		err = -pthread_create(&t->pthread, &attr, thread_trampoline, t);
	pthread_attr_destroy(&attr);
	if (err)
		goto fail_slot;

	pthread_mutex_lock(&t->lock);
	while (!t->start_done)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
	if (t->start_err) {
		err = t->start_err;
		pthread_join(t->pthread, NULL);
		goto fail_slot;
	}
	*out = t;
	return 0;

fail_slot:
	registry_release(t->slot);
fail_alt:
	unmap_guarded(&t->alt);
fail_stack:
	unmap_guarded(&t->stack);
fail_free:
	free(t);
	return err;
}

int thread_join(struct thread *t, void **retval)
{
	int err;

	if (!t)
		return -EINVAL;
	err = -pthread_join(t->pthread, retval);
	if (err)
		return err;
	/* Retire before unmapping: thread_print_stats reads live stacks
	 * under registry_lock. */
	registry_retire(t->slot, stack_used_bytes(t->stack.lo, t->stack.hi));
	unmap_guarded(&t->alt);
	unmap_guarded(&t->stack);
	free(t);
	return 0;
}

int thread_register_main(const char *name)
{
	struct guarded_map alt;
	pthread_attr_t attr;
	void *addr;
	size_t size;
	uintptr_t lo, hi, guard_lo;
	stack_t ss;
	int err, slot;

	if (!name_valid(name))
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	err = registry_find_tid(gettid()) ? -EEXIST : 0;
	pthread_mutex_unlock(&registry_lock);
	if (err)
		return err;

	/* For main, glibc bounds the range by RLIMIT_STACK: the kernel refuses
	 * to grow the stack mapping below lo. */
	err = -pthread_getattr_np(pthread_self(), &attr);
	if (err)
		return err;
	err = -pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	if (err)
		return err;
	lo = (uintptr_t)addr;
	hi = lo + size;
	/* Not ours to map: the kernel keeps a gap below a growing stack. We
	 * name the region where an overflowing frame faults. */
	guard_lo = lo > STACK_GUARD_BYTES ? lo - STACK_GUARD_BYTES : 0;

	err = map_guarded(&alt, altstack_bytes(), STACK_GUARD_BYTES);
	if (err)
		return err;
	slot = registry_reserve();
	if (slot < 0) {
		err = slot;
		goto fail_alt;
	}
	registry_fill(slot, name, lo, hi, guard_lo, lo, &alt);
	registry[slot].is_main = true;
	ss = (stack_t){ .ss_sp = (void *)alt.lo, .ss_size = alt.hi - alt.lo };
	if (sigaltstack(&ss, NULL)) {
		err = -errno;
		goto fail_slot;
	}
	registry_activate(slot, gettid());
	return 0;

fail_slot:
	registry_release(slot);
fail_alt:
	unmap_guarded(&alt);
	return err;
}

size_t thread_stack_high_water(const struct thread *t)
{
	return stack_used_bytes(t->stack.lo, t->stack.hi);
}

void thread_get_layout(const struct thread *t, struct thread_layout *out)
{
	out->stack_lo = t->stack.lo;
	out->stack_hi = t->stack.hi;
	out->guard_lo = (uintptr_t)t->stack.base;
	out->guard_hi = t->stack.lo;
	out->altstack_lo = t->alt.lo;
	out->altstack_hi = t->alt.hi;
}

void thread_print_stats(FILE *out)
{
	static const char *const state_names[] = {
		[SLOT_RUNNING] = "running",
		[SLOT_FINISHED] = "finished",
		[SLOT_JOINED] = "exited",
	};

	pthread_mutex_lock(&registry_lock);
	fprintf(out, "%-15s %10s %15s %6s  %s\n", "thread", "stack KiB", "high-water KiB",
		"used", "state");
	for (int i = 0; i < THREAD_REGISTRY_SLOTS; i++) {
		const struct thread_slot *s = &registry[i];
		int state = atomic_load(&s->state);
		size_t hw;

		if (state != SLOT_RUNNING && state != SLOT_FINISHED && state != SLOT_JOINED)
			continue;
		hw = slot_high_water(s);
		fprintf(out, "%-15s %10zu %15.1f %5.1f%%  %s\n", s->name, s->stack_bytes / 1024,
			hw / 1024.0, s->stack_bytes ? 100.0 * hw / s->stack_bytes : 0.0,
			state_names[state]);
	}
	pthread_mutex_unlock(&registry_lock);
}

/*
 * The fault handler. Async-signal-safe: it reads the registry, formats into
 * a buffer on the alternate stack by hand and writes it with one write(2).
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
 * Naming the overflowing function: the detective work of the bug report
 * that started fbvm (a 3 MB frame on a 2 MB stack, found by hand in a core
 * file), done by the handler. It finds the function holding the faulting
 * instruction and decodes how much stack its prologue reserves.
 *
 * Our own functions, static ones included, come from the executable's
 * .symtab, loaded by thread_install_fault_handler into one mapping, sorted:
 * the handler only searches it (async-signal-safe). Anything else (a library
 * function) needs the dynamic loader: the function's exact start from its
 * object's .eh_frame_hdr table (found through dl_iterate_phdr) and the name
 * of the nearest exported symbol from dladdr. Neither is async-signal-safe
 * (both take the loader's lock), so they run only after the first report
 * line is out; we abort right after anyway.
 */

struct fault_sym {
	uintptr_t lo, hi;  /* runtime addresses of the function: [lo, hi) */
	uint32_t name;     /* offset of its NUL-terminated name in fault_symtab.names */
};

static struct {
	const struct fault_sym *syms;
	size_t count;
	const char *names;
} fault_symtab;
static pthread_once_t fault_report_once = PTHREAD_ONCE_INIT;

/* The largest .symtab or string table we read (fbvm's are tens of KiB). */
#define FAULT_SYMTAB_MAX_BYTES (64u << 20)
/* Bytes of a prologue the decoder reads: gcc's longest (stack protector,
 * ASan frame setup) reserve within the first few dozen instructions. */
#define FAULT_PROLOGUE_BYTES 512
/* x86-64's smallest page: what is surely mapped around an executing ip
 * (sysconf is not async-signal-safe). */
#define FAULT_MIN_PAGE_BYTES ((uintptr_t)4096)

static bool read_exact_at(int fd, void *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static int executable_bias_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(uintptr_t *)data = info->dlpi_addr;
	return 1; /* the first object is the executable */
}

static int fault_sym_cmp(const void *a, const void *b)
{
	const struct fault_sym *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Reads /proc/self/exe's function symbols (.symtab, else .dynsym). Any
 * failure leaves the table empty: the report then names fewer functions. */
static void fault_symtab_load(void)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL, *symsec = NULL, *strsec;
	Elf64_Sym *syms = NULL;
	char *strtab = NULL;
	size_t nsyms, count = 0, name_bytes = 0, map_bytes;
	struct fault_sym *out;
	char *names;
	uintptr_t bias = 0;
	void *map;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!read_exact_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shnum == 0)
		goto out;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh || !read_exact_at(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff))
		goto out;
	for (unsigned int i = 0; i < eh.e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB ||
		    (sh[i].sh_type == SHT_DYNSYM && !symsec))
			symsec = &sh[i];
	if (!symsec || symsec->sh_link >= eh.e_shnum || symsec->sh_size > FAULT_SYMTAB_MAX_BYTES)
		goto out;
	strsec = &sh[symsec->sh_link];
	if (strsec->sh_size == 0 || strsec->sh_size > FAULT_SYMTAB_MAX_BYTES)
		goto out;
	nsyms = symsec->sh_size / sizeof(Elf64_Sym);
	syms = malloc(nsyms * sizeof(*syms));
	strtab = malloc(strsec->sh_size + 1);
	if (!syms || !strtab ||
	    !read_exact_at(fd, syms, nsyms * sizeof(*syms), (off_t)symsec->sh_offset) ||
	    !read_exact_at(fd, strtab, strsec->sh_size, (off_t)strsec->sh_offset))
		goto out;
	strtab[strsec->sh_size] = '\0';

	for (size_t i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &syms[i];

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_size == 0 || s->st_name >= strsec->sh_size)
			continue;
		count++;
		name_bytes += strlen(strtab + s->st_name) + 1;
	}
	if (count == 0 || name_bytes > UINT32_MAX)
		goto out;
	map_bytes = count * sizeof(*out) + name_bytes;
	map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		goto out;
	out = map;
	names = (char *)map + count * sizeof(*out);
	if (eh.e_type == ET_DYN)
		dl_iterate_phdr(executable_bias_cb, &bias);
	count = name_bytes = 0;
	for (size_t i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &syms[i];
		size_t len;

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_size == 0 || s->st_name >= strsec->sh_size)
			continue;
		len = strlen(strtab + s->st_name) + 1;
		memcpy(names + name_bytes, strtab + s->st_name, len);
		out[count].lo = bias + s->st_value;
		out[count].hi = out[count].lo + s->st_size;
		out[count].name = (uint32_t)name_bytes;
		name_bytes += len;
		count++;
	}
	qsort(out, count, sizeof(*out), fault_sym_cmp);
	mprotect(map, map_bytes, PROT_READ);
	fault_symtab.names = names;
	fault_symtab.syms = out;
	fault_symtab.count = count;
out:
	free(strtab);
	free(syms);
	free(sh);
	close(fd);
}

/* Async-signal-safe: the function of ours holding ip, or NULL. */
static const struct fault_sym *fault_symtab_find(uintptr_t ip)
{
	size_t lo = 0, hi = fault_symtab.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fault_symtab.syms[mid].lo <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ip >= fault_symtab.syms[lo - 1].hi)
		return NULL;
	return &fault_symtab.syms[lo - 1];
}

/* A function found through the loader: its object, and its exact bounds
 * from .eh_frame_hdr (end 0 if only the start is known). */
struct fault_fn {
	uintptr_t ip, start, end;
	uintptr_t base; /* the object's load address */
	const char *object;
};

/* DWARF pointer encodings used by .eh_frame_hdr (LSB Core, "Exception Frame Header"). */
#define DW_EH_PE_udata4  0x03
#define DW_EH_PE_sdata4  0x0b
#define DW_EH_PE_pcrel   0x10
#define DW_EH_PE_datarel 0x30

static int32_t load_s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Binary search of the sorted (initial location, FDE) table gcc's linker
 * writes into .eh_frame_hdr: every function compiled with unwind tables has
 * an entry, exported or not. */
static void eh_frame_hdr_find(uintptr_t hdr, struct fault_fn *f)
{
	const uint8_t *h = (const uint8_t *)hdr;
	intptr_t rel = (intptr_t)(f->ip - hdr);
	uint32_t count, lo = 0, hi;
	const uint8_t *table, *fde;
	uintptr_t start;

	if (h[0] != 1 || (h[1] & 0x0f) != DW_EH_PE_sdata4 || h[2] != DW_EH_PE_udata4 ||
	    h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return;
	memcpy(&count, h + 8, sizeof(count));
	table = h + 12;
	hi = count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (load_s32(table + 8 * mid) <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return;
	start = hdr + (intptr_t)load_s32(table + 8 * (lo - 1));
	f->start = start;
	f->end = lo < count ? hdr + (intptr_t)load_s32(table + 8 * lo) : 0;
	/* The FDE's own range, where its pc_begin is the usual pcrel sdata4
	 * (checked: it must point back at start); a gap after the function
	 * would otherwise be taken for part of it. */
	fde = (const uint8_t *)hdr + load_s32(table + 8 * (lo - 1) + 4);
	if (load_s32(fde) != -1 &&
	    (uintptr_t)(fde + 8) + (intptr_t)load_s32(fde + 8) == start) {
		uint32_t range;

		memcpy(&range, fde + 12, sizeof(range));
		f->end = start + range;
		if (f->ip >= f->end)
			f->start = f->end = 0; /* in no function: a gap */
	}
}

static int fault_fn_find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct fault_fn *f = data;
	uintptr_t eh_hdr = 0;
	bool inside = false;

	(void)size;
	for (unsigned int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + p->p_vaddr;

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && f->ip >= lo &&
		    f->ip - lo < p->p_memsz)
			inside = true;
		if (p->p_type == PT_GNU_EH_FRAME)
			eh_hdr = lo;
	}
	if (!inside)
		return 0;
	f->object = info->dlpi_name;
	f->base = info->dlpi_addr;
	if (eh_hdr)
		eh_frame_hdr_find(eh_hdr, f);
	return 1;
}

/*
 * Loads our symbol table, and calls the two loader lookups the report uses
 * once, now: libc reaches the dynamic linker through lazily bound PLT slots,
 * and the first call through each runs the resolver, which saves the whole
 * XSAVE state (up to 11 KiB) on the stack in use: the alternate signal
 * stack, in the handler. tools/stackcheck.annotations counts on this
 * ("prebound").
 */
static void fault_report_init(void)
{
	struct fault_fn f = { .ip = (uintptr_t)fault_report_init };
	Dl_info info;

	fault_symtab_load();
	dl_iterate_phdr(fault_fn_find_cb, &f);
	dladdr((void *)fault_report_init, &info);
}

/* ---- the prologue decoder: a length decoder for the instructions gcc and
 * clang put before and around a stack reservation (x86-64, 64-bit mode),
 * enough to walk a prologue without mistaking an immediate for an opcode. */

struct insn {
	size_t len;
	uint8_t rex, op, op2, modrm; /* op2: second byte after 0x0f */
	bool has_modrm;
	int64_t disp, imm;
};

/* One-byte opcodes with a ModRM byte and no immediate. */
static bool op_modrm(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 4; /* ALU r/m forms: add, or, adc, sbb, and, sub, xor, cmp */
	return op == 0x63 || (op >= 0x84 && op <= 0x8b) || op == 0x8d || op == 0x8f ||
	       (op >= 0xd0 && op <= 0xd3) || op == 0xfe || op == 0xff;
}

/* Two-byte (0x0f xx) opcodes with a ModRM byte and no immediate. */
static bool op2_modrm(uint8_t op)
{
	return (op >= 0x10 && op <= 0x17) || (op >= 0x18 && op <= 0x1f) || op == 0x28 ||
	       op == 0x29 || op == 0x2e || op == 0x2f || (op >= 0x40 && op <= 0x4f) ||
	       (op >= 0x50 && op <= 0x7f && op != 0x77) || (op >= 0x90 && op <= 0x9f) ||
	       op == 0xaf || op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf ||
	       (op >= 0xd0 && op <= 0xfe);
}

/* Decodes the instruction at code[0..avail); false if unknown or truncated. */
static bool insn_decode(const uint8_t *code, size_t avail, struct insn *in)
{
	size_t i = 0, imm_bytes = 0;
	bool opsize16 = false;

	memset(in, 0, sizeof(*in));
	for (; i < avail; i++) {
		uint8_t b = code[i];

		if (b == 0x66)
			opsize16 = true;
		else if (!(b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x3e || b == 0x26 ||
			   b == 0x36 || b == 0x64 || b == 0x65 || b == 0xf0))
			break;
	}
	if (i < avail && (code[i] & 0xf0) == 0x40)
		in->rex = code[i++];
	if (i >= avail)
		return false;
	in->op = code[i++];
	if (in->op == 0x0f) {
		if (i >= avail)
			return false;
		in->op2 = code[i++];
		if (in->op2 >= 0x80 && in->op2 <= 0x8f)
			imm_bytes = 4; /* jcc rel32 */
		else if (in->op2 == 0x1e || op2_modrm(in->op2))
			in->has_modrm = true; /* 0x1e: endbr64 (f3 0f 1e fa) */
		else if (in->op2 == 0x05 || in->op2 == 0x0b)
			; /* syscall, ud2 */
		else
			return false;
	} else if ((in->op >= 0x50 && in->op <= 0x5f) || in->op == 0x90 || in->op == 0x99 ||
		   in->op == 0xc3 || in->op == 0xc9 || in->op == 0xcc || in->op == 0xf4) {
		; /* push, pop, nop, cqo, ret, leave, int3, hlt */
	} else if (in->op < 0x40 && (in->op & 7) == 4) {
		imm_bytes = 1;
	} else if (in->op < 0x40 && (in->op & 7) == 5) {
		imm_bytes = opsize16 ? 2 : 4;
	} else if (op_modrm(in->op)) {
		in->has_modrm = true;
	} else if (in->op == 0x80 || in->op == 0x83 || in->op == 0xc0 || in->op == 0xc1 ||
		   in->op == 0xc6) {
		in->has_modrm = true;
		imm_bytes = 1;
	} else if (in->op == 0x81 || in->op == 0xc7 || in->op == 0x69) {
		in->has_modrm = true;
		imm_bytes = opsize16 ? 2 : 4;
	} else if (in->op == 0x6b) {
		in->has_modrm = true;
		imm_bytes = 1;
	} else if (in->op == 0xf6 || in->op == 0xf7) {
		in->has_modrm = true; /* test takes an immediate: decided below */
	} else if ((in->op >= 0x70 && in->op <= 0x7f) || in->op == 0xeb || in->op == 0xa8 ||
		   (in->op >= 0xb0 && in->op <= 0xb7)) {
		imm_bytes = 1;
	} else if (in->op == 0xe8 || in->op == 0xe9 || in->op == 0xa9) {
		imm_bytes = 4;
	} else if (in->op >= 0xb8 && in->op <= 0xbf) {
		imm_bytes = (in->rex & 8) ? 8 : 4;
	} else {
		return false;
	}
	if (in->has_modrm) {
		uint8_t mod, rm;

		if (i >= avail)
			return false;
		in->modrm = code[i++];
		mod = in->modrm >> 6;
		rm = in->modrm & 7;
		if ((in->op == 0xf6 || in->op == 0xf7) && ((in->modrm >> 3) & 7) == 0)
			imm_bytes = in->op == 0xf6 ? 1 : (opsize16 ? 2 : 4);
		if (mod != 3) {
			size_t disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;

			if (rm == 4) {
				if (i >= avail)
					return false;
				if (mod == 0 && (code[i] & 7) == 5)
					disp_bytes = 4;
				i++;
			} else if (mod == 0 && rm == 5) {
				disp_bytes = 4; /* %rip-relative */
			}
			if (i + disp_bytes > avail)
				return false;
			if (disp_bytes == 1)
				in->disp = (int8_t)code[i];
			else if (disp_bytes == 4)
				in->disp = load_s32(code + i);
			i += disp_bytes;
		}
	}
	if (i + imm_bytes > avail)
		return false;
	if (imm_bytes == 1)
		in->imm = (int8_t)code[i];
	else if (imm_bytes == 2)
		in->imm = (int16_t)(code[i] | code[i + 1] << 8);
	else if (imm_bytes == 4)
		in->imm = load_s32(code + i);
	else if (imm_bytes == 8)
		memcpy(&in->imm, code + i, sizeof(in->imm));
	in->len = i + imm_bytes;
	return true;
}

/* ModRM register operand (with REX.R) and r/m operand (with REX.B), for mod 3. */
static unsigned int insn_reg(const struct insn *in)
{
	return ((in->modrm >> 3) & 7) | (in->rex & 4) << 1;
}

static unsigned int insn_rm(const struct insn *in)
{
	return (in->modrm & 7) | (in->rex & 1) << 3;
}

static bool insn_mod3(const struct insn *in) { return (in->modrm >> 6) == 3; }

#define REG_NUM_RSP 4
#define REG_NUM_R11 11

/* A bounded string builder for the description (no stdio in a handler). */
struct desc_buf {
	char *s;
	size_t len, cap;
};

static void desc_str(struct desc_buf *d, const char *s)
{
	while (*s && d->len + 1 < d->cap)
		d->s[d->len++] = *s++;
	if (d->cap)
		d->s[d->len] = '\0';
}

static void desc_hex(struct desc_buf *d, uint64_t v)
{
	char digits[17];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	desc_str(d, "0x");
	while (n) {
		char c[2] = { digits[--n], '\0' };
		desc_str(d, c);
	}
}

size_t thread_decode_frame(const uint8_t *code, size_t len, char *desc, size_t desc_len)
{
	struct desc_buf d = { desc, 0, desc_len };
	size_t off = 0, total = 0, loop_base = 0;
	uint64_t loop_bytes = 0;
	bool in_loop = false, r11_is_rsp = false;

	if (desc_len)
		desc[0] = '\0';
	while (off < len) {
		struct insn in;

		if (!insn_decode(code + off, len - off, &in))
			break;
		off += in.len;
		/* sub $N,%rsp / add $-N,%rsp (gcc writes 128 as add $-128) */
		if ((in.op == 0x81 || in.op == 0x83) && (in.rex & 8) && insn_mod3(&in) &&
		    insn_rm(&in) == REG_NUM_RSP) {
			unsigned int ext = (in.modrm >> 3) & 7;
			int64_t n = ext == 5 ? in.imm : ext == 0 ? -in.imm : 0;

			if (n <= 0) {
				if (ext == 0 && total)
					break; /* releasing the frame: the prologue is over */
				continue;
			}
			if (in_loop)
				continue; /* the loop's own page step */
			total += (size_t)n;
			if (d.len)
				desc_str(&d, "; ");
			desc_str(&d, ext == 5 ? "sub $" : "add $-");
			desc_hex(&d, (uint64_t)n);
			desc_str(&d, ",%rsp");
			continue;
		}
		/* lea -N(%rsp),%r11: the bound of a stack-clash probe loop */
		if (in.op == 0x8d && (in.rex & 8) && insn_reg(&in) == REG_NUM_R11 &&
		    !insn_mod3(&in) && (in.modrm & 7) == 4 && in.disp < 0) {
			loop_base = total;
			loop_bytes = (uint64_t)-in.disp;
			in_loop = true;
			continue;
		}
		/* mov %rsp,%r11; sub $N,%r11: the same bound, other spelling */
		if (in.op == 0x89 && (in.rex & 8) && insn_mod3(&in) && insn_reg(&in) == REG_NUM_RSP &&
		    insn_rm(&in) == REG_NUM_R11) {
			r11_is_rsp = true;
			continue;
		}
		if ((in.op == 0x81 || in.op == 0x83) && (in.rex & 8) && insn_mod3(&in) &&
		    insn_rm(&in) == REG_NUM_R11 && ((in.modrm >> 3) & 7) == 5 && r11_is_rsp &&
		    in.imm > 0) {
			loop_base = total;
			loop_bytes = (uint64_t)in.imm;
			in_loop = true;
			continue;
		}
		/* cmp %r11,%rsp closes the loop: it reserved loop_bytes in all */
		if (in.op == 0x39 && insn_mod3(&in) && in_loop &&
		    ((insn_reg(&in) == REG_NUM_R11 && insn_rm(&in) == REG_NUM_RSP) ||
		     (insn_reg(&in) == REG_NUM_RSP && insn_rm(&in) == REG_NUM_R11))) {
			in_loop = false;
			total = loop_base + (size_t)loop_bytes;
			if (d.len)
				desc_str(&d, "; ");
			desc_str(&d, "probe loop lea -");
			desc_hex(&d, loop_bytes);
			desc_str(&d, "(%rsp),%r11");
			continue;
		}
		if (in.op == 0xe8 || in.op == 0xc3 || in.op == 0xe9 || in.op == 0xeb ||
		    (in.op == 0xff && ((in.modrm >> 3) & 7) >= 2 && ((in.modrm >> 3) & 7) <= 5))
			break; /* a call, return or jump: past the prologue */
	}
	if (in_loop) {
		/* The fault came inside the loop, before cmp was decoded (the
		 * window ended): the lea alone states the reservation. */
		total = loop_base + (size_t)loop_bytes;
		if (d.len)
			desc_str(&d, "; ");
		desc_str(&d, "probe loop lea -");
		desc_hex(&d, loop_bytes);
		desc_str(&d, "(%rsp),%r11");
	}
	return total;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/*
 * Appends "fatal: NAME reserves N bytes (sub $0x..,%rsp)" for the function
 * holding ip, and returns true if it could name one. Uses the loader (not
 * async-signal-safe) only when ip is not in our own code.
 */
static bool fault_describe_function(struct fault_msg *m, uintptr_t ip)
{
	const struct fault_sym *own = fault_symtab_find(ip);
	struct fault_fn f = { .ip = ip };
	const char *name = NULL, *object = NULL;
	uintptr_t name_addr = 0, window_end;
	char desc[160];
	size_t bytes;
	Dl_info info = { 0 };

	if (own) {
		f.start = own->lo;
		f.end = own->hi;
		name = fault_symtab.names + own->name;
		name_addr = own->lo;
	} else {
		dl_iterate_phdr(fault_fn_find_cb, &f);
		if (dladdr((void *)ip, &info) && info.dli_sname) {
			name = info.dli_sname;
			name_addr = (uintptr_t)info.dli_saddr;
		}
		object = base_name(f.object && f.object[0] ? f.object : info.dli_fname);
		if (!name && f.start)
			name_addr = f.start;
		if (!f.start && !name)
			return false;
	}

	msg_str(m, "fatal: ");
	if (name && (!f.start || name_addr == f.start)) {
		msg_str(m, name);
		if (object && object[0]) {
			msg_str(m, " in ");
			msg_str(m, object);
		}
	} else {
		/* No symbol of its own (a static function of a library without
		 * .symtab): its offset in the object, for objdump/addr2line. */
		msg_str(m, "function ");
		msg_str(m, object && object[0] ? object : "?");
		msg_str(m, "+");
		msg_hex(m, f.start - f.base);
		if (name) {
			msg_str(m, " (after ");
			msg_str(m, name);
			msg_str(m, ")");
		}
	}
	if (!f.start) {
		msg_str(m, " at ip+");
		msg_hex(m, ip - name_addr);
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
	bytes = thread_decode_frame((const uint8_t *)f.start, window_end - f.start, desc,
				    sizeof(desc));
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
	const struct thread_slot *self, *guard_owner;
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
	self = registry_find_tid(tid);
	guard_owner = registry_find_guard(addr);
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

void thread_install_fault_handler(void)
{
	struct sigaction sa;

	pthread_once(&fault_report_once, fault_report_init);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}
