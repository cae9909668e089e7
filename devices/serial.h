/*
 * 16550A UART (the PC's COM1), complete enough for Linux's 8250 driver and for
 * bare-metal polling code. The line is infinitely fast: transmitted bytes reach
 * the backend at once and THRE/TEMT always read as set.
 *
 * Threads: the guest reaches the registers through the bus on a vCPU thread
 * while the main thread feeds typed bytes with serial_receive(); one mutex
 * guards the state. Backend callbacks run without it held, so they may block
 * (a full stdout) or call serial_receive() without deadlocking. The irq
 * line's set_level runs with it held, so the line never lags the state; it
 * must not call back into the device (KVM_IRQ_LINE does not).
 */
#ifndef FBVM_SERIAL_H
#define FBVM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hypervisor/irq.h"

struct bus;

#define SERIAL_COM1_BASE 0x3F8
#define SERIAL_COM1_GSI 4
#define SERIAL_PORT_COUNT 8
#define SERIAL_FIFO_BYTES 16

struct serial_backend {
	/* Bytes the guest transmitted, in order. Called on the vCPU thread
	 * that wrote THR; NULL discards them. */
	void (*write)(void *ctx, const uint8_t *buf, size_t len);
	/* The guest emptied the receive FIFO (or reset it, or left loopback):
	 * serial_receive() accepts bytes again. Called on a vCPU thread and may
	 * come before the producer starts waiting, so it must set a level the
	 * producer checks (an eventfd), not signal a bare condition. */
	void (*rx_space)(void *ctx);
	void *ctx;
};

struct serial {
	pthread_mutex_t lock;
	struct serial_backend backend;
	struct irq_line irq;
	uint16_t base;

	/* Guest-visible state, guarded by lock; serial_reset() sets it. */
	uint8_t ier;
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_errors;     /* LSR.OE, cleared by reading LSR; DR/THRE/TEMT are computed */
	uint8_t msr_delta;      /* MSR bits 0-3; bits 4-7 are computed */
	uint8_t scr;
	uint8_t fcr;            /* the bits that stick: enable, DMA mode, trigger */
	uint16_t divisor;
	uint8_t rx_fifo[SERIAL_FIFO_BYTES];
	unsigned int rx_head;
	unsigned int rx_count;
	bool thr_ipending;      /* THR-empty interrupt armed, cleared by IIR read */
	bool irq_level;         /* what the line was last set to */

	/* Counters for --stats, guarded by lock. */
	uint64_t tx_bytes;
	uint64_t rx_bytes;
	uint64_t overruns;       /* bytes lost to a full receiver (loopback only) */
	uint64_t rx_flushed;     /* unread bytes the guest discarded via FCR */
	uint64_t ignored_writes; /* writes to the read-only LSR and MSR */
};

/* Zeroes the counters, resets the UART, copies *backend (NULL: output goes nowhere) and registers
 * SERIAL_PORT_COUNT ports at base, 1-byte accesses only. Returns 0 or a
 * negative errno from bus_register / pthread_mutex_init, with nothing left
 * registered. */
int serial_init(struct serial *s, struct bus *bus, uint16_t base, struct irq_line irq,
		const struct serial_backend *backend);

/* Power-on state (PC16550D "Reset" table): FIFOs off and empty, no
 * interrupts enabled, MCR 0 (so the IRQ is gated off), divisor 12 (9600 baud). */
void serial_reset(struct serial *s);

/* Offers host bytes to the receiver. Returns how many were taken, 0..len:
 * the FIFO holds SERIAL_FIFO_BYTES (1 byte while FIFOs are off) and nothing
 * is taken in loopback, where the receiver is disconnected from the line.
 * Bytes not taken are the caller's to retry after backend.rx_space. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/* One line of counters, "serial: base=0x3f8 tx_bytes=…". */
void serial_print_stats(struct serial *s, FILE *out);

#endif
