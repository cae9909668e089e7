/*
 * Unit tests for the board's pure decisions in hypervisor/machine.c: where
 * VRAM goes for each --vram size, and the boot framebuffer a Linux guest is
 * given for each --display, checked all the way into the screen_info and
 * e820 map the Linux loader writes from it (offsets written out here from
 * screen_info.h and zero-page.rst, not taken from the loader). Device memory
 * is added to guest memory the way machine_create() adds it.
 */
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
#include "hypervisor/loader_linux.h"
#include "hypervisor/machine.h"

#define T_SETUP_BYTES   0xA00u      /* 4 setup sectors + the boot sector */
#define T_KERNEL_BYTES  0x1000u
#define T_IMAGE_BYTES   (T_SETUP_BYTES + T_KERNEL_BYTES)

/* screen_info (include/uapi/linux/screen_info.h), at zero-page offset 0. */
#define S_ISVGA          0x0F, 1
#define S_LFB_WIDTH      0x12, 2
#define S_LFB_HEIGHT     0x14, 2
#define S_LFB_DEPTH      0x16, 2
#define S_LFB_BASE       0x18, 4
#define S_LFB_SIZE       0x1C, 4
#define S_LFB_LINELENGTH 0x24, 2
#define S_RED_SIZE       0x26, 1
#define S_RED_POS        0x27, 1
#define S_GREEN_POS      0x29, 1
#define S_BLUE_POS       0x2B, 1
#define S_CAPABILITIES   0x36, 4
#define S_EXT_LFB_BASE   0x3A, 4
#define VIDEO_TYPE_VLFB  0x23
/* e820 (zero-page.rst). */
#define Z_E820_ENTRIES   0x1E8
#define Z_E820_TABLE     0x2D0
#define E820_RAM         1u
#define E820_RESERVED    2u

