/*
 * PS/2 mouse. Commands and packet format from the IBM PS/2 mouse reference
 * and Microsoft's IntelliMouse extension, checked against QEMU
 * hw/input/ps2.c and what Linux psmouse probes (psmouse-base.c).
 */
#include "ps2_mouse.h"

#include <errno.h>
#include <string.h>

#include "devices/input.h"
#include "hypervisor/log.h"

/* Host -> mouse commands. */
#define AUX_SET_SCALE11   0xE6
#define AUX_SET_SCALE21   0xE7
#define AUX_SET_RES       0xE8 /* + 0..3 */
#define AUX_GET_STATUS    0xE9 /* ACK + 3 status bytes */
#define AUX_SET_STREAM    0xEA
#define AUX_READ_DATA     0xEB /* ACK + one packet */
#define AUX_RESET_WRAP    0xEC
#define AUX_SET_WRAP      0xEE
#define AUX_SET_REMOTE    0xF0
#define AUX_GET_ID        0xF2
#define AUX_SET_RATE      0xF3 /* + samples/s */
#define AUX_ENABLE        0xF4
#define AUX_DISABLE       0xF5
#define AUX_SET_DEFAULT   0xF6
#define AUX_RESET         0xFF /* ACK, AA, ID */
/* Every command byte is at least this; parameters are smaller (<= 200). */
#define AUX_CMD_FIRST     AUX_SET_SCALE11

#define MOUSE_ID_STANDARD     0x00
#define MOUSE_ID_INTELLIMOUSE 0x03
#define MOUSE_RES_MAX         3
#define MOUSE_DEFAULT_RATE    100
#define MOUSE_DEFAULT_RES     2 /* 4 counts/mm */
#define MOUSE_REPLY_QUEUE_BYTES 16

/* Packet byte 0. */
#define PKT_ALWAYS_ONE    0x08
#define PKT_X_SIGN        0x10
#define PKT_Y_SIGN        0x20
#define PKT_BUTTONS       0x07
#define PKT_MAX_BYTES     4

/* Status byte 1 (E9): its button order differs from packets. */
#define STATUS_REMOTE     0x40
#define STATUS_ENABLED    0x20
#define STATUS_SCALE21    0x10
#define STATUS_LEFT       0x04
#define STATUS_MIDDLE     0x02
#define STATUS_RIGHT      0x01

/* Microsoft's knock: these sample rates in a row turn on the wheel (ID 3). */
static const uint8_t intellimouse_knock[3] = { 200, 100, 80 };

static const uint8_t valid_rates[] = { 10, 20, 40, 60, 80, 100, 200 };

#define MAX_EVENT_COUNTS (PS2_MOUSE_MAX_PACKET_COUNTS * PS2_MOUSE_MAX_PACKETS_PER_EVENT)
#define MAX_EVENT_WHEEL  (PS2_MOUSE_MAX_PACKET_WHEEL * PS2_MOUSE_MAX_PACKETS_PER_EVENT)

static int clamp(int v, int limit)
{
	return v > limit ? limit : v < -limit ? -limit : v;
}

static void reply(struct ps2_mouse *m, const uint8_t *bytes, unsigned int n)
{
	/* Replies never outgrow the queue: it is emptied before every command. */
	ps2_queue_push(&m->replies, bytes, n);
}

static void reply1(struct ps2_mouse *m, uint8_t byte)
{
	reply(m, &byte, 1);
}

static void mouse_set_defaults(struct ps2_mouse *m)
{
	m->reporting = false;
	m->remote = false;
	m->wrap = false;
	m->scale21 = false;
	m->resolution = MOUSE_DEFAULT_RES;
	m->sample_rate = MOUSE_DEFAULT_RATE;
	m->pending_cmd = 0;
	m->remote_dx = m->remote_dy = m->remote_dz = 0;
	/* A disabled mouse must not deliver stale motion when re-enabled. */
	ps2_queue_clear(&m->packets);
}

void ps2_mouse_init(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	ps2_mouse_reset(m);
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
	ps2_queue_init(&m->replies, MOUSE_REPLY_QUEUE_BYTES);
	ps2_queue_init(&m->packets, PS2_QUEUE_BYTES);
	mouse_set_defaults(m);
	m->id = MOUSE_ID_STANDARD;
	memset(m->rate_history, 0, sizeof(m->rate_history));
	m->buttons = 0;
	m->reported_buttons = 0;
}

