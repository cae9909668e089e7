/* Unit tests for hypervisor/guest_mem.c: size limits, layout around the
 * 3 GiB hole, device memory in the hole, and every edge of the
 * bounds-checked guest_mem_ptr() and guest_mem_ram_ptr(). */
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

/* guest_mem_clear: RAM and device memory read zero again and are marked
 * written; the mappings stay usable. */
static void test_guest_mem_clear_zeroes_ram_and_device_memory(void **state)
{
	struct guest_mem mem;
	uint8_t *dev;
	uint64_t bitmap = 0;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, SMALL_RAM_BYTES), 0);
	assert_int_equal(guest_mem_add_device(&mem, "dev", 0xFD000000ull, 0x10000, &dev), 0);
	assert_int_equal(guest_mem_fill(&mem, 0x1000, 0xAB, 0x2000), 0);
	assert_int_equal(guest_mem_fill(&mem, 0xFD000000ull, 0xCD, 0x1000), 0);
	(void)guest_mem_take_written(&mem, 0, 0x4000, &bitmap);
	assert_int_equal(guest_mem_clear(&mem), 0);
	const uint8_t *p = guest_mem_ptr(&mem, 0x1000, 0x2000);
	assert_non_null(p);
	for (size_t i = 0; i < 0x2000; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(dev[0], 0);
	assert_int_equal(dev[0xFFF], 0);
	bitmap = 0;
	assert_int_equal(guest_mem_take_written(&mem, 0, 0x4000, &bitmap), 4);
	assert_int_equal(guest_mem_fill(&mem, 0x1000, 0x11, 1), 0);
	assert_int_equal(*(const uint8_t *)guest_mem_ptr(&mem, 0x1000, 1), 0x11);
	guest_mem_destroy(&mem);
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
		const uint8_t *p = guest_mem_ptr(mem, c->gpa, c->len);

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
	(void)state;

	assert_int_equal(guest_mem_init(&mem, HIGH_RAM_BYTES), 0);
	assert_int_equal(guest_mem_write(&mem, GiB(4) + 0x1234, "fbvm", 4), 0);
	assert_memory_equal(guest_mem_ptr(&mem, GiB(4) + 0x1234, 4), "fbvm", 4);
	/* The high region's first byte follows the low region in the mapping. */
	assert_memory_equal(mem.mapping + GiB(3) + 0x1234, "fbvm", 4);
	guest_mem_destroy(&mem);
}

/* Device memory as the board adds it: VRAM-like region at 0xFD000000. */
#define DEV_GPA   0xFD000000ull
#define DEV_BYTES MiB(16)

static void test_guest_mem_add_device_maps_zeroed_region_guest_mem_ptr_reaches(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *host = NULL;
	const uint8_t *p;

	assert_int_equal(guest_mem_add_device(mem, "vram", DEV_GPA, DEV_BYTES, &host), 0);
	assert_non_null(host);
	assert_int_equal(mem->device_count, 1);
	assert_int_equal(mem->count, 1);   /* RAM regions unchanged */
	assert_string_equal(mem->devices[0].name, "vram");
	assert_int_equal(host[0], 0);
	assert_int_equal(host[DEV_BYTES - 1], 0);
	p = guest_mem_ptr(mem, DEV_GPA + 0x1234, 4);
	assert_ptr_equal(p, host + 0x1234);
	assert_int_equal(guest_mem_write(mem, DEV_GPA + 0x1234, "vram", 4), 0);
	assert_memory_equal(host + 0x1234, "vram", 4);
}

/* A translation case against device memory: NULL, or an offset into it. */
static void check_device_cases(const struct guest_mem *mem, const uint8_t *host,
			       const struct ptr_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ptr_case *c = &cases[i];
		const uint8_t *p = guest_mem_ptr(mem, c->gpa, c->len);

		if (!c->valid && p)
			fail_msg("%s: gpa 0x%llx len 0x%llx translated, want NULL", c->name,
				 (unsigned long long)c->gpa, (unsigned long long)c->len);
		if (c->valid && p != host + c->host_offset)
			fail_msg("%s: gpa 0x%llx len 0x%llx gave %p, want device+0x%llx",
				 c->name, (unsigned long long)c->gpa, (unsigned long long)c->len,
				 (void *)p, (unsigned long long)c->host_offset);
	}
}

