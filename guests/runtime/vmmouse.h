/*
 * VMware's absolute pointer (vmmouse) as Linux's
 * drivers/input/mouse/vmmouse.c drives it: one `inl` at the backdoor port
 * 0x5658 with the magic in EAX and a command in ECX; results in EAX..EDX.
 * The host side is fbvm's devices/vmmouse.c, or QEMU's -device vmmouse.
 */
#ifndef GUEST_VMMOUSE_H
#define GUEST_VMMOUSE_H

#include <stdint.h>

#define VMMOUSE_PORT                    0x5658
#define VMMOUSE_MAGIC                   0x564D5868u
#define VMMOUSE_CMD_GETVERSION          10
#define VMMOUSE_CMD_ABSPOINTER_DATA     39
#define VMMOUSE_CMD_ABSPOINTER_STATUS   40
#define VMMOUSE_CMD_ABSPOINTER_COMMAND  41
#define VMMOUSE_SUB_ENABLE              0x45414552u
#define VMMOUSE_SUB_REQUEST_ABSOLUTE    0x53424152u
#define VMMOUSE_VERSION_ID              0x3442554Au
#define VMMOUSE_STATUS_ERROR            0xFFFF0000u
#define VMMOUSE_RELATIVE_PACKET         0x00010000u
#define VMMOUSE_LEFT_BUTTON             0x20u
#define VMMOUSE_RIGHT_BUTTON            0x10u
#define VMMOUSE_MIDDLE_BUTTON           0x08u

struct vmmouse_packet {
	uint32_t status;        /* buttons | VMMOUSE_RELATIVE_PACKET */
	uint32_t x, y;          /* 0..0xFFFF, or relative motion (y up) */
	uint32_t z;             /* wheel: low byte, signed, positive down */
};

/* GETVERSION as vmmouse_detect(): the version (EAX), or -ENODEV when EBX
 * does not come back as the magic. */
int vmmouse_detect(uint32_t *version);

/* vmmouse_enable(): ENABLE, STATUS (must count the version), DATA(1) =
 * VMMOUSE_VERSION_ID, REQUEST_ABSOLUTE. 0, or -ENODEV / -EIO with *detail
 * (the status or word that was wrong). */
int vmmouse_enable(uint32_t *detail);

/* ABSPOINTER_STATUS: EAX as the host answered (error bits | words queued). */
uint32_t vmmouse_status(void);

/* vmmouse_report_events(), one packet: 1 and *p, 0 when the queue is empty,
 * -EIO when STATUS says error, -EINVAL when the queue is not whole packets. */
int vmmouse_read(struct vmmouse_packet *p, uint32_t *status);

#endif