/* One packet; dx, dy in PS/2 directions (up positive), within one packet's range. */
static unsigned int mouse_packet(const struct ps2_mouse *m, int dx, int dy, int dz,
				 uint8_t *out)
{
	out[0] = PKT_ALWAYS_ONE | (dy < 0 ? PKT_Y_SIGN : 0) | (dx < 0 ? PKT_X_SIGN : 0) |
		 (m->buttons & PKT_BUTTONS);
	out[1] = (uint8_t)dx;
	out[2] = (uint8_t)dy;
	if (m->id != MOUSE_ID_INTELLIMOUSE)
		return 3;
	out[3] = (uint8_t)dz;
	return 4;
}

static uint8_t status_byte(const struct ps2_mouse *m)
{
	return (m->remote ? STATUS_REMOTE : 0) | (m->reporting ? STATUS_ENABLED : 0) |
	       (m->scale21 ? STATUS_SCALE21 : 0) |
	       (m->buttons & PS2_MOUSE_BUTTON_LEFT ? STATUS_LEFT : 0) |
	       (m->buttons & PS2_MOUSE_BUTTON_MIDDLE ? STATUS_MIDDLE : 0) |
	       (m->buttons & PS2_MOUSE_BUTTON_RIGHT ? STATUS_RIGHT : 0);
}

/* EB: ACK and one packet with the motion gathered since the last read. */
static void mouse_read_data(struct ps2_mouse *m)
{
	uint8_t r[1 + PKT_MAX_BYTES] = { PS2_REPLY_ACK };
	int dx = clamp(m->remote_dx, PS2_MOUSE_MAX_PACKET_COUNTS);
	int dy = clamp(m->remote_dy, PS2_MOUSE_MAX_PACKET_COUNTS);
	int dz = clamp(m->remote_dz, PS2_MOUSE_MAX_PACKET_WHEEL);
	unsigned int n = mouse_packet(m, dx, dy, dz, r + 1);

	m->remote_dx -= dx;
	m->remote_dy -= dy;
	m->remote_dz -= dz;
	m->reported_buttons = m->buttons;
	reply(m, r, 1 + n);
}

static void mouse_note_rate(struct ps2_mouse *m, uint8_t rate)
{
	m->rate_history[0] = m->rate_history[1];
	m->rate_history[1] = m->rate_history[2];
	m->rate_history[2] = rate;
	if (!memcmp(m->rate_history, intellimouse_knock, sizeof(intellimouse_knock))) {
		m->id = MOUSE_ID_INTELLIMOUSE;
		log_debug("ps2mouse", "intellimouse knock id=3");
	}
}

static void mouse_param(struct ps2_mouse *m, uint8_t cmd, uint8_t param)
{
	switch (cmd) {
	case AUX_SET_RES:
		if (param > MOUSE_RES_MAX)
			break;
		m->resolution = param;
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_SET_RATE:
		for (size_t i = 0; i < sizeof(valid_rates); i++)
			if (param == valid_rates[i]) {
				m->sample_rate = param;
				mouse_note_rate(m, param);
				reply1(m, PS2_REPLY_ACK);
				return;
			}
		break;
	}
	m->stats.bad_params++;
	log_ratelimited(LOG_WARN, "ps2mouse", "command 0x%02x bad parameter 0x%02x resend",
			cmd, param);
	reply1(m, PS2_REPLY_RESEND);
}

static void mouse_command(struct ps2_mouse *m, uint8_t cmd)
{
	switch (cmd) {
	case AUX_SET_SCALE11:
	case AUX_SET_SCALE21:
		m->scale21 = cmd == AUX_SET_SCALE21;
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_SET_RES:
	case AUX_SET_RATE:
		m->pending_cmd = cmd;
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_GET_STATUS: {
		uint8_t r[4] = { PS2_REPLY_ACK, status_byte(m), m->resolution, m->sample_rate };
		reply(m, r, 4);
		return;
	}
	case AUX_SET_STREAM:
	case AUX_SET_REMOTE:
		m->remote = cmd == AUX_SET_REMOTE;
		m->remote_dx = m->remote_dy = m->remote_dz = 0;
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_READ_DATA:
		mouse_read_data(m);
		return;
	case AUX_RESET_WRAP:
	case AUX_SET_WRAP:
		m->wrap = cmd == AUX_SET_WRAP;
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_GET_ID: {
		uint8_t r[2] = { PS2_REPLY_ACK, m->id };
		reply(m, r, 2);
		return;
	}
	case AUX_ENABLE:
		m->reporting = true;
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_DISABLE:
		m->reporting = false;
		ps2_queue_clear(&m->packets);
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_SET_DEFAULT:
		mouse_set_defaults(m);
		reply1(m, PS2_REPLY_ACK);
		return;
	case AUX_RESET: {
		uint8_t r[3] = { PS2_REPLY_ACK, PS2_REPLY_BAT_OK, MOUSE_ID_STANDARD };
		ps2_mouse_reset(m);
		reply(m, r, 3);
		return;
	}
	}
	m->stats.unknown_commands++;
	log_ratelimited(LOG_WARN, "ps2mouse", "unknown command 0x%02x resend", cmd);
	reply1(m, PS2_REPLY_RESEND);
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte)
{
	uint8_t cmd = m->pending_cmd;

	/* A new byte from the host supersedes unread replies. */
	ps2_queue_clear(&m->replies);
	m->pending_cmd = 0;
	if (m->wrap && byte != AUX_RESET_WRAP && byte != AUX_RESET) {
		reply1(m, byte);
		return;
	}
	if (cmd && byte < AUX_CMD_FIRST) {
		mouse_param(m, cmd, byte);
		return;
	}
	if (cmd) {
		m->stats.abandoned_params++;
		log_ratelimited(LOG_WARN, "ps2mouse", "command 0x%02x parameter missing, "
				"0x%02x taken as a command", cmd, byte);
	}
	mouse_command(m, byte);
}

