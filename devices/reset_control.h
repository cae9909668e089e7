/*
 * PIIX-style Reset Control Register at port 0xCF9: writing with bit 2 (RST_CPU)
 * set resets the machine. fbvm ends the VM with EXIT_STATUS_RESET instead of
 * rebooting, like QEMU with -no-reboot: a test VM that reboots is done.
 *
 * 0xCF9 lies inside the PCI host's 0xCF8-0xCFF ports. With a PCI host
 * (devices/pci.c) the host owns that range and calls reset_control_read/
 * _write for byte accesses at 0xCF9; a board without one claims the port
 * alone with reset_control_init(). Never both: the bus refuses the overlap.
 */
#ifndef FBVM_RESET_CONTROL_H
#define FBVM_RESET_CONTROL_H

#include <stdint.h>

struct bus;

#define RESET_CONTROL_PORT 0xCF9

struct reset_control {
	uint8_t value;   /* SYS_RST as last written; RST_CPU never sticks */
};

/* Power-on state: 0. */
void reset_control_reset(struct reset_control *dev);

/* The register as the guest reads it. */
uint8_t reset_control_read(const struct reset_control *dev);

/* A guest write: RST_CPU requests VM_STOP_RESET (EXIT_STATUS_RESET). */
void reset_control_write(struct reset_control *dev, uint8_t value);

/* Resets dev and claims port 0xCF9 (1-byte accesses) on a board without a
 * PCI host. 0 or the negative errno of bus_register(). */
int reset_control_init(struct reset_control *dev, struct bus *bus);

#endif
