/*
 * Threads with fixed, guarded, painted stacks, and the registry the fault
 * report (fault_report.c) names them from.
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

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stack/stack_sizes.h"

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

static void slot_info(const struct thread_slot *s, struct thread_info *out)
{
	memcpy(out->name, s->name, sizeof(out->name));
	out->is_main = s->is_main;
	out->stack_bytes = s->stack_bytes;
	out->stack_lo = s->stack_lo;
	out->stack_hi = s->stack_hi;
	out->guard_lo = s->guard_lo;
	out->guard_hi = s->guard_hi;
	out->alt_lo = s->alt_lo;
	out->alt_hi = s->alt_hi;
}

bool thread_find_by_tid(pid_t tid, struct thread_info *out)
{
	const struct thread_slot *s = registry_find_tid(tid);

	if (s)
		slot_info(s, out);
	return s != NULL;
}

bool thread_find_by_guard(uintptr_t addr, struct thread_info *out)
{
	const struct thread_slot *s = registry_find_guard(addr);

	if (s)
		slot_info(s, out);
	return s != NULL;
}
