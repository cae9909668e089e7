/* Tests for devices/serial.c: every access goes through the port-I/O bus as a guest's would. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/serial.h"
#include "hypervisor/bus.h"

#define BASE SERIAL_COM1_BASE

/* Register offsets and bits, spelled out here so the tests check the device
 * against the datasheet rather than against its own constants. */
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RCVR 0x02
#define IIR_NO_INT 0x01
#define IIR_FIFO 0xC0

struct fixture {
	struct bus bus;
	struct serial serial;
	/* fake irq line */
	bool irq_level;
	unsigned int irq_sets;
	unsigned int irq_gsi;
	/* fake backend */
	uint8_t tx[256];
	size_t tx_len;
	unsigned int rx_space_calls;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fixture *f = ctx;

	f->irq_level = level;
	f->irq_gsi = gsi;
	f->irq_sets++;
}

static void fake_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct fixture *f = ctx;

	assert_true(f->tx_len + len <= sizeof(f->tx));
	memcpy(f->tx + f->tx_len, buf, len);
	f->tx_len += len;
}

static void fake_rx_space(void *ctx)
{
	struct fixture *f = ctx;

	f->rx_space_calls++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct irq_line irq = { .set_level = fake_set_level, .gsi = SERIAL_COM1_GSI };
	struct serial_backend backend = { .write = fake_write, .rx_space = fake_rx_space };

	if (!f)
		return -1;
	irq.ctx = f;
	backend.ctx = f;
	bus_init(&f->bus);
	if (serial_init(&f->serial, &f->bus, BASE, irq, &backend) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_destroy(&f->serial.lock);
	free(f);
	return 0;
}

static void outb(struct fixture *f, unsigned int reg, uint8_t v)
{
	bus_access(&f->bus, BUS_PIO, BASE + reg, &v, 1, true);
}

static uint8_t inb(struct fixture *f, unsigned int reg)
{
	uint8_t v = 0;

	bus_access(&f->bus, BUS_PIO, BASE + reg, &v, 1, false);
	return v;
}

static void feed(struct fixture *f, const char *bytes)
{
	size_t len = strlen(bytes);

	assert_int_equal(serial_receive(&f->serial, (const uint8_t *)bytes, len), len);
}

/* ---- register semantics ---- */

static void test_serial_reset_state_reads_as_datasheet_table(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(inb(f, IER), 0x00);
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
	assert_int_equal(inb(f, LCR), 0x00);
	assert_int_equal(inb(f, MCR), 0x00);
	assert_int_equal(inb(f, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(inb(f, MSR), 0xB0); /* DCD, DSR, CTS asserted, no deltas */
	assert_int_equal(inb(f, SCR), 0x00);
	assert_false(f->irq_level);
	assert_int_equal(f->irq_gsi, SERIAL_COM1_GSI);
}

static void test_serial_scratch_register_holds_any_byte(void **state)
{
	struct fixture *f = *state;
	static const uint8_t values[] = { 0x00, 0x55, 0xAA, 0xFF };

	for (size_t i = 0; i < sizeof(values); i++) {
		outb(f, SCR, values[i]);
		assert_int_equal(inb(f, SCR), values[i]);
	}
}

static void test_serial_ier_implements_only_low_four_bits(void **state)
{
	struct fixture *f = *state;

	/* Linux's existence test writes 0 and 0x0F and expects them back. */
	outb(f, IER, 0xFF);
	assert_int_equal(inb(f, IER), 0x0F);
	outb(f, IER, 0x00);
	assert_int_equal(inb(f, IER), 0x00);
}

static void test_serial_dlab_exposes_divisor_latch(void **state)
{
	struct fixture *f = *state;

	outb(f, LCR, 0x80);
	assert_int_equal(inb(f, DLL), 12); /* 9600 baud after reset */
	assert_int_equal(inb(f, DLM), 0);
	outb(f, DLL, 0x01);
	outb(f, DLM, 0x02);
	assert_int_equal(inb(f, DLL), 0x01);
	assert_int_equal(inb(f, DLM), 0x02);
	assert_int_equal(inb(f, LCR), 0x80);

	outb(f, LCR, 0x03);
	assert_int_equal(inb(f, IER), 0x00); /* IER untouched by the DLM write */
	outb(f, LCR, 0x83);
	assert_int_equal(inb(f, DLM), 0x02); /* latch kept while DLAB was clear */
}

static void test_serial_dlab_write_to_offset_zero_does_not_transmit(void **state)
{
	struct fixture *f = *state;

	outb(f, LCR, 0x80);
	outb(f, DLL, 'x');
	assert_int_equal(f->tx_len, 0);
	outb(f, LCR, 0x03);
	outb(f, THR, 'y');
	assert_int_equal(f->tx_len, 1);
	assert_int_equal(f->tx[0], 'y');
}

static void test_serial_fifo_enable_sets_iir_bits_6_and_7(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	assert_int_equal(inb(f, IIR), IIR_FIFO | IIR_NO_INT);
	outb(f, FCR, 0x00);
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
	/* With bit 0 clear the other FCR bits are not programmed. */
	outb(f, FCR, 0xC0);
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
}

static void test_serial_linux_autoconfig_identifies_16550a(void **state)
{
	struct fixture *f = *state;
	uint8_t v;

	/* The probe in Linux's drivers/tty/serial/8250/8250_port.c autoconfig(). */
	outb(f, IER, 0x00);
	assert_int_equal(inb(f, IER) & 0x0F, 0x00);
	outb(f, IER, 0x0F);
	assert_int_equal(inb(f, IER) & 0x0F, 0x0F);
	outb(f, IER, 0x00);

	outb(f, MCR, MCR_LOOP | 0x0A);
	assert_int_equal(inb(f, MSR) & 0xF0, 0x90);
	outb(f, MCR, 0x00);

	outb(f, LCR, 0xBF); /* "EFR" at offset 2 must not stick: it is our FCR */
	outb(f, FCR, 0x00);
	outb(f, LCR, 0x00);
	outb(f, FCR, FCR_ENABLE);
	assert_int_equal(inb(f, IIR) >> 6, 3);

	/* autoconfig_16550a: no EFR behind LCR=0x80, no 64-byte FIFO (IIR bit 5). */
	outb(f, LCR, 0x80);
	assert_int_not_equal(inb(f, IIR), 0);
	outb(f, LCR, 0x00);
	outb(f, FCR, FCR_ENABLE | 0x20);
	v = inb(f, IIR);
	assert_int_equal(v & 0x20, 0);
	assert_int_equal(v & 0xC0, 0xC0);
}

/* ---- modem control and status ---- */

static void test_serial_loopback_msr_reflects_mcr_outputs(void **state)
{
	struct fixture *f = *state;
	static const struct { uint8_t mcr, msr_lines; } cases[] = {
		{ MCR_LOOP, 0x00 },
		{ MCR_LOOP | MCR_RTS, 0x10 },            /* RTS -> CTS */
		{ MCR_LOOP | MCR_DTR, 0x20 },            /* DTR -> DSR */
		{ MCR_LOOP | MCR_OUT1, 0x40 },           /* OUT1 -> RI */
		{ MCR_LOOP | MCR_OUT2, 0x80 },           /* OUT2 -> DCD */
		{ MCR_LOOP | MCR_RTS | MCR_OUT2, 0x90 }, /* Linux's loopback test */
		{ MCR_LOOP | 0x0F, 0xF0 },
		{ 0x0F, 0xB0 },                          /* not looped: modem ready */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		outb(f, MCR, cases[i].mcr);
		assert_int_equal(inb(f, MCR), cases[i].mcr);
		assert_int_equal(inb(f, MSR) & 0xF0, cases[i].msr_lines);
	}
}

static void test_serial_msr_delta_bits_track_line_changes_and_clear_on_read(void **state)
{
	struct fixture *f = *state;

	outb(f, MCR, MCR_LOOP | MCR_OUT1);        /* CTS, DSR, DCD fall; RI rises */
	assert_int_equal(inb(f, MSR), 0x40 | 0x01 | 0x02 | 0x08);
	assert_int_equal(inb(f, MSR), 0x40);      /* deltas cleared by the read */
	outb(f, MCR, MCR_LOOP);                   /* RI falls: trailing edge */
	assert_int_equal(inb(f, MSR), 0x04);
	assert_int_equal(inb(f, MSR), 0x00);
}

static void test_serial_modem_status_interrupt_on_delta(void **state)
{
	struct fixture *f = *state;

	outb(f, IER, IER_MSI);
	outb(f, MCR, MCR_LOOP | MCR_RTS | MCR_DTR | MCR_OUT2); /* DSR, CTS, DCD unchanged */
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
	outb(f, MCR, MCR_LOOP | MCR_RTS | MCR_OUT2);           /* DSR falls */
	assert_int_equal(inb(f, IIR), 0x00);
	inb(f, MSR);
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
}

/* ---- receive ---- */

static void test_serial_receive_sets_dr_and_reads_back_in_order(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	feed(f, "abc");
	assert_int_equal(inb(f, LSR) & LSR_DR, LSR_DR);
	assert_int_equal(inb(f, RBR), 'a');
	assert_int_equal(inb(f, RBR), 'b');
	assert_int_equal(inb(f, RBR), 'c');
	assert_int_equal(inb(f, LSR) & LSR_DR, 0);
}

static void test_serial_receive_returns_short_when_fifo_full(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[20];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)('A' + i);
	outb(f, FCR, FCR_ENABLE);
	assert_int_equal(serial_receive(&f->serial, buf, sizeof(buf)), SERIAL_FIFO_BYTES);
	assert_int_equal(serial_receive(&f->serial, buf + 16, 4), 0);
	assert_int_equal(inb(f, RBR), 'A');
	assert_int_equal(serial_receive(&f->serial, buf + 16, 4), 1);
	for (size_t i = 1; i <= 16; i++)
		assert_int_equal(inb(f, RBR), 'A' + i);
	/* Nothing was dropped behind the caller's back. */
	assert_int_equal(inb(f, LSR) & (LSR_DR | LSR_OE), 0);
	assert_int_equal(f->serial.overruns, 0);
}

static void test_serial_receive_holds_one_byte_with_fifos_off(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(serial_receive(&f->serial, (const uint8_t *)"xy", 2), 1);
	assert_int_equal(serial_receive(&f->serial, (const uint8_t *)"y", 1), 0);
	assert_int_equal(inb(f, RBR), 'x');
	assert_int_equal(serial_receive(&f->serial, (const uint8_t *)"y", 1), 1);
	assert_int_equal(inb(f, RBR), 'y');
}

static void test_serial_rx_space_called_when_guest_drains_fifo(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	feed(f, "ab");
	inb(f, RBR);
	assert_int_equal(f->rx_space_calls, 0);
	inb(f, RBR);
	assert_int_equal(f->rx_space_calls, 1);
	inb(f, RBR); /* already empty: no new space */
	assert_int_equal(f->rx_space_calls, 1);
}

static void test_serial_receive_refused_in_loopback(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	outb(f, MCR, MCR_LOOP);
	assert_int_equal(serial_receive(&f->serial, (const uint8_t *)"a", 1), 0);
	assert_int_equal(inb(f, LSR) & LSR_DR, 0);
	outb(f, MCR, 0);
	assert_int_equal(f->rx_space_calls, 1); /* the producer may retry now */
	assert_int_equal(serial_receive(&f->serial, (const uint8_t *)"a", 1), 1);
}

static void test_serial_fcr_clear_rcvr_discards_and_counts(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	feed(f, "abc");
	outb(f, FCR, FCR_ENABLE | FCR_CLEAR_RCVR);
	assert_int_equal(inb(f, LSR) & LSR_DR, 0);
	assert_int_equal(f->serial.rx_flushed, 3);
	assert_int_equal(f->rx_space_calls, 1);
	assert_int_equal(inb(f, IIR), IIR_FIFO | IIR_NO_INT); /* FIFOs stay on */
}

static void test_serial_rx_interrupt_level_follows_data(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE); /* trigger level 1 */
	outb(f, MCR, MCR_OUT2);
	outb(f, IER, IER_RDI);
	assert_false(f->irq_level);
	feed(f, "k");
	assert_true(f->irq_level);
	assert_int_equal(inb(f, IIR), IIR_FIFO | 0x04);
	assert_true(f->irq_level); /* reading IIR does not clear received data */
	assert_int_equal(inb(f, RBR), 'k');
	assert_false(f->irq_level);
	assert_int_equal(inb(f, IIR), IIR_FIFO | IIR_NO_INT);
}

static void test_serial_rx_below_trigger_level_reports_character_timeout(void **state)
{
	struct fixture *f = *state;
	static const struct { uint8_t fcr; unsigned int level; } cases[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xC1, 14 },
	};

	outb(f, MCR, MCR_OUT2);
	outb(f, IER, IER_RDI);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[SERIAL_FIFO_BYTES];

		memset(buf, 'z', sizeof(buf));
		outb(f, FCR, cases[i].fcr | FCR_CLEAR_RCVR);
		/* One byte short of the trigger level: timeout (0x0C), still an IRQ. */
		if (cases[i].level > 1) {
			assert_int_equal(serial_receive(&f->serial, buf, cases[i].level - 1),
					 cases[i].level - 1);
			assert_int_equal(inb(f, IIR), IIR_FIFO | 0x0C);
			assert_true(f->irq_level);
		}
		/* At the trigger level: received data available (0x04). */
		assert_int_equal(serial_receive(&f->serial, buf, 1), 1);
		assert_int_equal(inb(f, IIR), IIR_FIFO | 0x04);
		assert_true(f->irq_level);
	}
}

