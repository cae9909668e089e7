/*
 * Sizes client messages so libvncserver only ever sees complete ones.
 * libvncserver reads the rest of a message it has started with blocking
 * reads (up to maxClientWait), so on its single loop a client that sent
 * half a message would stall every other client and the input path. The
 * I/O thread (vnc/io.h) buffers each client's bytes and passes a message on
 * to libvncserver only once all of it is there; it follows the client
 * through the handshake with struct vnc_gate.
 *
 * Message sizes are RFC 6143 section 7 plus the extensions libvncserver
 * 0.9.14 handles (rfb/rfbproto.h) and QEMU's Extended Key Event. Message
 * types the gate does not know, and messages longer than VNC_GATE_MAX_BYTES,
 * are refused: libvncserver would close the client on them anyway (unknown
 * types after one byte, clipboard text over 1 MiB after its header), and
 * refusing before buffering bounds what a client can make us hold.
 */
#ifndef FBVM_VNC_GATE_H
#define FBVM_VNC_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the client is in the protocol (what it sends next). */
enum vnc_gate_phase {
	VNC_GATE_VERSION,      /* ProtocolVersion: 12 bytes */
	VNC_GATE_SECURITY,     /* security type choice: 1 byte */
	VNC_GATE_AUTH,         /* VNC authentication response: 16 bytes */
	VNC_GATE_INIT,         /* ClientInit: 1 byte */
	VNC_GATE_NORMAL,       /* client-to-server messages */
};

/* Bytes of header that always suffice to size any message (SetDesktopSize
 * needs 8). */
#define VNC_GATE_PEEK_BYTES 8

/* The longest message passed on: a 1 MiB clipboard paste (libvncserver's
 * own limit for ClientCutText) with its 8-byte header. SetEncodings with
 * all 65535 entries (256 KiB) fits too. */
#define VNC_GATE_MAX_BYTES (8u + (1u << 20))

/* RFB security type 2, VNC authentication: a 16-byte response follows. */
#define VNC_GATE_SECURITY_VNC_AUTH 2

/* One client's place in the protocol, after its ProtocolVersion. */
struct vnc_gate {
	enum vnc_gate_phase phase;
};

/*
 * Starts following a client whose ProtocolVersion said 3.minor. RFB 3.3
 * (libvncserver: minor below 7) has no security type choice: the server
 * decides, and `auth` says whether it asks for VNC authentication.
 */
void vnc_gate_start(struct vnc_gate *g, unsigned int minor, bool auth);

/*
 * Given the first `have` bytes (1 <= have <= VNC_GATE_PEEK_BYTES) of the
 * client's next message in `phase`, returns how many bytes the whole
 * message takes: at most `have` when what is there already tells it is
 * complete, more when the rest has not arrived, a header length > have when
 * the size is not known yet. Returns 0 for a message to refuse (unknown
 * type, or longer than VNC_GATE_MAX_BYTES): close the client.
 */
size_t vnc_gate_message_bytes(enum vnc_gate_phase phase, const uint8_t *buf, size_t have);

/* Moves g past one complete message `msg` (its first byte is enough). */
void vnc_gate_passed(struct vnc_gate *g, const uint8_t *msg);

#endif
