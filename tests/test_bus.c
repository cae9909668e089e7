/* Unit tests for hypervisor/bus.c: registration rules and access dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hypervisor/bus.h"

struct fake_dev {
	uint64_t last_offset;
	uint64_t last_value;
	unsigned int last_size;
	unsigned int reads;
	unsigned int writes;
	uint64_t read_value;
};

static uint64_t fake_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct fake_dev *d = opaque;
	d->reads++;
	d->last_offset = offset;
	d->last_size = size;
	return d->read_value;
}

static void fake_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct fake_dev *d = opaque;
	d->writes++;
	d->last_offset = offset;
	d->last_value = value;
	d->last_size = size;
}

static const struct bus_ops fake_ops = { .read = fake_read, .write = fake_write };

static struct bus_region region(uint64_t base, uint64_t len, unsigned int min,
				unsigned int max, struct fake_dev *d)
{
	return (struct bus_region){ .name = "fake", .base = base, .len = len, .min_access = min,
				    .max_access = max, .ops = &fake_ops, .opaque = d };
}

static int setup(void **state)
{
	struct bus *bus = calloc(1, sizeof(*bus));
	bus_init(bus);
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_bus_write_reaches_device_with_offset_value_and_size(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	struct bus_region r = region(0x3F8, 8, 1, 4, &d);
	uint32_t v = 0xA5A5;

	assert_int_equal(bus_register(bus, BUS_PIO, &r), 0);
	bus_access(bus, BUS_PIO, 0x3FA, &v, 2, true);
	assert_int_equal(d.writes, 1);
	assert_int_equal(d.last_offset, 2);
	assert_int_equal(d.last_value, 0xA5A5);
	assert_int_equal(d.last_size, 2);
}

static void test_bus_read_returns_device_value_in_size_bytes(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { .read_value = 0x11223344 };
	struct bus_region r = region(0x1000, 0x100, 1, 4, &d);
	uint8_t buf[8];

	assert_int_equal(bus_register(bus, BUS_MMIO, &r), 0);
	memset(buf, 0xEE, sizeof(buf));
	bus_access(bus, BUS_MMIO, 0x1004, buf, 2, false);
	assert_int_equal(buf[0], 0x44);
	assert_int_equal(buf[1], 0x33);
	assert_int_equal(buf[2], 0xEE);
	assert_int_equal(d.last_offset, 4);
}

static void test_bus_unclaimed_read_is_all_ones_and_counted(void **state)
{
	struct bus *bus = *state;
	uint32_t v = 0;

	bus_access(bus, BUS_PIO, 0x80, &v, 4, false);
	assert_int_equal(v, 0xFFFFFFFF);
	assert_int_equal(bus->unclaimed_reads, 1);
	/* The same address again is counted but logged only once. */
	bus_access(bus, BUS_PIO, 0x80, &v, 1, false);
	assert_int_equal(bus->unclaimed_reads, 2);
	assert_int_equal(bus->logged_count, 1);
}

static void test_bus_unclaimed_write_is_dropped_and_counted(void **state)
{
	struct bus *bus = *state;
	uint8_t v = 0x12;

	bus_access(bus, BUS_PIO, 0x99, &v, 1, true);
	assert_int_equal(bus->unclaimed_writes, 1);
}

static void test_bus_rejects_access_size_outside_rules(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { .read_value = 0 };
	struct bus_region r = region(0x60, 1, 1, 1, &d);
	uint16_t v = 0;

	assert_int_equal(bus_register(bus, BUS_PIO, &r), 0);
	bus_access(bus, BUS_PIO, 0x60, &v, 2, false);
	assert_int_equal(v, 0xFFFF);
	assert_int_equal(d.reads, 0);
	bus_access(bus, BUS_PIO, 0x60, &v, 2, true);
	assert_int_equal(d.writes, 0);
	assert_int_equal(bus_find(bus, BUS_PIO, 0x60)->rejected, 2);
}

static void test_bus_rejects_access_crossing_region_end(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	struct bus_region r = region(0x510, 2, 1, 4, &d);
	uint32_t v = 0x12345678;

	assert_int_equal(bus_register(bus, BUS_PIO, &r), 0);
	bus_access(bus, BUS_PIO, 0x511, &v, 2, true);
	assert_int_equal(d.writes, 0);
	assert_int_equal(bus_find(bus, BUS_PIO, 0x510)->rejected, 1);
}

static void test_bus_register_refuses_overlap(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	struct bus_region a = region(0x100, 0x10, 1, 1, &d);
	struct bus_region inside = region(0x108, 1, 1, 1, &d);
	struct bus_region straddle = region(0xF8, 0x10, 1, 1, &d);
	struct bus_region after = region(0x110, 1, 1, 1, &d);

	assert_int_equal(bus_register(bus, BUS_PIO, &a), 0);
	assert_int_equal(bus_register(bus, BUS_PIO, &inside), -EEXIST);
	assert_int_equal(bus_register(bus, BUS_PIO, &straddle), -EEXIST);
	assert_int_equal(bus_register(bus, BUS_PIO, &after), 0);
	/* Spaces are separate. */
	assert_int_equal(bus_register(bus, BUS_MMIO, &inside), 0);
}