static void test_guest_mem_ptr_edges_of_device_region(void **state)
{
	const uint64_t end = DEV_GPA + DEV_BYTES;
	const struct ptr_case cases[] = {
		{ "first byte", DEV_GPA, 1, true, 0 },
		{ "whole region", DEV_GPA, DEV_BYTES, true, 0 },
		{ "whole region plus one", DEV_GPA, DEV_BYTES + 1, false, 0 },
		{ "last byte", end - 1, 1, true, DEV_BYTES - 1 },
		{ "byte before", DEV_GPA - 1, 1, false, 0 },
		{ "spans into region from below", DEV_GPA - 1, 2, false, 0 },
		{ "one past the end", end, 1, false, 0 },
		{ "len 0", DEV_GPA, 0, false, 0 },
		{ "len wraps", DEV_GPA + 0x1000, UINT64_MAX - 0xFFF, false, 0 },
		{ "spans RAM into region", 0, DEV_GPA + 1, false, 0 },
	};
	struct guest_mem *mem = *state;
	uint8_t *host;

	assert_int_equal(guest_mem_add_device(mem, "vram", DEV_GPA, DEV_BYTES, &host), 0);
	check_device_cases(mem, host, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_guest_mem_ram_ptr_never_reaches_device_memory(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *host;

	assert_int_equal(guest_mem_add_device(mem, "vram", DEV_GPA, DEV_BYTES, &host), 0);
	assert_null(guest_mem_ram_ptr(mem, DEV_GPA, 1));
	assert_null(guest_mem_ram_ptr(mem, DEV_GPA + DEV_BYTES - 1, 1));
	/* RAM still translates the same through both. */
	assert_ptr_equal(guest_mem_ram_ptr(mem, 0x1000, 16), mem->mapping + 0x1000);
	assert_ptr_equal(guest_mem_ptr(mem, 0x1000, 16), mem->mapping + 0x1000);
	assert_null(guest_mem_ram_ptr(mem, 0x1000, 0));
	assert_null(guest_mem_ram_ptr(mem, SMALL_RAM_BYTES, 1));
}

static void test_guest_mem_ptr_does_not_span_adjacent_device_regions(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *a, *b;

	assert_int_equal(guest_mem_add_device(mem, "a", GiB(3), MiB(1), &a), 0);
	assert_int_equal(guest_mem_add_device(mem, "b", GiB(3) + MiB(1), MiB(1), &b), 0);
	assert_ptr_equal(guest_mem_ptr(mem, GiB(3) + MiB(1) - 4, 4), a + MiB(1) - 4);
	assert_ptr_equal(guest_mem_ptr(mem, GiB(3) + MiB(1), 4), b);
	/* Two separate host mappings: one range may not cover both. */
	assert_null(guest_mem_ptr(mem, GiB(3) + MiB(1) - 4, 8));
}

static void test_guest_mem_add_device_rejects_bad_ranges(void **state)
{
	static const struct {
		const char *name;
		uint64_t gpa, size;
		int ret;
	} cases[] = {
		{ "size 0", DEV_GPA, 0, -EINVAL },
		{ "gpa not page aligned", DEV_GPA + 0x800, MiB(1), -EINVAL },
		{ "size not a page multiple", DEV_GPA, MiB(1) + 1, -EINVAL },
		{ "wraps around 2^64", UINT64_MAX & ~0xFFFull, 0x2000, -EINVAL },
		{ "ends above 4 GiB", GiB(4) - MiB(1), MiB(2), -EINVAL },
		{ "above 4 GiB", GiB(8), MiB(1), -EINVAL },
		{ "overlaps low RAM", SMALL_RAM_BYTES - 0x1000, MiB(1), -EINVAL },
		{ "inside low RAM", MiB(1), MiB(1), -EINVAL },
		{ "overlaps the first device region", DEV_GPA + DEV_BYTES - 0x1000, MiB(1), -EINVAL },
		{ "covers the first device region", DEV_GPA - MiB(1), DEV_BYTES + MiB(2), -EINVAL },
	};
	struct guest_mem *mem = *state;
	uint8_t *host;

	assert_int_equal(guest_mem_add_device(mem, "vram", DEV_GPA, DEV_BYTES, &host), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *out = NULL;
		int ret = guest_mem_add_device(mem, "bad", cases[i].gpa, cases[i].size, &out);

		if (ret != cases[i].ret)
			fail_msg("%s: got %d, want %d", cases[i].name, ret, cases[i].ret);
		assert_null(out);
		assert_int_equal(mem->device_count, 1);
	}
}

static void test_guest_mem_add_device_rejects_overlap_with_high_ram(void **state)
{
	struct guest_mem mem;
	uint8_t *host = NULL;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, HIGH_RAM_BYTES), 0);
	/* Low RAM is the full 3 GiB: the hole starts right after it. */
	assert_int_equal(guest_mem_add_device(&mem, "bad", GiB(3) - 0x1000, 0x2000, &host),
			 -EINVAL);
	assert_int_equal(guest_mem_add_device(&mem, "ok", GiB(3), MiB(3), &host), 0);
	assert_ptr_equal(guest_mem_ptr(&mem, GiB(3), 1), host);
	assert_null(guest_mem_ram_ptr(&mem, GiB(3), 1));
	guest_mem_destroy(&mem);
}

