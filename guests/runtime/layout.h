/*
 * Constants shared by the runtime's assembly (entry.S) and C: descriptor
 * selectors, interrupt vectors, stack sizes. Plain #defines only, so the
 * assembler can include it.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* GDT layout (entry.S gdt): user data sits below user code, the order
 * SYSRET expects, should a guest ever use it. */
#define GDT_KERNEL_CS   0x08
#define GDT_KERNEL_DS   0x10
#define GDT_USER_DS     0x18
#define GDT_USER_CS     0x20
#define GDT_TSS         0x28    /* 16-byte system descriptor */
#define GDT_ENTRIES     7

/* 8259 PIC inputs are remapped above the 32 CPU exception vectors. */
#define IRQ_VECTOR_BASE 0x20
#define IRQ_LINES       16
#define EXCEPTION_VECTORS 32
/* The local APIC's spurious-interrupt vector (low four bits set, as older
 * CPUs require); its handler only returns. */
#define LAPIC_SPURIOUS_VECTOR 0xFF
#define IDT_VECTORS     256

/* Ring-0 stack for setup, exceptions and interrupts (TSS.RSP0). Handlers are
 * a few frames of general-register code; 16 KiB is generous. */
#define KERNEL_STACK_BYTES  16384
/* Separate stack for #DF (IST1), so a kernel stack overflow still reports. */
#define FAULT_STACK_BYTES   4096
/* Ring-3 stack: main() and everything it calls. */
#define USER_STACK_BYTES    65536

/* TSS: 104-byte 64-bit TSS, then the I/O permission bitmap (8 KiB of zero
 * bits = every port allowed) and the 0xFF byte the CPU requires after it.
 * PVM ignores RFLAGS.IOPL for ring-3 port I/O; only the bitmap works there. */
#define TSS_BYTES           104
#define TSS_IOMAP_BYTES     8192
#define TSS_LIMIT           (TSS_BYTES + TSS_IOMAP_BYTES)  /* includes the 0xFF byte */

/* RFLAGS for ring 3: IF (interrupts wake hlt), IOPL=3, bit 1 (always set). */
#define USER_RFLAGS         0x3202

#endif
