/*
 * PS/2 keyboard. Command set and replies from the IBM PS/2 keyboard
 * reference as QEMU hw/input/ps2.c implements it (our reference for device
 * behaviour); key codes from keycodemapdb through keymap_qnum_set2.c.
 */
#include "ps2_keyboard.h"

#include <errno.h>
#include <string.h>

#include "devices/keymap_qnum_set2.h"
#include "hypervisor/log.h"

/* Host -> keyboard commands. */
#define KBD_CMD_SET_LEDS       0xED /* + LED byte */
#define KBD_CMD_ECHO           0xEE
#define KBD_CMD_SCAN_SET       0xF0 /* + 0 (query) or set 1..3 */
#define KBD_CMD_GET_ID         0xF2
#define KBD_CMD_SET_TYPEMATIC  0xF3 /* + rate/delay byte */
#define KBD_CMD_ENABLE         0xF4
#define KBD_CMD_DEFAULT_DISABLE 0xF5
#define KBD_CMD_DEFAULT_ENABLE 0xF6
#define KBD_CMD_RESET          0xFF
/* Every command byte is at least this; parameters are smaller. */
#define KBD_CMD_FIRST          KBD_CMD_SET_LEDS

/* Keyboard -> host. */
#define KBD_REPLY_ID0          0xAB /* MF2 keyboard ID: AB 83 */
#define KBD_REPLY_ID1          0x83
#define KBD_REPLY_ECHO         0xEE

#define KBD_LED_MASK           0x07
#define KBD_TYPEMATIC_MASK     0x7F
#define KBD_TYPEMATIC_DEFAULT  0x2B /* 10.9 characters/s after 500 ms */
#define KBD_REPLY_QUEUE_BYTES  16

/* Scan code prefixes. */
#define SC_E0                  0xE0
#define SC_E1                  0xE1
#define SC_SET2_BREAK          0xF0
#define SC_SET1_BREAK_BIT      0x80

/* qnums with special handling (keycodemapdb qnum column). */
#define QNUM_CTRL_L            0x1D
#define QNUM_CTRL_R            0x9D
#define QNUM_SHIFT_L           0x2A
#define QNUM_SHIFT_R           0x36
#define QNUM_ALT_L             0x38
#define QNUM_ALT_R             0xB8
#define QNUM_PRINT             0x54
#define QNUM_PRINT_ALIAS       0xB7 /* older clients send E0 37 for Print Screen */
#define QNUM_PAUSE             0xC6
#define QNUM_E0_BIT            0x80

/* Korean keys send one make code above 0x7F and no break (Linux atkbd). */
#define SC_HANJA               0xF1
#define SC_HANGEUL             0xF2

#define MOD_CTRL               (1u << 0)
#define MOD_SHIFT              (1u << 1)
#define MOD_ALT                (1u << 2)

struct key_sequence {
	uint8_t bytes[PS2_KBD_MAX_SEQUENCE_BYTES];
	unsigned int len;
};

static void seq_add(struct key_sequence *seq, uint8_t byte)
{
	if (seq->len < PS2_KBD_MAX_SEQUENCE_BYTES)
		seq->bytes[seq->len++] = byte;
}

static void reply(struct ps2_kbd *kbd, const uint8_t *bytes, unsigned int n)
{
	/* Replies never outgrow the queue: it is emptied before every command. */
	ps2_queue_push(&kbd->replies, bytes, n);
}

static void reply1(struct ps2_kbd *kbd, uint8_t byte)
{
	reply(kbd, &byte, 1);
}

/* F5/F6/FF: defaults as QEMU's ps2_reset_keyboard sets them (set 2, LEDs off). */
static void kbd_set_defaults(struct ps2_kbd *kbd)
{
	kbd->scan_set = 2;
	kbd->leds = 0;
	kbd->typematic = KBD_TYPEMATIC_DEFAULT;
	kbd->pending_cmd = 0;
	ps2_queue_clear(&kbd->scancodes);
}

void ps2_kbd_init(struct ps2_kbd *kbd)
{
	memset(kbd, 0, sizeof(*kbd));
	ps2_kbd_reset(kbd);
}

void ps2_kbd_reset(struct ps2_kbd *kbd)
{
	ps2_queue_init(&kbd->replies, KBD_REPLY_QUEUE_BYTES);
	ps2_queue_init(&kbd->scancodes, PS2_QUEUE_BYTES);
	kbd_set_defaults(kbd);
	kbd->scanning = true;
	kbd->modifiers = 0;
	kbd->host_active = false;
	/* The queue is empty: no press is waiting for its release. */
	memset(kbd->held_break, 0, sizeof(kbd->held_break));
	kbd->held_break_bytes = 0;
}

