#include "guest.h"

/* 8259 ports (Intel 8259A datasheet; PC wiring: master 0x20, slave 0xA0). */
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA  0xA1

/* 8254 PIT (Intel 8254 datasheet). */
#define PIT_CH0_DATA    0x40
#define PIT_COMMAND     0x43
#define PIT_CH0_RATE_LOHI 0x34     /* channel 0, lobyte/hibyte, mode 2, binary */

volatile uint64_t irq_counts[16];
volatile uint64_t irq_seq;

/* Ring 0 leaves every line masked (kernel.c pic_init); this mirrors the
 * IMRs so ring 3 needs no port read to change them. */
static uint16_t irq_mask_bits = 0xFFFF;

static void irq_write_masks(void)
{
	outb((uint8_t)irq_mask_bits, PIC_MASTER_DATA);
	outb((uint8_t)(irq_mask_bits >> 8), PIC_SLAVE_DATA);
}

void irq_unmask(unsigned line)
{
	line &= 15;
	irq_mask_bits &= (uint16_t)~(1u << line);
	if (line >= 8)
		irq_mask_bits &= (uint16_t)~(1u << IRQ_CASCADE);
	irq_write_masks();
}

void irq_mask(unsigned line)
{
	irq_mask_bits |= (uint16_t)(1u << (line & 15));
	irq_write_masks();
}

unsigned timer_start(unsigned hz)
{
	uint32_t divisor;

	if (hz < 19)
		hz = 19;        /* the 16-bit divisor tops out at 65535 (18.2 Hz) */
	if (hz > PIT_INPUT_HZ)
		hz = PIT_INPUT_HZ;
	divisor = PIT_INPUT_HZ / hz;
	if (divisor < 2)
		divisor = 2;    /* mode 2 forbids a count of 1 */
	outb(PIT_CH0_RATE_LOHI, PIT_COMMAND);
	outb((uint8_t)divisor, PIT_CH0_DATA);
	outb((uint8_t)(divisor >> 8), PIT_CH0_DATA);
	irq_unmask(IRQ_PIT);
	return PIT_INPUT_HZ / divisor;
}

void timer_stop(void)
{
	irq_mask(IRQ_PIT);
}

void timer_wait_until(uint64_t tick)
{
	for (;;) {
		uint64_t seen = irq_seq;

		if (timer_ticks() >= tick)
			return;
		irq_wait(seen);
	}
}

uint64_t timer_wait_tick(void)
{
	uint64_t next = timer_ticks() + 1;

	timer_wait_until(next);
	return timer_ticks();
}
