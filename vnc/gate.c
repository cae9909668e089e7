#include "gate.h"

/* Client-to-server message types and fixed sizes (rfb/rfbproto.h names). */
enum {
	MSG_SET_PIXEL_FORMAT = 0,        /* 20 */
	MSG_FIX_COLOUR_MAP_ENTRIES = 1,  /* 6, then libvncserver closes */
	MSG_SET_ENCODINGS = 2,           /* 4 + 4 * u16 at 2 */
	MSG_FB_UPDATE_REQUEST = 3,       /* 10 */
	MSG_KEY_EVENT = 4,               /* 8 */
	MSG_POINTER_EVENT = 5,           /* 6 */
	MSG_CLIENT_CUT_TEXT = 6,         /* 8 + |s32 at 4| */
	MSG_FILE_TRANSFER = 7,           /* 12; disabled: closes after the header */
	MSG_SET_SCALE = 8,               /* 4 */
	MSG_SET_SERVER_INPUT = 9,        /* 4 */
	MSG_SET_SW = 10,                 /* 6 */
	MSG_TEXT_CHAT = 11,              /* 8 (+ u32 at 4 when below 4096) */
	MSG_PALM_SET_SCALE = 15,         /* 4 */
	MSG_XVP = 250,                   /* 4 */
	MSG_SET_DESKTOP_SIZE = 251,      /* 8 + 16 * u8 at 6 */
	MSG_QEMU = 255,                  /* 2; subtype 0 (Extended Key Event): 12 */
};

#define TEXT_CHAT_MAX 4096   /* rfbTextMaxSize: longer ones are refused unread */

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* header bytes needed to size it, then the size from them */
static size_t sized(size_t have, size_t header, uint64_t total)
{
	if (have < header)
		return header;
	return total > VNC_GATE_MAX_BYTES ? 0 : (size_t)total;
}

size_t vnc_gate_message_bytes(enum vnc_gate_phase phase, const uint8_t *buf, size_t have)
{
	switch (phase) {
	case VNC_GATE_VERSION:
		return 12;
	case VNC_GATE_SECURITY:
	case VNC_GATE_INIT:
		return 1;
	case VNC_GATE_AUTH:
		return 16;
	case VNC_GATE_NORMAL:
		break;
	}
	switch (buf[0]) {
	case MSG_SET_PIXEL_FORMAT:
		return 20;
	case MSG_FIX_COLOUR_MAP_ENTRIES:
		return 6;
	case MSG_SET_ENCODINGS:
		return sized(have, 4, have >= 4 ? 4 + 4 * (uint64_t)be16(buf + 2) : 0);
	case MSG_FB_UPDATE_REQUEST:
		return 10;
	case MSG_KEY_EVENT:
		return 8;
	case MSG_POINTER_EVENT:
		return 6;
	case MSG_CLIENT_CUT_TEXT: {
		/* A negative length is an extended-clipboard message of -length
		 * bytes. */
		int32_t len = have >= 8 ? (int32_t)be32(buf + 4) : 0;
		uint64_t payload = len < 0 ? (uint64_t)-(int64_t)len : (uint64_t)len;
		return sized(have, 8, 8 + payload);
	}
	case MSG_FILE_TRANSFER:
		return 12;
	case MSG_SET_SCALE:
	case MSG_SET_SERVER_INPUT:
	case MSG_PALM_SET_SCALE:
	case MSG_XVP:
		return 4;
	case MSG_SET_SW:
		return 6;
	case MSG_TEXT_CHAT: {
		uint32_t len = have >= 8 ? be32(buf + 4) : 0;
		return sized(have, 8, len < TEXT_CHAT_MAX ? 8 + (uint64_t)len : 8);
	}
	case MSG_SET_DESKTOP_SIZE:
		return sized(have, 8, have >= 8 ? 8 + 16 * (uint64_t)buf[6] : 0);
	case MSG_QEMU:
		if (have < 2)
			return 2;
		/* Other subtypes are refused after reading the subtype. */
		return buf[1] == 0 ? 12 : 2;
	default:
		return 0;
	}
}

void vnc_gate_start(struct vnc_gate *g, unsigned int minor, bool auth)
{
	if (minor >= 7)
		g->phase = VNC_GATE_SECURITY;
	else
		g->phase = auth ? VNC_GATE_AUTH : VNC_GATE_INIT;
}

void vnc_gate_passed(struct vnc_gate *g, const uint8_t *msg)
{
	switch (g->phase) {
	case VNC_GATE_VERSION:
		/* The I/O thread reads the version itself; 3.8 is the default. */
		g->phase = VNC_GATE_SECURITY;
		break;
	case VNC_GATE_SECURITY:
		/* Any other choice than VNC authentication either needs no more
		 * bytes (None) or is refused by libvncserver, which closes. */
		g->phase = msg[0] == VNC_GATE_SECURITY_VNC_AUTH ? VNC_GATE_AUTH : VNC_GATE_INIT;
		break;
	case VNC_GATE_AUTH:
		g->phase = VNC_GATE_INIT;
		break;
	case VNC_GATE_INIT:
	case VNC_GATE_NORMAL:
		g->phase = VNC_GATE_NORMAL;
		break;
	}
}
