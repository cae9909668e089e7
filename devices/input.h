/*
 * The input interface frontends (VNC, SDL, the control socket) deliver to,
 * and input devices implement: the i8042 PS/2 keyboard and mouse, behind the
 * vmmouse absolute pointer (devices/vmmouse.h). Frontends never know which
 * device is behind it, nor whether the guest enabled absolute mode.
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
	/* An absolute position: pixel (x, y) of a width x height screen, the
	 * guest's display as the frontend shows it. x >= width or y >= height
	 * is clamped to the last pixel; a zero width or height carries no
	 * position (wheel and buttons still count). Wheel and buttons as above.
	 * The device scales the position to what the guest reads, or, when the
	 * guest has not enabled an absolute device, sends the motion from the
	 * previous position as relative motion. */
	void (*pointer_abs)(void *opaque, uint32_t x, uint32_t y, uint32_t width,
			    uint32_t height, int wheel, unsigned int buttons);
	/* Bytes of key scan codes queued for the guest and not read yet. A
	 * frontend that types faster than a person (the control socket) holds
	 * its next press while this is high, so a slow guest loses no keys.
	 * May be NULL. */
	unsigned int (*key_backlog)(void *opaque);
};

struct input_sink {
	const struct input_ops *ops;
	void *opaque;
};

#endif
