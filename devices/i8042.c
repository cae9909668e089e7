/*
 * i8042 keyboard controller. Register and command semantics follow QEMU
 * hw/input/pckbd.c (our reference) and what Linux drivers/input/serio/i8042.c
 * relies on; the command table uses Linux's encoding
 * (parameters << 12 | results << 8 | command) from include/linux/i8042.h.
 *
 * Output buffer: one byte the guest reads at 0x60. It is refilled, highest
 * priority first, from the controller's own replies, the keyboard (unless
 * CTR.KBDDIS; translated to set 1 when CTR.XLATE) and the mouse (unless
 * CTR.AUXDIS). IRQ 1 / IRQ 12 are levels that follow the buffer like QEMU's:
 * high while it holds a byte from that port and the port's INT bit is set,
 * low once it is read. With KVM_IRQ_LINE each new byte is a fresh low-high
 * edge on the in-kernel PIC, which is what the edge-triggered ISA lines need.
 */
#include "i8042.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"

/* Output port P2 (QEMU pckbd.c KBD_OUT_*). */
#define OUTPORT_RESET        0x01 /* 0 holds the CPU in reset */
#define OUTPORT_A20          0x02
#define OUTPORT_KBD_OBF      0x10
#define OUTPORT_AUX_OBF      0x20
/* Reset, A20 and the always-one keyboard clock/data bits (QEMU: 0x01|0x02|0xCC). */
#define OUTPORT_POWER_ON     0xCF
/* Input port P1 (0xC0): bit 7 = keyboard not inhibited, as QEMU reports it. */
#define INPORT_VALUE         0x80

/* 0xF0..0xFF pulse output-port bits 0-3 low where the command has a 0 bit;
 * only bit 0 (CPU reset) means anything, so 0xFE is "reset". */
#define CMD_PULSE_FIRST      0xF0
#define CMD_PULSE_RESET      0xFE

#define REPLY_SELF_TEST_OK   0x55
#define REPLY_PORT_TEST_OK   0x00

#define SET2_BREAK_PREFIX    0xF0
#define SET1_BREAK_BIT       0x80

#define I8042_PARAMS(code)   (((code) >> 12) & 0xF)
#define I8042_RESULTS(code)  (((code) >> 8) & 0xF)

/*
 * The 8042's scan code translation, set 2 -> set 1, for codes below 0x80
 * (IBM PS/2 hardware reference; the same table is QEMU hw/input/ps2.c
 * translate_table and the inverse of Linux atkbd's atkbd_unxlate_table).
 * Codes from 0x80 pass through unchanged except the two keys whose set-2
 * codes lie there: F7 (0x83) and Alt+SysRq (0x84).
 */
static const uint8_t set2_to_set1[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, /* 0x00 */
	0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59, /* 0x08 */
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, /* 0x10 */
	0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b, /* 0x18 */
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, /* 0x20 */
	0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d, /* 0x28 */
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, /* 0x30 */
	0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f, /* 0x38 */
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, /* 0x40 */
	0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61, /* 0x48 */
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, /* 0x50 */
	0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76, /* 0x58 */
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, /* 0x60 */
	0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f, /* 0x68 */
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, /* 0x70 */
	0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54, /* 0x78 */
};
#define SET2_F7              0x83
#define SET1_F7              0x41
#define SET2_ALT_SYSRQ       0x84
#define SET1_ALT_SYSRQ       0x54

static uint8_t translate_set2(uint8_t code)
{
	if (code < sizeof(set2_to_set1))
		return set2_to_set1[code];
	if (code == SET2_F7)
		return SET1_F7;
	if (code == SET2_ALT_SYSRQ)
		return SET1_ALT_SYSRQ;
	return code;
}

/* ---- output buffer and interrupt lines ---- */

static void ctrl_reply(struct i8042 *s, uint8_t byte, bool aux)
{
	unsigned int tail;

	if (s->ctrl_count == I8042_CTRL_QUEUE_LEN) {
		/* Only a guest issuing commands without reading gets here. */
		s->stats.ctrl_replies_dropped++;
		log_ratelimited(LOG_WARN, "i8042", "controller reply 0x%02x dropped: %u unread",
				byte, s->ctrl_count);
		return;
	}
	tail = (s->ctrl_head + s->ctrl_count) % I8042_CTRL_QUEUE_LEN;
	s->ctrl_queue[tail].byte = byte;
	s->ctrl_queue[tail].aux = aux;
	s->ctrl_count++;
}