static void test_guest_mem_add_device_table_full_is_enospc(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *host;

	for (unsigned int i = 0; i < GUEST_MEM_MAX_DEVICE_REGIONS; i++)
		assert_int_equal(guest_mem_add_device(mem, "dev", GiB(3) + i * MiB(1), MiB(1),
						      &host), 0);
	host = NULL;
	assert_int_equal(guest_mem_add_device(mem, "one too many", GiB(3) + MiB(64), MiB(1),
					      &host), -ENOSPC);
	assert_null(host);
	assert_int_equal(mem->device_count, GUEST_MEM_MAX_DEVICE_REGIONS);
}

static void test_guest_mem_destroy_unmaps_device_regions(void **state)
{
	struct guest_mem mem;
	uint8_t *host;
	(void)state;

	assert_int_equal(guest_mem_init(&mem, SMALL_RAM_BYTES), 0);
	assert_int_equal(guest_mem_add_device(&mem, "vram", DEV_GPA, DEV_BYTES, &host), 0);
	guest_mem_destroy(&mem);
	assert_int_equal(mem.device_count, 0);
	assert_null(guest_mem_ptr(&mem, DEV_GPA, 1));
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

static void test_guest_mem_write_and_fill_mark_exactly_the_touched_pages(void **state)
{
	struct guest_mem *mem = *state;
	uint64_t bm[2] = { 0 };

	/* Bytes 0xFFF..0x1000 straddle pages 0 and 1; page 70 is in word 1. */
	assert_int_equal(guest_mem_write(mem, 0x10FFF, "ab", 2), 0);
	assert_int_equal(guest_mem_fill(mem, 0x10000 + 70 * 4096 + 5, 0xCC, 1), 0);
	assert_memory_equal(guest_mem_ptr(mem, 0x10FFF, 2), "ab", 2);
	assert_int_equal(*(const uint8_t *)guest_mem_ptr(mem, 0x10000 + 70 * 4096 + 5, 1), 0xCC);
	assert_int_equal(guest_mem_take_written(mem, 0x10000, 128 * 4096, bm), 3);
	assert_int_equal(bm[0], 0x3);
	assert_int_equal(bm[1], 1ull << 6);
	/* Taken: gone. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(guest_mem_take_written(mem, 0x10000, 128 * 4096, bm), 0);
	assert_int_equal(bm[0] | bm[1], 0);
}

static void test_guest_mem_take_written_leaves_pages_outside_the_range(void **state)
{
	struct guest_mem *mem = *state;
	uint64_t bm[1] = { 0 };

	assert_int_equal(guest_mem_fill(mem, 0x20000, 1, 3 * 4096), 0);   /* pages 0x20..0x22 */
	assert_int_equal(guest_mem_take_written(mem, 0x21000, 4096, bm), 1);
	assert_int_equal(bm[0], 1);
	bm[0] = 0;
	assert_int_equal(guest_mem_take_written(mem, 0x1F000, 5 * 4096, bm), 2);
	assert_int_equal(bm[0], (1ull << 1) | (1ull << 3));
}

static void test_guest_mem_write_outside_memory_is_efault_and_writes_nothing(void **state)
{
	struct guest_mem *mem = *state;
	uint64_t end = mem->regions[0].size, bm[1] = { 0 };

	assert_int_equal(guest_mem_write(mem, end - 1, "ab", 2), -EFAULT);
	assert_int_equal(*(const uint8_t *)guest_mem_ptr(mem, end - 1, 1), 0);
	assert_int_equal(guest_mem_fill(mem, UINT64_MAX - 1, 0, 4), -EFAULT);
	assert_int_equal(guest_mem_fill(mem, 0, 0, 0), -EFAULT);
	assert_int_equal(guest_mem_take_written(mem, end - 4096, 4096, bm), 0);
}

static void test_guest_mem_write_span_marks_on_end_only(void **state)
{
	struct guest_mem *mem = *state;
	uint64_t bm[1] = { 0 };
	uint8_t *p = guest_mem_ram_write_begin(mem, 0x30000, 8192);

	assert_non_null(p);
	memset(p, 7, 8192);
	assert_int_equal(guest_mem_take_written(mem, 0x30000, 8192, bm), 0);
	guest_mem_write_end(mem, 0x30000, 8192);
	assert_int_equal(guest_mem_take_written(mem, 0x30000, 8192, bm), 2);
	assert_null(guest_mem_ram_write_begin(mem, DEV_GPA, 4096));
}

static void test_guest_mem_device_region_writes_are_marked(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *host = NULL;
	uint64_t bm[1] = { 0 };

	assert_int_equal(guest_mem_add_device(mem, "vram", DEV_GPA, DEV_BYTES, &host), 0);
	assert_int_equal(guest_mem_fill(mem, DEV_GPA + 4096, 0xAB, 4096), 0);
	assert_int_equal(host[4096], 0xAB);
	assert_int_equal(guest_mem_take_written(mem, DEV_GPA, 64 * 4096, bm), 1);
	assert_int_equal(bm[0], 2);
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
		cmocka_unit_test(test_guest_mem_clear_zeroes_ram_and_device_memory),
		cmocka_unit_test_setup_teardown(test_guest_mem_ptr_edges_of_low_ram,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_ptr_rejects_wraparound,
						setup_small, teardown_small),
		cmocka_unit_test(test_guest_mem_ptr_edges_around_3g_hole),
		cmocka_unit_test(test_guest_mem_ptr_high_region_is_writable_backing),
		cmocka_unit_test_setup_teardown(
			test_guest_mem_add_device_maps_zeroed_region_guest_mem_ptr_reaches,
			setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_ptr_edges_of_device_region,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_ram_ptr_never_reaches_device_memory,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_ptr_does_not_span_adjacent_device_regions,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_add_device_rejects_bad_ranges,
						setup_small, teardown_small),
		cmocka_unit_test(test_guest_mem_add_device_rejects_overlap_with_high_ram),
		cmocka_unit_test_setup_teardown(test_guest_mem_add_device_table_full_is_enospc,
						setup_small, teardown_small),
		cmocka_unit_test(test_guest_mem_destroy_unmaps_device_regions),
		cmocka_unit_test_setup_teardown(test_guest_mem_write_and_fill_mark_exactly_the_touched_pages,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_take_written_leaves_pages_outside_the_range,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_write_outside_memory_is_efault_and_writes_nothing,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_write_span_marks_on_end_only,
						setup_small, teardown_small),
		cmocka_unit_test_setup_teardown(test_guest_mem_device_region_writes_are_marked,
						setup_small, teardown_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
