/*
 * 16550A UART. Register map and reset values: National Semiconductor PC16550D
 * datasheet (Table II, Table IV); constant names follow Linux's
 * include/uapi/linux/serial_reg.h. Where the datasheet is silent we do what
 * QEMU's hw/char/serial.c does, and say so.
 */
#include "serial.h"

#include <inttypes.h>
#include <string.h>

#include "hypervisor/bus.h"
#include "hypervisor/log.h"

/* Register offsets. DLAB is LCR bit 7: it swaps RBR/THR and IER for the divisor latch. */
#define UART_RX  0 /* read, DLAB=0: receive buffer */
#define UART_TX  0 /* write, DLAB=0: transmit holding */
#define UART_DLL 0 /* DLAB=1: divisor latch, low byte */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1: divisor latch, high byte */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI  0x01 /* received data available (and character timeout) */
#define UART_IER_THRI 0x02 /* transmit holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */
#define UART_IER_MASK 0x0F /* the upper bits are not implemented on a 16550A */

#define UART_IIR_NO_INT  0x01
#define UART_IIR_MSI     0x00
#define UART_IIR_THRI    0x02
#define UART_IIR_RDI     0x04
#define UART_IIR_RLSI    0x06
#define UART_IIR_CTI     0x0C /* character timeout */
#define UART_IIR_FIFO_ON 0xC0 /* both bits set: FIFOs enabled (how drivers spot a 16550A) */

#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR  0x02
#define UART_FCR_CLEAR_XMIT  0x04
#define UART_FCR_DMA_SELECT  0x08
#define UART_FCR_TRIGGER     0xC0 /* receive trigger level: 1, 4, 8 or 14 bytes */
#define UART_FCR_STICKY      (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER)

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on a PC, enables the IRQ driver */
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1F

#define UART_LSR_DR     0x01
#define UART_LSR_OE     0x02
#define UART_LSR_BI     0x10
#define UART_LSR_THRE   0x20
#define UART_LSR_TEMT   0x40
#define UART_LSR_ERRORS 0x1E /* OE, PE, FE, BI: the line status interrupt sources */

#define UART_MSR_DCTS  0x01
#define UART_MSR_DDSR  0x02
#define UART_MSR_TERI  0x04
#define UART_MSR_DDCD  0x08
#define UART_MSR_CTS   0x10
#define UART_MSR_DSR   0x20
#define UART_MSR_RI    0x40
#define UART_MSR_DCD   0x80
#define UART_MSR_LINES 0xF0

/* Not in the reset table; QEMU resets to 12, i.e. 9600 baud from 1.8432 MHz. */
#define SERIAL_RESET_DIVISOR 12

static const char *const serial_reg_names[SERIAL_PORT_COUNT] = {
	"RBR/THR", "IER", "IIR/FCR", "LCR", "MCR", "LSR", "MSR", "SCR",
};

/* Work found under the lock and done after dropping it: the backend may block
 * or call serial_receive(), and logging may block on stderr. */
struct serial_effects {
	bool tx;
	uint8_t tx_byte;
	bool rx_space;
	bool overrun;
	uint64_t overruns;
	bool ignored;
	unsigned int ignored_offset;
	uint8_t ignored_value;
};

static unsigned int serial_rx_capacity(const struct serial *s)
{
	/* With FIFOs off the 16550A behaves as a 16450: a single receive buffer. */
	return (s->fcr & UART_FCR_ENABLE_FIFO) ? SERIAL_FIFO_BYTES : 1;
}

static unsigned int serial_rx_trigger(const struct serial *s)
{
	static const unsigned int levels[4] = { 1, 4, 8, 14 };

	return levels[(s->fcr & UART_FCR_TRIGGER) >> 6];
}