/* The next keyboard byte as the guest sees it: set 2 folded into set 1
 * when CTR.XLATE is set, a 0xF0 break prefix becoming bit 7 of the next code. */
static bool kbd_next_byte(struct i8042 *s, uint8_t *out)
{
	uint8_t code;

	while (ps2_kbd_pop(&s->kbd, &code)) {
		if (!(s->ctr & I8042_CTR_XLATE)) {
			*out = code;
			return true;
		}
		if (code == SET2_BREAK_PREFIX) {
			s->xlate_break = true;
			continue;
		}
		*out = translate_set2(code) | (s->xlate_break ? SET1_BREAK_BIT : 0);
		s->xlate_break = false;
		return true;
	}
	return false;
}

static void latch(struct i8042 *s, uint8_t byte, bool aux)
{
	s->ob_full = true;
	s->ob_aux = aux;
	s->ob_byte = byte;
}

static void fill_output_buffer(struct i8042 *s)
{
	uint8_t byte;

	if (s->ob_full)
		return;
	if (s->ctrl_count) {
		latch(s, s->ctrl_queue[s->ctrl_head].byte, s->ctrl_queue[s->ctrl_head].aux);
		s->ctrl_head = (s->ctrl_head + 1) % I8042_CTRL_QUEUE_LEN;
		s->ctrl_count--;
	} else if (!(s->ctr & I8042_CTR_KBDDIS) && kbd_next_byte(s, &byte)) {
		latch(s, byte, false);
	} else if (!(s->ctr & I8042_CTR_AUXDIS) && ps2_mouse_pop(&s->mouse, &byte)) {
		latch(s, byte, true);
	}
}

static void drive_line(const struct irq_line *line, bool *level, bool want)
{
	if (*level == want)
		return;
	*level = want;
	irq_line_set(line, want);
}

/* Like QEMU, IRQ 1 also stays low while the keyboard port is disabled. */
static void update_irqs(struct i8042 *s)
{
	bool kbd = s->ob_full && !s->ob_aux && (s->ctr & I8042_CTR_KBDINT) &&
		   !(s->ctr & I8042_CTR_KBDDIS);
	bool aux = s->ob_full && s->ob_aux && (s->ctr & I8042_CTR_AUXINT);

	drive_line(&s->kbd_irq, &s->kbd_irq_level, kbd);
	drive_line(&s->aux_irq, &s->aux_irq_level, aux);
}

/* After any change: refill the output buffer, then bring the lines in line. */
static void sync_state(struct i8042 *s)
{
	fill_output_buffer(s);
	update_irqs(s);
}

/* ---- controller commands ---- */

static void request_reset(struct i8042 *s, const char *detail)
{
	s->stats.reset_requests++;
	vm_request_stop(VM_STOP_RESET, EXIT_STATUS_RESET, detail);
}

static void cmd_read_ctr(struct i8042 *s, uint8_t param)
{
	(void)param;
	ctrl_reply(s, s->ctr, false);
}

static void cmd_write_ctr(struct i8042 *s, uint8_t param)
{
	s->ctr = param;
	if (!(param & I8042_CTR_XLATE))
		s->xlate_break = false;
	log_debug("i8042", "ctr=0x%02x", param);
}

static void cmd_aux_disable(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->ctr |= I8042_CTR_AUXDIS;
}

static void cmd_aux_enable(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->ctr &= ~I8042_CTR_AUXDIS;
}

static void cmd_kbd_disable(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->ctr |= I8042_CTR_KBDDIS;
}

static void cmd_kbd_enable(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->ctr &= ~I8042_CTR_KBDDIS;
}

static void cmd_port_test(struct i8042 *s, uint8_t param)
{
	(void)param;
	ctrl_reply(s, REPLY_PORT_TEST_OK, false);
}

static void cmd_self_test(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->sys_flag = true;
	ctrl_reply(s, REPLY_SELF_TEST_OK, false);
}

static void cmd_read_inport(struct i8042 *s, uint8_t param)
{
	(void)param;
	ctrl_reply(s, INPORT_VALUE, false);
}

