/*
 * Tests for hypervisor/dirty_log.c on the real /dev/kvm. KVM logs only guest
 * writes (host writes through the mapping are invisible to it), so each test
 * runs a tiny guest: 32-bit protected mode, paging off, flat segments (the
 * PVH entry state vcpu_set_boot_state sets), code that stores to given
 * addresses and then reports on a port, like the KVM selftests do:
 *
 *     mov dword [addr_i], imm_i      ; C7 05 addr32 imm32, for each address
 *     out TEST_PORT, al              ; E6 TEST_PORT  → KVM_EXIT_IO
 *     hlt                            ; never reached
 *
 * Skipped, with a message, when /dev/kvm is absent.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/display.h"
#include "display/tracker.h"
#include "hypervisor/boot.h"
#include "hypervisor/bus.h"
#include "hypervisor/dirty_log.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/kvm.h"
#include "hypervisor/vcpu.h"

#define PAGE            4096u
/* Slot 0: 512 pages at 0 (code and most data). Slot 1: 100 pages, a count
 * that is not a multiple of 64, to exercise KVM_CLEAR_DIRTY_LOG's end rule. */
#define SLOT0_GPA       0ull
#define SLOT0_PAGES     512u
#define SLOT1_GPA       0x400000ull
#define SLOT1_PAGES     100u
#define CODE_GPA        0x1000ull   /* page 1: never a data page in these tests */
#define TEST_PORT       0xE7        /* unclaimed by the in-kernel PIT and PIC */
#define MAX_STORES      16
#define MAX_RUN_EXITS   64

struct fixture {
	bool have_kvm;
	struct kvm kvm;
	struct dirty_log dl;
	struct bus bus;
	struct vcpu vcpu;
	uint8_t *slot0, *slot1;
};