/* Modem status inputs. Unconnected, we report a ready modem (CTS, DSR, DCD).
 * In loopback the outputs drive the inputs (datasheet MCR bit 4):
 * RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static uint8_t serial_msr_lines(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	return (m & UART_MCR_RTS ? UART_MSR_CTS : 0) | (m & UART_MCR_DTR ? UART_MSR_DSR : 0) |
	       (m & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (m & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

/*
 * The highest-priority pending interrupt, as IIR bits 0-3 (datasheet Table V).
 * We model no line time, so the character timeout (4 character times without
 * FIFO activity) has always elapsed: it is pending whenever the FIFO holds
 * data below the trigger level. That lets Linux see single typed characters.
 * Like QEMU we let IER.RDI mask the timeout, as hardware is observed to.
 */
static uint8_t serial_pending_iir(const struct serial *s)
{
	if ((s->ier & UART_IER_RLSI) && (s->lsr_errors & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count) {
		if ((s->fcr & UART_FCR_ENABLE_FIFO) && s->rx_count < serial_rx_trigger(s))
			return UART_IIR_CTI;
		return UART_IIR_RDI;
	}
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && s->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/*
 * On a PC the UART's INTR pin reaches the interrupt controller through a
 * buffer enabled by OUT2, and loopback forces the OUT pins inactive, so the
 * line is pending && OUT2 && !LOOP. Linux sets OUT2 when it owns an IRQ
 * ("Most PC uarts need OUT2 raised to enable interrupts", 8250_port.c).
 * Called with the lock held so the line never lags the state it reflects.
 */
static void serial_update_irq(struct serial *s)
{
	bool level = serial_pending_iir(s) != UART_IIR_NO_INT && (s->mcr & UART_MCR_OUT2) &&
		     !(s->mcr & UART_MCR_LOOP);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static void serial_rx_put(struct serial *s, uint8_t byte, struct serial_effects *fx)
{
	if (s->rx_count < serial_rx_capacity(s)) {
		s->rx_fifo[(s->rx_head + s->rx_count) % SERIAL_FIFO_BYTES] = byte;
		s->rx_count++;
		return;
	}
	/* Overrun (datasheet LSR bit 1): a 16450 overwrites the unread byte;
	 * with FIFOs the FIFO is kept and the new byte is lost. */
	if (!(s->fcr & UART_FCR_ENABLE_FIFO))
		s->rx_fifo[s->rx_head] = byte;
	s->lsr_errors |= UART_LSR_OE;
	s->overruns++;
	fx->overrun = true;
	fx->overruns = s->overruns;
}

static uint8_t serial_rx_pop(struct serial *s, struct serial_effects *fx)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0; /* as QEMU: an empty receiver reads 0 */
	byte = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_BYTES;
	s->rx_count--;
	if (!s->rx_count && !(s->mcr & UART_MCR_LOOP))
		fx->rx_space = true;
	return byte;
}

static void serial_rx_clear(struct serial *s, struct serial_effects *fx)
{
	if (s->rx_count && !(s->mcr & UART_MCR_LOOP)) {
		s->rx_flushed += s->rx_count;
		fx->rx_space = true;
	}
	s->rx_head = 0;
	s->rx_count = 0;
}

/* The line is infinitely fast: the byte leaves THR at once, so THR is empty
 * again and its interrupt re-arms (as QEMU's serial_xmit does). */
static void serial_transmit(struct serial *s, uint8_t byte, struct serial_effects *fx)
{
	s->tx_bytes++;
	if (s->mcr & UART_MCR_LOOP) {
		serial_rx_put(s, byte, fx);
	} else {
		fx->tx = true;
		fx->tx_byte = byte;
	}
	s->thr_ipending = true;
}

static void serial_write_ier(struct serial *s, uint8_t value)
{
	uint8_t changed = (s->ier ^ value) & UART_IER_MASK;

	s->ier = value & UART_IER_MASK;
	/* Enabling THRI while THR is empty raises the interrupt even if an IIR
	 * read cleared it before. Not in the datasheet, but real 16550s do it
	 * and Linux's startup test (UART_BUG_THRE) and QEMU rely on it. */
	if (changed & UART_IER_THRI)
		s->thr_ipending = (s->ier & UART_IER_THRI) != 0;
}

static void serial_write_fcr(struct serial *s, uint8_t value, struct serial_effects *fx)
{
	bool enable = value & UART_FCR_ENABLE_FIFO;

	/* Changing mode empties both FIFOs; with FIFOs staying off the other
	 * bits are not programmed (datasheet FCR bit 0). */
	if (enable != !!(s->fcr & UART_FCR_ENABLE_FIFO))
		value |= UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT;
	else if (!enable)
		return;
	if (value & UART_FCR_CLEAR_RCVR)
		serial_rx_clear(s, fx);
	/* The transmit FIFO is always empty; clearing it re-arms THRE as in QEMU. */
	if (value & UART_FCR_CLEAR_XMIT)
		s->thr_ipending = true;
	s->fcr = enable ? (value & UART_FCR_STICKY) : 0;
}

static void serial_write_mcr(struct serial *s, uint8_t value, struct serial_effects *fx)
{
	uint8_t before = serial_msr_lines(s), after, changed;
	bool was_loop = s->mcr & UART_MCR_LOOP;

	s->mcr = value & UART_MCR_MASK;
	after = serial_msr_lines(s);
	changed = before ^ after;
	/* Delta bits: CTS, DSR, DCD on any change; TERI when RI falls. */
	s->msr_delta |= (changed & (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)) >> 4;
	if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
		s->msr_delta |= UART_MSR_TERI;
	/* Leaving loopback reconnects the receiver to the host. */
	if (was_loop && !(s->mcr & UART_MCR_LOOP))
		fx->rx_space = true;
}

static uint8_t serial_read_reg(struct serial *s, unsigned int offset, struct serial_effects *fx)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (offset) {
	case UART_RX:
		if (dlab)
			return s->divisor & 0xFF;
		return serial_rx_pop(s, fx);
	case UART_IER:
		return dlab ? s->divisor >> 8 : s->ier;
	case UART_IIR:
		v = serial_pending_iir(s);
		/* Reading IIR clears THRE only when THRE is what it reports. */
		if (v == UART_IIR_THRI)
			s->thr_ipending = false;
		return v | ((s->fcr & UART_FCR_ENABLE_FIFO) ? UART_IIR_FIFO_ON : 0);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = (s->rx_count ? UART_LSR_DR : 0) | s->lsr_errors | UART_LSR_THRE | UART_LSR_TEMT;
		s->lsr_errors = 0;
		return v;
	case UART_MSR:
		v = serial_msr_lines(s) | s->msr_delta;
		s->msr_delta = 0;
		return v;
	case UART_SCR:
		return s->scr;
	}
	return 0xFF; /* unreachable: the region is SERIAL_PORT_COUNT bytes */
}

static void serial_write_reg(struct serial *s, unsigned int offset, uint8_t value,
			     struct serial_effects *fx)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_TX:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0xFF00) | value);
		else
			serial_transmit(s, value, fx);
		break;
	case UART_IER:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0x00FF) | value << 8);
		else
			serial_write_ier(s, value);
		break;
	case UART_FCR:
		serial_write_fcr(s, value, fx);
		break;
	case UART_LCR:
		s->lcr = value;
		break;
	case UART_MCR:
		serial_write_mcr(s, value, fx);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only (LSR writes are a factory test mode); QEMU ignores them too. */
		s->ignored_writes++;
		fx->ignored = true;
		fx->ignored_offset = offset;
		fx->ignored_value = value;
		break;
	case UART_SCR:
		s->scr = value;
		break;
	}
}