static void cmd_read_outport(struct i8042 *s, uint8_t param)
{
	uint8_t value = s->outport & ~(OUTPORT_KBD_OBF | OUTPORT_AUX_OBF);

	(void)param;
	if (s->ob_full)
		value |= s->ob_aux ? OUTPORT_AUX_OBF : OUTPORT_KBD_OBF;
	ctrl_reply(s, value, false);
}

static void cmd_write_outport(struct i8042 *s, uint8_t param)
{
	s->outport = param;
	if (!(param & OUTPORT_A20))
		log_debug("i8042", "output port A20 off ignored: A20 gating not emulated");
	/* Bit 0 low holds the CPU in reset; QEMU resets the machine here. */
	if (!(param & OUTPORT_RESET)) {
		char detail[48];

		snprintf(detail, sizeof(detail), "i8042 output port write 0x%02x", param);
		request_reset(s, detail);
	}
}

static void cmd_kbd_loop(struct i8042 *s, uint8_t param)
{
	ctrl_reply(s, param, false);
}

/* Linux's AUX_LOOP: the byte must come back as aux data (AUXDATA, IRQ 12).
 * A faithful echo of F0 56 A4 also tells it there is no active multiplexer. */
static void cmd_aux_loop(struct i8042 *s, uint8_t param)
{
	ctrl_reply(s, param, true);
}

static void cmd_aux_send(struct i8042 *s, uint8_t param)
{
	/* Talking to the device enables its port, as on a real 8042 (and QEMU). */
	s->ctr &= ~I8042_CTR_AUXDIS;
	ps2_mouse_write(&s->mouse, param);
}

static void cmd_a20_off(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->outport &= ~OUTPORT_A20;
}

static void cmd_a20_on(struct i8042 *s, uint8_t param)
{
	(void)param;
	s->outport |= OUTPORT_A20;
}

struct i8042_command {
	uint16_t code; /* Linux encoding: parameters << 12 | results << 8 | command */
	const char *name;
	void (*run)(struct i8042 *s, uint8_t param);
};

#define COMMAND(code_, name_, run_) [(code_) & 0xFF] = { (code_), (name_), (run_) }
static const struct i8042_command commands[256] = {
	COMMAND(0x0120, "read CTR", cmd_read_ctr),            /* I8042_CMD_CTL_RCTR */
	COMMAND(0x1060, "write CTR", cmd_write_ctr),          /* I8042_CMD_CTL_WCTR */
	COMMAND(0x00a7, "disable aux port", cmd_aux_disable), /* I8042_CMD_AUX_DISABLE */
	COMMAND(0x00a8, "enable aux port", cmd_aux_enable),   /* I8042_CMD_AUX_ENABLE */
	COMMAND(0x01a9, "test aux port", cmd_port_test),      /* I8042_CMD_AUX_TEST */
	COMMAND(0x01aa, "self-test", cmd_self_test),          /* I8042_CMD_CTL_TEST */
	COMMAND(0x01ab, "test keyboard port", cmd_port_test), /* I8042_CMD_KBD_TEST */
	COMMAND(0x00ad, "disable keyboard port", cmd_kbd_disable), /* I8042_CMD_KBD_DISABLE */
	COMMAND(0x00ae, "enable keyboard port", cmd_kbd_enable),   /* I8042_CMD_KBD_ENABLE */
	COMMAND(0x01c0, "read input port", cmd_read_inport),
	COMMAND(0x01d0, "read output port", cmd_read_outport),
	COMMAND(0x10d1, "write output port", cmd_write_outport),
	COMMAND(0x11d2, "keyboard loop", cmd_kbd_loop),       /* I8042_CMD_KBD_LOOP */
	COMMAND(0x11d3, "aux loop", cmd_aux_loop),            /* I8042_CMD_AUX_LOOP */
	COMMAND(0x10d4, "send to aux", cmd_aux_send),         /* I8042_CMD_AUX_SEND */
	COMMAND(0x00dd, "A20 off", cmd_a20_off),
	COMMAND(0x00df, "A20 on", cmd_a20_on),
};

