/* Unit tests for hypervisor/coalesced_io.c: replaying KVM's coalesced ring
 * (a page laid out as KVM fills it) on the bus. */
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hypervisor/bus.h"
#include "hypervisor/coalesced_io.h"

#define MAX_SEEN 64

struct fixture {
	struct bus bus;
	struct coalesced_io c;
	struct kvm_coalesced_mmio_ring *ring;
	unsigned int n;
	uint64_t seen[MAX_SEEN];     /* offset << 32 | value << 8 | size */
};

static void record_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct fixture *f = opaque;

	assert_true(f->n < MAX_SEEN);
	f->seen[f->n++] = offset << 32 | value << 8 | size;
}

static const struct bus_ops record_ops = { .write = record_write };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ring = aligned_alloc(4096, 4096);
	memset(f->ring, 0, 4096);
	bus_init(&f->bus);
	const struct bus_region pio = { .name = "rtc-index", .base = 0x70, .len = 2,
					.min_access = 1, .max_access = 1, .ops = &record_ops,
					.opaque = f };
	const struct bus_region mmio = { .name = "mmio", .base = 0xFEBF0000, .len = 0x1000,
					 .min_access = 1, .max_access = 4, .ops = &record_ops,
					 .opaque = f };
	assert_int_equal(bus_register(&f->bus, BUS_PIO, &pio), 0);
	assert_int_equal(bus_register(&f->bus, BUS_MMIO, &mmio), 0);
	assert_int_equal(coalesced_io_init_ring(&f->c, f->ring), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	coalesced_io_destroy(&f->c);
	free(f->ring);
	free(f);
	return 0;
}

/* What KVM does for a coalesced write: fill the slot at `last`, advance it. */
static void kvm_append(struct fixture *f, uint64_t addr, uint32_t len, uint8_t byte, int pio)
{
	struct kvm_coalesced_mmio *e = &f->ring->coalesced_mmio[f->ring->last];

	memset(e, 0, sizeof(*e));
	e->phys_addr = addr;
	e->len = len;
	e->pio = (uint32_t)pio;
	e->data[0] = byte;
	f->ring->last = (f->ring->last + 1) % f->c.max_entries;
}

static void test_coalesced_io_empty_ring_replays_nothing(void **state)
{
	struct fixture *f = *state;

	coalesced_io_replay(&f->c, &f->bus);
	assert_int_equal(f->n, 0);
	assert_int_equal(f->c.replayed, 0);
}

static void test_coalesced_io_replays_writes_in_order_and_consumes_them(void **state)
{
	struct fixture *f = *state;

	kvm_append(f, 0x70, 1, 0x0A, 1);
	kvm_append(f, 0x70, 1, 0x00, 1);
	kvm_append(f, 0xFEBF0500, 1, 0x42, 0);
	coalesced_io_replay(&f->c, &f->bus);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->seen[0], 0ull << 32 | 0x0A << 8 | 1);
	assert_int_equal(f->seen[1], 0ull << 32 | 0x00 << 8 | 1);
	assert_int_equal(f->seen[2], 0x500ull << 32 | 0x42 << 8 | 1);
	assert_int_equal(f->ring->first, f->ring->last);
	assert_int_equal(f->c.replayed, 3);
	coalesced_io_replay(&f->c, &f->bus);
	assert_int_equal(f->n, 3);
}

static void test_coalesced_io_replay_wraps_around_the_ring(void **state)
{
	struct fixture *f = *state;

	f->ring->first = f->ring->last = f->c.max_entries - 1;
	kvm_append(f, 0x70, 1, 1, 1);
	kvm_append(f, 0x70, 1, 2, 1);
	assert_int_equal(f->ring->last, 1);
	coalesced_io_replay(&f->c, &f->bus);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->seen[1] >> 8 & 0xFF, 2);
	assert_int_equal(f->ring->first, 1);
}

static void test_coalesced_io_drops_bad_entries_and_bad_ring_state(void **state)
{
	struct fixture *f = *state;

	kvm_append(f, 0x70, 0, 1, 1);     /* no bytes */
	kvm_append(f, 0x70, 9, 1, 1);     /* more than data[] holds */
	kvm_append(f, 0x70, 1, 7, 1);
	coalesced_io_replay(&f->c, &f->bus);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->c.bad_entries, 2);
	f->ring->last = f->c.max_entries + 5;     /* out of range: dropped, not followed */
	coalesced_io_replay(&f->c, &f->bus);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->c.bad_entries, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_coalesced_io_empty_ring_replays_nothing),
		T(test_coalesced_io_replays_writes_in_order_and_consumes_them),
		T(test_coalesced_io_replay_wraps_around_the_ring),
		T(test_coalesced_io_drops_bad_entries_and_bad_ring_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
