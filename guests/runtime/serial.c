#include <stdarg.h>
#include <stdint.h>

#include "fmt.h"
#include "io.h"
#include "serial.h"

/* 16550 registers (offsets from the base port). */
#define UART_THR        0       /* transmit holding (DLAB=0) */
#define UART_DLL        0       /* divisor latch low (DLAB=1) */
#define UART_IER        1       /* interrupt enable (DLAB=0) */
#define UART_DLM        1       /* divisor latch high (DLAB=1) */
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5

#define UART_LCR_8N1    0x03
#define UART_LCR_DLAB   0x80
#define UART_FCR_ENABLE_CLEAR 0xC7  /* enable, clear both FIFOs, 14-byte trigger */
#define UART_MCR_DTR_RTS 0x03      /* OUT2 stays off: no UART interrupts */
#define UART_LSR_THRE   0x20
#define UART_DIVISOR_115200 1      /* 1.8432 MHz / 16 / 115200 */

/* Bounds the wait for THRE so a missing or stuck UART cannot hang the
 * guest; the byte is written anyway. */
#define UART_POLL_LIMIT 100000

void serial_init(void)
{
	outb(0x00, SERIAL_COM1_PORT + UART_IER);
	outb(UART_LCR_DLAB, SERIAL_COM1_PORT + UART_LCR);
	outb(UART_DIVISOR_115200 & 0xFF, SERIAL_COM1_PORT + UART_DLL);
	outb(UART_DIVISOR_115200 >> 8, SERIAL_COM1_PORT + UART_DLM);
	outb(UART_LCR_8N1, SERIAL_COM1_PORT + UART_LCR);
	outb(UART_FCR_ENABLE_CLEAR, SERIAL_COM1_PORT + UART_FCR);
	outb(UART_MCR_DTR_RTS, SERIAL_COM1_PORT + UART_MCR);
}

void serial_putc(char c)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++) {
		if (inb(SERIAL_COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	}
	outb((uint8_t)c, SERIAL_COM1_PORT + UART_THR);
}

void serial_write(const char *s, size_t n)
{
	while (n--)
		serial_putc(*s++);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int serial_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return n;
}
