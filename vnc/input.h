/*
 * VNC input → the input interface (devices/input.h): X11 keysyms and QEMU
 * Extended Key Event codes to qnums, RFB pointer events to absolute
 * positions, buttons and wheel steps. Pure logic with per-client state, no
 * libvncserver: every value comes from an untrusted client and is checked
 * here. Runs on the vnc thread only.
 */
#ifndef FBVM_VNC_INPUT_H
#define FBVM_VNC_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/input.h"

/* RFB PointerEvent button-mask bits (RFC 6143 7.5.5). */
#define VNC_MASK_LEFT       0x01
#define VNC_MASK_MIDDLE     0x02
#define VNC_MASK_RIGHT      0x04
#define VNC_MASK_WHEEL_UP   0x08
#define VNC_MASK_WHEEL_DOWN 0x10

/* qnums are bytes (input.h). */
#define VNC_QNUM_COUNT 256

struct vnc_input_client {
	uint64_t held[VNC_QNUM_COUNT / 64];   /* keys this client pressed, not yet released */
	int last_x, last_y;                  /* clamped position of the last pointer event; -1: none */
	unsigned int last_mask;              /* RFB button mask of the last pointer event */
};

struct vnc_input_stats {
	uint64_t key_events;        /* key presses and releases forwarded */
	uint64_t ext_key_events;    /* of those, from QEMU Extended Key Events */
	uint64_t unknown_keysyms;   /* keysyms with no US-layout key: ignored */
	uint64_t bad_keycodes;      /* Extended Key Event codes above 0xFF: ignored */
	uint64_t stray_releases;    /* releases of keys the client did not hold: ignored */
	uint64_t pointer_events;    /* pointer events forwarded (motion, buttons or wheel) */
	uint64_t released_on_disconnect;  /* keys released because their client left */
};

struct vnc_input {
	struct input_sink sink;     /* where events go; ops NULL: nowhere */
	struct vnc_input_stats stats;
};

/* The qnum of the key producing keysym on a US keyboard, 0 when none. */
uint16_t vnc_keysym_to_qnum(uint32_t keysym);

void vnc_input_client_init(struct vnc_input_client *c);

/* An RFB KeyEvent. Unknown keysyms are ignored (debug log). Presses of a
 * held key are passed on (typematic repeat); a release is passed on only for
 * a key this client holds. */
void vnc_input_keysym(struct vnc_input *in, struct vnc_input_client *c, uint32_t keysym,
		      bool down);

/* A QEMU Extended Key Event: keycode is a qnum; 0 means "use the keysym". */
void vnc_input_ext_key(struct vnc_input *in, struct vnc_input_client *c, uint32_t keysym,
		       uint32_t keycode, bool down);

/* An RFB PointerEvent at (x, y) on a width x height screen: the position,
 * clamped to the screen, goes to the sink's pointer_abs (the device turns it
 * into relative motion if the guest has no absolute pointer), buttons come
 * from mask bits 0-2 and a wheel step from each press of bit 3 (up) or 4
 * (down). Nothing is sent when nothing changed since this client's last event. */
void vnc_input_pointer(struct vnc_input *in, struct vnc_input_client *c, unsigned int mask,
		       int x, int y, uint32_t width, uint32_t height);

/* Releases every key and button the client holds (it disconnected). */
void vnc_input_release_all(struct vnc_input *in, struct vnc_input_client *c);

#endif