static void test_bus_register_refuses_bad_regions(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	struct bus_region empty = region(0x10, 0, 1, 1, &d);
	struct bus_region wraps = region(UINT64_MAX - 2, 8, 1, 1, &d);
	struct bus_region bad_size = region(0x10, 1, 3, 4, &d);
	struct bus_region min_over_max = region(0x10, 1, 4, 1, &d);
	struct bus_region port_too_high = region(0xFFFF, 2, 1, 1, &d);

	assert_int_equal(bus_register(bus, BUS_PIO, &empty), -EINVAL);
	assert_int_equal(bus_register(bus, BUS_MMIO, &wraps), -EINVAL);
	assert_int_equal(bus_register(bus, BUS_PIO, &bad_size), -EINVAL);
	assert_int_equal(bus_register(bus, BUS_PIO, &min_over_max), -EINVAL);
	assert_int_equal(bus_register(bus, BUS_PIO, &port_too_high), -EINVAL);
}

static void test_bus_lookup_finds_each_of_many_regions(void **state)
{
	struct bus *bus = *state;
	struct fake_dev devs[BUS_MAX_REGIONS];

	memset(devs, 0, sizeof(devs));
	/* Registered out of order: lookups must still find each one. */
	for (unsigned int i = 0; i < BUS_MAX_REGIONS; i++) {
		unsigned int slot = (i * 7) % BUS_MAX_REGIONS;
		struct bus_region r = region(0x1000 + slot * 0x10, 4, 1, 1, &devs[slot]);
		assert_int_equal(bus_register(bus, BUS_PIO, &r), 0);
	}
	struct bus_region extra = region(0x9000, 1, 1, 1, &devs[0]);
	assert_int_equal(bus_register(bus, BUS_PIO, &extra), -ENOSPC);
	for (unsigned int slot = 0; slot < BUS_MAX_REGIONS; slot++) {
		uint8_t v = (uint8_t)slot;
		bus_access(bus, BUS_PIO, 0x1000 + slot * 0x10 + 3, &v, 1, true);
		assert_int_equal(devs[slot].writes, 1);
		assert_int_equal(devs[slot].last_offset, 3);
		/* The gap after each region is unclaimed. */
		bus_access(bus, BUS_PIO, 0x1000 + slot * 0x10 + 4, &v, 1, true);
		assert_int_equal(devs[slot].writes, 1);
	}
}

static void test_bus_odd_kvm_size_is_treated_as_unclaimed(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	struct bus_region r = region(0x2000, 0x10, 1, 8, &d);
	uint8_t buf[8] = { 0 };

	assert_int_equal(bus_register(bus, BUS_MMIO, &r), 0);
	bus_access(bus, BUS_MMIO, 0x2000, buf, 3, false);
	assert_int_equal(d.reads, 0);
	assert_int_equal(buf[0], 0xFF);
	assert_int_equal(buf[2], 0xFF);
	assert_int_equal(buf[3], 0x00);
}

/* A device whose protocol lives in the registers: adds EBX to EAX, sets EDI. */
static void regs_access(void *opaque, uint64_t offset, unsigned int size, bool is_write,
			uint64_t value, struct bus_regs *regs)
{
	struct fake_dev *d = opaque;
	if (is_write)
		d->writes++;
	else
		d->reads++;
	d->last_offset = offset;
	d->last_size = size;
	d->last_value = value;
	regs->rax += regs->rbx;
	regs->rdi = 0x1D1;
}

static const struct bus_ops regs_ops = { .access_regs = regs_access };

struct fake_regs {
	struct bus_regs regs;
	unsigned int sets;
};

static int fake_get(void *ctx, struct bus_regs *regs)
{
	*regs = ((struct fake_regs *)ctx)->regs;
	return 0;
}

static int fake_set(void *ctx, const struct bus_regs *regs)
{
	struct fake_regs *r = ctx;
	r->regs = *regs;
	r->sets++;
	return 0;
}

static void test_bus_register_protocol_sees_and_changes_vcpu_registers(void **state)
{
	struct bus *bus = *state;
	struct fake_dev d = { 0 };
	struct fake_regs cpu = { .regs = { .rax = 40, .rbx = 2 } };
	const struct bus_vcpu_regs vregs = { .get = fake_get, .set = fake_set, .ctx = &cpu };
	struct bus_region r = { .name = "regs", .base = 0x5658, .len = 4, .min_access = 4,
				.max_access = 4, .ops = &regs_ops, .opaque = &d };
	uint32_t data = 0;

	assert_int_equal(bus_register(bus, BUS_MMIO, &r), -EINVAL);   /* port I/O only */
	assert_int_equal(bus_register(bus, BUS_PIO, &r), 0);
	bus_access_vcpu(bus, BUS_PIO, 0x5658, &data, 4, false, &vregs);
	assert_int_equal(data, 42);                 /* an `in` reads the new EAX */
	assert_int_equal(cpu.regs.rax, 42);
	assert_int_equal(cpu.regs.rdi, 0x1D1);
	assert_int_equal(cpu.sets, 1);
	data = 7;
	bus_access_vcpu(bus, BUS_PIO, 0x5658, &data, 4, true, &vregs);
	assert_int_equal(d.writes, 1);
	assert_int_equal(d.last_value, 7);
	assert_int_equal(cpu.regs.rax, 44);
	/* Without registers (string I/O, a test's plain access): refused. */
	bus_access(bus, BUS_PIO, 0x5658, &data, 4, false);
	assert_int_equal(data, 0xFFFFFFFFu);
	assert_int_equal(d.reads, 1);
	assert_int_equal(bus_find(bus, BUS_PIO, 0x5658)->rejected, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bus_write_reaches_device_with_offset_value_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_read_returns_device_value_in_size_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_unclaimed_read_is_all_ones_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_unclaimed_write_is_dropped_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_rejects_access_size_outside_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_rejects_access_crossing_region_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_register_refuses_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_register_refuses_bad_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_lookup_finds_each_of_many_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_register_protocol_sees_and_changes_vcpu_registers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_odd_kvm_size_is_treated_as_unclaimed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
