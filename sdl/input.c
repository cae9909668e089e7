#include "input.h"

#include <string.h>

#include "sdl/usb_qnum.h"

/* Modifier qnums (set-1 make codes; 0x80 | code for the E0-prefixed right ones). */
#define QNUM_LEFT_CTRL  0x1D
#define QNUM_RIGHT_CTRL 0x9D
#define QNUM_LEFT_ALT   0x38
#define QNUM_RIGHT_ALT  0xB8

static bool held(const struct sdl_input *in, uint8_t qnum)
{
	return in->held[qnum / 64] >> (qnum % 64) & 1;
}

static void set_held(struct sdl_input *in, uint8_t qnum, bool down)
{
	if (down)
		in->held[qnum / 64] |= 1ull << (qnum % 64);
	else
		in->held[qnum / 64] &= ~(1ull << (qnum % 64));
}

static void send_key(struct sdl_input *in, uint8_t qnum, bool down)
{
	set_held(in, qnum, down);
	in->stats.keys++;
	if (in->sink.ops)
		in->sink.ops->key(in->sink.opaque, qnum, down);
}

static void send_pointer(struct sdl_input *in, int dx, int dy, int wheel)
{
	in->stats.pointer_events++;
	if (in->sink.ops)
		in->sink.ops->pointer(in->sink.opaque, dx, dy, wheel, in->buttons);
}

void sdl_input_init(struct sdl_input *in, struct input_sink sink)
{
	memset(in, 0, sizeof(*in));
	in->sink = sink;
}

enum sdl_key_result sdl_input_key(struct sdl_input *in, uint32_t usage, bool down)
{
	uint8_t qnum = usage < USB_QNUM_COUNT ? sdl_usb_to_qnum[usage] : 0;

	if (usage == SDL_INPUT_GRAB_USAGE) {
		if (in->grab_key_down) {
			/* Auto-repeats and the release of the G we kept. */
			if (!down)
				in->grab_key_down = false;
			return SDL_INPUT_DROPPED;
		}
		if (down && (held(in, QNUM_LEFT_CTRL) || held(in, QNUM_RIGHT_CTRL)) &&
		    (held(in, QNUM_LEFT_ALT) || held(in, QNUM_RIGHT_ALT))) {
			in->grab_key_down = true;
			in->stats.grab_toggles++;
			return SDL_INPUT_GRAB_TOGGLE;
		}
	}
	if (!qnum) {
		if (down)
			in->stats.unknown_scancodes++;
		return SDL_INPUT_DROPPED;
	}
	if (!down && !held(in, qnum)) {
		in->stats.stray_releases++;
		return SDL_INPUT_DROPPED;
	}
	send_key(in, qnum, down);
	return SDL_INPUT_PASSED;
}

void sdl_input_release_all(struct sdl_input *in)
{
	for (unsigned int q = 0; q < USB_QNUM_COUNT; q++) {
		if (held(in, (uint8_t)q)) {
			send_key(in, (uint8_t)q, false);
			in->stats.auto_released++;
		}
	}
	in->grab_key_down = false;
	if (in->buttons) {
		in->buttons = 0;
		send_pointer(in, 0, 0, 0);
	}
}

void sdl_input_motion_to(struct sdl_input *in, uint32_t gx, uint32_t gy, uint32_t width,
			 uint32_t height)
{
	if (in->have_pos && gx == in->gx && gy == in->gy && width == in->width &&
	    height == in->height)
		return;
	in->gx = gx;
	in->gy = gy;
	in->width = width;
	in->height = height;
	in->have_pos = true;
	in->stats.pointer_events++;
	if (in->sink.ops && in->sink.ops->pointer_abs)
		in->sink.ops->pointer_abs(in->sink.opaque, gx, gy, width, height, 0, in->buttons);
}

void sdl_input_motion_by(struct sdl_input *in, int32_t dx, int32_t dy)
{
	if (dx || dy)
		send_pointer(in, dx, dy, 0);
}

void sdl_input_button(struct sdl_input *in, unsigned int button, bool down)
{
	unsigned int before = in->buttons;

	if (down)
		in->buttons |= button;
	else
		in->buttons &= ~button;
	if (in->buttons != before)
		send_pointer(in, 0, 0, 0);
}

void sdl_input_wheel(struct sdl_input *in, int32_t steps)
{
	if (steps)
		send_pointer(in, 0, 0, steps);
}

void sdl_input_forget_position(struct sdl_input *in)
{
	in->have_pos = false;
}
