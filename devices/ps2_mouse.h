/*
 * PS/2 mouse model behind the i8042 aux port: standard 3-byte packets, and
 * the IntelliMouse wheel (ID 3, 4-byte packets) after the 200/100/80
 * sample-rate knock. Stream and remote modes, wrap mode, status request.
 *
 * Not thread-safe: the i8042 serialises every call under its lock.
 */
#ifndef FBVM_PS2_MOUSE_H
#define FBVM_PS2_MOUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/ps2.h"

/* Packet fields are 9-bit two's complement: larger motion is split into
 * several packets of at most this many counts per axis. */
#define PS2_MOUSE_MAX_PACKET_COUNTS 127
/* IntelliMouse Z is 4 bits (-8..7); keep to the symmetric range. */
#define PS2_MOUSE_MAX_PACKET_WHEEL 7
/* One pointer event becomes at most this many packets; motion beyond
 * 16 x 127 counts per event is clamped (a relative mouse drifts anyway). */
#define PS2_MOUSE_MAX_PACKETS_PER_EVENT 16

/* Button bits as byte 0 of a packet carries them. */
#define PS2_MOUSE_BUTTON_LEFT   0x01
#define PS2_MOUSE_BUTTON_RIGHT  0x02
#define PS2_MOUSE_BUTTON_MIDDLE 0x04

struct ps2_mouse_stats {
	uint64_t unknown_commands;  /* answered with RESEND */
	uint64_t bad_params;        /* parameter out of range, answered with RESEND */
	uint64_t abandoned_params;  /* a command arrived where a parameter was due */
	uint64_t packets_dropped;   /* packets of whole pointer events dropped: queue full */
	uint64_t doorbells;         /* vmmouse doorbell packets queued */
};

struct ps2_mouse {
	/* Replies to the last host command, read before queued packets. */
	struct ps2_queue replies;
	struct ps2_queue packets;
	uint8_t pending_cmd;      /* command waiting for its parameter; 0 = none */
	bool reporting;           /* F4 enables, F5/F6/FF disable */
	bool remote;              /* remote mode: packets only on EB (read data) */
	bool wrap;                /* wrap mode: bytes are echoed */
	bool scale21;
	uint8_t resolution;       /* 0..3: 1, 2, 4, 8 counts/mm */
	uint8_t sample_rate;      /* samples/s */
	uint8_t id;               /* 0 standard, 3 IntelliMouse (wheel) */
	uint8_t rate_history[3];  /* last three sample rates, oldest first */
	uint8_t buttons;          /* PS2_MOUSE_BUTTON_* held now */
	uint8_t reported_buttons; /* buttons in the last queued packet */
	/* Remote mode: motion since the last read, PS/2 directions. */
	int remote_dx, remote_dy, remote_dz;
	struct ps2_mouse_stats stats;
};

/* Zeroes everything, statistics included, then resets. */
void ps2_mouse_init(struct ps2_mouse *mouse);

/* Power-on state: ID 0, stream mode, reporting off, defaults, queues empty.
 * Keeps statistics. */
void ps2_mouse_reset(struct ps2_mouse *mouse);

/* A byte the host sent to the mouse (via i8042 command 0xD4). */
void ps2_mouse_write(struct ps2_mouse *mouse, uint8_t byte);

/*
 * Motion from a frontend, as devices/input.h defines it (dy positive = down,
 * wheel positive = up, INPUT_BUTTON_* held). In stream mode with reporting on,
 * queues one packet, or several when a delta exceeds one packet's range, all
 * or none. Returns 0, or -ENOSPC when the packets did not fit and were dropped.
 * Nothing is queued while reporting is off or in remote mode.
 */
int ps2_mouse_pointer(struct ps2_mouse *mouse, int dx, int dy, int wheel,
		      unsigned int buttons);

/*
 * A packet with no motion and the buttons held now, queued whenever
 * reporting is on in stream mode: the doorbell the vmmouse device rings so
 * the guest's driver, woken by IRQ 12, reads the vmmouse queue (QEMU's
 * ps2_mouse_fake_event does the same with one count of X motion). Returns
 * 0, or -ENOSPC when the packet queue is full (the unread packets already
 * ring the bell).
 */
int ps2_mouse_doorbell(struct ps2_mouse *mouse);

/* Next byte for the controller: a command reply first, then packet bytes. */
bool ps2_mouse_pop(struct ps2_mouse *mouse, uint8_t *byte);

#endif
