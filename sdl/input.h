/*
 * The SDL window's keyboard and mouse, turned into input-sink calls (the
 * guest's i8042), without SDL types so tests/test_sdl_input.c can drive it.
 * Main thread only (the window's event loop).
 *
 * Keys: SDL scancodes are USB HID usages; sdl/usb_qnum.c maps them to qnums
 * by position, so the host's keyboard layout does not matter (the guest
 * applies its own). Auto-repeated presses are passed on as presses, as a
 * PC keyboard's typematic repeat sends them. A release of a key the guest
 * was never told is down is dropped. Ctrl-Alt-G (either Ctrl, either Alt)
 * toggles the grab and is not passed on; Ctrl and Alt already were, as in
 * QEMU.
 *
 * Mouse: ungrabbed, the window position is mapped to a guest pixel and
 * passed on as an absolute position (the device makes relative PS/2 motion
 * of it while the guest has no absolute pointer); grabbed (SDL relative
 * mode), the raw motion is passed on as relative motion. Buttons and the
 * wheel go as relative events without motion: the device keeps the position.
 */
#ifndef FBVM_SDL_INPUT_H
#define FBVM_SDL_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/input.h"

/* USB usage of the G key (SDL_SCANCODE_G): Ctrl-Alt-G, QEMU's grab key. */
#define SDL_INPUT_GRAB_USAGE 0x0A
/* How the title says it. */
#define SDL_INPUT_GRAB_KEY_NAME "Ctrl-Alt-G"

struct sdl_input_stats {
	uint64_t keys;                 /* presses and releases passed on */
	uint64_t unknown_scancodes;    /* presses of keys with no PC scancode */
	uint64_t stray_releases;       /* releases of keys not down for the guest */
	uint64_t auto_released;           /* keys released by fbvm: focus lost, closed */
	uint64_t pointer_events;       /* pointer events passed on */
	uint64_t grab_toggles;
};

struct sdl_input {
	struct input_sink sink;
	uint64_t held[4];              /* qnums the guest was told are down */
	bool grab_key_down;            /* the G of Ctrl-Alt-G: its release is ours */
	unsigned int buttons;          /* INPUT_BUTTON_* held */
	bool have_pos;                 /* gx, gy, width, height valid */
	uint32_t gx, gy;               /* the guest pixel the pointer was last mapped to */
	uint32_t width, height;        /* of the guest screen then */
	struct sdl_input_stats stats;
};

enum sdl_key_result {
	SDL_INPUT_PASSED,        /* the guest got it */
	SDL_INPUT_DROPPED,       /* unknown key, or a stray release */
	SDL_INPUT_GRAB_TOGGLE,   /* Ctrl-Alt-G pressed: toggle the grab */
};

void sdl_input_init(struct sdl_input *in, struct input_sink sink);

/* A key event: usage = SDL_Scancode. */
enum sdl_key_result sdl_input_key(struct sdl_input *in, uint32_t usage, bool down);

/* Releases every key and button the guest holds (focus lost, shutdown). */
void sdl_input_release_all(struct sdl_input *in);

/* Ungrabbed motion: the pointer is over guest pixel (gx, gy) of a
 * width x height screen; sent unless it is where it was. */
void sdl_input_motion_to(struct sdl_input *in, uint32_t gx, uint32_t gy, uint32_t width,
			 uint32_t height);

/* Grabbed motion: raw relative movement (dy positive = down). */
void sdl_input_motion_by(struct sdl_input *in, int32_t dx, int32_t dy);

/* A button pressed or released: INPUT_BUTTON_* bit. */
void sdl_input_button(struct sdl_input *in, unsigned int button, bool down);

/* Wheel steps, positive = away from the user (up). */
void sdl_input_wheel(struct sdl_input *in, int32_t steps);

/* The guest's pointer and the host's no longer match (grab changed): the
 * next position is sent even where it was. */
void sdl_input_forget_position(struct sdl_input *in);

#endif
