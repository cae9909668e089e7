/*
 * PVH entry, switch to long mode, descriptor tables and interrupt stubs.
 *
 * Boot ABI (Xen docs/misc/pvh.pandoc): the loader enters pvh_start32 in
 * 32-bit protected mode, paging off, flat CS/DS/ES/SS, interrupts off, with
 * EBX = guest-physical address of struct hvm_start_info.
 *
 * Everything ring 0 needs is built at link time (page tables, GDT, TSS) so
 * the boot path runs few instructions: under PVM each ring-0 instruction is
 * emulated (~0.5 M instructions/s). Ring 0 only keeps the exception and
 * interrupt entry points; guests run in ring 3 (start.c).
 *
 * Nothing that ring 0 writes before entering ring 3 may live in .bss, which
 * ring 3 clears at start (start.c): tables live in .data, stacks in .stack.
 */
#include "layout.h"

#define CR0_PE          0x00000001
#define CR0_MP          0x00000002
#define CR0_EM          0x00000004
#define CR0_TS          0x00000008
#define CR0_NE          0x00000020
#define CR0_PG          0x80000000
#define CR4_PAE         0x00000020
#define CR4_OSFXSR      0x00000200
#define CR4_OSXMMEXCPT  0x00000400
#define MSR_EFER        0xC0000080
#define EFER_LME        0x00000100

