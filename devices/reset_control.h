/*
 * PIIX-style Reset Control Register at port 0xCF9: writing with bit 2 (RST_CPU)
 * set resets the machine. fbvm ends the VM with EXIT_STATUS_RESET instead of
 * rebooting, like QEMU with -no-reboot: a test VM that reboots is done.
 */
#ifndef FBVM_RESET_CONTROL_H
#define FBVM_RESET_CONTROL_H

#include <stdint.h>

struct bus;

#define RESET_CONTROL_PORT 0xCF9

struct reset_control {
	uint8_t value;   /* bits other than RST_CPU read back as written */
};

int reset_control_init(struct reset_control *dev, struct bus *bus);

#endif