static void serial_finish(struct serial *s, const struct serial_effects *fx)
{
	if (fx->tx && s->backend.write)
		s->backend.write(s->backend.ctx, &fx->tx_byte, 1);
	if (fx->rx_space && s->backend.rx_space)
		s->backend.rx_space(s->backend.ctx);
	if (fx->overrun)
		log_ratelimited(LOG_WARN, "serial", "receive overrun base=0x%x byte lost overruns=%" PRIu64,
				s->base, fx->overruns);
	if (fx->ignored)
		log_ratelimited(LOG_WARN, "serial", "ignored write to read-only %s base=0x%x value=0x%02x",
				serial_reg_names[fx->ignored_offset], s->base, fx->ignored_value);
}

static uint64_t serial_io_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct serial *s = opaque;
	struct serial_effects fx = { 0 };
	uint8_t v;

	(void)size; /* the bus admits 1-byte accesses only */
	pthread_mutex_lock(&s->lock);
	v = serial_read_reg(s, (unsigned int)offset, &fx);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	serial_finish(s, &fx);
	return v;
}

static void serial_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct serial *s = opaque;
	struct serial_effects fx = { 0 };

	(void)size;
	pthread_mutex_lock(&s->lock);
	serial_write_reg(s, (unsigned int)offset, (uint8_t)value, &fx);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	serial_finish(s, &fx);
}

