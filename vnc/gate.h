/*
 * Lets libvncserver see only complete client messages. libvncserver reads
 * the rest of a message it has started with blocking reads (up to
 * maxClientWait), so on our single loop a client that sends half a message
 * would stall every other client and the input path. Before each
 * rfbProcessEvents the vnc thread peeks at each client's socket: a client
 * whose next message has not fully arrived is put on hold for that round
 * (libvncserver skips clients on hold), and dropped if it stays incomplete
 * for VNC_MAX_CLIENT_WAIT_MS.
 *
 * Message sizes are RFC 6143 section 7 plus the extensions libvncserver
 * 0.9.14 handles (rfb/rfbproto.h) and QEMU's Extended Key Event. Message
 * types the gate does not know are passed through: libvncserver closes the
 * client on unknown types without reading further.
 */
#ifndef FBVM_VNC_GATE_H
#define FBVM_VNC_GATE_H

#include <stddef.h>
#include <stdint.h>

/* Where the client is in the protocol (libvncserver's cl->state). */
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

/* Messages longer than this are passed to libvncserver once their header
 * is there: a socket's receive buffer may be smaller than, say, a 1 MiB
 * clipboard paste, which would then never look complete. */
#define VNC_GATE_MAX_BYTES (64u * 1024)

/*
 * Given the first `have` bytes (1 <= have <= VNC_GATE_PEEK_BYTES) of the
 * client's next message in `phase`, returns how many bytes the whole
 * message takes: at most `have` when what is there already tells it is
 * complete, more when libvncserver would block reading the rest, a header
 * length > have when the size is not known yet. Returns 0 when the gate has
 * no opinion (unknown message type, or longer than VNC_GATE_MAX_BYTES):
 * let libvncserver handle it.
 */
size_t vnc_gate_message_bytes(enum vnc_gate_phase phase, const uint8_t *buf, size_t have);

#endif
