/*
 * VMware's absolute pointer ("vmmouse") on top of the i8042 PS/2 mouse, as
 * QEMU's -device vmmouse offers it: the guest talks to it through VMware's
 * I/O backdoor, port 0x5658, with a magic number in EAX, a command in ECX
 * and results in EAX..EDI. Linux's psmouse binds it by itself on KVM
 * (CONFIG_MOUSE_PS2_VMMOUSE, built into Debian's kernel) and reports an
 * absolute input device to Xorg and Wayland.
 *
 * It is also the machine's input sink: keys go to the i8042 keyboard;
 * pointer events become vmmouse packets once the guest enabled the device
 * (each followed by a PS/2 packet without motion, the doorbell that makes
 * the guest read them), and PS/2 mouse motion otherwise — an absolute
 * position then moves the PS/2 mouse by the distance from the previous
 * position, whichever frontend sent it. Frontends never know which.
 *
 * Threads: the port handler runs on a vCPU thread, pointer events come from
 * the VNC, SDL and control threads; one mutex serialises them. It is taken
 * before the i8042's, never after.
 */
#ifndef FBVM_VMMOUSE_H
#define FBVM_VMMOUSE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/i8042.h"
#include "devices/input.h"
#include "hypervisor/bus.h"

#define VMMOUSE_PORT          0x5658
/* The 4 bytes a 4-byte access covers (Linux reserves the same); accesses
 * start at the first only, the bus refuses the rest as crossing the end. */
#define VMMOUSE_PORT_LEN      4
#define VMMOUSE_MAGIC         0x564D5868u /* "VMXh" */

/* ECX: backdoor commands (Linux drivers/input/mouse/vmmouse.c names). */
#define VMMOUSE_CMD_GETVERSION          10
#define VMMOUSE_CMD_ABSPOINTER_DATA     39
#define VMMOUSE_CMD_ABSPOINTER_STATUS   40
#define VMMOUSE_CMD_ABSPOINTER_COMMAND  41
#define VMMOUSE_CMD_ABSPOINTER_RESTRICT 86

/* EBX of ABSPOINTER_COMMAND. */
#define VMMOUSE_SUB_ENABLE            0x45414552u /* QEMU calls it READ_ID */
#define VMMOUSE_SUB_DISABLE           0x000000F5u
#define VMMOUSE_SUB_REQUEST_RELATIVE  0x4C455252u
#define VMMOUSE_SUB_REQUEST_ABSOLUTE  0x53424152u

/* What GETVERSION puts in EAX (QEMU's vmport answers 6), what ENABLE queues. */
#define VMMOUSE_BACKDOOR_VERSION 6u
#define VMMOUSE_VERSION_ID    0x3442554Au
/* ABSPOINTER_STATUS: high half all ones while disabled; low half = words queued. */
#define VMMOUSE_STATUS_ERROR  0xFFFF0000u

/* Packet word 0: buttons and the relative flag. */
#define VMMOUSE_RELATIVE_PACKET 0x00010000u
#define VMMOUSE_LEFT_BUTTON     0x20u
#define VMMOUSE_RIGHT_BUTTON    0x10u
#define VMMOUSE_MIDDLE_BUTTON   0x08u
#define VMMOUSE_PACKET_WORDS    4
/* Absolute positions run 0..VMMOUSE_ABS_MAX on both axes (Linux's ABS range). */
#define VMMOUSE_ABS_MAX         0xFFFFu
/* One ABSPOINTER_DATA call returns at most this many words (EAX..EDI). */
#define VMMOUSE_MAX_READ_WORDS  6

/* As QEMU: 1024 words, 256 packets; beyond that events are dropped. */
#define VMMOUSE_QUEUE_WORDS   1024

struct vmmouse_stats {
	uint64_t calls;            /* backdoor accesses with the magic */
	uint64_t bad_magic;        /* accesses without it: EAX = all ones */
	uint64_t unknown_commands; /* commands and subcommands we do not know */
	uint64_t bad_reads;        /* ABSPOINTER_DATA of 0, > 6 or > queued words: disables */
	uint64_t restricts;        /* ABSPOINTER_RESTRICT: accepted, not enforced */
	uint64_t abs_packets;      /* packets queued */
	uint64_t rel_packets;
	uint64_t packets_dropped;  /* queue full */
	uint64_t ps2_events;       /* pointer events sent as PS/2 motion (not enabled) */
};

struct vmmouse {
	pthread_mutex_t lock;
	struct i8042 *i8042;
	struct input_sink ps2;     /* the i8042's keyboard and mouse */

	bool enabled;              /* ENABLE seen, no DISABLE or bad read since */
	bool absolute;             /* REQUEST_ABSOLUTE (vs RELATIVE) */
	uint32_t queue[VMMOUSE_QUEUE_WORDS];
	unsigned int head;         /* oldest word */
	unsigned int count;        /* words queued */

	/* The last absolute position a frontend sent: the origin of the next
	 * relative motion. Relative motion from a frontend forgets it. */
	bool have_pos;
	uint32_t pos_x, pos_y;
	struct vmmouse_stats stats;
};

/*
 * Resets the device (disabled, relative, queue empty) and claims port
 * 0x5658 (4-byte accesses, with the vCPU's registers) on bus. i8042 is the
 * controller whose keyboard and mouse it fronts. 0, or -errno from
 * bus_register or pthread_mutex_init; then nothing is registered.
 */
int vmmouse_init(struct vmmouse *vmmouse, struct bus *bus, struct i8042 *i8042);

/* Power-on state: disabled, relative mode, queue empty, no position. Keeps statistics. */
void vmmouse_reset(struct vmmouse *vmmouse);

/* The keyboard and pointer as frontends deliver to them (key, pointer, pointer_abs). */
struct input_sink vmmouse_input_sink(struct vmmouse *vmmouse);

/* The absolute value for pixel x of a width-pixel axis (x < width, width > 0):
 * the pixel's centre on 0..VMMOUSE_ABS_MAX, so value * width / 65536 (libinput's
 * mapping) gives x back exactly for any width up to 32768. */
uint32_t vmmouse_scale(uint32_t x, uint32_t width);

/* One line of counters. */
void vmmouse_print_stats(struct vmmouse *vmmouse, FILE *out);   /* takes the lock */

#endif