static void write_command(struct i8042 *s, uint8_t cmd)
{
	const struct i8042_command *c = &commands[cmd];

	s->last_write_cmd = true;
	if (s->pending_cmd) {
		/* A command replaces one still waiting for its data byte. */
		s->stats.abandoned_params++;
		log_ratelimited(LOG_WARN, "i8042", "command 0x%02x data byte missing, "
				"replaced by command 0x%02x", s->pending_cmd, cmd);
		s->pending_cmd = 0;
	}
	if (cmd >= CMD_PULSE_FIRST) {
		if (!(cmd & OUTPORT_RESET))
			request_reset(s, cmd == CMD_PULSE_RESET ? "i8042 command 0xFE"
								: "i8042 pulse command");
		return;
	}
	if (!c->run) {
		s->stats.unknown_commands++;
		log_ratelimited(LOG_WARN, "i8042", "unknown command 0x%02x ignored", cmd);
		return;
	}
	log_debug("i8042", "command 0x%02x (%s)", cmd, c->name);
	if (I8042_PARAMS(c->code)) {
		s->pending_cmd = cmd;
		return;
	}
	c->run(s, 0);
}

static void write_data(struct i8042 *s, uint8_t byte)
{
	s->last_write_cmd = false;
	if (s->pending_cmd) {
		uint8_t cmd = s->pending_cmd;

		s->pending_cmd = 0;
		commands[cmd].run(s, byte);
		return;
	}
	/* Talking to the keyboard enables its port, as on a real 8042 (and QEMU). */
	s->ctr &= ~I8042_CTR_KBDDIS;
	ps2_kbd_write(&s->kbd, byte);
}

static uint8_t read_data(struct i8042 *s)
{
	uint8_t byte;

	/* Reading an empty buffer returns the last byte again, as QEMU does
	 * (some DOS-era code depends on it). */
	if (!s->ob_full)
		return s->ob_last;
	byte = s->ob_byte;
	if (!s->ob_aux)
		ps2_kbd_host_active(&s->kbd);
	s->ob_full = false;
	s->ob_last = byte;
	/* Drop the line before the next byte latches so that byte raises a new edge. */
	update_irqs(s);
	sync_state(s);
	return byte;
}

static uint8_t read_status(const struct i8042 *s)
{
	return (s->ob_full ? I8042_STR_OBF : 0) |
	       (s->ob_full && s->ob_aux ? I8042_STR_AUXDATA : 0) |
	       (s->sys_flag ? I8042_STR_SYS : 0) |
	       (s->last_write_cmd ? I8042_STR_CMDDAT : 0) |
	       I8042_STR_KEYLOCK;
}

/* ---- bus and input entry points: each takes the lock ---- */

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct i8042 *s = opaque;
	uint8_t byte;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&s->lock);
	byte = read_data(s);
	pthread_mutex_unlock(&s->lock);
	return byte;
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct i8042 *s = opaque;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&s->lock);
	write_data(s, (uint8_t)value);
	sync_state(s);
	pthread_mutex_unlock(&s->lock);
}

static uint64_t i8042_status_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct i8042 *s = opaque;
	uint8_t status;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&s->lock);
	status = read_status(s);
	pthread_mutex_unlock(&s->lock);
	return status;
}

