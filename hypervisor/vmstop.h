/*
 * Why and how the VM stopped. Any thread (a device on the vCPU thread, the
 * main thread on Ctrl-A x) may request a stop; the first request wins and its
 * exit status becomes fbvm's. Statuses fbvm chooses are even so they never
 * collide with the guest's test-exit port, whose statuses are always odd.
 */
#ifndef FBVM_VMSTOP_H
#define FBVM_VMSTOP_H

#include <stdbool.h>

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF,        /* guest powered off, or the user quit */
	VM_STOP_TEST_EXIT,       /* write to the isa-debug-exit port */
	VM_STOP_RESET,           /* reset via 0xCF9 or i8042 command 0xFE */
	VM_STOP_TRIPLE_FAULT,    /* KVM_EXIT_SHUTDOWN */
	VM_STOP_HALTED,          /* HLT with interrupts disabled: nothing can wake it */
	VM_STOP_INTERNAL_ERROR,  /* KVM internal error / emulation failure / bad exit */
	VM_STOP_HOST_ERROR,      /* a host-side failure while running */
};

/* Exit statuses (documented in README.md). */
#define EXIT_STATUS_OK            0
#define EXIT_STATUS_USAGE         2   /* bad command line, before any thread starts */
#define EXIT_STATUS_RESET         4
#define EXIT_STATUS_TRIPLE_FAULT  6
#define EXIT_STATUS_HALTED        8
#define EXIT_STATUS_INTERNAL      10
#define EXIT_STATUS_HOST          12  /* KVM missing, out of memory, I/O error */

/* Records the first stop request and wakes whoever waits for it. `detail` is
 * logged once (may be NULL). Async-signal-unsafe; callable from any thread. */
void vm_request_stop(enum vm_stop_reason reason, int exit_status, const char *detail);

/* True once a stop was requested (cheap; polled by the vCPU loop). */
bool vm_stop_requested(void);
enum vm_stop_reason vm_stop_reason(void);
int vm_stop_exit_status(void);
const char *vm_stop_reason_name(enum vm_stop_reason reason);

/* An eventfd that becomes readable when a stop is requested, for poll(). */
int vm_stop_eventfd(void);

/* Forgets any request (unit tests only). */
void vm_stop_reset_for_test(void);

#endif
