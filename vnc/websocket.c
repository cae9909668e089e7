#include "websocket.h"

#include <errno.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 6455 1.3: appended to the client's key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* A client key is the base64 of 16 bytes: 24 characters. */
#define WS_KEY_MAX 64

/* The value of header `name` in headers [p, end), trimmed; false if absent. */
static bool ws_header(const char *p, const char *end, const char *name, const char **val,
		      size_t *val_len)
{
	size_t name_len = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end;

		if ((size_t)(line_end - p) > name_len && p[name_len] == ':' &&
		    strncasecmp(p, name, name_len) == 0) {
			const char *v = p + name_len + 1, *e = line_end;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*val = v;
			*val_len = (size_t)(e - v);
			return true;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return false;
}

/* Whether the comma-separated list [v, v + n) has `token` (any case). */
static bool ws_list_has(const char *v, size_t n, const char *token)
{
	size_t t = strlen(token);
	const char *end = v + n;

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *e = comma ? comma : end;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - v) == t && strncasecmp(v, token, t) == 0)
			return true;
		if (!comma)
			break;
		v = comma + 1;
	}
	return false;
}

int ws_answer_upgrade(const char *req, size_t len, char *resp, size_t *request_bytes)
{
	const char *end = NULL, *key, *upgrade, *proto;
	size_t key_len, upgrade_len, proto_len;
	bool want_binary = false;
	char keybuf[WS_KEY_MAX + sizeof(ws_guid)];
	uint8_t digest[SHA1_DIGEST_SIZE];
	char accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
	struct sha1_ctx sha;
	int n;

	for (size_t i = 0; i + 4 <= len; i++) {
		if (!memcmp(req + i, "\r\n\r\n", 4)) {
			end = req + i + 4;
			break;
		}
	}
	if (!end)
		return len >= WS_MAX_REQUEST_BYTES ? -EINVAL : -EAGAIN;
	*request_bytes = (size_t)(end - req);
	if (len < 4 || memcmp(req, "GET ", 4) != 0)
		return -EINVAL;
	if (!ws_header(req, end, "Upgrade", &upgrade, &upgrade_len) ||
	    !ws_list_has(upgrade, upgrade_len, "websocket"))
		return -EINVAL;
	if (!ws_header(req, end, "Sec-WebSocket-Key", &key, &key_len) || key_len == 0 ||
	    key_len > WS_KEY_MAX)
		return -EINVAL;
	if (ws_header(req, end, "Sec-WebSocket-Protocol", &proto, &proto_len)) {
		/* Asked for subprotocols: only binary RFB is spoken. */
		if (!ws_list_has(proto, proto_len, "binary"))
			return -EINVAL;
		want_binary = true;
	}
	memcpy(keybuf, key, key_len);
	memcpy(keybuf + key_len, ws_guid, sizeof(ws_guid) - 1);
	sha1_init(&sha);
	sha1_update(&sha, key_len + sizeof(ws_guid) - 1, (const uint8_t *)keybuf);
	sha1_digest(&sha, sizeof(digest), digest);
	base64_encode_raw((char *)accept, sizeof(digest), digest);
	accept[sizeof(accept) - 1] = '\0';
	n = snprintf(resp, WS_MAX_RESPONSE_BYTES,
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n"
		     "%s\r\n", accept, want_binary ? "Sec-WebSocket-Protocol: binary\r\n" : "");
	return n;
}

int ws_parse_frame_header(const uint8_t *b, size_t have, uint64_t max_payload,
			  struct ws_frame *f)
{
	size_t need = 2;
	uint64_t len;

	if (have < 2)
		return -EAGAIN;
	f->fin = b[0] & 0x80;
	f->opcode = (enum ws_opcode)(b[0] & 0x0f);
	if (b[0] & 0x70)
		return -EINVAL;                 /* no extension was negotiated */
	if (!(b[1] & 0x80))
		return -EINVAL;                 /* RFC 6455 5.1: clients mask */
	switch (f->opcode) {
	case WS_OP_CONTINUATION:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!f->fin || (b[1] & 0x7f) > WS_MAX_CONTROL_PAYLOAD)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	len = b[1] & 0x7f;
	if (len == 126)
		need += 2;
	else if (len == 127)
		need += 8;
	need += 4;
	if (have < need)
		return -EAGAIN;
	if (len == 126) {
		len = (uint64_t)b[2] << 8 | b[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | b[2 + i];
	}
	if (len > max_payload)
		return -E2BIG;
	memcpy(f->mask, b + need - 4, 4);
	f->payload_bytes = len;
	f->header_bytes = need;
	return 0;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(offset + i) & 3];
}

size_t ws_frame_header(uint8_t *out, enum ws_opcode opcode, uint64_t len)
{
	out[0] = 0x80 | (uint8_t)opcode;
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}
