/*
 * The input interface frontends (VNC, SDL) deliver to, and input devices
 * (the i8042 PS/2 keyboard and mouse) implement. Frontends never know which
 * device is behind it.
 */
#ifndef FBVM_INPUT_H
#define FBVM_INPUT_H

#include <stdbool.h>
#include <stdint.h>

/* Key codes are QEMU "qnum" numbers: the PC XT (scan code set 1) make code,
 * with E0-prefixed keys as 0x80 | code — the code QEMU's Extended Key Event
 * carries. */
#define INPUT_BUTTON_LEFT   0x01
#define INPUT_BUTTON_MIDDLE 0x02
#define INPUT_BUTTON_RIGHT  0x04

struct input_ops {
	void (*key)(void *opaque, uint16_t qnum, bool down);
	/* Relative motion (dy positive = down, as on screen), wheel steps
	 * (positive = up) and the buttons now held (INPUT_BUTTON_*). */
	void (*pointer)(void *opaque, int dx, int dy, int wheel, unsigned int buttons);
};

struct input_sink {
	const struct input_ops *ops;
	void *opaque;
};

#endif