void ps2_kbd_host_active(struct ps2_kbd *kbd)
{
	kbd->host_active = true;
}

static void kbd_param(struct ps2_kbd *kbd, uint8_t cmd, uint8_t param)
{
	switch (cmd) {
	case KBD_CMD_SET_LEDS:
		/* Bits 3-7 are reserved; a real keyboard ignores them. */
		kbd->leds = param & KBD_LED_MASK;
		log_debug("ps2kbd", "leds=0x%x", kbd->leds);
		reply1(kbd, PS2_REPLY_ACK);
		return;
	case KBD_CMD_SET_TYPEMATIC:
		if (param & ~KBD_TYPEMATIC_MASK)
			break;
		kbd->typematic = param;
		reply1(kbd, PS2_REPLY_ACK);
		return;
	case KBD_CMD_SCAN_SET:
		if (param == 0) {
			uint8_t r[2] = { PS2_REPLY_ACK, kbd->scan_set };
			reply(kbd, r, 2);
			return;
		}
		/* Set 3 is refused so the guest knows to stay in set 2 (atkbd
		 * falls back to set 2 when the select fails). */
		if (param == 1 || param == 2) {
			kbd->scan_set = param;
			reply1(kbd, PS2_REPLY_ACK);
			return;
		}
		break;
	}
	kbd->stats.bad_params++;
	log_ratelimited(LOG_WARN, "ps2kbd", "command 0x%02x bad parameter 0x%02x resend",
			cmd, param);
	reply1(kbd, PS2_REPLY_RESEND);
}

static void kbd_command(struct ps2_kbd *kbd, uint8_t cmd)
{
	switch (cmd) {
	case KBD_CMD_SET_LEDS:
	case KBD_CMD_SCAN_SET:
	case KBD_CMD_SET_TYPEMATIC:
		kbd->pending_cmd = cmd;
		reply1(kbd, PS2_REPLY_ACK);
		return;
	case KBD_CMD_ECHO:
		reply1(kbd, KBD_REPLY_ECHO);
		return;
	case KBD_CMD_GET_ID: {
		/* 83 reaches the guest as 41 when the controller translates,
		 * which is what QEMU and real hardware report. */
		static const uint8_t id[3] = { PS2_REPLY_ACK, KBD_REPLY_ID0, KBD_REPLY_ID1 };
		reply(kbd, id, 3);
		return;
	}
	case KBD_CMD_ENABLE:
		kbd->scanning = true;
		reply1(kbd, PS2_REPLY_ACK);
		return;
	case KBD_CMD_DEFAULT_DISABLE:
		kbd_set_defaults(kbd);
		kbd->scanning = false;
		reply1(kbd, PS2_REPLY_ACK);
		return;
	case KBD_CMD_DEFAULT_ENABLE:
		kbd_set_defaults(kbd);
		kbd->scanning = true;
		reply1(kbd, PS2_REPLY_ACK);
		return;
	case KBD_CMD_RESET: {
		static const uint8_t bat[2] = { PS2_REPLY_ACK, PS2_REPLY_BAT_OK };
		kbd_set_defaults(kbd);
		kbd->scanning = true;
		reply(kbd, bat, 2);
		return;
	}
	}
	kbd->stats.unknown_commands++;
	log_ratelimited(LOG_WARN, "ps2kbd", "unknown command 0x%02x resend", cmd);
	reply1(kbd, PS2_REPLY_RESEND);
}

void ps2_kbd_write(struct ps2_kbd *kbd, uint8_t byte)
{
	uint8_t cmd = kbd->pending_cmd;

	/* A new byte from the host supersedes unread replies (QEMU does the same). */
	ps2_queue_clear(&kbd->replies);
	kbd->host_active = true;
	kbd->pending_cmd = 0;
	if (cmd && byte < KBD_CMD_FIRST) {
		kbd_param(kbd, cmd, byte);
		return;
	}
	if (cmd) {
		/* The keyboard treats a command where a parameter was due as a
		 * new command, so a host that lost track recovers. */
		kbd->stats.abandoned_params++;
		log_ratelimited(LOG_WARN, "ps2kbd", "command 0x%02x parameter missing, "
				"0x%02x taken as a command", cmd, byte);
	}
	kbd_command(kbd, byte);
}

