/*
 * vmmouse: VMware's absolute pointer over the I/O backdoor. The protocol is
 * what Linux drivers/input/mouse/vmmouse.c speaks and QEMU hw/i386/vmmouse.c
 * + vmport.c answer (our reference); where we differ, it says why.
 *
 * A backdoor call is a 4-byte `in` (or `out`) at port 0x5658 with
 * EAX = VMMOUSE_MAGIC and the command in ECX's low 16 bits:
 *   - EAX is not the magic: EAX = 0xFFFFFFFF, nothing else (QEMU's vmport).
 *   - GETVERSION: EAX = 6, EBX = the magic — how Linux detects the device.
 *   - ABSPOINTER_STATUS: EAX = words queued, with VMMOUSE_STATUS_ERROR in
 *     the high half while the device is disabled.
 *   - ABSPOINTER_COMMAND, subcommand in EBX:
 *     ENABLE empties the queue, then queues VMMOUSE_VERSION_ID (QEMU keeps
 *     what was queued, so a driver re-enabling after DISABLE could read a
 *     stale packet where it expects the version); DISABLE empties it too;
 *     REQUEST_ABSOLUTE / REQUEST_RELATIVE choose the packet kind, only while
 *     enabled (as QEMU). An unknown subcommand is counted and logged.
 *   - ABSPOINTER_DATA, EBX = n words: the oldest n queued words into EAX,
 *     EBX, ECX, EDX, ESI, EDI in that order. n of 0, above 6 or above the
 *     words queued is a driver out of step: the device disables itself, as
 *     QEMU's does, so STATUS says error and Linux resets it.
 *   - ABSPOINTER_RESTRICT (Linux asks for CPL 0 only): accepted and counted,
 *     not enforced — QEMU does not know the command at all, and enforcing it
 *     would cost a KVM_GET_SREGS on every call.
 *   - Anything else: EAX = 0xFFFFFFFF, counted and logged (rate-limited).
 * A write runs the same command; results land in the registers alike.
 *
 * Packets are 4 words: buttons (| VMMOUSE_RELATIVE_PACKET), X, Y, Z. An
 * absolute packet's X and Y are vmmouse_scale() of the pixel; a relative
 * one's are the motion with Y up positive (Linux reports REL_Y = -Y). Z is
 * the wheel, positive down (Linux reports REL_WHEEL = -(s8)Z).
 */
#include "vmmouse.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hypervisor/log.h"

#define ALL_ONES            0xFFFFFFFFu
#define CMD_MASK            0xFFFFu
/* Wheel steps fit Z's low byte (Linux reads it as s8). */
#define MAX_WHEEL_STEPS     127
/* Relative motion per packet; frontends send a few pixels at a time. */
#define MAX_REL_COUNTS      65535

static int clamp_int(int v, int limit)
{
	return v > limit ? limit : v < -limit ? -limit : v;
}

uint32_t vmmouse_scale(uint32_t x, uint32_t width)
{
	if (!width)
		return 0;
	if (x >= width)
		x = width - 1;
	return (uint32_t)(((2 * (uint64_t)x + 1) * (VMMOUSE_ABS_MAX + 1ull)) / (2 * (uint64_t)width));
}

/* ---- the queue ---- */

static void queue_clear(struct vmmouse *s)
{
	s->head = 0;
	s->count = 0;
}

static void queue_push(struct vmmouse *s, uint32_t word)
{
	s->queue[(s->head + s->count) % VMMOUSE_QUEUE_WORDS] = word;
	s->count++;
}

static uint32_t queue_pop(struct vmmouse *s)
{
	uint32_t word = s->queue[s->head];

	s->head = (s->head + 1) % VMMOUSE_QUEUE_WORDS;
	s->count--;
	return word;
}

/* ---- events from frontends (lock held) ---- */

