#include "input.h"

#include <string.h>

#include "hypervisor/log.h"
#include "vnc/keysym_qnum.h"

uint16_t vnc_keysym_to_qnum(uint32_t keysym)
{
	size_t lo = 0, hi = keysym_qnum_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = keysym_qnum_table[mid].keysym;

		if (k == keysym)
			return keysym_qnum_table[mid].qnum;
		if (k < keysym)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void vnc_input_client_init(struct vnc_input_client *c)
{
	memset(c, 0, sizeof(*c));
	c->last_x = c->last_y = -1;
}

static bool held(const struct vnc_input_client *c, uint16_t qnum)
{
	return c->held[qnum / 64] & (1ull << (qnum % 64));
}

static void set_held(struct vnc_input_client *c, uint16_t qnum, bool down)
{
	if (down)
		c->held[qnum / 64] |= 1ull << (qnum % 64);
	else
		c->held[qnum / 64] &= ~(1ull << (qnum % 64));
}

static void send_key(struct vnc_input *in, uint16_t qnum, bool down)
{
	if (in->sink.ops && in->sink.ops->key)
		in->sink.ops->key(in->sink.opaque, qnum, down);
}

/* qnum is 1..255. */
static bool key_event(struct vnc_input *in, struct vnc_input_client *c, uint16_t qnum, bool down)
{
	if (!down && !held(c, qnum)) {
		in->stats.stray_releases++;
		return false;
	}
	set_held(c, qnum, down);
	in->stats.key_events++;
	send_key(in, qnum, down);
	return true;
}

void vnc_input_keysym(struct vnc_input *in, struct vnc_input_client *c, uint32_t keysym,
		      bool down)
{
	uint16_t qnum = vnc_keysym_to_qnum(keysym);

	if (!qnum) {
		in->stats.unknown_keysyms++;
		log_debug("vnc", "ignored keysym 0x%x: no key on a US keyboard", keysym);
		return;
	}
	key_event(in, c, qnum, down);
}

void vnc_input_ext_key(struct vnc_input *in, struct vnc_input_client *c, uint32_t keysym,
		       uint32_t keycode, bool down)
{
	/* QEMU ui/vnc.c does the same: a client that knows no code for the key
	 * (keycode 0) leaves it to the keysym table. */
	if (keycode == 0) {
		vnc_input_keysym(in, c, keysym, down);
		return;
	}
	if (keycode >= VNC_QNUM_COUNT) {
		in->stats.bad_keycodes++;
		log_debug("vnc", "ignored extended key event keycode=0x%x: not a qnum", keycode);
		return;
	}
	if (key_event(in, c, (uint16_t)keycode, down))
		in->stats.ext_key_events++;
}

static int clamp(int v, uint32_t size)
{
	if (v < 0)
		return 0;
	if ((uint32_t)v >= size)
		return size ? (int)size - 1 : 0;
	return v;
}

static unsigned int buttons_of(unsigned int mask)
{
	return (mask & VNC_MASK_LEFT ? INPUT_BUTTON_LEFT : 0) |
	       (mask & VNC_MASK_MIDDLE ? INPUT_BUTTON_MIDDLE : 0) |
	       (mask & VNC_MASK_RIGHT ? INPUT_BUTTON_RIGHT : 0);
}

void vnc_input_pointer(struct vnc_input *in, struct vnc_input_client *c, unsigned int mask,
		       int x, int y, uint32_t width, uint32_t height)
{
	unsigned int pressed = mask & ~c->last_mask;
	unsigned int buttons = buttons_of(mask);
	int wheel = 0;

	x = clamp(x, width);
	y = clamp(y, height);
	/* Clients press and release the wheel "buttons" once per step. */
	if (pressed & VNC_MASK_WHEEL_UP)
		wheel++;
	if (pressed & VNC_MASK_WHEEL_DOWN)
		wheel--;
	if (x == c->last_x && y == c->last_y && !wheel &&
	    buttons == buttons_of(c->last_mask)) {
		c->last_mask = mask;
		return;
	}
	c->last_x = x;
	c->last_y = y;
	c->last_mask = mask;
	in->stats.pointer_events++;
	if (in->sink.ops && in->sink.ops->pointer_abs)
		in->sink.ops->pointer_abs(in->sink.opaque, (uint32_t)x, (uint32_t)y, width, height,
					  wheel, buttons);
}

void vnc_input_release_all(struct vnc_input *in, struct vnc_input_client *c)
{
	for (unsigned int qnum = 0; qnum < VNC_QNUM_COUNT; qnum++) {
		if (!held(c, (uint16_t)qnum))
			continue;
		set_held(c, (uint16_t)qnum, false);
		in->stats.released_on_disconnect++;
		send_key(in, (uint16_t)qnum, false);
	}
	if (buttons_of(c->last_mask) && in->sink.ops && in->sink.ops->pointer)
		in->sink.ops->pointer(in->sink.opaque, 0, 0, 0, 0);
	c->last_mask = 0;
}
