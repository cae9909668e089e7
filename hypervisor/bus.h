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

struct bus_ops {
	/* offset is relative to the region base; size is 1, 2, 4 or 8;
	 * the value is in the low `size` bytes (guest byte order: little-endian). */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned int size);
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

/* Dispatches one access. data holds `size` bytes (little-endian); reads fill it. */
void bus_access(struct bus *bus, enum bus_space space, uint64_t addr, void *data,
		unsigned int size, bool is_write);

/* The region covering addr, or NULL. */
const struct bus_region *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr);

/* Writes the per-region rejection counters and the unclaimed counts. */
void bus_print_stats(const struct bus *bus, FILE *out);

#endif