static uint32_t button_bits(unsigned int buttons)
{
	return (buttons & INPUT_BUTTON_LEFT ? VMMOUSE_LEFT_BUTTON : 0) |
	       (buttons & INPUT_BUTTON_RIGHT ? VMMOUSE_RIGHT_BUTTON : 0) |
	       (buttons & INPUT_BUTTON_MIDDLE ? VMMOUSE_MIDDLE_BUTTON : 0);
}

/* Queues one packet and rings the PS/2 doorbell so the guest reads it. */
static void queue_packet(struct vmmouse *s, uint32_t status, uint32_t x, uint32_t y, int wheel)
{
	if (s->count + VMMOUSE_PACKET_WORDS > VMMOUSE_QUEUE_WORDS) {
		s->stats.packets_dropped++;
		log_ratelimited(LOG_WARN, "vmmouse", "queue full words=%u packet dropped", s->count);
	} else {
		queue_push(s, status);
		queue_push(s, x);
		queue_push(s, y);
		queue_push(s, (uint32_t)-clamp_int(wheel, MAX_WHEEL_STEPS));
		if (status & VMMOUSE_RELATIVE_PACKET)
			s->stats.rel_packets++;
		else
			s->stats.abs_packets++;
	}
	/* Also when dropped: a guest that missed a doorbell still drains the queue. */
	i8042_aux_doorbell(s->i8042);
}

static void queue_relative(struct vmmouse *s, int dx, int dy, int wheel, unsigned int buttons)
{
	queue_packet(s, button_bits(buttons) | VMMOUSE_RELATIVE_PACKET,
		     (uint32_t)clamp_int(dx, MAX_REL_COUNTS), (uint32_t)-clamp_int(dy, MAX_REL_COUNTS),
		     wheel);
}

static void ps2_motion(struct vmmouse *s, int dx, int dy, int wheel, unsigned int buttons)
{
	s->stats.ps2_events++;
	s->ps2.ops->pointer(s->ps2.opaque, dx, dy, wheel, buttons);
}

static void pointer_locked(struct vmmouse *s, int dx, int dy, int wheel, unsigned int buttons)
{
	if (!s->enabled) {
		ps2_motion(s, dx, dy, wheel, buttons);
	} else if (s->absolute && !dx && !dy && s->have_pos) {
		/* Buttons or wheel alone: an absolute packet where the pointer is,
		 * so the click lands on the absolute device's position. */
		queue_packet(s, button_bits(buttons), s->pos_x, s->pos_y, wheel);
	} else {
		queue_relative(s, dx, dy, wheel, buttons);
	}
	if (dx || dy)
		s->have_pos = false;
}

static void vmmouse_pointer(void *opaque, int dx, int dy, int wheel, unsigned int buttons)
{
	struct vmmouse *s = opaque;

	pthread_mutex_lock(&s->lock);
	pointer_locked(s, dx, dy, wheel, buttons);
	pthread_mutex_unlock(&s->lock);
}

