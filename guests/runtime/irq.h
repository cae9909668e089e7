/*
 * Interrupts, seen from ring 3. The runtime remaps the 8259 PICs to vectors
 * 0x20-0x2F with every line masked; its ring-0 handler for each line only
 * counts (irq_counts[line], irq_seq) and sends the EOI. Ring 3 unmasks the
 * lines it wants, then waits and looks at the counters; device work (e.g.
 * reading the i8042 data port after IRQ 1 or 12) happens in ring 3.
 *
 * The timer is PIT channel 0 (IRQ 0). Channel 2 and port 0x61 are not used:
 * QEMU microvm has no speaker gate.
 */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdint.h>

#define IRQ_PIT         0
#define IRQ_KEYBOARD    1
#define IRQ_CASCADE     2
#define IRQ_COM1        4
#define IRQ_MOUSE       12

#define PIT_INPUT_HZ    1193182u

/* Written only by the ring-0 interrupt stubs (entry.S). */
extern volatile uint64_t irq_counts[16];
extern volatile uint64_t irq_seq;        /* interrupts of any line so far */

/* Unmask / mask one 8259 line (lines 8-15 also unmask the cascade). */
void irq_unmask(unsigned line);
void irq_mask(unsigned line);

static inline uint64_t irq_count(unsigned line)
{
	return irq_counts[line & 15];
}

/*
 * Sleeps until an interrupt arrives, unless one arrived after irq_seq was
 * seen: pass the irq_seq value read before checking your wake condition.
 * Pattern:
 *     for (;;) { uint64_t seen = irq_seq; if (done()) break; irq_wait(seen); }
 * With every line masked this sleeps forever (the still-screen idle).
 */
static inline void irq_wait(uint64_t seen)
{
	/* hlt at CPL 3 faults; the #GP handler sleeps (entry.S exc_13). */
	__asm__ volatile("hlt" : : "a"(seen) : "memory");
}

/* Programs PIT channel 0 as a rate generator at hz (19..1193182; clamped)
 * and unmasks IRQ 0. Returns the rate actually programmed, rounded down. */
unsigned timer_start(unsigned hz);
void timer_stop(void);

static inline uint64_t timer_ticks(void)
{
	return irq_counts[IRQ_PIT];
}

/* Sleeps until timer_ticks() >= tick. */
void timer_wait_until(uint64_t tick);
/* Sleeps until the next tick; returns the new tick count. */
uint64_t timer_wait_tick(void);

#endif
