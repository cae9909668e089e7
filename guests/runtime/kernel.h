/*
 * Ring-0 part of the runtime: entry.S calls kernel_main() in long mode, which
 * installs the TSS and IDT, remaps and masks the PICs and drops to ring 3.
 * Ring-0 code is built with general registers only: PVM's emulator stops
 * with "emulation failure" on SSE in ring 0.
 */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdint.h>

/* Saved by entry.S exc_common, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};

void kernel_main(uint32_t start_info_paddr) __attribute__((noreturn));
/* Reports an exception on serial and exits with GUEST_EXIT_EXCEPTION. */
void kernel_trap(const struct trap_frame *f) __attribute__((noreturn));

/* entry.S */
void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg) __attribute__((noreturn));
extern uint64_t gdt[];
extern uint8_t tss[];
extern uint8_t idt[];
extern const uint64_t exception_stubs[];
extern const uint64_t irq_stubs[];
void lapic_spurious_stub(void);
extern char user_stack_top[];

/* start.c: ring-3 entry. */
void user_start(uint64_t start_info_paddr) __attribute__((noreturn));

#endif