static void vmmouse_pointer_abs(void *opaque, uint32_t x, uint32_t y, uint32_t width,
				uint32_t height, int wheel, unsigned int buttons)
{
	struct vmmouse *s = opaque;
	int dx = 0, dy = 0;

	pthread_mutex_lock(&s->lock);
	if (!width || !height) {
		/* No screen to place the pointer on: buttons and wheel only. */
		pointer_locked(s, 0, 0, wheel, buttons);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (x >= width)
		x = width - 1;
	if (y >= height)
		y = height - 1;
	if (s->enabled && s->absolute) {
		s->pos_x = vmmouse_scale(x, width);
		s->pos_y = vmmouse_scale(y, height);
		s->have_pos = true;
		queue_packet(s, button_bits(buttons), s->pos_x, s->pos_y, wheel);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	/* Relative: the distance from the previous position, in pixels. The
	 * origin is kept in pixels, so a mode change in between is a jump the
	 * guest's pointer makes too (it keeps its pixel, clamped). */
	if (s->have_pos) {
		dx = (int)((int64_t)x - s->pos_x);
		dy = (int)((int64_t)y - s->pos_y);
	}
	if (s->enabled)
		queue_relative(s, dx, dy, wheel, buttons);
	else
		ps2_motion(s, dx, dy, wheel, buttons);
	s->pos_x = x;
	s->pos_y = y;
	s->have_pos = true;
	pthread_mutex_unlock(&s->lock);
}

static void vmmouse_key(void *opaque, uint16_t qnum, bool down)
{
	struct vmmouse *s = opaque;

	s->ps2.ops->key(s->ps2.opaque, qnum, down);
}

static unsigned int vmmouse_key_backlog(void *opaque)
{
	struct vmmouse *s = opaque;

	return s->ps2.ops->key_backlog ? s->ps2.ops->key_backlog(s->ps2.opaque) : 0;
}

static const struct input_ops vmmouse_input_ops = {
	.key = vmmouse_key,
	.key_backlog = vmmouse_key_backlog,
	.pointer = vmmouse_pointer,
	.pointer_abs = vmmouse_pointer_abs,
};

struct input_sink vmmouse_input_sink(struct vmmouse *s)
{
	return (struct input_sink){ .ops = &vmmouse_input_ops, .opaque = s };
}

/* ---- the backdoor (lock held) ---- */

static void cmd_status(struct vmmouse *s, struct bus_regs *regs)
{
	regs->rax = (s->enabled ? 0 : VMMOUSE_STATUS_ERROR) | s->count;
}

/* The position kept for button-only packets is in the absolute mode's
 * units or pixels depending on the mode: a mode switch forgets it. */
static void set_mode(struct vmmouse *s, bool enabled, bool absolute)
{
	if (s->enabled != enabled || s->absolute != absolute)
		s->have_pos = false;
	s->enabled = enabled;
	s->absolute = absolute;
}

static void cmd_command(struct vmmouse *s, struct bus_regs *regs)
{
	uint32_t sub = (uint32_t)regs->rbx;

	switch (sub) {
	case VMMOUSE_SUB_ENABLE:
		queue_clear(s);
		queue_push(s, VMMOUSE_VERSION_ID);
		set_mode(s, true, s->absolute);
		log_debug("vmmouse", "enabled");
		return;
	case VMMOUSE_SUB_DISABLE:
		queue_clear(s);
		set_mode(s, false, s->absolute);
		log_debug("vmmouse", "disabled");
		return;
	case VMMOUSE_SUB_REQUEST_ABSOLUTE:
	case VMMOUSE_SUB_REQUEST_RELATIVE:
		if (s->enabled) {
			set_mode(s, true, sub == VMMOUSE_SUB_REQUEST_ABSOLUTE);
			log_debug("vmmouse", "%s mode", s->absolute ? "absolute" : "relative");
		}
		return;
	}
	s->stats.unknown_commands++;
	log_ratelimited(LOG_WARN, "vmmouse", "unknown subcommand 0x%08x ignored", sub);
}

static void cmd_data(struct vmmouse *s, struct bus_regs *regs)
{
	uint64_t *out[VMMOUSE_MAX_READ_WORDS] = { &regs->rax, &regs->rbx, &regs->rcx,
						  &regs->rdx, &regs->rsi, &regs->rdi };
	uint32_t n = (uint32_t)regs->rbx;

	if (n == 0 || n > VMMOUSE_MAX_READ_WORDS || n > s->count) {
		s->stats.bad_reads++;
		log_ratelimited(LOG_WARN, "vmmouse", "read of %u words with %u queued: disabled",
				n, s->count);
		queue_clear(s);
		set_mode(s, false, s->absolute);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		*out[i] = queue_pop(s);
}

static void backdoor_call(struct vmmouse *s, struct bus_regs *regs)
{
	uint32_t cmd = (uint32_t)regs->rcx & CMD_MASK;

	if ((uint32_t)regs->rax != VMMOUSE_MAGIC) {
		s->stats.bad_magic++;
		log_ratelimited(LOG_WARN, "vmmouse", "backdoor call without magic eax=0x%08x",
				(uint32_t)regs->rax);
		regs->rax = ALL_ONES;
		return;
	}
	s->stats.calls++;
	switch (cmd) {
	case VMMOUSE_CMD_GETVERSION:
		regs->rax = VMMOUSE_BACKDOOR_VERSION;
		regs->rbx = VMMOUSE_MAGIC;
		return;
	case VMMOUSE_CMD_ABSPOINTER_STATUS:
		cmd_status(s, regs);
		return;
	case VMMOUSE_CMD_ABSPOINTER_COMMAND:
		cmd_command(s, regs);
		return;
	case VMMOUSE_CMD_ABSPOINTER_DATA:
		cmd_data(s, regs);
		return;
	case VMMOUSE_CMD_ABSPOINTER_RESTRICT:
		s->stats.restricts++;
		log_debug("vmmouse", "restrict 0x%x accepted, not enforced", (uint32_t)regs->rbx);
		return;
	}
	s->stats.unknown_commands++;
	log_ratelimited(LOG_WARN, "vmmouse", "unknown backdoor command %u", cmd);
	regs->rax = ALL_ONES;
}

static void vmmouse_access(void *opaque, uint64_t offset, unsigned int size, bool is_write,
			   uint64_t value, struct bus_regs *regs)
{
	struct vmmouse *s = opaque;

	(void)offset;
	(void)size;
	(void)is_write;
	(void)value;
	pthread_mutex_lock(&s->lock);
	backdoor_call(s, regs);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops vmmouse_ops = {
	.access_regs = vmmouse_access,
};

/* ---- lifecycle ---- */

/* The state after reset, in one place. */
static void reset_locked(struct vmmouse *s)
{
	s->enabled = false;
	s->absolute = false;
	queue_clear(s);
	s->have_pos = false;
	s->pos_x = s->pos_y = 0;
}

void vmmouse_reset(struct vmmouse *s)
{
	pthread_mutex_lock(&s->lock);
	reset_locked(s);
	pthread_mutex_unlock(&s->lock);
}

int vmmouse_init(struct vmmouse *s, struct bus *bus, struct i8042 *i8042)
{
	const struct bus_region region = {
		.name = "vmmouse", .base = VMMOUSE_PORT, .len = VMMOUSE_PORT_LEN, .min_access = 4,
		.max_access = 4, .ops = &vmmouse_ops, .opaque = s,
	};
	int ret;

	memset(s, 0, sizeof(*s));
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret)
		return -ret;
	s->i8042 = i8042;
	s->ps2 = i8042_input_sink(i8042);
	reset_locked(s);
	ret = bus_register(bus, BUS_PIO, &region);
	if (ret) {
		pthread_mutex_destroy(&s->lock);
		return ret;
	}
	return 0;
}

void vmmouse_print_stats(struct vmmouse *s, FILE *out)
{
	struct vmmouse *m = s;
	struct vmmouse_stats c;
	bool enabled, absolute;

	pthread_mutex_lock(&m->lock);
	c = s->stats;
	enabled = s->enabled;
	absolute = s->absolute;
	pthread_mutex_unlock(&m->lock);

	fprintf(out, "vmmouse: mode=%s calls=%" PRIu64 " abs_packets=%" PRIu64
		" rel_packets=%" PRIu64 " packets_dropped=%" PRIu64 " ps2_events=%" PRIu64
		" bad_magic=%" PRIu64 " unknown_commands=%" PRIu64 " bad_reads=%" PRIu64
		" restricts=%" PRIu64 "\n",
		!enabled ? "off" : absolute ? "absolute" : "relative", c.calls, c.abs_packets,
		c.rel_packets, c.packets_dropped, c.ps2_events, c.bad_magic, c.unknown_commands,
		c.bad_reads, c.restricts);
}
