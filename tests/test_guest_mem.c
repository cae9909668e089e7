/* Unit tests for hypervisor/guest_mem.c: size limits, layout around the
 * 3 GiB hole, and every edge of the bounds-checked guest_mem_ptr(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hypervisor/guest_mem.h"

/* Big enough to have a high region; cheap because the mapping is NORESERVE. */
#define HIGH_RAM_BYTES (GiB(3) + MiB(16))
#define SMALL_RAM_BYTES MiB(64)

static void test_guest_mem_init_rejects_sizes_outside_limits(void **state)
{
	static const struct {
		const char *name;
		uint64_t bytes;
	} cases[] = {
		{ "zero", 0 },
		{ "one page below 16M", MEMMAP_RAM_MIN - KiB(4) },
		{ "one page above 64G", MEMMAP_RAM_MAX + KiB(4) },
		{ "far above 64G", UINT64_MAX & ~0xFFFull },
		{ "16M plus one byte", MEMMAP_RAM_MIN + 1 },
		{ "not a 4K multiple", MiB(64) + 2048 },
		{ "all ones", UINT64_MAX },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_mem mem;
		int ret = guest_mem_init(&mem, cases[i].bytes);

		if (ret != -EINVAL)
			fail_msg("%s (0x%llx): got %d, want -EINVAL", cases[i].name,
				 (unsigned long long)cases[i].bytes, ret);
		assert_null(mem.mapping);
		assert_int_equal(mem.count, 0);
	}
}

static void test_guest_mem_init_accepts_16m_minimum(void **state)
{
	struct guest_mem mem;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, MEMMAP_RAM_MIN), 0);
	assert_int_equal(mem.count, 1);
	assert_int_equal(mem.ram_bytes, MEMMAP_RAM_MIN);
	assert_int_equal(guest_mem_low_end(&mem), MEMMAP_RAM_MIN);
	guest_mem_destroy(&mem);
}

static void test_guest_mem_init_accepts_64g_maximum(void **state)
{
	struct guest_mem mem;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, MEMMAP_RAM_MAX), 0);
	assert_int_equal(mem.count, 2);
	assert_int_equal(mem.regions[1].gpa, MEMMAP_HIGH_RAM_BASE);
	assert_int_equal(mem.regions[1].size, MEMMAP_RAM_MAX - MEMMAP_LOW_RAM_MAX);
	guest_mem_destroy(&mem);
}

static void test_guest_mem_init_splits_ram_above_3g_at_4g(void **state)
{
	struct guest_mem mem;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, HIGH_RAM_BYTES), 0);
	assert_int_equal(mem.count, 2);
	assert_int_equal(mem.regions[0].gpa, 0);
	assert_int_equal(mem.regions[0].size, GiB(3));
	assert_int_equal(mem.regions[1].gpa, GiB(4));
	assert_int_equal(mem.regions[1].size, MiB(16));
	assert_int_equal(guest_mem_low_end(&mem), GiB(3));
	guest_mem_destroy(&mem);
}

static void test_guest_mem_init_exactly_3g_has_no_high_region(void **state)
{
	struct guest_mem mem;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, GiB(3)), 0);
	assert_int_equal(mem.count, 1);
	assert_null(guest_mem_ptr(&mem, GiB(4), 1));
	assert_non_null(guest_mem_ptr(&mem, GiB(3) - 1, 1));
	guest_mem_destroy(&mem);
}

static void test_guest_mem_destroy_clears_state(void **state)
{
	struct guest_mem mem;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, SMALL_RAM_BYTES), 0);
	guest_mem_destroy(&mem);
	assert_null(mem.mapping);
	assert_int_equal(mem.count, 0);
	assert_null(guest_mem_ptr(&mem, 0, 1));
	guest_mem_destroy(&mem);  /* a second destroy is harmless */
}

/* A translation case: NULL expected, or the offset into the host mapping. */
struct ptr_case {
	const char *name;
	uint64_t gpa;
	uint64_t len;
	bool valid;
	uint64_t host_offset;
};

static void check_ptr_cases(const struct guest_mem *mem, const struct ptr_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ptr_case *c = &cases[i];
		uint8_t *p = guest_mem_ptr(mem, c->gpa, c->len);

		if (!c->valid && p)
			fail_msg("%s: gpa 0x%llx len 0x%llx translated, want NULL", c->name,
				 (unsigned long long)c->gpa, (unsigned long long)c->len);
		if (c->valid && p != mem->mapping + c->host_offset)
			fail_msg("%s: gpa 0x%llx len 0x%llx gave %p, want mapping+0x%llx",
				 c->name, (unsigned long long)c->gpa, (unsigned long long)c->len,
				 (void *)p, (unsigned long long)c->host_offset);
	}
}

