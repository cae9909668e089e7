/*
 * echo: checks the serial input path (host stdin -> COM1 RX FIFO -> IRQ 4).
 * Enables the UART's receive interrupt, sleeps until IRQ 4, and reports every
 * received byte as "echo: got XX" (hex). A 'q' ends the guest with
 * GUEST_EXIT_PASS (exit status 1). Prints "echo: ready" once listening.
 */
#include "runtime/guest.h"

#define COM1        0x3F8
#define UART_RBR    0
#define UART_IER    1
#define UART_FCR    2
#define UART_MCR    4
#define UART_LSR    5
#define IER_RX      0x01
#define FCR_ENABLE  0x01
#define MCR_DTR_RTS 0x03
#define MCR_OUT2    0x08   /* on a PC, gates the UART's IRQ onto the bus */
#define LSR_DR      0x01

int main(void)
{
	outb(FCR_ENABLE, COM1 + UART_FCR);
	outb(MCR_DTR_RTS | MCR_OUT2, COM1 + UART_MCR);
	outb(IER_RX, COM1 + UART_IER);
	irq_unmask(IRQ_COM1);
	serial_puts("echo: ready\n");
	for (;;) {
		uint64_t seen = irq_seq;
		while (inb(COM1 + UART_LSR) & LSR_DR) {
			uint8_t c = inb(COM1 + UART_RBR);
			serial_printf("echo: got %02x\n", c);
			if (c == 'q')
				return GUEST_EXIT_PASS;
		}
		irq_wait(seen);
	}
}