static int setup_mode(void **state, bool force_get)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	*state = f;
	f->kvm.sys_fd = f->kvm.vm_fd = -1;
	f->vcpu.fd = -1;
	if (access("/dev/kvm", F_OK) != 0)
		return 0;
	f->have_kvm = true;
	if (kvm_create_vm(&f->kvm, err, sizeof(err)) < 0)
		fail_msg("kvm_create_vm: %s", err);
	if (force_get) {
		/* What dirty_log_init picks on a kernel without manual protect; the
		 * VM never gets the capability enabled. */
		f->dl.vm_fd = f->kvm.vm_fd;
		f->dl.mode = DIRTY_LOG_GET;
	} else {
		dirty_log_init(&f->dl, &f->kvm, true);
	}

	f->slot0 = mmap(NULL, (size_t)SLOT0_PAGES * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	f->slot1 = mmap(NULL, (size_t)SLOT1_PAGES * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(f->slot0 != MAP_FAILED && f->slot1 != MAP_FAILED);
	assert_int_equal(dirty_log_map_slot(&f->dl, &f->kvm, 0, SLOT0_GPA,
					    (uint64_t)SLOT0_PAGES * PAGE, f->slot0), 0);
	assert_int_equal(dirty_log_map_slot(&f->dl, &f->kvm, 1, SLOT1_GPA,
					    (uint64_t)SLOT1_PAGES * PAGE, f->slot1), 0);
	bus_init(&f->bus);
	if (vcpu_create(&f->vcpu, &f->kvm, &f->bus, 0, err, sizeof(err)) < 0)
		fail_msg("vcpu_create: %s", err);
	return 0;
}

static int setup(void **state)
{
	return setup_mode(state, false);
}

static int setup_get(void **state)
{
	return setup_mode(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->vcpu.fd >= 0)
		vcpu_destroy(&f->vcpu);
	if (f->kvm.sys_fd >= 0)
		kvm_destroy(&f->kvm);
	dirty_log_destroy(&f->dl);
	if (f->slot0 && f->slot0 != MAP_FAILED)
		munmap(f->slot0, (size_t)SLOT0_PAGES * PAGE);
	if (f->slot1 && f->slot1 != MAP_FAILED)
		munmap(f->slot1, (size_t)SLOT1_PAGES * PAGE);
	free(f);
	return 0;
}

static struct fixture *need_kvm(void **state)
{
	struct fixture *f = *state;

	if (!f->have_kvm) {
		print_message("test_dirty_log: /dev/kvm absent, skipping (needs real KVM)\n");
		skip();
	}
	return f;
}

static uint8_t *host_ptr(struct fixture *f, uint64_t gpa)
{
	if (gpa >= SLOT1_GPA)
		return f->slot1 + (gpa - SLOT1_GPA);
	return f->slot0 + (gpa - SLOT0_GPA);
}

static uint32_t store_value(size_t i)
{
	return 0xA5000000u | (uint32_t)i;
}

/* Runs the guest once: it stores to each address, then exits on TEST_PORT. */
static void guest_store(struct fixture *f, const uint64_t *gpas, size_t n)
{
	uint8_t *code = host_ptr(f, CODE_GPA);
	struct boot_entry entry = { .mode = BOOT_MODE_PVH32, .entry = CODE_GPA };
	struct kvm_run *run = f->vcpu.run;
	size_t len = 0;

	assert_true(n <= MAX_STORES);
	for (size_t i = 0; i < n; i++) {
		uint32_t addr = (uint32_t)gpas[i], value = store_value(i);
		code[len++] = 0xC7;
		code[len++] = 0x05;
		memcpy(code + len, &addr, 4);
		memcpy(code + len + 4, &value, 4);
		len += 8;
		memset(host_ptr(f, gpas[i]), 0, 4);
	}
	code[len++] = 0xE6;
	code[len++] = TEST_PORT;
	code[len++] = 0xF4;
	assert_int_equal(vcpu_set_boot_state(&f->vcpu, &entry), 0);

	for (int exits = 0;; exits++) {
		if (exits == MAX_RUN_EXITS)
			fail_msg("guest did not reach its port write");
		if (ioctl(f->vcpu.fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			fail_msg("KVM_RUN: %s", strerror(errno));
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == TEST_PORT)
			break;
		fail_msg("unexpected exit reason %u (port 0x%x)", run->exit_reason,
			 run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
	}
	/* Let KVM finish the OUT before the next test sets registers (api.rst:
	 * pending I/O completes on the next KVM_RUN; immediate_exit returns at once). */
	run->immediate_exit = 1;
	assert_int_equal(ioctl(f->vcpu.fd, KVM_RUN, 0), -1);
	assert_int_equal(errno, EINTR);
	run->immediate_exit = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t got;
		memcpy(&got, host_ptr(f, gpas[i]), 4);
		assert_int_equal(got, store_value(i));   /* the guest really wrote */
	}
}

/* Fetches [gpa, gpa + pages * 4 KiB) and returns the bitmap's first words. */
static void fetch(struct fixture *f, uint64_t gpa, uint64_t pages, uint64_t *bitmap, size_t words)
{
	memset(bitmap, 0xCC, words * sizeof(*bitmap));   /* fetch must write every word */
	assert_int_equal(dirty_log_fetch(&f->dl, gpa, pages * PAGE, bitmap), 0);
}

static void drain(struct fixture *f)
{
	uint64_t bm[SLOT0_PAGES / 64];
	uint64_t bm1[(SLOT1_PAGES + 63) / 64];

	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	fetch(f, SLOT1_GPA, SLOT1_PAGES, bm1, (SLOT1_PAGES + 63) / 64);
}

/* Asserts bitmap (over `pages` bits) has exactly the listed bits set. */
static void assert_bits(const uint64_t *bitmap, uint64_t pages, const uint64_t *bits, size_t n)
{
	for (uint64_t i = 0; i < (pages + 63) / 64 * 64; i++) {
		bool want = false;
		for (size_t j = 0; j < n; j++)
			want |= bits[j] == i;
		bool got = bitmap[i / 64] >> (i % 64) & 1;
		if (got != want)
			fail_msg("bit %llu: got %d, want %d", (unsigned long long)i, got, want);
	}
}

static void test_dirty_log_uses_manual_protect_when_the_kernel_offers_it(void **state)
{
	struct fixture *f = need_kvm(state);
	int offered = ioctl(f->kvm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	int want = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;

	print_message("test_dirty_log: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2=%d, mode %s\n", offered,
		      dirty_log_mode_name(f->dl.mode));
	assert_int_equal(f->dl.mode, offered > 0 && (offered & want) == want ? DIRTY_LOG_MANUAL
									      : DIRTY_LOG_GET);
	assert_int_equal(f->dl.count, 2);
}

static void test_dirty_log_manual_mode_reports_every_page_initially(void **state)
{
	struct fixture *f = need_kvm(state);
	uint64_t bm[SLOT0_PAGES / 64];

	if (f->dl.mode != DIRTY_LOG_MANUAL)
		skip();
	/* INITIALLY_SET: nothing is write-protected until first cleared. */
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	for (size_t i = 0; i < SLOT0_PAGES / 64; i++)
		assert_int_equal(bm[i], ~0ull);
}

static void test_dirty_log_reports_exactly_the_pages_the_guest_wrote(void **state)
{
	struct fixture *f = need_kvm(state);
	const uint64_t gpas[] = { 100 * PAGE + 8, 300 * PAGE + 4092 };
	const uint64_t pages[] = { 100, 300 };
	uint64_t bm[SLOT0_PAGES / 64];

	drain(f);
	guest_store(f, gpas, 2);
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, pages, 2);
	/* Re-armed: nothing new until the guest writes again. */
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, NULL, 0);
	guest_store(f, gpas, 1);
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, pages, 1);
	assert_int_equal(f->dl.stats.errors, 0);
}

