#include "ext_key.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/log.h"

static const struct vnc_ext_key_handler *ext_key_handler;

/* Enabled for every client at connect time, so a message 255 is understood
 * whenever it comes (QEMU accepts it without checking SetEncodings either);
 * data stays NULL, per-client state lives in the server's clientData. */
static rfbBool ext_key_new_client(rfbClientPtr cl, void **data)
{
	(void)cl;
	*data = NULL;
	return TRUE;
}

static rfbBool ext_key_enable(rfbClientPtr cl, void **data, int encoding)
{
	(void)data;
	if (encoding != VNC_ENCODING_EXT_KEY_EVENT)
		return FALSE;
	if (ext_key_handler && ext_key_handler->enabled)
		ext_key_handler->enabled(cl);
	return TRUE;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* libvncserver has read only the type byte; the rest is ours to read. */
static rfbBool ext_key_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
	uint8_t buf[VNC_EXT_KEY_MSG_BYTES];
	int n;

	(void)data;
	if (msg->type != VNC_MSG_QEMU)
		return FALSE;
	n = rfbReadExact(cl, (char *)buf + 1, 1);
	if (n > 0 && buf[1] != VNC_QEMU_EXT_KEY_EVENT) {
		/* Other QEMU subtypes (audio) have lengths we cannot know
		 * without implementing them: the stream cannot be resynced. */
		log_ratelimited(LOG_WARN, "vnc", "client %s sent QEMU message subtype %u:"
				" not supported, closing", cl->host, buf[1]);
		rfbCloseClient(cl);
		return TRUE;
	}
	if (n > 0)
		n = rfbReadExact(cl, (char *)buf + 2, VNC_EXT_KEY_MSG_BYTES - 2);
	if (n <= 0) {
		if (n < 0)
			rfbLogPerror("vnc ext key event: read");
		rfbCloseClient(cl);
		return TRUE;
	}
	if (!cl->viewOnly && ext_key_handler && ext_key_handler->event)
		ext_key_handler->event(cl, be32(buf + 4), be32(buf + 8),
				       ((uint16_t)buf[2] << 8 | buf[3]) != 0);
	return TRUE;
}

static int ext_key_encodings[] = { VNC_ENCODING_EXT_KEY_EVENT, 0 };

static rfbProtocolExtension ext_key_extension = {
	.newClient = ext_key_new_client,
	.pseudoEncodings = ext_key_encodings,
	.enablePseudoEncoding = ext_key_enable,
	.handleMessage = ext_key_message,
};

void vnc_ext_key_register(const struct vnc_ext_key_handler *handler)
{
	ext_key_handler = handler;
	/* Registering twice is a no-op in libvncserver. */
	rfbRegisterProtocolExtension(&ext_key_extension);
}

void vnc_ext_key_forget_client(rfbClientPtr cl)
{
	for (rfbExtensionData **link = &cl->extensions; *link; link = &(*link)->next) {
		rfbExtensionData *e = *link;
		if (e->extension == &ext_key_extension) {
			*link = e->next;
			free(e);
			return;
		}
	}
}

bool vnc_ext_key_send_ack(rfbClientPtr cl, int width, int height)
{
	struct {
		rfbFramebufferUpdateMsg fu;
		rfbFramebufferUpdateRectHeader rect;
	} __attribute__((packed)) ack;

	_Static_assert(sizeof(ack) == sz_rfbFramebufferUpdateMsg +
		       sz_rfbFramebufferUpdateRectHeader, "ack layout");
	memset(&ack, 0, sizeof(ack));
	ack.fu.type = rfbFramebufferUpdate;
	ack.fu.nRects = htons(1);
	ack.rect.r.x = 0;
	ack.rect.r.y = 0;
	ack.rect.r.w = htons((uint16_t)width);
	ack.rect.r.h = htons((uint16_t)height);
	ack.rect.encoding = htonl((uint32_t)VNC_ENCODING_EXT_KEY_EVENT);
	if (rfbWriteExact(cl, (const char *)&ack, sizeof(ack)) < 0) {
		rfbLogPerror("vnc ext key event ack: write");
		rfbCloseClient(cl);
		return false;
	}
	return true;
}