static void put_le(uint8_t *p, size_t off, size_t width, uint64_t v)
{
	for (size_t i = 0; i < width; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t off, size_t width)
{
	uint64_t v = 0;

	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

/* The smallest image linux_load() accepts: protocol 2.15, relocatable,
 * 64-bit, 16 MiB preferred, 4 MiB init_size. */
static void make_bzimage(uint8_t *img)
{
	memset(img, 0, T_IMAGE_BYTES);
	put_le(img, 0x1F1, 1, 4);                     /* setup_sects */
	put_le(img, 0x1F4, 4, T_KERNEL_BYTES / 16);   /* syssize */
	put_le(img, 0x1FE, 2, 0xAA55);                /* boot_flag */
	put_le(img, 0x201, 1, 0x26C - 0x202);         /* header length */
	put_le(img, 0x202, 4, 0x53726448);            /* "HdrS" */
	put_le(img, 0x206, 2, 0x020F);                /* version */
	put_le(img, 0x22C, 4, 0x7FFFFFFF);            /* initrd_addr_max */
	put_le(img, 0x230, 4, 0x200000);              /* kernel_alignment */
	put_le(img, 0x234, 1, 1);                     /* relocatable */
	put_le(img, 0x236, 2, 0x3);                   /* xloadflags: 64-bit */
	put_le(img, 0x238, 4, 2047);                  /* cmdline_size */
	put_le(img, 0x258, 8, 0x1000000);             /* pref_address */
	put_le(img, 0x260, 4, 0x400000);              /* init_size */
}

static void test_machine_vram_gpa_default_is_seabios_address(void **state)
{
	(void)state;
	assert_int_equal(machine_vram_gpa(16ull << 20), 0xFD000000ull);
	assert_int_equal(machine_vram_gpa(16ull << 20), MEMMAP_VGA_VRAM_BASE);
}

static void test_machine_vram_gpa_every_size_is_aligned_below_bar2(void **state)
{
	static const struct { uint64_t bytes, gpa; } cases[] = {
		{ 1ull << 20, 0xFEA00000ull },   { 2ull << 20, 0xFE800000ull },
		{ 4ull << 20, 0xFE400000ull },   { 8ull << 20, 0xFE000000ull },
		{ 16ull << 20, 0xFD000000ull },  { 32ull << 20, 0xFC000000ull },
		{ 64ull << 20, 0xF8000000ull },  { 128ull << 20, 0xF0000000ull },
		{ 256ull << 20, 0xE0000000ull },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t b = cases[i].bytes, gpa = machine_vram_gpa(b);

		assert_int_equal(gpa, cases[i].gpa);
		assert_int_equal(gpa & (b - 1), 0);
		assert_true(gpa + b <= MEMMAP_VGA_MMIO_BASE);
		/* Above the ramfb boot framebuffer, inside the hole. */
		assert_true(gpa >= MEMMAP_BOOT_FB_BASE + MACHINE_BOOT_FB_BYTES);
	}
}

static void test_machine_boot_framebuffer_ramfb_is_device_memory_at_3g(void **state)
{
	struct boot_framebuffer fb;
	(void)state;
	/* The same whatever --vram says: the ramfb region is not in VRAM. */
	for (uint64_t vram = 1ull << 20; vram <= (256ull << 20); vram <<= 1) {
		assert_int_equal(machine_boot_framebuffer(BOOT_DISPLAY_RAMFB, vram, &fb), 0);
		assert_int_equal(fb.gpa, 0xC0000000ull);
		assert_int_equal(fb.width, 1024);
		assert_int_equal(fb.height, 768);
		assert_int_equal(fb.stride, 4096);
		assert_int_equal(fb.size, 3ull << 20);
		assert_false(fb.reserved_in_ram);
	}
}

static void test_machine_boot_framebuffer_vga_is_all_of_vram_at_bar0(void **state)
{
	struct boot_framebuffer fb;
	(void)state;
	for (uint64_t vram = 4ull << 20; vram <= (256ull << 20); vram <<= 1) {
		assert_int_equal(machine_boot_framebuffer(BOOT_DISPLAY_VGA, vram, &fb), 0);
		assert_int_equal(fb.gpa, machine_vram_gpa(vram));
		assert_int_equal(fb.width, 1024);
		assert_int_equal(fb.height, 768);
		assert_int_equal(fb.stride, 4096);
		assert_int_equal(fb.size, vram);
		assert_false(fb.reserved_in_ram);
	}
}

static void test_machine_boot_framebuffer_vga_refuses_vram_below_boot_mode(void **state)
{
	struct boot_framebuffer fb;
	(void)state;
	assert_int_equal(machine_boot_framebuffer(BOOT_DISPLAY_VGA, 1ull << 20, &fb), -ENOSPC);
	assert_int_equal(machine_boot_framebuffer(BOOT_DISPLAY_VGA, 2ull << 20, &fb), -ENOSPC);
}

/* Guest memory as machine_create() builds it for a Linux guest, the image
 * loaded with the board's framebuffer; returns the zero page. */
struct board {
	struct guest_mem mem;
	uint8_t image[T_IMAGE_BYTES];
	struct boot_framebuffer fb;
};

static const uint8_t *board_load(struct board *b, uint64_t ram_bytes, enum boot_display display,
				 uint64_t vram_bytes)
{
	struct boot_request req = { .cmdline = "console=ttyS0", .framebuffer = &b->fb };
	struct boot_entry entry;
	uint8_t *host;
	char err[256] = "";

	assert_int_equal(guest_mem_init(&b->mem, ram_bytes), 0);
	assert_int_equal(guest_mem_add_device(&b->mem, "vga-vram", machine_vram_gpa(vram_bytes),
					      vram_bytes, &host), 0);
	assert_int_equal(machine_boot_framebuffer(display, vram_bytes, &b->fb), 0);
	if (display == BOOT_DISPLAY_RAMFB)
		assert_int_equal(guest_mem_add_device(&b->mem, "boot-fb", b->fb.gpa, b->fb.size,
						      &host), 0);
	make_bzimage(b->image);
	if (linux_load(&b->mem, b->image, sizeof(b->image), &req, &entry, err, sizeof(err)) != 0)
		fail_msg("linux_load: %s", err);
	return guest_mem_ptr(&b->mem, LINUX_ZERO_PAGE_GPA, 0x1000);
}

/* The kernel maps lfb_size * 64 KiB from lfb_base: all of it must be the
 * framebuffer's device memory, listed as reserved and never as RAM. */
static void check_region_reserved_not_ram(const uint8_t *zp, uint64_t base, uint64_t end)
{
	unsigned int n = zp[Z_E820_ENTRIES];
	bool reserved = false;

	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *e = zp + Z_E820_TABLE + i * 20;
		uint64_t a = get_le(e, 0, 8), s = get_le(e, 8, 8);
		uint32_t type = (uint32_t)get_le(e, 16, 4);

		if (type == E820_RAM && a < end && base < a + s)
			fail_msg("e820 RAM 0x%llx+0x%llx overlaps the framebuffer",
				 (unsigned long long)a, (unsigned long long)s);
		if (type == E820_RESERVED && a <= base && end <= a + s)
			reserved = true;
	}
	assert_true(reserved);
}

static void check_screen_info(const uint8_t *zp, uint64_t base, uint64_t region_bytes)
{
	assert_int_equal(get_le(zp, S_ISVGA), VIDEO_TYPE_VLFB);
	assert_int_equal(get_le(zp, S_LFB_WIDTH), 1024);
	assert_int_equal(get_le(zp, S_LFB_HEIGHT), 768);
	assert_int_equal(get_le(zp, S_LFB_DEPTH), 32);
	assert_int_equal(get_le(zp, S_LFB_LINELENGTH), 4096);
	assert_int_equal(get_le(zp, S_LFB_BASE), base);
	assert_int_equal(get_le(zp, S_EXT_LFB_BASE), 0);
	assert_int_equal(get_le(zp, S_CAPABILITIES), 0);
	assert_int_equal(get_le(zp, S_LFB_SIZE), region_bytes >> 16);
	/* XRGB8888: red at 16, green at 8, blue at 0, 8 bits each. */
	assert_int_equal(get_le(zp, S_RED_SIZE), 8);
	assert_int_equal(get_le(zp, S_RED_POS), 16);
	assert_int_equal(get_le(zp, S_GREEN_POS), 8);
	assert_int_equal(get_le(zp, S_BLUE_POS), 0);
	check_region_reserved_not_ram(zp, base, base + region_bytes);
}

static void test_machine_screen_info_for_display_ramfb(void **state)
{
	static const uint64_t mems[] = { 256ull << 20, 3ull << 30, 5ull << 30 };
	(void)state;
	/* Any --mem: with 3 GiB or more, low RAM ends where the region starts. */
	for (size_t i = 0; i < sizeof(mems) / sizeof(mems[0]); i++) {
		struct board *b = calloc(1, sizeof(*b));

		assert_non_null(b);
		check_screen_info(board_load(b, mems[i], BOOT_DISPLAY_RAMFB, 16ull << 20),
				  0xC0000000ull, 3ull << 20);
		guest_mem_destroy(&b->mem);
		free(b);
	}
}

static void test_machine_screen_info_for_display_vga(void **state)
{
	static const uint64_t vrams[] = { 4ull << 20, 16ull << 20, 256ull << 20 };
	(void)state;
	for (size_t i = 0; i < sizeof(vrams) / sizeof(vrams[0]); i++) {
		struct board *b = calloc(1, sizeof(*b));

		assert_non_null(b);
		check_screen_info(board_load(b, 512ull << 20, BOOT_DISPLAY_VGA, vrams[i]),
				  machine_vram_gpa(vrams[i]), vrams[i]);
		guest_mem_destroy(&b->mem);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_vram_gpa_default_is_seabios_address),
		cmocka_unit_test(test_machine_vram_gpa_every_size_is_aligned_below_bar2),
		cmocka_unit_test(test_machine_boot_framebuffer_ramfb_is_device_memory_at_3g),
		cmocka_unit_test(test_machine_boot_framebuffer_vga_is_all_of_vram_at_bar0),
		cmocka_unit_test(test_machine_boot_framebuffer_vga_refuses_vram_below_boot_mode),
		cmocka_unit_test(test_machine_screen_info_for_display_ramfb),
		cmocka_unit_test(test_machine_screen_info_for_display_vga),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
