/*
 * Port-I/O and MMIO dispatch. Devices register address ranges with an ops
 * table and the access sizes they accept; the bus enforces those rules so
 * handlers see only legal accesses (QEMU MemoryRegionOps' .valid idea).
 * Accesses nobody claims read as all-ones and drop writes, logged once per
 * address; they are never fatal.
 */
#ifndef FBVM_BUS_H
#define FBVM_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum bus_space { BUS_PIO, BUS_MMIO, BUS_SPACE_COUNT };

/* The general registers of the vCPU making an access, for the few port
 * protocols that pass arguments in them (VMware's backdoor, vmmouse.c). */
struct bus_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi;
};

struct bus_ops {
	/* offset is relative to the region base; size is 1, 2, 4 or 8;
	 * the value is in the low `size` bytes (guest byte order: little-endian). */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned int size);
	/* Instead of read/write, for a region whose protocol lives in the
	 * registers: regs holds the vCPU's registers at the access and whatever
	 * the handler leaves there is written back before the guest resumes.
	 * For a read, regs->rax's low `size` bytes are also the data read (an
	 * `in` loads them into EAX); value is a write's data (0 for a read).
	 * Only a single access from a vCPU (bus_access_vcpu) reaches it; any
	 * other is refused like a wrong access size. */
	void (*access_regs)(void *opaque, uint64_t offset, unsigned int size, bool is_write,
			    uint64_t value, struct bus_regs *regs);
};

/* How the bus reaches the registers of the vCPU making an access: given by
 * the vCPU loop for a single port access (not string I/O), and asked only
 * when the region has access_regs. get/set return 0 or -errno. */
struct bus_vcpu_regs {
	int (*get)(void *ctx, struct bus_regs *regs);
	int (*set)(void *ctx, const struct bus_regs *regs);
	void *ctx;
};

struct bus_region {
	const char *name;
	uint64_t base;
	uint64_t len;
	/* Allowed access sizes in bytes, inclusive: 1, 2, 4 or 8. */
	unsigned int min_access;
	unsigned int max_access;
	const struct bus_ops *ops;
	void *opaque;
	/* Accesses refused by the rules above (wrong size, crossing the end). */
	uint64_t rejected;
};

#define BUS_MAX_REGIONS 32
#define BUS_MAX_LOGGED_ADDRS 64

struct bus {
	struct bus_region regions[BUS_SPACE_COUNT][BUS_MAX_REGIONS];
	unsigned int count[BUS_SPACE_COUNT];
	uint64_t unclaimed_reads;
	uint64_t unclaimed_writes;
	/* Unclaimed addresses already logged, so each is reported once. */
	uint64_t logged_addrs[BUS_MAX_LOGGED_ADDRS];
	unsigned int logged_count;
};

void bus_init(struct bus *bus);

/* Copies *region into the bus. Returns 0, -EINVAL for bad sizes or an empty or
 * wrapping range, -EEXIST when it overlaps a registered region, -ENOSPC when full. */
int bus_register(struct bus *bus, enum bus_space space, const struct bus_region *region);

/* Dispatches one access. data holds `size` bytes (little-endian); reads fill it.
 * Regions with access_regs refuse it (no vCPU registers to hand them). */
void bus_access(struct bus *bus, enum bus_space space, uint64_t addr, void *data,
		unsigned int size, bool is_write);

/* The same for an access a vCPU made, whose registers a region with
 * access_regs may read and change through vregs (NULL: as bus_access). */
void bus_access_vcpu(struct bus *bus, enum bus_space space, uint64_t addr, void *data,
		     unsigned int size, bool is_write, const struct bus_vcpu_regs *vregs);

/* The region covering addr, or NULL. */
const struct bus_region *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr);

/* Writes the per-region rejection counters and the unclaimed counts. */
void bus_print_stats(const struct bus *bus, FILE *out);

#endif
