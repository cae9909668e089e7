/*
 * PCI host bridge with configuration mechanism #1 (PCI Local Bus 3.0
 * section 3.2.2.3.2): CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at 0xCFC-0xCFF,
 * one bus (bus 0), and a small registry of conventional (type 0 header)
 * functions. The bridge itself is 00:00.0, an Intel 82441FX (i440FX, 8086:1237,
 * class 0x0600) like QEMU's PC machine, so Linux's pci_sanity_check trusts
 * mechanism #1 without firmware tables.
 *
 * The region 0xCF8-0xCFF is one bus region owned here; the bus forbids
 * overlaps, so the PIIX reset control register at 0xCF9 (a byte port inside
 * CONFIG_ADDRESS's dword) is routed from here to devices/reset_control.
 *
 * fbvm enters guests without firmware, so the VMM plays the firmware's part:
 * each function is registered with its BARs already assigned and COMMAND's
 * decode bits already set, as SeaBIOS would leave them; Linux keeps
 * firmware-assigned BARs.
 *
 * No interrupts: every function reads Interrupt Pin 0.
 *
 * Threads: config accesses come from vCPU threads; one mutex serialises them.
 * Function callbacks run with it held and must not call back into the host.
 */
#ifndef FBVM_PCI_H
#define FBVM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/reset_control.h"

struct bus;

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT    0xCFC
#define PCI_HOST_PORT_COUNT     8      /* 0xCF8-0xCFF, including RCR at 0xCF9 */

#define PCI_MAX_DEVICES         32
#define PCI_MAX_FUNCTIONS       8
#define PCI_NUM_BARS            6
#define PCI_CONFIG_SPACE_BYTES  256
/* Functions the registry holds, the host bridge included: a fixed table keeps
 * struct pci_host small (the board embeds it) and lookups trivial. */
#define PCI_HOST_MAX_FUNCTIONS  8

/* Type 0 configuration header offsets (PCI 3.0 section 6.1; Linux
 * include/uapi/linux/pci_regs.h names). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0A
#define PCI_CACHE_LINE_SIZE     0x0C
#define PCI_LATENCY_TIMER       0x0D
#define PCI_HEADER_TYPE         0x0E
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID        0x2E
#define PCI_ROM_ADDRESS         0x30
#define PCI_INTERRUPT_LINE      0x3C
#define PCI_INTERRUPT_PIN       0x3D

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_PARITY      0x0040
#define PCI_COMMAND_SERR        0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80

/* BAR low bits (PCI 3.0 section 6.2.5.1). */
#define PCI_BASE_ADDRESS_SPACE_IO     0x01
#define PCI_BASE_ADDRESS_MEM_TYPE_64  0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x08

/* The host bridge, as QEMU's i440FX presents it. */
#define PCI_HOST_BRIDGE_VENDOR  0x8086
#define PCI_HOST_BRIDGE_DEVICE  0x1237
#define PCI_HOST_BRIDGE_REVISION 0x02
#define PCI_CLASS_BRIDGE_HOST   0x060000

/* One base address register. Only 32-bit BARs: everything fbvm exposes lives
 * in the hole below 4 GiB. */
struct pci_bar_info {
	uint64_t size;          /* bytes, a power of two (>= 16 memory, >= 4 I/O); 0 = no BAR */
	bool io;                /* I/O space instead of memory */
	bool prefetchable;      /* memory only */
	uint64_t addr;          /* base the VMM assigned, aligned to size */
};

/* What a function looks like at power-on. */
struct pci_function_info {
	uint16_t vendor_id;
	uint16_t device_id;
	uint8_t revision;
	uint32_t class_code;    /* base class << 16 | subclass << 8 | programming interface */
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint16_t command;       /* initial COMMAND: the decode bits firmware would set */
	struct pci_bar_info bars[PCI_NUM_BARS];
};

struct pci_function_ops {
	/*
	 * The guest programmed BAR `bar` with a base other than the one the
	 * function decodes at. Return 0 to follow the move (the function now
	 * decodes at new_addr) or a negative errno to refuse it: the BAR then
	 * reads old_addr again, which is what a driver that checks its write
	 * (Linux pci_update_resource) sees. Sizing writes (all address bits
	 * ones) never get here. NULL accepts every move.
	 */
	int (*bar_move)(void *opaque, unsigned int bar, uint64_t old_addr, uint64_t new_addr);
	/* COMMAND changed (decode enables: PCI_COMMAND_IO / _MEMORY). May be NULL. */
	void (*command_changed)(void *opaque, uint16_t old_command, uint16_t new_command);
};

struct pci_function {
	uint8_t devfn;                           /* device << 3 | function */
	struct pci_function_info info;           /* power-on state, for reset */
	const struct pci_function_ops *ops;
	void *opaque;
	uint8_t config[PCI_CONFIG_SPACE_BYTES];  /* what config reads return */
	uint8_t wmask[PCI_CONFIG_SPACE_BYTES];   /* bits a config write may change (BARs aside) */
	uint64_t bar_decode[PCI_NUM_BARS];       /* where each BAR currently decodes */
};

struct pci_host_stats {
	uint64_t config_reads;
	uint64_t config_writes;
	uint64_t absent_reads;          /* read all-ones: no such function, bus != 0, or disabled */
	uint64_t ignored_writes;        /* config writes that changed nothing writable */
	uint64_t odd_port_accesses;     /* 0xCF8-0xCFB accessed other than as a dword (or the RCR byte) */
	uint64_t bar_sizings;
	uint64_t bar_moves;
	uint64_t bar_moves_refused;
};

struct pci_host {
	pthread_mutex_t lock;
	uint32_t config_address;        /* CONFIG_ADDRESS as the guest reads it */
	struct reset_control rcr;       /* port 0xCF9 */
	struct pci_function functions[PCI_HOST_MAX_FUNCTIONS];
	unsigned int function_count;
	struct pci_host_stats stats;
};

/*
 * Claims ports 0xCF8-0xCFF (1- to 4-byte accesses) and registers the host
 * bridge at 00:00.0. Returns 0, or a negative errno from the bus (-EEXIST
 * when 0xCF9 is already claimed by reset_control_init(): use one or the
 * other) with nothing registered.
 */
int pci_host_init(struct pci_host *host, struct bus *bus);
void pci_host_destroy(struct pci_host *host);

/*
 * Adds a function at 00:dev.fn with `info` as its power-on state. BARs must
 * be 32-bit-addressable, power-of-two sized and aligned; function 0 of a
 * device must be registered before its other functions (which then set the
 * multi-function bit of function 0). ops may be NULL. Call before the vCPUs
 * start. Returns 0, -EINVAL for a bad address or BAR, -EEXIST when taken,
 * -ENOSPC when the table is full.
 */
int pci_register_function(struct pci_host *host, unsigned int dev, unsigned int fn,
			  const struct pci_function_info *info,
			  const struct pci_function_ops *ops, void *opaque);

/*
 * Power-on state: CONFIG_ADDRESS 0, RCR 0, every function's header back to
 * its registered info (BARs at their assigned bases, COMMAND as registered;
 * callbacks run for what changes). Keeps the statistics.
 */
void pci_host_reset(struct pci_host *host);

/* COMMAND of 00:dev.fn (0 if absent), for the board and tests. */
uint16_t pci_host_command(struct pci_host *host, unsigned int dev, unsigned int fn);

void pci_host_print_stats(struct pci_host *host, FILE *out);

#endif