static void test_dirty_log_ignores_host_writes(void **state)
{
	struct fixture *f = need_kvm(state);
	uint64_t bm[SLOT0_PAGES / 64];

	drain(f);
	memset(host_ptr(f, 200 * PAGE), 0x11, PAGE);
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, NULL, 0);
}

static void test_dirty_log_keeps_pages_outside_the_fetched_range_dirty(void **state)
{
	struct fixture *f = need_kvm(state);
	/* 66 and 75 share a 64-page word with the fetched 70..74; 200 is far. */
	const uint64_t gpas[] = { 66 * PAGE, 70 * PAGE, 74 * PAGE, 75 * PAGE, 200 * PAGE };
	uint64_t bm[SLOT0_PAGES / 64];

	drain(f);
	guest_store(f, gpas, 5);
	/* Pages 70..74 only: an unaligned range inside one word. */
	fetch(f, 70 * PAGE, 5, bm, 1);
	assert_bits(bm, 5, (const uint64_t[]){ 0, 4 }, 2);

	if (f->dl.mode == DIRTY_LOG_MANUAL) {
		/* In the kernel's own bitmap the unfetched pages are still dirty
		 * (not re-armed), the fetched ones are clear. */
		uint64_t raw[SLOT0_PAGES / 64];
		struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = raw };
		assert_int_equal(ioctl(f->kvm.vm_fd, KVM_GET_DIRTY_LOG, &log), 0);
		assert_bits(raw, SLOT0_PAGES, (const uint64_t[]){ 66, 75, 200 }, 3);
	}
	fetch(f, 64 * PAGE, 64, bm, 1);
	assert_bits(bm, 64, (const uint64_t[]){ 66 - 64, 75 - 64 }, 2);
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, (const uint64_t[]){ 200 }, 1);
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, NULL, 0);
	assert_int_equal(f->dl.stats.errors, 0);
}