static unsigned int modifier_bit(uint8_t qnum)
{
	switch (qnum) {
	case QNUM_CTRL_L:
	case QNUM_CTRL_R:
		return MOD_CTRL;
	case QNUM_SHIFT_L:
	case QNUM_SHIFT_R:
		return MOD_SHIFT;
	case QNUM_ALT_L:
	case QNUM_ALT_R:
		return MOD_ALT;
	}
	return 0;
}

/* Print Screen and Pause depend on the modifiers held, like a real keyboard
 * (sequences as in QEMU hw/input/ps2.c, Alt+SysRq simplified to the code a
 * keyboard sends: 84 / F0 84 in set 2, 54 / D4 in set 1). */
static void print_screen(const struct ps2_kbd *kbd, bool down, struct key_sequence *seq)
{
	if (kbd->scan_set == 1) {
		if (kbd->modifiers & MOD_ALT) {
			seq_add(seq, down ? 0x54 : 0xD4);
		} else if (kbd->modifiers & (MOD_CTRL | MOD_SHIFT)) {
			seq_add(seq, SC_E0);
			seq_add(seq, down ? 0x37 : 0xB7);
		} else if (down) {
			seq_add(seq, SC_E0); seq_add(seq, 0x2A);
			seq_add(seq, SC_E0); seq_add(seq, 0x37);
		} else {
			seq_add(seq, SC_E0); seq_add(seq, 0xB7);
			seq_add(seq, SC_E0); seq_add(seq, 0xAA);
		}
		return;
	}
	if (kbd->modifiers & MOD_ALT) {
		if (!down)
			seq_add(seq, SC_SET2_BREAK);
		seq_add(seq, 0x84);
	} else if (kbd->modifiers & (MOD_CTRL | MOD_SHIFT)) {
		seq_add(seq, SC_E0);
		if (!down)
			seq_add(seq, SC_SET2_BREAK);
		seq_add(seq, 0x7C);
	} else if (down) {
		seq_add(seq, SC_E0); seq_add(seq, 0x12);
		seq_add(seq, SC_E0); seq_add(seq, 0x7C);
	} else {
		seq_add(seq, SC_E0); seq_add(seq, SC_SET2_BREAK); seq_add(seq, 0x7C);
		seq_add(seq, SC_E0); seq_add(seq, SC_SET2_BREAK); seq_add(seq, 0x12);
	}
}

/* Pause sends make and break together on press and nothing on release;
 * with Ctrl held it is Break. */
static void pause_key(const struct ps2_kbd *kbd, bool down, struct key_sequence *seq)
{
	static const uint8_t set1_pause[] = { SC_E1, 0x1D, 0x45, SC_E1, 0x9D, 0xC5 };
	static const uint8_t set1_break[] = { SC_E0, 0x46, SC_E0, 0xC6 };
	static const uint8_t set2_pause[] = { SC_E1, 0x14, 0x77, SC_E1, SC_SET2_BREAK, 0x14,
					      SC_SET2_BREAK, 0x77 };
	static const uint8_t set2_break[] = { SC_E0, 0x7E, SC_E0, SC_SET2_BREAK, 0x7E };
	const uint8_t *bytes;
	unsigned int n;

	if (!down)
		return;
	if (kbd->scan_set == 1) {
		bool ctrl = kbd->modifiers & MOD_CTRL;
		bytes = ctrl ? set1_break : set1_pause;
		n = ctrl ? sizeof(set1_break) : sizeof(set1_pause);
	} else {
		bool ctrl = kbd->modifiers & MOD_CTRL;
		bytes = ctrl ? set2_break : set2_pause;
		n = ctrl ? sizeof(set2_break) : sizeof(set2_pause);
	}
	for (unsigned int i = 0; i < n; i++)
		seq_add(seq, bytes[i]);
}

/* Builds the sequence for one key event; false when the key has no code. */
static bool key_sequence(const struct ps2_kbd *kbd, uint8_t qnum, bool down,
			 struct key_sequence *seq)
{
	uint16_t set2 = keymap_qnum_to_set2[qnum];

