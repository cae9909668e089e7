/*
 * Every fbvm thread is started here, with a fixed stack we map ourselves, a
 * PROT_NONE guard region below it and a per-thread alternate signal stack,
 * and is kept in a registry so the fault report (fault_report.h) can name
 * it: "fatal: stack overflow in thread 'vcpu0' (stack 256 KiB)". Sizes live
 * in stack_sizes.h; see the README's "Threads and stacks".
 *
 * Promise: thread_find_by_tid and thread_find_by_guard are async-signal-safe
 * (they read the registry without a lock: slots are published with a
 * release store). Everything else takes the registry's mutex or allocates
 * and must not be called from a signal handler.
 */
#ifndef FBVM_THREAD_H
#define FBVM_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The kernel keeps 15 characters of a thread name (plus the NUL). */
#define THREAD_NAME_MAX 15

/* Threads the fault handler can name at once (live ones, plus exited ones
 * kept for statistics until their slot is needed). */
#define THREAD_REGISTRY_SLOTS 128

struct thread;

/*
 * Starts fn(arg) on a new thread called `name` (1..THREAD_NAME_MAX chars; it
 * becomes the kernel thread name, visible in /proc/self/task/N/comm).
 * stack_bytes (from stack_sizes.h) must be a multiple of the page size and at
 * least the platform's minimum thread stack. On return the thread is
 * named, registered and on its alternate signal stack; fn may already be
 * running. Returns 0 and sets *out, or a negative errno (-EINVAL for bad
 * arguments, -EAGAIN when the registry is full, or whatever mmap/pthread
 * reported) and leaves nothing behind.
 */
int thread_start(struct thread **out, const char *name, size_t stack_bytes,
		 void *(*fn)(void *), void *arg);

/* Waits for t, stores fn's return value in *retval (may be NULL), records the
 * final high-water mark for thread_print_stats and frees t with its stacks.
 * Returns 0 or a negative errno (then t is untouched). Call once per thread. */
int thread_join(struct thread *t, void **retval);

/*
 * Registers the calling thread, normally main, so faults on it are named
 * too: its stack range comes from pthread_getattr_np (for main, bounded by
 * RLIMIT_STACK) and it gets its own alternate signal stack. The kernel thread
 * name is left alone: main's is the process name `ps` shows. Returns 0,
 * -EEXIST if the calling thread is already registered, or a negative errno.
 */
int thread_register_main(const char *name);

/* Bytes of t's stack used so far (deepest point written, counted from the
 * top, including glibc's thread descriptor and TLS at the top): exact to 8
 * bytes within the painted top STACK_PAINT_BYTES, to the page below that.
 * Frame space reserved but never written is not counted. t must not have
 * been joined. */
size_t thread_stack_high_water(const struct thread *t);

/* Prints one line per registered thread (running, finished, or exited and
 * joined): name, stack size, high-water mark and the share of the stack
 * used. For main the mark is the stack mapping the kernel has grown, page
 * granular, and never less than the ~128 KiB the kernel maps at exec. */
void thread_print_stats(FILE *out);

/* Where t's memory is, for diagnostics and tests: [lo, hi) ranges. */
struct thread_layout {
	uintptr_t stack_lo, stack_hi;
	uintptr_t guard_lo, guard_hi;       /* PROT_NONE, directly below the stack */
	uintptr_t altstack_lo, altstack_hi; /* its own guard lies directly below */
};
void thread_get_layout(const struct thread *t, struct thread_layout *out);

/* What the fault report needs to know about a registered thread: a copy,
 * so the handler reads the registry once. Ranges are [lo, hi). For main,
 * the guard is the region below RLIMIT_STACK's bound, not a mapping of ours. */
struct thread_info {
	char name[THREAD_NAME_MAX + 1];
	bool is_main;
	size_t stack_bytes;
	uintptr_t stack_lo, stack_hi;
	uintptr_t guard_lo, guard_hi;
	uintptr_t alt_lo, alt_hi;
};

/* The running registered thread with kernel thread id tid: fills *out and
 * returns true, or returns false. Async-signal-safe. */
bool thread_find_by_tid(pid_t tid, struct thread_info *out);

/* The registered thread (running, or finished but not yet joined) whose
 * guard region holds addr: fills *out and returns true, or returns false.
 * Async-signal-safe. */
bool thread_find_by_guard(uintptr_t addr, struct thread_info *out);

#endif
