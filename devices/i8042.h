/*
 * i8042 PS/2 controller at ports 0x60 (data) and 0x64 (status/command) with
 * a PS/2 keyboard on IRQ 1 and a PS/2 mouse on IRQ 12: enough for Linux's
 * i8042 + atkbd + psmouse drivers and for bare-metal guests that poll or take
 * keyboard interrupts in translated scan code set 1.
 *
 * Threads: the port handlers run on a vCPU thread, key and pointer events
 * arrive from the VNC or SDL thread; one mutex serialises them, and IRQ lines
 * change only under it, so a line's level always matches the output buffer.
 *
 * State after reset is what SeaBIOS hands an OS on QEMU's PC machine, since
 * fbvm enters guests without firmware: controller self-test passed (status
 * SYS set), CTR = 0x61 (keyboard IRQ on, aux port disabled, translation on),
 * keyboard scanning in set 2 (the guest reads set 1), mouse reporting off.
 */
#ifndef FBVM_I8042_H
#define FBVM_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/input.h"
#include "devices/ps2_keyboard.h"
#include "devices/ps2_mouse.h"
#include "hypervisor/bus.h"
#include "hypervisor/irq.h"

#define I8042_DATA_PORT    0x60
#define I8042_COMMAND_PORT 0x64 /* reads: status register */
#define I8042_KBD_IRQ      1
#define I8042_AUX_IRQ      12

/* Status register (Linux include/linux/i8042.h names). */
#define I8042_STR_OBF      0x01 /* output buffer full */
#define I8042_STR_IBF      0x02 /* input buffer full: never, writes complete at once */
#define I8042_STR_SYS      0x04 /* system flag: self-test passed */
#define I8042_STR_CMDDAT   0x08 /* last write went to 0x64 (command), not 0x60 */
#define I8042_STR_KEYLOCK  0x10 /* 1 = keyboard not inhibited */
#define I8042_STR_AUXDATA  0x20 /* output buffer byte is from the aux port */

/* Controller configuration byte, CTR ("command byte"). */
#define I8042_CTR_KBDINT   0x01 /* IRQ 1 when keyboard data is ready */
#define I8042_CTR_AUXINT   0x02 /* IRQ 12 when aux data is ready */
#define I8042_CTR_SYS      0x04
#define I8042_CTR_IGNKEYLOCK 0x08
#define I8042_CTR_KBDDIS   0x10 /* keyboard port disabled */
#define I8042_CTR_AUXDIS   0x20 /* aux port disabled */
#define I8042_CTR_XLATE    0x40 /* translate scan code set 2 to set 1 */

#define I8042_CTR_RESET    (I8042_CTR_KBDINT | I8042_CTR_AUXDIS | I8042_CTR_XLATE)

/* Bytes the controller itself produced and the guest has not read yet. */
#define I8042_CTRL_QUEUE_LEN 16

struct i8042_stats {
	uint64_t unknown_commands;   /* controller commands ignored */
	uint64_t abandoned_params;   /* a command written where a data byte was due */
	uint64_t ctrl_replies_dropped; /* controller replies over I8042_CTRL_QUEUE_LEN unread */
	uint64_t reset_requests;     /* 0xFE / pulse / output-port writes that reset */
};

struct i8042 {
	pthread_mutex_t lock;
	struct irq_line kbd_irq;
	struct irq_line aux_irq;
	bool kbd_irq_level;          /* last level driven on each line */
	bool aux_irq_level;

	uint8_t ctr;
	uint8_t outport;             /* output port P2: bit 0 reset (active low), bit 1 A20 */
	bool sys_flag;
	bool last_write_cmd;         /* status CMD/DATA bit */
	uint8_t pending_cmd;         /* command waiting for a data byte on 0x60; 0 = none */

	/* The output buffer the guest reads at 0x60. */
	bool ob_full;
	bool ob_aux;
	uint8_t ob_byte;
	uint8_t ob_last;             /* returned again when 0x60 is read while empty */
	/* Translation saw a set-2 break prefix (0xF0) and waits for its code. */
	bool xlate_break;

	/* Controller replies, delivered before keyboard and mouse data. */
	struct {
		uint8_t byte;
		bool aux;
	} ctrl_queue[I8042_CTRL_QUEUE_LEN];
	unsigned int ctrl_head;
	unsigned int ctrl_count;

	struct ps2_kbd kbd;
	struct ps2_mouse mouse;
	struct i8042_stats stats;
};

/*
 * Resets the controller and its devices and claims ports 0x60 and 0x64
 * (1-byte accesses) on `bus`. kbd_irq and aux_irq are the lines for IRQ 1
 * and IRQ 12 (a line without set_level stays unconnected). Returns 0,
 * -EEXIST when a port is taken or -ENOSPC when the bus is full; then nothing
 * is registered.
 */
int i8042_init(struct i8042 *i8042, struct bus *bus, struct irq_line kbd_irq,
	       struct irq_line aux_irq);

/* Power-on state (see the top of this file); lowers both IRQ lines. Keeps statistics. */
void i8042_reset(struct i8042 *i8042);

/* The keyboard and mouse as the input interface frontends deliver to. */
struct input_sink i8042_input_sink(struct i8042 *i8042);

/* Queues a PS/2 mouse packet without motion (ps2_mouse_doorbell) and
 * raises IRQ 12 when the guest enabled it: how the vmmouse device tells the
 * guest its queue has data. Any thread. */
void i8042_aux_doorbell(struct i8042 *i8042);

/* Counters for ignored commands and dropped keys/packets, one line per device. */
void i8042_print_stats(struct i8042 *i8042, FILE *out);   /* takes the lock */

#endif
