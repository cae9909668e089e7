/*
 * WebSocket (RFC 6455) for VNC viewers in a browser (noVNC), done by fbvm
 * itself so that libvncserver's WebSocket code never sees a socket: the
 * HTTP upgrade handshake and frame headers, as pure functions over bytes.
 * vnc/io.c does the I/O: it reads the upgrade request (at most
 * WS_MAX_REQUEST_BYTES, within VNC_MAX_CLIENT_WAIT_MS), answers it, then
 * unmasks the client's frames into the RFB byte stream that the gate
 * (vnc/gate.h) cuts into messages, and sends libvncserver's bytes back as
 * binary frames. Only binary frames carry RFB ("binary" subprotocol or
 * none; noVNC's old "base64" is refused). SHA-1 and base64 for
 * Sec-WebSocket-Accept come from nettle (which libvncserver links anyway).
 */
#ifndef FBVM_VNC_WEBSOCKET_H
#define FBVM_VNC_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The whole upgrade request, headers included; browsers send ~500 bytes. */
#define WS_MAX_REQUEST_BYTES 4096

/* Room the 101 response needs. */
#define WS_MAX_RESPONSE_BYTES 256

/* The longest frame header: 2 + 8 (64-bit length) + 4 (mask). */
#define WS_MAX_HEADER_BYTES 14

/* Control frames carry at most this (RFC 6455 5.5). */
#define WS_MAX_CONTROL_PAYLOAD 125

enum ws_opcode {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/*
 * Looks at the first `len` bytes of a client's upgrade request. Returns
 * -EAGAIN while the blank line ending the headers has not arrived, -EINVAL
 * for anything but a GET with "Upgrade: websocket", a Sec-WebSocket-Key and
 * (if it asks for subprotocols) "binary" among them; otherwise writes the
 * 101 response to resp (at least WS_MAX_RESPONSE_BYTES) and returns its
 * length. *request_bytes gets the request's length (what to consume).
 */
int ws_answer_upgrade(const char *req, size_t len, char *resp, size_t *request_bytes);

struct ws_frame {
	bool fin;
	enum ws_opcode opcode;
	uint64_t payload_bytes;
	size_t header_bytes;
	uint8_t mask[4];
};

/*
 * Parses a client frame header from the first `have` bytes. Returns 0 with
 * *f filled, -EAGAIN when more bytes are needed, -EINVAL for a frame a
 * client must not send (unmasked, reserved bits, an unknown opcode, a
 * control frame fragmented or over 125 bytes) and -E2BIG for a payload over
 * max_payload.
 */
int ws_parse_frame_header(const uint8_t *b, size_t have, uint64_t max_payload,
			  struct ws_frame *f);

/* Unmasks n payload bytes that start `offset` bytes into the payload. */
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* Writes a server (unmasked, final) frame header for a payload of len
 * bytes to out (at least 10 bytes); returns its length (2, 4 or 10: the
 * shortest form, as RFC 6455 5.2 requires). */
size_t ws_frame_header(uint8_t *out, enum ws_opcode opcode, uint64_t len);

#endif
