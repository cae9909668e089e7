#include "bus.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"

static const char *const space_names[BUS_SPACE_COUNT] = { "pio", "mmio" };

static bool access_size_valid(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int bus_register(struct bus *bus, enum bus_space space, const struct bus_region *region)
{
	struct bus_region *regions = bus->regions[space];
	unsigned int n = bus->count[space], pos;
	uint64_t last;

	if (region->len == 0 || !region->ops ||
	    (region->ops->access_regs && space != BUS_PIO) ||
	    __builtin_add_overflow(region->base, region->len - 1, &last) ||
	    !access_size_valid(region->min_access) || !access_size_valid(region->max_access) ||
	    region->min_access > region->max_access)
		return -EINVAL;
	if (space == BUS_PIO && last > 0xFFFF)
		return -EINVAL;
	if (n == BUS_MAX_REGIONS)
		return -ENOSPC;
	/* Keep the array sorted by base so lookups can binary-search. */
	for (pos = 0; pos < n && regions[pos].base < region->base; pos++)
		;
	if (pos > 0 && regions[pos - 1].base + (regions[pos - 1].len - 1) >= region->base)
		return -EEXIST;
	if (pos < n && regions[pos].base <= last)
		return -EEXIST;
	memmove(&regions[pos + 1], &regions[pos], (n - pos) * sizeof(*regions));
	regions[pos] = *region;
	regions[pos].rejected = 0;
	bus->count[space] = n + 1;
	return 0;
}

/* Index of the region holding addr, or -1. */
static int find_index(const struct bus *bus, enum bus_space space, uint64_t addr)
{
	const struct bus_region *regions = bus->regions[space];
	unsigned int lo = 0, hi = bus->count[space];

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_region *r = &regions[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

const struct bus_region *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr)
{
	int i = find_index(bus, space, addr);

	return i < 0 ? NULL : &bus->regions[space][i];
}

/* Logs an unclaimed address the first time it is seen; the table is bounded,
 * after which the rate limit keeps a guest scanning ports from flooding. */
static void log_unclaimed(struct bus *bus, enum bus_space space, uint64_t addr,
			  unsigned int size, bool is_write, uint64_t value)
{
	for (unsigned int i = 0; i < bus->logged_count; i++)
		if (bus->logged_addrs[i] == (addr << 1 | space))
			return;
	if (bus->logged_count < BUS_MAX_LOGGED_ADDRS)
		bus->logged_addrs[bus->logged_count++] = addr << 1 | space;
	if (is_write)
		log_ratelimited(LOG_DEBUG, "bus", "unclaimed %s write addr=0x%" PRIx64
				" size=%u value=0x%" PRIx64 " dropped",
				space_names[space], addr, size, value);
	else
		log_ratelimited(LOG_DEBUG, "bus", "unclaimed %s read addr=0x%" PRIx64
				" size=%u reads all-ones", space_names[space], addr, size);
}

/* A region that works on the vCPU's registers: fetch them, run the handler,
 * write them back. False (nothing done) when they cannot be had. */
static bool access_with_regs(struct bus_region *r, uint64_t offset, void *data,
			     unsigned int size, bool is_write, uint64_t value,
			     const struct bus_vcpu_regs *vregs)
{
	struct bus_regs regs;
	int ret;

	if (!vregs) {
		log_ratelimited(LOG_WARN, "bus", "%s: access without vCPU registers refused"
				" (string I/O?)", r->name);
		return false;
	}
	ret = vregs->get(vregs->ctx, &regs);
	if (ret < 0) {
		log_ratelimited(LOG_ERROR, "bus", "%s: reading vCPU registers failed: %s",
				r->name, strerror(-ret));
		return false;
	}
	r->ops->access_regs(r->opaque, offset, size, is_write, value, &regs);
	ret = vregs->set(vregs->ctx, &regs);
	if (ret < 0) {
		log_ratelimited(LOG_ERROR, "bus", "%s: writing vCPU registers failed: %s",
				r->name, strerror(-ret));
		return false;
	}
	if (!is_write)
		memcpy(data, &regs.rax, size);
	return true;
}

void bus_access(struct bus *bus, enum bus_space space, uint64_t addr, void *data,
		unsigned int size, bool is_write)
{
	bus_access_vcpu(bus, space, addr, data, size, is_write, NULL);
}

void bus_access_vcpu(struct bus *bus, enum bus_space space, uint64_t addr, void *data,
		     unsigned int size, bool is_write, const struct bus_vcpu_regs *vregs)
{
	int i = find_index(bus, space, addr);
	struct bus_region *r = i < 0 ? NULL : &bus->regions[space][i];
	uint64_t value = 0;

	if (!access_size_valid(size)) {
		/* KVM never produces these; treat like an unclaimed access. */
		r = NULL;
		size = size > 8 ? 8 : size;
	}
	if (is_write)
		memcpy(&value, data, size);

	if (!r) {
		if (is_write)
			bus->unclaimed_writes++;
		else
			bus->unclaimed_reads++;
		log_unclaimed(bus, space, addr, size, is_write, value);
		goto reject;
	}
	uint64_t offset = addr - r->base;
	if (size < r->min_access || size > r->max_access || size > r->len - offset) {
		r->rejected++;
		log_ratelimited(LOG_WARN, "bus", "%s %s %s addr=0x%" PRIx64 " size=%u not allowed"
				" (sizes %u..%u)", r->name, space_names[space],
				is_write ? "write" : "read", addr, size, r->min_access,
				r->max_access);
		goto reject;
	}
	if (r->ops->access_regs) {
		if (!access_with_regs(r, offset, data, size, is_write, value, vregs)) {
			r->rejected++;
			goto reject;
		}
		return;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, offset, value, size);
	} else {
		value = r->ops->read ? r->ops->read(r->opaque, offset, size) : ~0ull;
		memcpy(data, &value, size);
	}
	return;

reject:
	if (!is_write)
		memset(data, 0xFF, size);
}

void bus_print_stats(const struct bus *bus, FILE *out)
{
	fprintf(out, "bus: unclaimed reads=%" PRIu64 " writes=%" PRIu64 "\n",
		bus->unclaimed_reads, bus->unclaimed_writes);
	for (int s = 0; s < BUS_SPACE_COUNT; s++)
		for (unsigned int i = 0; i < bus->count[s]; i++) {
			const struct bus_region *r = &bus->regions[s][i];
			if (r->rejected)
				fprintf(out, "bus: %s (%s 0x%" PRIx64 "): %" PRIu64
					" accesses rejected\n", r->name, space_names[s],
					r->base, r->rejected);
		}
}