	if (qnum == QNUM_PRINT || qnum == QNUM_PRINT_ALIAS) {
		print_screen(kbd, down, seq);
		return true;
	}
	if (qnum == QNUM_PAUSE) {
		pause_key(kbd, down, seq);
		return true;
	}
	if (set2 == 0)
		return false;
	if (set2 == SC_HANJA || set2 == SC_HANGEUL) {
		if (down)
			seq_add(seq, (uint8_t)set2);
		return true;
	}
	if (kbd->scan_set == 1) {
		/* A qnum is the set-1 make code with E0 folded into bit 7. */
		if (qnum & QNUM_E0_BIT)
			seq_add(seq, SC_E0);
		seq_add(seq, (qnum & ~QNUM_E0_BIT) | (down ? 0 : SC_SET1_BREAK_BIT));
		return true;
	}
	if (set2 >> 8)
		seq_add(seq, set2 >> 8);
	if (!down)
		seq_add(seq, SC_SET2_BREAK);
	seq_add(seq, set2 & 0xFF);
	return true;
}

_Static_assert(PS2_KBD_QNUM_SLOTS == KEYMAP_QNUM_COUNT, "one held slot per qnum");

/* Forgets that qnum is held; its reserved room is free again. */
static void kbd_release_reservation(struct ps2_kbd *kbd, uint16_t qnum)
{
	if (kbd->held_break[qnum]) {
		kbd->held_break_bytes -= kbd->held_break[qnum] - 1u;
		kbd->held_break[qnum] = 0;
	}
}

int ps2_kbd_key(struct ps2_kbd *kbd, uint16_t qnum, bool down)
{
	struct key_sequence seq = { .len = 0 }, brk = { .len = 0 };
	unsigned int reserve, room;
	bool fits;

	if (qnum >= KEYMAP_QNUM_COUNT) {
		kbd->stats.keys_unmapped++;
		log_ratelimited(LOG_WARN, "ps2kbd", "key qnum=0x%x out of range ignored", qnum);
		return -ENOENT;
	}
	/* Track modifiers even when the event is dropped: they describe the
	 * client's keyboard, which Print Screen and Pause depend on. */
	if (down)
		kbd->modifiers |= modifier_bit(qnum);
	else
		kbd->modifiers &= ~modifier_bit(qnum);

	if (!kbd->scanning) {
		/* QEMU drops these too: queuing them would corrupt the stream
		 * the host resynchronises with F4. */
		kbd->stats.keys_while_disabled++;
		log_debug("ps2kbd", "key qnum=0x%02x while scanning disabled dropped", qnum);
		return -EAGAIN;
	}
	if (!key_sequence(kbd, (uint8_t)qnum, down, &seq)) {
		kbd->stats.keys_unmapped++;
		log_ratelimited(LOG_WARN, "ps2kbd", "key qnum=0x%02x has no scan code ignored",
				qnum);
		return -ENOENT;
	}
	/* Room this event may use: what the held keys' breaks leave. A held
	 * key's own release uses its reservation; a press of a key not held
	 * yet must also leave room for its break. */
	reserve = kbd->held_break_bytes;
	if (!down && kbd->held_break[qnum])
		reserve -= kbd->held_break[qnum] - 1u;
	if (down && !kbd->held_break[qnum]) {
		key_sequence(kbd, (uint8_t)qnum, false, &brk);
		reserve += brk.len;
	}
	if (seq.len == 0) {
		if (!down)
			kbd_release_reservation(kbd, qnum);
		return 0;
	}
	room = kbd->host_active ? ps2_queue_space(&kbd->scancodes) :
	       PS2_KBD_IDLE_QUEUE_BYTES - (ps2_queue_count(&kbd->scancodes) <
					   PS2_KBD_IDLE_QUEUE_BYTES ?
					   ps2_queue_count(&kbd->scancodes) :
					   PS2_KBD_IDLE_QUEUE_BYTES);
	fits = seq.len + reserve <= room;
	if (!down)
		kbd_release_reservation(kbd, qnum);
	if (!fits || !ps2_queue_push(&kbd->scancodes, seq.bytes, seq.len)) {
		kbd->stats.keys_dropped++;
		log_ratelimited(LOG_WARN, "ps2kbd", "queue full key qnum=0x%02x %s dropped "
				"queued=%u", qnum, down ? "press" : "release",
				ps2_queue_count(&kbd->scancodes));
		return -ENOSPC;
	}
	if (down && !kbd->held_break[qnum]) {
		kbd->held_break[qnum] = (uint8_t)(brk.len + 1);
		kbd->held_break_bytes += brk.len;
	}
	log_debug("ps2kbd", "key qnum=0x%02x %s bytes=%u", qnum, down ? "press" : "release",
		  seq.len);
	return 0;
}

bool ps2_kbd_pop(struct ps2_kbd *kbd, uint8_t *byte)
{
	return ps2_queue_pop(&kbd->replies, byte) || ps2_queue_pop(&kbd->scancodes, byte);
}
