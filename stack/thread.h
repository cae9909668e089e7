/*
 * Every fbvm thread is started here, with a fixed stack we map ourselves, a
 * PROT_NONE guard region below it and a per-thread alternate signal stack; a
 * SIGSEGV/SIGBUS handler turns a stack overflow into
 *   fatal: stack overflow in thread 'vcpu0' (stack 256 KiB)
 * and any other fault into a line naming the thread and the address, then
 * aborts. Sizes live in stack_sizes.h; see DESIGN.md "Threads and stacks".
 */
#ifndef FBVM_THREAD_H
#define FBVM_THREAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * Installs the SIGSEGV/SIGBUS handler (SA_ONSTACK|SA_SIGINFO) for the whole
 * process. It is async-signal-safe: one write(2) to stderr, then SIGABRT is
 * reset to SIG_DFL and abort() leaves a core dump of the faulting state. A
 * fault inside a registered guard region, or while the thread's stack pointer
 * is outside its stack, is a stack overflow. Threads not started by
 * thread_start (a library's) are reported as thread 'unknown' with their tid;
 * without an alternate stack their overflow cannot be reported at all.
 *
 * An overflow report's second line names the function that faulted and the
 * frame its prologue reserves:
 *   fatal: vnc_send_update reserves 3146688 bytes (sub $0x3003c0,%rsp); faulted at +0x1c
 * Our own functions, static ones too, are found in the executable's .symtab,
 * which the first call loads into one small read-only mapping (an address
 * pair and the name per function); library functions are found through the
 * dynamic loader, after the first line is written. Idempotent.
 */
void thread_install_fault_handler(void);

/*
 * The stack a function's prologue reserves, decoded from its x86-64 machine
 * code as gcc and clang emit it: `sub $N,%rsp` (or `add $-N,%rsp`),
 * unrolled stack-clash probes, and probe loops bounded by
 * `lea -N(%rsp),%r11` (or `mov %rsp,%r11; sub $N,%r11`). Decoding stops at
 * the first call, return, unconditional jump, release of the frame or
 * unknown instruction. Returns the bytes reserved (0: none found) and writes
 * what was decoded to desc (truncated to desc_len), e.g.
 * "probe loop lea -0x300000(%rsp),%r11; sub $0x18,%rsp". Async-signal-safe.
 */
size_t thread_decode_frame(const uint8_t *code, size_t len, char *desc, size_t desc_len);

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

#endif