static void test_serial_rx_interrupt_masked_by_ier(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	outb(f, MCR, MCR_OUT2);
	feed(f, "q");
	assert_int_equal(inb(f, IIR), IIR_FIFO | IIR_NO_INT);
	assert_false(f->irq_level);
	outb(f, IER, IER_RDI);
	assert_true(f->irq_level);
}

/* ---- overrun ---- */

static void test_serial_loopback_overrun_sets_oe_and_counts(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	outb(f, MCR, MCR_LOOP);
	for (int i = 0; i < SERIAL_FIFO_BYTES + 1; i++)
		outb(f, THR, (uint8_t)('a' + i));
	assert_int_equal(f->tx_len, 0); /* looped back, not sent */
	assert_int_equal(inb(f, LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	assert_int_equal(inb(f, LSR), LSR_DR | LSR_THRE | LSR_TEMT); /* OE clears on read */
	assert_int_equal(f->serial.overruns, 1);
	/* With FIFOs the FIFO is kept and the 17th byte is the one lost. */
	for (int i = 0; i < SERIAL_FIFO_BYTES; i++)
		assert_int_equal(inb(f, RBR), 'a' + i);
	assert_int_equal(inb(f, LSR) & LSR_DR, 0);
}

static void test_serial_overrun_without_fifo_overwrites_unread_byte(void **state)
{
	struct fixture *f = *state;

	outb(f, MCR, MCR_LOOP);
	outb(f, THR, '1');
	outb(f, THR, '2');
	assert_int_equal(inb(f, LSR) & (LSR_DR | LSR_OE), LSR_DR | LSR_OE);
	assert_int_equal(inb(f, RBR), '2');
	assert_int_equal(f->serial.overruns, 1);
}

static void test_serial_overrun_raises_line_status_interrupt_first(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	outb(f, IER, IER_RDI | IER_THRI | IER_RLSI);
	outb(f, MCR, MCR_LOOP);
	for (int i = 0; i < SERIAL_FIFO_BYTES + 1; i++)
		outb(f, THR, 'o');
	assert_int_equal(inb(f, IIR), IIR_FIFO | 0x06); /* line status beats data */
	inb(f, LSR);
	assert_int_equal(inb(f, IIR), IIR_FIFO | 0x04); /* then data beats THRE */
	outb(f, FCR, FCR_ENABLE | FCR_CLEAR_RCVR);
	assert_int_equal(inb(f, IIR), IIR_FIFO | 0x02);
}

/* ---- transmit and the THRE interrupt ---- */

static void test_serial_thr_write_reaches_backend_immediately(void **state)
{
	struct fixture *f = *state;
	const char *msg = "hi\n";

	for (const char *p = msg; *p; p++) {
		outb(f, THR, (uint8_t)*p);
		assert_int_equal(f->tx_len, (size_t)(p - msg) + 1);
		assert_int_equal(inb(f, LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
	}
	assert_memory_equal(f->tx, msg, 3);
	assert_int_equal(f->serial.tx_bytes, 3);
}

static void test_serial_thre_interrupt_fires_on_etbei_enable_and_iir_read_clears_it(void **state)
{
	struct fixture *f = *state;

	outb(f, MCR, MCR_OUT2);
	outb(f, IER, IER_THRI);
	assert_true(f->irq_level);
	assert_int_equal(inb(f, IIR), 0x02);
	assert_false(f->irq_level);
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
	/* Writing THR empties at once on our line: THRE is pending again. */
	outb(f, THR, '.');
	assert_true(f->irq_level);
	assert_int_equal(inb(f, IIR), 0x02);
	assert_false(f->irq_level);
}

static void test_serial_thre_rearms_when_etbei_toggled(void **state)
{
	struct fixture *f = *state;
	uint8_t iir1, iir2;

	/* Linux's UART_BUG_THRE probe: a 16550 re-asserts THRE when THRI is
	 * re-enabled after the interrupt was cleared. */
	outb(f, IER, IER_THRI);
	iir1 = inb(f, IIR);
	outb(f, IER, 0);
	outb(f, IER, IER_THRI);
	iir2 = inb(f, IIR);
	outb(f, IER, 0);
	assert_int_equal(iir1 & IIR_NO_INT, 0);
	assert_int_equal(iir2 & IIR_NO_INT, 0);
}

static void test_serial_iir_read_keeps_thre_when_other_source_reported(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	outb(f, IER, IER_RDI | IER_THRI);
	feed(f, "d");
	assert_int_equal(inb(f, IIR), IIR_FIFO | 0x04);
	inb(f, RBR);
	assert_int_equal(inb(f, IIR), IIR_FIFO | 0x02);
	assert_int_equal(inb(f, IIR), IIR_FIFO | IIR_NO_INT);
}

/* ---- interrupt gating ---- */

static void test_serial_out2_gates_interrupt_line(void **state)
{
	struct fixture *f = *state;

	outb(f, IER, IER_THRI);
	assert_false(f->irq_level); /* pending, but OUT2 low */
	outb(f, MCR, MCR_OUT2);
	assert_true(f->irq_level);
	outb(f, MCR, 0);
	assert_false(f->irq_level);
	assert_int_equal(inb(f, IIR), 0x02); /* still visible to a polling driver */
}

static void test_serial_loopback_gates_interrupt_line(void **state)
{
	struct fixture *f = *state;

	outb(f, MCR, MCR_OUT2);
	outb(f, IER, IER_THRI);
	assert_true(f->irq_level);
	outb(f, MCR, MCR_OUT2 | MCR_LOOP); /* loopback forces the OUT pins inactive */
	assert_false(f->irq_level);
	outb(f, MCR, MCR_OUT2);
	assert_true(f->irq_level);
}

static void test_serial_irq_line_set_only_on_change(void **state)
{
	struct fixture *f = *state;
	unsigned int sets;

	outb(f, MCR, MCR_OUT2);
	outb(f, IER, IER_THRI);
	sets = f->irq_sets;
	for (int i = 0; i < 10; i++)
		outb(f, THR, 'x');
	assert_int_equal(f->irq_sets, sets);
}

/* ---- bus rules, counters, reset ---- */

static void test_serial_bus_rejects_wide_accesses(void **state)
{
	struct fixture *f = *state;
	const struct bus_region *r = bus_find(&f->bus, BUS_PIO, BASE);
	uint32_t v = 0x4141;
	static const unsigned int sizes[] = { 2, 4 };

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t got = 0;

		bus_access(&f->bus, BUS_PIO, BASE + THR, &v, sizes[i], true);
		bus_access(&f->bus, BUS_PIO, BASE + SCR - 1, &v, sizes[i], true);
		bus_access(&f->bus, BUS_PIO, BASE + LSR, &got, sizes[i], false);
		assert_int_equal(got, sizes[i] == 2 ? 0xFFFFu : 0xFFFFFFFFu);
	}
	assert_int_equal(f->tx_len, 0);
	assert_int_equal(inb(f, SCR), 0);
	assert_int_equal(r->rejected, 6);
}

static void test_serial_writes_to_read_only_registers_are_counted(void **state)
{
	struct fixture *f = *state;

	outb(f, LSR, 0x00);
	outb(f, MSR, 0x00);
	assert_int_equal(f->serial.ignored_writes, 2);
	assert_int_equal(inb(f, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(inb(f, MSR), 0xB0);
}

static void test_serial_print_stats_reports_counters(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	outb(f, THR, 'a');
	outb(f, LSR, 0);
	feed(f, "b");
	serial_print_stats(&f->serial, out);
	fclose(out);
	assert_string_equal(text, "serial: base=0x3f8 tx_bytes=1 rx_bytes=1 overruns=0 "
				  "rx_flushed=0 ignored_writes=1\n");
	free(text);
}

static void test_serial_reset_lowers_irq_and_empties_receiver(void **state)
{
	struct fixture *f = *state;

	outb(f, FCR, FCR_ENABLE);
	outb(f, MCR, MCR_OUT2);
	outb(f, IER, IER_RDI);
	outb(f, SCR, 0x5A);
	feed(f, "r");
	assert_true(f->irq_level);
	serial_reset(&f->serial);
	assert_false(f->irq_level);
	assert_int_equal(inb(f, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(inb(f, IIR), IIR_NO_INT);
	assert_int_equal(inb(f, SCR), 0);
	assert_int_equal(f->rx_space_calls, 1);
}

static void test_serial_init_refuses_overlapping_ports(void **state)
{
	struct fixture *f = *state;
	struct serial *other = calloc(1, sizeof(*other));
	struct irq_line none = { 0 };

	assert_non_null(other);
	assert_int_equal(serial_init(other, &f->bus, BASE + 4, none, NULL), -EEXIST);
	free(other);
}

static void test_serial_without_backend_discards_output(void **state)
{
	struct fixture *f = *state;
	struct serial *other = calloc(1, sizeof(*other));
	struct irq_line none = { 0 };
	uint8_t v = 'n';

	assert_non_null(other);
	assert_int_equal(serial_init(other, &f->bus, 0x2F8, none, NULL), 0);
	bus_access(&f->bus, BUS_PIO, 0x2F8, &v, 1, true);
	assert_int_equal(other->tx_bytes, 1);
	assert_int_equal(f->tx_len, 0);
	pthread_mutex_destroy(&other->lock);
	free(other);
}

/* ---- threads ---- */

#define STRESS_BYTES 20000

static void *stress_producer(void *arg)
{
	struct serial *s = arg;

	for (unsigned int i = 0; i < STRESS_BYTES;) {
		uint8_t buf[7];
		size_t n;

		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(i + k);
		n = serial_receive(s, buf, i + sizeof(buf) <= STRESS_BYTES ? sizeof(buf)
									   : STRESS_BYTES - i);
		i += (unsigned int)n;
		if (!n)
			sched_yield();
	}
	return NULL;
}

static void test_serial_receive_from_another_thread_keeps_every_byte_in_order(void **state)
{
	struct fixture *f = *state;
	pthread_t producer;

	outb(f, FCR, 0xC1); /* FIFO, trigger 14 */
	assert_int_equal(pthread_create(&producer, NULL, stress_producer, &f->serial), 0);
	for (unsigned int got = 0; got < STRESS_BYTES;) {
		if (inb(f, LSR) & LSR_DR) {
			assert_int_equal(inb(f, RBR), (uint8_t)got);
			got++;
		}
	}
	assert_int_equal(pthread_join(producer, NULL), 0);
	assert_int_equal(f->serial.overruns, 0);
	assert_int_equal(f->serial.rx_bytes, STRESS_BYTES);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_serial_reset_state_reads_as_datasheet_table),
		T(test_serial_scratch_register_holds_any_byte),
		T(test_serial_ier_implements_only_low_four_bits),
		T(test_serial_dlab_exposes_divisor_latch),
		T(test_serial_dlab_write_to_offset_zero_does_not_transmit),
		T(test_serial_fifo_enable_sets_iir_bits_6_and_7),
		T(test_serial_linux_autoconfig_identifies_16550a),
		T(test_serial_loopback_msr_reflects_mcr_outputs),
		T(test_serial_msr_delta_bits_track_line_changes_and_clear_on_read),
		T(test_serial_modem_status_interrupt_on_delta),
		T(test_serial_receive_sets_dr_and_reads_back_in_order),
		T(test_serial_receive_returns_short_when_fifo_full),
		T(test_serial_receive_holds_one_byte_with_fifos_off),
		T(test_serial_rx_space_called_when_guest_drains_fifo),
		T(test_serial_receive_refused_in_loopback),
		T(test_serial_fcr_clear_rcvr_discards_and_counts),
		T(test_serial_rx_interrupt_level_follows_data),
		T(test_serial_rx_below_trigger_level_reports_character_timeout),
		T(test_serial_rx_interrupt_masked_by_ier),
		T(test_serial_loopback_overrun_sets_oe_and_counts),
		T(test_serial_overrun_without_fifo_overwrites_unread_byte),
		T(test_serial_overrun_raises_line_status_interrupt_first),
		T(test_serial_thr_write_reaches_backend_immediately),
		T(test_serial_thre_interrupt_fires_on_etbei_enable_and_iir_read_clears_it),
		T(test_serial_thre_rearms_when_etbei_toggled),
		T(test_serial_iir_read_keeps_thre_when_other_source_reported),
		T(test_serial_out2_gates_interrupt_line),
		T(test_serial_loopback_gates_interrupt_line),
		T(test_serial_irq_line_set_only_on_change),
		T(test_serial_bus_rejects_wide_accesses),
		T(test_serial_writes_to_read_only_registers_are_counted),
		T(test_serial_print_stats_reports_counters),
		T(test_serial_reset_lowers_irq_and_empties_receiver),
		T(test_serial_init_refuses_overlapping_ports),
		T(test_serial_without_backend_discards_output),
		T(test_serial_receive_from_another_thread_keeps_every_byte_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
