/*
 * The fault report: a SIGSEGV/SIGBUS handler that turns a stack overflow
 * into
 *   fatal: stack overflow in thread 'vcpu0' (stack 256 KiB)
 *   fatal: vnc_send_update reserves 3146688 bytes (sub $0x3003c0,%rsp); faulted at +0x1c
 * and any other fault into a line naming the thread and the address, then
 * aborts. Threads are named from the registry of thread.h; the function and
 * its frame come from symbolize.h and frame_decode.h.
 *
 * Promise: the handler runs on the faulting thread's alternate signal stack
 * (SA_ONSTACK; thread_start and thread_register_main give every thread one)
 * and is async-signal-safe up to and including the report's first line: it
 * reads the registry without a lock, formats into a buffer on its own stack
 * by hand (no stdio, no allocation) and writes with write(2). Only then, and
 * only for an overflow in a library function, may it ask the dynamic loader
 * (symbolize_loaded, not async-signal-safe); it aborts right after anyway.
 */
#ifndef FBVM_STACK_FAULT_REPORT_H
#define FBVM_STACK_FAULT_REPORT_H

/*
 * Installs the SIGSEGV/SIGBUS handler (SA_ONSTACK|SA_SIGINFO) for the whole
 * process, after loading the symbol table (symbolize_init). The handler
 * writes the report to stderr (with "\r\n" line ends while the terminal is
 * raw), restores the terminal (terminal_restore), resets SIGABRT to SIG_DFL
 * and calls abort(), which leaves a core dump of the faulting state. A
 * fault inside a registered guard region, or while the thread's stack
 * pointer is outside its stack, is a stack overflow. Threads not started by
 * thread_start (a library's) are reported as thread 'unknown' with their
 * tid; without an alternate stack their overflow cannot be reported at all.
 *
 * An overflow report's second line names the function that faulted and the
 * frame its prologue reserves. Our own functions, static ones too, are found
 * in the executable's .symtab; library functions through the dynamic loader,
 * after the first line is written. Idempotent; call from main before
 * starting threads.
 */
void fault_report_install(void);

#endif
