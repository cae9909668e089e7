/*
 * The PC's i8042 keyboard controller and the AT keyboard behind it, at the
 * level Linux's i8042.c / atkbd.c drive them (shared/specs/interfaces.md
 * section 5): constants and polled primitives. Sequences (which command,
 * which reply to expect) belong to the guest.
 *
 * Timeouts are measured in PIT ticks, so the caller starts the timer
 * (timer_start(hz)) and passes its rate to i8042_set_tick_hz() first;
 * without that (hz 0) a timeout of T ms allows T * 1000 status polls, each
 * a VM exit of a microsecond or more.
 */
#ifndef GUEST_I8042_H
#define GUEST_I8042_H

#include <stdint.h>

#define I8042_DATA_PORT         0x60
#define I8042_STATUS_PORT       0x64    /* read */
#define I8042_COMMAND_PORT      0x64    /* write */
#define I8042_BUFFER_SIZE       16      /* Linux: bytes i8042_flush() drains at most */

/* Status register. */
#define I8042_STR_OBF           0x01
#define I8042_STR_IBF           0x02
#define I8042_STR_SYSFLAG       0x04
#define I8042_STR_CMDDAT        0x08
#define I8042_STR_KEYLOCK       0x10    /* 1 = not inhibited */
#define I8042_STR_AUXDATA       0x20
#define I8042_STR_TIMEOUT       0x40
#define I8042_STR_PARITY        0x80

/* Controller configuration byte (CTR). */
#define I8042_CTR_KBDINT        0x01
#define I8042_CTR_AUXINT        0x02
#define I8042_CTR_SYS           0x04
#define I8042_CTR_IGNKEYLOCK    0x08
#define I8042_CTR_KBDDIS        0x10
#define I8042_CTR_AUXDIS        0x20
#define I8042_CTR_XLATE         0x40

/* Controller commands (port 0x64). */
#define I8042_CMD_CTL_RCTR      0x20    /* reply: CTR */
#define I8042_CMD_CTL_WCTR      0x60    /* parameter: CTR */
#define I8042_CMD_AUX_DISABLE   0xA7
#define I8042_CMD_AUX_ENABLE    0xA8
#define I8042_CMD_AUX_TEST      0xA9    /* reply: 0x00 */
#define I8042_CMD_CTL_TEST      0xAA    /* reply: 0x55 */
#define I8042_CMD_KBD_TEST      0xAB    /* reply: 0x00 */
#define I8042_CMD_KBD_DISABLE   0xAD
#define I8042_CMD_KBD_ENABLE    0xAE
#define I8042_CMD_KBD_LOOP      0xD2    /* parameter echoed as keyboard data */
#define I8042_CMD_AUX_LOOP      0xD3    /* parameter echoed as aux data */
#define I8042_CMD_AUX_SEND      0xD4    /* parameter goes to the mouse */

#define I8042_CTL_TEST_OK       0x55
#define I8042_KBD_TEST_OK       0x00

/* Keyboard commands (port 0x60) and replies (atkbd.c, libps2.c). */
#define ATKBD_CMD_SETLEDS       0xED
#define ATKBD_CMD_GSCANSET      0xF0
#define ATKBD_CMD_GETID         0xF2
#define ATKBD_CMD_SETREP        0xF3
#define ATKBD_CMD_ENABLE        0xF4
#define ATKBD_CMD_RESET_DIS     0xF5
#define ATKBD_CMD_RESET_DEF     0xF6
#define ATKBD_CMD_RESET_BAT     0xFF

#define PS2_RET_ACK             0xFA
#define PS2_RET_NAK             0xFE
#define PS2_RET_BAT             0xAA
#define PS2_RET_ID_KBD          0xAB    /* first GETID byte of a keyboard */
#define ATKBD_ID_XLATE          0x41    /* second GETID byte, translated */
#define ATKBD_ID_RAW            0x83    /* second GETID byte, untranslated */

/* Mouse commands (psmouse) and its ID. */
#define PSMOUSE_CMD_GETID       0xF2
#define PSMOUSE_CMD_ENABLE      0xF4
#define PSMOUSE_CMD_RESET_BAT   0xFF
#define PSMOUSE_ID_PS2          0x00
#define PSMOUSE_PACKET_SYNC     0x08    /* bit 3 of a packet's first byte */

/* The rate timer_start() returned; 0 = count polls instead of ticks. */
void i8042_set_tick_hz(unsigned hz);

/* Waits until the controller can take a byte (IBF clear), then writes it
 * to the command port (0x64) or the data port (0x60): 0 or -ETIMEDOUT. */
int i8042_write_command(uint8_t cmd, unsigned timeout_ms);
int i8042_write_data(uint8_t byte, unsigned timeout_ms);

/* Waits for OBF, then reads the byte: 0, or -ETIMEDOUT. *status (when not
 * NULL) gets the status that showed OBF, so I8042_STR_AUXDATA says whether
 * the byte came from the aux port. */
int i8042_read(uint8_t *byte, uint8_t *status, unsigned timeout_ms);

/* Linux's i8042_flush(): reads while OBF is set, at most
 * I8042_BUFFER_SIZE bytes. Returns the number read, or -EIO when the output
 * buffer still shows full after that (no controller: reads of an absent
 * port return 0xFF). *last_status (when not NULL) gets the last status. */
int i8042_flush(uint8_t *last_status);

#endif