static uint8_t ps2_buttons(unsigned int input_buttons)
{
	return (input_buttons & INPUT_BUTTON_LEFT ? PS2_MOUSE_BUTTON_LEFT : 0) |
	       (input_buttons & INPUT_BUTTON_RIGHT ? PS2_MOUSE_BUTTON_RIGHT : 0) |
	       (input_buttons & INPUT_BUTTON_MIDDLE ? PS2_MOUSE_BUTTON_MIDDLE : 0);
}

int ps2_mouse_pointer(struct ps2_mouse *m, int dx, int dy, int wheel, unsigned int buttons)
{
	uint8_t buf[PS2_MOUSE_MAX_PACKETS_PER_EVENT * PKT_MAX_BYTES];
	unsigned int n = 0, packets = 0;
	/* PS/2 counts up as positive and wheel-up as negative Z (Linux psmouse
	 * reports REL_WHEEL = -Z); input.h has dy down and wheel up positive.
	 * Clamping first keeps the negation and the split loop bounded. */
	int x = clamp(dx, MAX_EVENT_COUNTS);
	int y = -clamp(dy, MAX_EVENT_COUNTS);
	int z = m->id == MOUSE_ID_INTELLIMOUSE ? -clamp(wheel, MAX_EVENT_WHEEL) : 0;

	m->buttons = ps2_buttons(buttons);
	if (!m->reporting)
		return 0;
	if (m->remote) {
		m->remote_dx = clamp(m->remote_dx + x, MAX_EVENT_COUNTS);
		m->remote_dy = clamp(m->remote_dy + y, MAX_EVENT_COUNTS);
		m->remote_dz = clamp(m->remote_dz + z, MAX_EVENT_WHEEL);
		return 0;
	}
	if (!x && !y && !z && m->buttons == m->reported_buttons)
		return 0;
	do {
		int px = clamp(x, PS2_MOUSE_MAX_PACKET_COUNTS);
		int py = clamp(y, PS2_MOUSE_MAX_PACKET_COUNTS);
		int pz = clamp(z, PS2_MOUSE_MAX_PACKET_WHEEL);

		n += mouse_packet(m, px, py, pz, buf + n);
		packets++;
		x -= px;
		y -= py;
		z -= pz;
	} while ((x || y || z) && packets < PS2_MOUSE_MAX_PACKETS_PER_EVENT);

	if (!ps2_queue_push(&m->packets, buf, n)) {
		m->stats.packets_dropped += packets;
		log_ratelimited(LOG_WARN, "ps2mouse", "queue full packets=%u dropped queued=%u",
				packets, ps2_queue_count(&m->packets));
		return -ENOSPC;
	}
	m->reported_buttons = m->buttons;
	return 0;
}

int ps2_mouse_doorbell(struct ps2_mouse *m)
{
	uint8_t buf[PKT_MAX_BYTES];
	unsigned int n;

	if (!m->reporting || m->remote)
		return 0;
	n = mouse_packet(m, 0, 0, 0, buf);
	if (!ps2_queue_push(&m->packets, buf, n))
		return -ENOSPC;
	m->reported_buttons = m->buttons;
	m->stats.doorbells++;
	return 0;
}

bool ps2_mouse_pop(struct ps2_mouse *m, uint8_t *byte)
{
	return ps2_queue_pop(&m->replies, byte) || ps2_queue_pop(&m->packets, byte);
}