static const struct bus_ops serial_ops = {
	.read = serial_io_read,
	.write = serial_io_write,
};

/* The state after reset, in one place. Counters survive a reset. */
static void serial_reset_locked(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;            /* OUT2 low: no interrupt reaches the PIC/IOAPIC */
	s->lsr_errors = 0;     /* LSR reads THRE | TEMT */
	s->msr_delta = 0;      /* MSR reads CTS | DSR | DCD */
	s->scr = 0;
	s->fcr = 0;            /* FIFOs off: 16450 mode, IIR reads 0x01 */
	s->divisor = SERIAL_RESET_DIVISOR;
	memset(s->rx_fifo, 0, sizeof(s->rx_fifo));
	s->rx_head = 0;
	s->rx_count = 0;
	s->thr_ipending = false;
	s->irq_level = false;
	irq_line_set(&s->irq, false);
}

void serial_reset(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	serial_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (s->backend.rx_space)
		s->backend.rx_space(s->backend.ctx);
}

int serial_init(struct serial *s, struct bus *bus, uint16_t base, struct irq_line irq,
		const struct serial_backend *backend)
{
	struct bus_region region = {
		.name = "serial", .base = base, .len = SERIAL_PORT_COUNT,
		/* Every 16550 register is 8 bits wide; wider accesses are refused
		 * by the bus rather than split (QEMU's serial_io_ops: 1..1). */
		.min_access = 1, .max_access = 1,
		.ops = &serial_ops, .opaque = s,
	};
	int err;

	memset(s, 0, sizeof(*s));
	err = -pthread_mutex_init(&s->lock, NULL);
	if (err)
		return err;
	if (backend)
		s->backend = *backend;
	s->irq = irq;
	s->base = base;
	serial_reset_locked(s);
	err = bus_register(bus, BUS_PIO, &region);
	if (err) {
		pthread_mutex_destroy(&s->lock);
		return err;
	}
	return 0;
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	struct serial_effects fx = { 0 };
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if (!(s->mcr & UART_MCR_LOOP)) {
		size_t room = serial_rx_capacity(s) - s->rx_count;

		n = len < room ? len : room;
		for (size_t i = 0; i < n; i++)
			serial_rx_put(s, buf[i], &fx);
		s->rx_bytes += n;
		serial_update_irq(s);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_print_stats(struct serial *s, FILE *out)
{
	uint64_t tx, rx, overruns, flushed, ignored;

	pthread_mutex_lock(&s->lock);
	tx = s->tx_bytes;
	rx = s->rx_bytes;
	overruns = s->overruns;
	flushed = s->rx_flushed;
	ignored = s->ignored_writes;
	pthread_mutex_unlock(&s->lock);
	fprintf(out, "serial: base=0x%x tx_bytes=%" PRIu64 " rx_bytes=%" PRIu64 " overruns=%" PRIu64
		" rx_flushed=%" PRIu64 " ignored_writes=%" PRIu64 "\n",
		s->base, tx, rx, overruns, flushed, ignored);
}
