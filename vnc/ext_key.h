/*
 * QEMU's Extended Key Event (rfbproto: "QEMU Extended Key Event Message",
 * pseudo-encoding -258) as a libvncserver protocol extension, which
 * libvncserver 0.9.14's server lacks. A client that announces -258 in
 * SetEncodings gets the acknowledgement QEMU sends (ui/vnc.c
 * send_ext_key_event_ack: a FramebufferUpdate with one rectangle of encoding
 * -258 covering the screen) and may then send client message 255 subtype 0:
 *   u8 255, u8 0, u16 down, u32 keysym, u32 keycode   (12 bytes, big-endian)
 * where keycode is the physical key as a qnum, so typing works whatever the
 * client's keyboard layout. noVNC, TigerVNC, gtk-vnc and libvncclient send it.
 */
#ifndef FBVM_VNC_EXT_KEY_H
#define FBVM_VNC_EXT_KEY_H

#include <rfb/rfb.h>
#include <stdbool.h>
#include <stdint.h>

#define VNC_ENCODING_EXT_KEY_EVENT  (-258)
#define VNC_MSG_QEMU                255
#define VNC_QEMU_EXT_KEY_EVENT      0
#define VNC_EXT_KEY_MSG_BYTES       12

/* What the VNC server does with the extension's events; both run on the vnc
 * thread inside rfbProcessEvents. */
struct vnc_ext_key_handler {
	/* The client announced -258 (again): acknowledge it. */
	void (*enabled)(rfbClientPtr cl);
	void (*event)(rfbClientPtr cl, uint32_t keysym, uint32_t keycode, bool down);
};

/* Registers the extension with libvncserver (process-wide, once) and sets the
 * handler for every server in the process. */
void vnc_ext_key_register(const struct vnc_ext_key_handler *handler);

/* Frees the record libvncserver keeps for this extension on cl (0.9.14 never
 * frees protocol-extension records). Call from the clientGoneHook. */
void vnc_ext_key_forget_client(rfbClientPtr cl);

/* Sends the acknowledgement for a width x height screen. False when the write
 * failed (the client is then closed). */
bool vnc_ext_key_send_ack(rfbClientPtr cl, int width, int height);

#endif