static void test_dirty_log_unaligned_range_across_words_reports_the_right_bits(void **state)
{
	struct fixture *f = need_kvm(state);
	const uint64_t gpas[] = { 99 * PAGE, 100 * PAGE, 130 * PAGE, 163 * PAGE, 164 * PAGE };
	uint64_t bm[SLOT0_PAGES / 64];

	drain(f);
	guest_store(f, gpas, 5);
	/* Pages 100..163: 64 bits taken from two words of the slot's bitmap. */
	fetch(f, 100 * PAGE, 64, bm, 1);
	assert_bits(bm, 64, (const uint64_t[]){ 0, 30, 63 }, 3);
	fetch(f, SLOT0_GPA, SLOT0_PAGES, bm, SLOT0_PAGES / 64);
	assert_bits(bm, SLOT0_PAGES, (const uint64_t[]){ 99, 164 }, 2);
	assert_int_equal(f->dl.stats.errors, 0);
}

static void test_dirty_log_rearms_a_range_ending_at_an_odd_sized_slot_end(void **state)
{
	struct fixture *f = need_kvm(state);
	const uint64_t gpas[] = { SLOT1_GPA + 99 * PAGE, SLOT1_GPA + 70 * PAGE };
	uint64_t bm[(SLOT1_PAGES + 63) / 64];

	drain(f);
	guest_store(f, gpas, 2);
	/* Pages 64..99: KVM_CLEAR_DIRTY_LOG may end at the slot's last page
	 * (36 pages, not a multiple of 64). */
	fetch(f, SLOT1_GPA + 64 * PAGE, SLOT1_PAGES - 64, bm, 1);
	assert_bits(bm, SLOT1_PAGES - 64, (const uint64_t[]){ 99 - 64, 70 - 64 }, 2);
	fetch(f, SLOT1_GPA, SLOT1_PAGES, bm, 2);
	assert_bits(bm, SLOT1_PAGES, NULL, 0);
	assert_int_equal(f->dl.stats.errors, 0);
}

static void test_dirty_log_rejects_ranges_not_inside_one_logged_slot(void **state)
{
	struct fixture *f = need_kvm(state);
	static const struct { uint64_t gpa, len; int want; } cases[] = {
		{ SLOT0_GPA + (SLOT0_PAGES - 1) * (uint64_t)PAGE, 2 * PAGE, -ENOTSUP }, /* past end */
		{ SLOT0_GPA + SLOT0_PAGES * (uint64_t)PAGE, PAGE, -ENOTSUP },  /* unmapped gap */
		{ SLOT1_GPA - PAGE, 2 * PAGE, -ENOTSUP },                     /* into slot 1 */
		{ 0xFD000000ull, PAGE, -ENOTSUP },
		{ UINT64_MAX - PAGE + 1, PAGE, -ENOTSUP },
		{ PAGE + 8, PAGE, -EINVAL },                                  /* misaligned */
		{ PAGE, 100, -EINVAL },
		{ PAGE, 0, -EINVAL },
	};
	uint64_t bm[4];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = dirty_log_fetch(&f->dl, cases[i].gpa, cases[i].len, bm);
		if (got != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
	}
	assert_int_equal(f->dl.stats.errors, 0);
}

static void test_dirty_log_off_maps_without_logging_and_reports_enotsup(void **state)
{
	struct fixture *f = need_kvm(state);
	struct dirty_log off;
	uint64_t bm[1];
	void *mem = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(mem != MAP_FAILED);
	dirty_log_init(&off, &f->kvm, false);
	assert_int_equal(off.mode, DIRTY_LOG_OFF);
	assert_int_equal(dirty_log_map_slot(&off, &f->kvm, 2, 0x800000, 64 * PAGE, mem), 0);
	assert_int_equal(dirty_log_fetch(&off, 0x800000, PAGE, bm), -ENOTSUP);
	assert_int_equal(kvm_set_memory(&f->kvm, 2, 0x800000, 0, mem, 0), 0);
	dirty_log_destroy(&off);
	munmap(mem, 64 * PAGE);
}

