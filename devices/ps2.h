/*
 * What the PS/2 keyboard and mouse models share: the byte queue between a
 * device and the i8042 controller, and the reply bytes both devices use.
 * The queues are bounded so a client that sends faster than the guest reads
 * costs a fixed amount of memory; pushes are all-or-nothing so the guest
 * never sees half a key sequence or half a mouse packet.
 */
#ifndef FBVM_PS2_H
#define FBVM_PS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replies common to keyboard and mouse (IBM PS/2 reference, QEMU hw/input/ps2.c). */
#define PS2_REPLY_ACK     0xFA
#define PS2_REPLY_RESEND  0xFE
#define PS2_REPLY_BAT_OK  0xAA /* basic assurance test passed, after reset */

/* Storage of every queue; a power of two so indices wrap with a mask. */
#define PS2_QUEUE_BYTES 256

struct ps2_queue {
	uint8_t data[PS2_QUEUE_BYTES];
	/* Free-running indices: wr - rd is the fill level, never above limit. */
	uint32_t rd;
	uint32_t wr;
	/* Capacity in use, 1..PS2_QUEUE_BYTES (reply queues are kept short). */
	uint32_t limit;
};

/* Empties the queue and sets its capacity (clamped to 1..PS2_QUEUE_BYTES). */
void ps2_queue_init(struct ps2_queue *q, uint32_t limit);

/* Drops every queued byte; the capacity stays. */
void ps2_queue_clear(struct ps2_queue *q);

uint32_t ps2_queue_count(const struct ps2_queue *q);
uint32_t ps2_queue_space(const struct ps2_queue *q);

/* Appends all n bytes, or none when they do not fit. Returns true when queued. */
bool ps2_queue_push(struct ps2_queue *q, const uint8_t *bytes, size_t n);

/* Takes the oldest byte; false when empty. */
bool ps2_queue_pop(struct ps2_queue *q, uint8_t *byte);

#endif
