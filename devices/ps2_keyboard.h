/*
 * PS/2 (MF2 AT) keyboard model behind the i8042 keyboard port: host
 * commands (reset, ID, LEDs, typematic, scan set, enable/disable, echo) and
 * key events turned into scan code set 2 or 1 byte sequences. The model knows
 * nothing of translation: the i8042 translates set 2 to set 1 when CTR.XLATE
 * is on, exactly as the controller chip does.
 *
 * Not thread-safe: the i8042 serialises every call under its lock.
 */
#ifndef FBVM_PS2_KEYBOARD_H
#define FBVM_PS2_KEYBOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/ps2.h"

/* Longest sequence one key event produces: Pause in set 2. */
#define PS2_KBD_MAX_SEQUENCE_BYTES 8

/*
 * Releases are never dropped: a lost press is harmless, a lost release
 * leaves a key stuck down in the guest. Every key held down (its press
 * queued) reserves queue room for its break sequence, and a press is queued
 * only when it fits beside the breaks of every held key, its own included;
 * a flood of presses is refused instead (keys_dropped), and the releases
 * still fit, also in the short queue before the driver is active.
 */
#define PS2_KBD_QNUM_SLOTS 256   /* = KEYMAP_QNUM_COUNT */

/*
 * Until the guest shows a driver is there (it reads a keyboard byte or sends
 * the keyboard a command), at most this many bytes queue up, like a real
 * keyboard's own buffer. Keys typed before the driver loads then cannot make
 * a probing driver give up: Linux's i8042 flush reads at most 16 bytes (this
 * many plus the controller's output buffer) before deciding there is no
 * controller at all.
 */
#define PS2_KBD_IDLE_QUEUE_BYTES 15

struct ps2_kbd_stats {
	uint64_t unknown_commands;   /* answered with RESEND */
	uint64_t bad_params;         /* parameter byte out of range, answered with RESEND */
	uint64_t abandoned_params;   /* a command arrived where a parameter was due */
	uint64_t keys_dropped;       /* whole key sequences dropped: queue full */
	uint64_t keys_unmapped;      /* qnums with no scan code */
	uint64_t keys_while_disabled;/* key events while scanning was off (F5) */
};

struct ps2_kbd {
	/* Replies to the last host command; the guest reads them before any
	 * queued scan codes (QEMU's ps2 "command reply queue"). */
	struct ps2_queue replies;
	struct ps2_queue scancodes;
	uint8_t pending_cmd;   /* command waiting for its parameter byte; 0 = none */
	uint8_t scan_set;      /* 1 or 2 */
	bool scanning;         /* off after F5, on after F4/F6/FF */
	uint8_t leds;          /* bit 0 scroll, bit 1 num, bit 2 caps lock */
	uint8_t typematic;     /* last F3 parameter; repeat comes from the client */
	unsigned int modifiers;/* modifiers held, for Print Screen and Pause */
	bool host_active;      /* the guest has read keyboard data or sent a command */
	/* Per qnum: 0 while up; 1 + its break sequence's length while held. */
	uint8_t held_break[PS2_KBD_QNUM_SLOTS];
	unsigned int held_break_bytes;  /* the sum: room kept for releases */
	struct ps2_kbd_stats stats;
};

/* Zeroes everything, statistics included, then resets. */
void ps2_kbd_init(struct ps2_kbd *kbd);

/* Power-on state: set 2, scanning on, LEDs off, queues empty, host not yet
 * active. Keeps statistics. */
void ps2_kbd_reset(struct ps2_kbd *kbd);

/* A byte the host sent to the keyboard (a command or a command's parameter). */
void ps2_kbd_write(struct ps2_kbd *kbd, uint8_t byte);

/*
 * A key event from a frontend: qnum as in devices/input.h. Queues the key's
 * whole make or break sequence in the current scan set, or nothing.
 * Returns 0 (queued, or a key without a break code released), -ENOENT for a
 * qnum without a scan code, -EAGAIN while scanning is off, -ENOSPC when the
 * sequence does not fit (a press beside the breaks held keys reserve; the
 * queue holds PS2_KBD_IDLE_QUEUE_BYTES before the host is active).
 */
int ps2_kbd_key(struct ps2_kbd *kbd, uint16_t qnum, bool down);

/* The guest read a keyboard byte: lift the PS2_KBD_IDLE_QUEUE_BYTES limit. */
void ps2_kbd_host_active(struct ps2_kbd *kbd);

/* Next byte for the controller: a command reply first, then scan codes. */
bool ps2_kbd_pop(struct ps2_kbd *kbd, uint8_t *byte);

#endif