static void test_dirty_log_drives_the_tracker_from_guest_writes(void **state)
{
	struct fixture *f = need_kvm(state);
	/* 256x64 XRGB8888 at page 64: 16 pages of slot 0. */
	const uint64_t fb = 64 * PAGE;
	static _Atomic uint64_t written[(SLOT0_PAGES + 63) / 64];   /* host-write marks */
	struct guest_mem mem = { .regions = { { .gpa = SLOT0_GPA,
						 .size = (uint64_t)SLOT0_PAGES * PAGE,
						 .host_base = f->slot0, .written = written } },
				 .count = 1 };
	struct display_surface s = { .enabled = true, .gpa = fb, .width = 256, .height = 64,
				     .stride = 1024, .format = DISPLAY_FORMAT_XRGB8888 };
	const uint64_t pixel[] = { fb + 50 * 1024 + 200 * 4 };
	struct display display;
	struct tracker t;
	struct fb_rect rects[8];
	size_t n;

	display_init(&display);
	assert_int_equal(tracker_init(&t, &display, &mem,
				      (struct dirty_source){ .fetch = dirty_log_fetch, .ctx = &f->dl }),
			 0);
	display_publish(&display, &s);
	assert_int_equal(tracker_refresh(&t, rects, 8, &n), TRACKER_RESIZED);
	assert_true(t.dirty_supported);
	uint64_t compared = t.stats.tiles_compared;
	assert_int_equal(tracker_refresh(&t, rects, 8, &n), TRACKER_UNCHANGED);
	assert_int_equal(t.stats.tiles_compared, compared);

	guest_store(f, pixel, 1);
	assert_int_equal(tracker_refresh(&t, rects, 8, &n), TRACKER_UPDATED);
	assert_int_equal(n, 1);
	assert_true(rects[0].x <= 200 && 200 < rects[0].x + rects[0].w);
	assert_true(rects[0].y <= 50 && 50 < rects[0].y + rects[0].h);
	uint32_t v;
	memcpy(&v, t.shadow + (50 * 256 + 200) * 4, 4);
	assert_int_equal(v, store_value(0));
	assert_int_equal(t.stats.full_compares, 1);   /* only the first refresh */

	tracker_destroy(&t);
	display_destroy(&display);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
/* The same behaviour with KVM_GET_DIRTY_LOG re-arming whole slots. */
#define T_GET(name) { #name "_in_get_and_clear_mode", name, setup_get, teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dirty_log_uses_manual_protect_when_the_kernel_offers_it),
		T(test_dirty_log_manual_mode_reports_every_page_initially),
		T(test_dirty_log_reports_exactly_the_pages_the_guest_wrote),
		T(test_dirty_log_ignores_host_writes),
		T(test_dirty_log_keeps_pages_outside_the_fetched_range_dirty),
		T(test_dirty_log_unaligned_range_across_words_reports_the_right_bits),
		T(test_dirty_log_rearms_a_range_ending_at_an_odd_sized_slot_end),
		T(test_dirty_log_rejects_ranges_not_inside_one_logged_slot),
		T(test_dirty_log_off_maps_without_logging_and_reports_enotsup),
		T(test_dirty_log_drives_the_tracker_from_guest_writes),
		T_GET(test_dirty_log_reports_exactly_the_pages_the_guest_wrote),
		T_GET(test_dirty_log_ignores_host_writes),
		T_GET(test_dirty_log_keeps_pages_outside_the_fetched_range_dirty),
		T_GET(test_dirty_log_unaligned_range_across_words_reports_the_right_bits),
		T_GET(test_dirty_log_rearms_a_range_ending_at_an_odd_sized_slot_end),
		T_GET(test_dirty_log_drives_the_tracker_from_guest_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