static void test_guest_mem_ptr_edges_of_low_ram(void **state)
{
	const uint64_t ram = SMALL_RAM_BYTES;
	const struct ptr_case cases[] = {
		{ "len 0 at 0", 0, 0, false, 0 },
		{ "len 0 inside RAM", 0x1000, 0, false, 0 },
		{ "first byte", 0, 1, true, 0 },
		{ "whole RAM", 0, ram, true, 0 },
		{ "whole RAM plus one", 0, ram + 1, false, 0 },
		{ "last byte", ram - 1, 1, true, ram - 1 },
		{ "last 16 bytes", ram - 16, 16, true, ram - 16 },
		{ "last 16 bytes plus one", ram - 16, 17, false, 0 },
		{ "one past the end", ram, 1, false, 0 },
		{ "far past the end", GiB(2), 1, false, 0 },
		{ "in the hole", GiB(3), 1, false, 0 },
		{ "at 4 GiB without high RAM", GiB(4), 1, false, 0 },
		{ "len 0 one past the end", ram, 0, false, 0 },
	};
	struct guest_mem *mem = *state;

	check_ptr_cases(mem, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_guest_mem_ptr_rejects_wraparound(void **state)
{
	const struct ptr_case cases[] = {
		{ "last gpa, len 1", UINT64_MAX, 1, false, 0 },
		{ "last gpa, len 2", UINT64_MAX, 2, false, 0 },
		{ "gpa 1, len 2^64-1", 1, UINT64_MAX, false, 0 },
		{ "gpa 0, len 2^64-1", 0, UINT64_MAX, false, 0 },
		{ "inside RAM, len wraps to 0", 0x1000, UINT64_MAX - 0xFFF + 1, false, 0 },
		{ "inside RAM, len wraps into RAM", 0x2000, UINT64_MAX - 0xFFF, false, 0 },
		{ "high gpa, len wraps into RAM", UINT64_MAX - 0xFFF, 0x2000, false, 0 },
	};
	struct guest_mem *mem = *state;

	check_ptr_cases(mem, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_guest_mem_ptr_edges_around_3g_hole(void **state)
{
	const uint64_t low = GiB(3), high_end = GiB(4) + MiB(16);
	const struct ptr_case cases[] = {
		{ "last low byte", low - 1, 1, true, low - 1 },
		{ "last low page", low - 0x1000, 0x1000, true, low - 0x1000 },
		{ "spans low end into hole", low - 8, 16, false, 0 },
		{ "spans low RAM into high RAM", low - 0x1000, GiB(1) + 0x2000, false, 0 },
		{ "first hole byte", low, 1, false, 0 },
		{ "middle of hole", GiB(3) + GiB(1) / 2, 1, false, 0 },
		{ "last hole byte", GiB(4) - 1, 1, false, 0 },
		{ "spans hole into high RAM", GiB(4) - 1, 2, false, 0 },
		{ "first high byte", GiB(4), 1, true, low },
		{ "whole high region", GiB(4), MiB(16), true, low },
		{ "whole high region plus one", GiB(4), MiB(16) + 1, false, 0 },
		{ "last high byte", high_end - 1, 1, true, low + MiB(16) - 1 },
		{ "one past high end", high_end, 1, false, 0 },
		{ "far above high end", GiB(63), 1, false, 0 },
		{ "len 0 in high RAM", GiB(4), 0, false, 0 },
	};
	struct guest_mem mem;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, HIGH_RAM_BYTES), 0);
	check_ptr_cases(&mem, cases, sizeof(cases) / sizeof(cases[0]));
	guest_mem_destroy(&mem);
}

static void test_guest_mem_ptr_high_region_is_writable_backing(void **state)
{
	struct guest_mem mem;
	uint8_t *p;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, HIGH_RAM_BYTES), 0);
	p = guest_mem_ptr(&mem, GiB(4) + 0x1234, 4);
	assert_non_null(p);
	memcpy(p, "fbvm", 4);
	/* The high region's first byte follows the low region in the mapping. */
	assert_memory_equal(mem.mapping + GiB(3) + 0x1234, "fbvm", 4);
	guest_mem_destroy(&mem);
}

static int setup_small(void **state)
{
	struct guest_mem *mem = calloc(1, sizeof(*mem));

	if (!mem || guest_mem_init(mem, SMALL_RAM_BYTES) != 0) {
		free(mem);
		return -1;
	}
	*state = mem;
	return 0;
}

static int teardown_small(void **state)
{
	guest_mem_destroy(*state);
	free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_mem_init_rejects_sizes_outside_limits),
		cmocka_unit_test(test_guest_mem_init_accepts_16m_minimum),
		cmocka_unit_test(test_guest_mem_init_accepts_64g_maximum),
		cmocka_unit_test(test_guest_mem_init_splits_ram_above_3g_at_4g),
		cmocka_unit_test(test_guest_mem_init_exactly_3g_has_no_high_region),
		cmocka_unit_test(test_guest_mem_destroy_clears_state),
		cmocka_unit_test_setup_teardown(test_guest_mem_ptr_edges_of_low_ram,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_ptr_rejects_wraparound,
						setup_small, teardown_small),
		cmocka_unit_test(test_guest_mem_ptr_edges_around_3g_hole),
		cmocka_unit_test(test_guest_mem_ptr_high_region_is_writable_backing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
