/*
 * Which function holds a code address: the fault report's way of naming
 * the function whose frame did not fit.
 *
 * Our own functions, static ones included, come from the executable's
 * .symtab (else .dynsym), which symbolize_init() loads into one read-only
 * mapping, sorted by address; symbolize_own() only searches it and is
 * async-signal-safe. Anything else (a library function) needs the dynamic
 * loader: the function's exact bounds from its object's .eh_frame_hdr table
 * (found through dl_iterate_phdr) and the nearest exported symbol from
 * dladdr. Both take the loader's lock, so symbolize_loaded() is NOT
 * async-signal-safe: a signal handler may call it only when it is about to
 * abort anyway, after writing what must not be lost.
 */
#ifndef FBVM_STACK_SYMBOLIZE_H
#define FBVM_STACK_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

/* The function found at a code address. */
struct function_at {
	const char *name;    /* its symbol, or the nearest one before it; NULL: none */
	uintptr_t name_addr; /* the address `name` stands for */
	uintptr_t start;     /* first byte of the function; 0: unknown */
	uintptr_t end;       /* one past its last byte; 0: unknown */
	uintptr_t base;      /* load address of its object (symbolize_loaded only) */
	const char *object;  /* base name of its object (symbolize_loaded only), or NULL */
};

/*
 * Loads the executable's function symbols and calls the two loader lookups
 * symbolize_loaded() uses once, now: libc reaches the dynamic linker through
 * lazily bound PLT slots, and the first call through each runs the
 * resolver, which saves the whole XSAVE state (up to 11 KiB) on the stack in
 * use, in a fault handler the alternate signal stack
 * (tools/stackcheck.annotations counts on this: "prebound"). Any failure
 * leaves the table empty: symbolize_own() then finds nothing. Idempotent and
 * thread-safe; not async-signal-safe.
 */
void symbolize_init(void);

/* Our own function holding ip: fills *out (name, name_addr = start, end;
 * base 0, object NULL) and returns true, or returns false. Async-signal-safe. */
bool symbolize_own(uintptr_t ip, struct function_at *out);

/* The loaded object's function holding ip, found through the dynamic loader.
 * Returns false when neither its start nor a symbol is known. NOT
 * async-signal-safe (takes the loader's lock). */
bool symbolize_loaded(uintptr_t ip, struct function_at *out);

#endif