#define PTE_PRESENT     0x001
#define PTE_WRITE       0x002
#define PTE_USER        0x004
#define PTE_LARGE       0x080
/* Every mapping carries USER: ring 3 draws into RAM and touches MMIO. */
#define PTE_TABLE       (PTE_PRESENT | PTE_WRITE | PTE_USER)
#define PDE_2MIB        (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE)

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* PVH entry note. ELF64 notes use 4-byte alignment here (as Linux and GNU
 * ld do; the segment's p_align says 4). The value is 8 bytes wide like
 * Linux's: QEMU reads a 64-bit value from ELF64 notes. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4                         /* n_namesz: "Xen\0" */
	.long 8                         /* n_descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY  /* n_type */
	.asciz "Xen"
	.balign 4
	.quad pvh_start32
	.balign 4

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, %esi                 /* hvm_start_info, handed to kernel_main */
	lgdt gdt_desc
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	andl $~(CR0_EM | CR0_TS), %eax  /* SSE usable in ring 3 (OSFXSR above) */
	orl $(CR0_PG | CR0_PE | CR0_MP | CR0_NE), %eax
	movl %eax, %cr0
	ljmp $GDT_KERNEL_CS, $long_mode

	.code64
long_mode:
	movl $GDT_KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $kernel_stack_top, %rsp
	movl %esi, %edi
	call kernel_main
1:	cli
	hlt
	jmp 1b

	.text
/* void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg): iretq to ring 3
 * with IOPL 3 and IF set; arg arrives in RDI. */
	.globl enter_user
enter_user:
	pushq $(GDT_USER_DS | 3)
	pushq %rsi
	pushq $USER_RFLAGS
	pushq $(GDT_USER_CS | 3)
	pushq %rdi
	movq %rdx, %rdi
	xorl %esi, %esi
	xorl %edx, %edx
	iretq

/*
 * Exceptions: each stub pushes a zero error code when the CPU pushes none,
 * then its vector, and joins exc_common, which saves the general registers
 * (struct trap_frame in kernel.h) and reports through kernel_trap().
 */
.macro EXC_NOERR n
exc_\n:
	pushq $0
	pushq $\n
	jmp exc_common
.endm
.macro EXC_ERR n
exc_\n:
	pushq $\n
	jmp exc_common
.endm

.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 31
	EXC_NOERR \n
.endr
.irp n, 8, 10, 11, 12, 14, 17, 21, 29, 30
	EXC_ERR \n
.endr

/*
 * #GP doubles as the idle path. PVM raises #UD for int $0x80 and faults on
 * sti in a syscall handler, so ring 3 idles by executing hlt with RAX = the
 * irq_seq value it last saw; hlt at CPL 3 raises #GP(0) everywhere (PVM,
 * hardware KVM, QEMU TCG). If no interrupt arrived since (irq_seq == RAX) we
 * sleep with sti; hlt (the sti shadow closes the race), then skip the
 * one-byte hlt and return. Anything else is a real #GP.
 */
exc_13:
	cmpq $0, (%rsp)                 /* error code */
	jne exc_13_fatal
	pushq %rcx
	movq 16(%rsp), %rcx             /* faulting RIP */
	cmpb $0xF4, (%rcx)              /* hlt */
	jne exc_13_fatal_pop
	cmpq %rax, irq_seq(%rip)
	jne 1f
	sti
	hlt
	cli
1:	incq 16(%rsp)
	popq %rcx
	addq $8, %rsp                   /* error code */
	iretq
exc_13_fatal_pop:
	popq %rcx
exc_13_fatal:
	pushq $13
	jmp exc_common

exc_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	call kernel_trap
1:	cli
	hlt
	jmp 1b

/*
 * 8259 interrupts: count per line and in irq_seq (the idle path's wake
 * token), end the interrupt, return. Kept to a handful of instructions
 * because each one is emulated under PVM. A non-specific EOI with nothing
 * in service (spurious IRQ 7/15) is harmless: handlers never nest.
 */
.macro IRQ_STUB n
irq_\n:
	pushq %rax
	incq irq_counts + 8 * \n(%rip)
	incq irq_seq(%rip)
	movb $0x20, %al
.if \n >= 8
	outb %al, $0xA0
.endif
	outb %al, $0x20
	popq %rax
	iretq
.endm

.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	IRQ_STUB \n
.endr

/* A spurious local-APIC interrupt needs no EOI. */
	.globl lapic_spurious_stub
lapic_spurious_stub:
	iretq

	.section .rodata
	.balign 8
	.globl exception_stubs
exception_stubs:
.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	.quad exc_\n
.endr
	.globl irq_stubs
irq_stubs:
.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.quad irq_\n
.endr

	.data
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00AF9B000000FFFF        /* 0x08 kernel code, 64-bit */
	.quad 0x00CF93000000FFFF        /* 0x10 kernel data */
	.quad 0x00CFF3000000FFFF        /* 0x18 user data, DPL 3 */
	.quad 0x00AFFB000000FFFF        /* 0x20 user code, 64-bit, DPL 3 */
	.quad 0, 0                      /* 0x28 TSS, filled by kernel_main */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.balign 16
	.globl tss
tss:
	.long 0
	.quad kernel_stack_top          /* RSP0: ring 3 -> ring 0 entries */
	.quad 0, 0                      /* RSP1, RSP2 */
	.quad 0
	.quad fault_stack_top           /* IST1: #DF */
	.fill 6, 8, 0                   /* IST2..IST7 */
	.quad 0
	.word 0
	.word TSS_BYTES                 /* I/O permission bitmap offset */
	.fill TSS_IOMAP_BYTES, 1, 0     /* every port allowed */
	.byte 0xFF                      /* required terminator */

	.balign 16
	.globl idt
idt:
	.fill IDT_VECTORS * 16, 1, 0

/* Identity map of the first 4 GiB with 2 MiB pages (RAM below 3 GiB, the
 * device hole up to 4 GiB). */
	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_TABLE
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_TABLE
	.quad pd + 0x1000 + PTE_TABLE
	.quad pd + 0x2000 + PTE_TABLE
	.quad pd + 0x3000 + PTE_TABLE
	.fill 508, 8, 0
pd:
	.set pde_index, 0
	.rept 2048
	.quad (pde_index << 21) | PDE_2MIB
	.set pde_index, pde_index + 1
	.endr

	.section .stack, "aw", @nobits
	.balign 4096
	.skip KERNEL_STACK_BYTES
kernel_stack_top:
	.skip FAULT_STACK_BYTES
fault_stack_top:
	.skip USER_STACK_BYTES
	.globl user_stack_top
user_stack_top:

	.section .note.GNU-stack, "", @progbits
