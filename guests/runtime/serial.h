/*
 * COM1 (16550 at 0x3F8), polled output only. Lines end in "\n" alone, as
 * printf to a serial line normally does; QEMU's stdio backend (and any
 * terminal with ONLCR) adds the "\r" for display. Works in ring 0 and 3.
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stddef.h>

#define SERIAL_COM1_PORT 0x3F8

/* 115200 baud, 8N1, FIFOs on, UART interrupts off. */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
void serial_puts(const char *s);        /* no newline added */
/* Formats (fmt.h rules, lines up to 512 bytes) and writes to COM1. */
int serial_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