static void i8042_command_write(void *opaque, uint64_t offset, uint64_t value,
				unsigned int size)
{
	struct i8042 *s = opaque;

	(void)offset;
	(void)size;
	pthread_mutex_lock(&s->lock);
	write_command(s, (uint8_t)value);
	sync_state(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

static const struct bus_ops i8042_command_ops = {
	.read = i8042_status_read,
	.write = i8042_command_write,
};

static void i8042_key(void *opaque, uint16_t qnum, bool down)
{
	struct i8042 *s = opaque;

	pthread_mutex_lock(&s->lock);
	ps2_kbd_key(&s->kbd, qnum, down);
	sync_state(s);
	pthread_mutex_unlock(&s->lock);
}

static void i8042_pointer(void *opaque, int dx, int dy, int wheel, unsigned int buttons)
{
	struct i8042 *s = opaque;

	pthread_mutex_lock(&s->lock);
	ps2_mouse_pointer(&s->mouse, dx, dy, wheel, buttons);
	sync_state(s);
	pthread_mutex_unlock(&s->lock);
}

void i8042_aux_doorbell(struct i8042 *s)
{
	pthread_mutex_lock(&s->lock);
	ps2_mouse_doorbell(&s->mouse);
	sync_state(s);
	pthread_mutex_unlock(&s->lock);
}

static unsigned int i8042_key_backlog(void *opaque)
{
	struct i8042 *s = opaque;
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = ps2_queue_count(&s->kbd.scancodes);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static const struct input_ops i8042_input_ops = {
	.key = i8042_key,
	.pointer = i8042_pointer,
	.key_backlog = i8042_key_backlog,
};

struct input_sink i8042_input_sink(struct i8042 *s)
{
	return (struct input_sink){ .ops = &i8042_input_ops, .opaque = s };
}

/* ---- lifecycle ---- */

/* The state after reset, in one place (see i8042.h for why these values). */
static void reset_locked(struct i8042 *s)
{
	s->ctr = I8042_CTR_RESET;
	s->outport = OUTPORT_POWER_ON;
	s->sys_flag = true;
	s->last_write_cmd = false;
	s->pending_cmd = 0;
	s->ob_full = false;
	s->ob_aux = false;
	s->ob_byte = 0;
	s->ob_last = 0;
	s->xlate_break = false;
	s->ctrl_head = 0;
	s->ctrl_count = 0;
	ps2_kbd_reset(&s->kbd);
	ps2_mouse_reset(&s->mouse);
	/* Drive both lines low whatever we believed they were. */
	s->kbd_irq_level = false;
	s->aux_irq_level = false;
	irq_line_set(&s->kbd_irq, false);
	irq_line_set(&s->aux_irq, false);
}

void i8042_reset(struct i8042 *s)
{
	pthread_mutex_lock(&s->lock);
	reset_locked(s);
	pthread_mutex_unlock(&s->lock);
}

int i8042_init(struct i8042 *s, struct bus *bus, struct irq_line kbd_irq,
	       struct irq_line aux_irq)
{
	const struct bus_region regions[] = {
		{ .name = "i8042-data", .base = I8042_DATA_PORT, .len = 1,
		  .min_access = 1, .max_access = 1, .ops = &i8042_data_ops, .opaque = s },
		{ .name = "i8042-command", .base = I8042_COMMAND_PORT, .len = 1,
		  .min_access = 1, .max_access = 1, .ops = &i8042_command_ops, .opaque = s },
	};
	const unsigned int n = sizeof(regions) / sizeof(regions[0]);
	int ret;

	/* The bus cannot unregister, so check first that both ports will succeed. */
	for (unsigned int i = 0; i < n; i++)
		if (bus_find(bus, BUS_PIO, regions[i].base))
			return -EEXIST;
	if (bus->count[BUS_PIO] + n > BUS_MAX_REGIONS)
		return -ENOSPC;

	memset(s, 0, sizeof(*s));
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret)
		return -ret;
	s->kbd_irq = kbd_irq;
	s->aux_irq = aux_irq;
	ps2_kbd_init(&s->kbd);
	ps2_mouse_init(&s->mouse);
	reset_locked(s);

	for (unsigned int i = 0; i < n; i++) {
		ret = bus_register(bus, BUS_PIO, &regions[i]);
		if (ret) {
			/* Unreachable after the checks above; say so loudly if not. */
			log_error("i8042", "register %s failed: %s", regions[i].name,
				  strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void i8042_print_stats(struct i8042 *m, FILE *out)
{
	struct i8042_stats c;
	struct ps2_kbd_stats k;
	struct ps2_mouse_stats p;

	pthread_mutex_lock(&m->lock);
	c = m->stats;
	k = m->kbd.stats;
	p = m->mouse.stats;
	pthread_mutex_unlock(&m->lock);

	fprintf(out, "i8042: unknown_commands=%" PRIu64 " abandoned_params=%" PRIu64
		" ctrl_replies_dropped=%" PRIu64 " reset_requests=%" PRIu64 "\n",
		c.unknown_commands, c.abandoned_params, c.ctrl_replies_dropped,
		c.reset_requests);
	fprintf(out, "i8042 keyboard: unknown_commands=%" PRIu64 " bad_params=%" PRIu64
		" abandoned_params=%" PRIu64 " keys_dropped=%" PRIu64 " keys_unmapped=%" PRIu64
		" keys_while_disabled=%" PRIu64 "\n",
		k.unknown_commands, k.bad_params, k.abandoned_params, k.keys_dropped,
		k.keys_unmapped, k.keys_while_disabled);
	fprintf(out, "i8042 mouse: unknown_commands=%" PRIu64 " bad_params=%" PRIu64
		" abandoned_params=%" PRIu64 " packets_dropped=%" PRIu64 " doorbells=%" PRIu64 "\n",
		p.unknown_commands, p.bad_params, p.abandoned_params, p.packets_dropped,
		p.doorbells);
}
