/*
 * Unit tests for hypervisor/loader_linux.c. Images are built here in memory:
 * a valid 64-bit bzImage (4 setup sectors, a protected-mode part of
 * T_KERNEL_BYTES, then a trailer that syssize excludes, as a signed kernel
 * has), then mutated. Offsets are written out here from boot.rst,
 * zero-page.rst and screen_info.h rather than taken from the loader, so the
 * two are checked against each other. At the end, Debian's vmlinuz when
 * `make linux-guest` has fetched it.
 *
 * Over 800 lines on purpose: one test file per unit under test (as every
 * tests/test_X.c for X.c), made of independent cases, each short.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hypervisor/boot.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/loader_linux.h"

#define T_RAM_BYTES      MiB(64)
#define T_GARBAGE        0xA5
#define T_SETUP_SECTS    4u
#define T_SETUP_BYTES    ((T_SETUP_SECTS + 1) * 512u)   /* 0xA00 */
#define T_KERNEL_BYTES   0x1000u
#define T_TRAILER_BYTES  0x40u
#define T_IMAGE_BYTES    (T_SETUP_BYTES + T_KERNEL_BYTES + T_TRAILER_BYTES)
#define T_PREF           0x1000000ull   /* 16 MiB, as x86_64 defconfig */
#define T_ALIGN          0x200000u
#define T_INIT_SIZE      0x400000u      /* 4 MiB */
#define T_CMDLINE_SIZE   2047u
#define T_VERSION_STR    "6.1.0-fbvm-test (unit@test) #1"

/* Setup header (boot.rst), offsets in the file and in boot_params. */
#define H_SETUP_SECTS    0x1F1, 1
#define H_SYSSIZE        0x1F4, 4
#define H_VID_MODE       0x1FA, 2
#define H_BOOT_FLAG      0x1FE, 2
#define H_JUMP           0x200, 1
#define H_JUMP_LEN       0x201, 1
#define H_MAGIC          0x202, 4
#define H_VERSION        0x206, 2
#define H_KERNEL_VERSION 0x20E, 2
#define H_TYPE_OF_LOADER 0x210, 1
#define H_LOADFLAGS      0x211, 1
#define H_CODE32_START   0x214, 4
#define H_RAMDISK_IMAGE  0x218, 4
#define H_RAMDISK_SIZE   0x21C, 4
#define H_CMD_LINE_PTR   0x228, 4
#define H_INITRD_MAX     0x22C, 4
#define H_ALIGNMENT      0x230, 4
#define H_RELOCATABLE    0x234, 1
#define H_MIN_ALIGNMENT  0x235, 1
#define H_XLOADFLAGS     0x236, 2
#define H_CMDLINE_SIZE   0x238, 4
#define H_SUBARCH        0x23C, 4
#define H_SETUP_DATA     0x250, 8
#define H_PREF_ADDRESS   0x258, 8
#define H_INIT_SIZE      0x260, 4
#define H_HANDOVER       0x264, 4
#define H_KERNEL_INFO    0x268, 4
#define T_HEADER_END     0x26C          /* 0x202 + 0x6A, as real kernels */
/* Zero page (zero-page.rst). */
#define Z_EXT_RAMDISK_IMAGE 0x0C0, 4
#define Z_EXT_RAMDISK_SIZE  0x0C4, 4
#define Z_EXT_CMD_LINE_PTR  0x0C8, 4
#define Z_E820_ENTRIES      0x1E8, 1
#define Z_SENTINEL          0x1EF, 1
#define Z_E820_TABLE        0x2D0
/* screen_info (screen_info.h), at zero-page offset 0. */
#define S_ORIG_VIDEO_COLS   0x07, 1
#define S_ORIG_VIDEO_LINES  0x0E, 1
#define S_ISVGA             0x0F, 1
#define S_LFB_WIDTH         0x12, 2
#define S_LFB_HEIGHT        0x14, 2
#define S_LFB_DEPTH         0x16, 2
#define S_LFB_BASE          0x18, 4
#define S_LFB_SIZE          0x1C, 4
#define S_LFB_LINELENGTH    0x24, 2
#define S_RED_SIZE          0x26, 1
#define S_RED_POS           0x27, 1
#define S_GREEN_SIZE        0x28, 1
#define S_GREEN_POS         0x29, 1
#define S_BLUE_SIZE         0x2A, 1
#define S_BLUE_POS          0x2B, 1
#define S_RSVD_SIZE         0x2C, 1
#define S_RSVD_POS          0x2D, 1
#define S_CAPABILITIES      0x36, 4
#define S_EXT_LFB_BASE      0x3A, 4

struct fixture {
	struct guest_mem mem;
	uint8_t image[T_IMAGE_BYTES];
	size_t image_size;
	char err[512];
	struct boot_entry out;
};

struct t_e820 {
	uint64_t addr, size;
	uint32_t type;
};

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

static uint8_t kernel_byte(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

/* A valid image: protocol 2.15, relocatable, 64-bit entry, pref 16 MiB. */
static void make_bzimage(uint8_t *img)
{
	memset(img, 0, T_IMAGE_BYTES);
	/* Bytes of the setup area that are not header: must not be copied. */
	for (size_t i = 0; i < T_SETUP_BYTES; i++)
		img[i] = 0xCC;
	put_le(img, H_SETUP_SECTS, T_SETUP_SECTS);
	put_le(img, 0x1F2, 2, 1);  /* root_flags */
	put_le(img, H_SYSSIZE, T_KERNEL_BYTES / 16);
	put_le(img, 0x1F8, 2, 0);  /* ram_size */
	put_le(img, H_VID_MODE, 0);
	put_le(img, 0x1FC, 2, 0);  /* root_dev */
	put_le(img, H_BOOT_FLAG, 0xAA55);
	put_le(img, H_JUMP, 0xEB);
	put_le(img, H_JUMP_LEN, T_HEADER_END - 0x202);
	put_le(img, H_MAGIC, 0x53726448);
	put_le(img, H_VERSION, 0x020F);
	for (size_t off = 0x208; off < T_HEADER_END; off++)
		img[off] = 0;
	put_le(img, H_KERNEL_VERSION, 0x300 - 0x200);
	memcpy(img + 0x300, T_VERSION_STR, sizeof(T_VERSION_STR));
	put_le(img, H_LOADFLAGS, 0x01);  /* LOADED_HIGH */
	put_le(img, H_CODE32_START, 0x100000);
	put_le(img, H_INITRD_MAX, 0x7fffffff);
	put_le(img, H_ALIGNMENT, T_ALIGN);
	put_le(img, H_RELOCATABLE, 1);
	put_le(img, H_MIN_ALIGNMENT, 21);
	put_le(img, H_XLOADFLAGS, 0x3);  /* KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put_le(img, H_CMDLINE_SIZE, T_CMDLINE_SIZE);
	put_le(img, H_PREF_ADDRESS, T_PREF);
	put_le(img, H_INIT_SIZE, T_INIT_SIZE);
	put_le(img, H_HANDOVER, 0x190);
	put_le(img, H_KERNEL_INFO, 0x12345);
	for (size_t i = 0; i < T_KERNEL_BYTES; i++)
		img[T_SETUP_BYTES + i] = kernel_byte(i);
	memset(img + T_SETUP_BYTES + T_KERNEL_BYTES, 0xEE, T_TRAILER_BYTES);
}

static int setup_ram(void **state, uint64_t ram_bytes, bool garbage)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, ram_bytes) != 0) {
		free(f);
		return -1;
	}
	if (garbage)
		memset(f->mem.mapping, T_GARBAGE, ram_bytes);
	make_bzimage(f->image);
	f->image_size = T_IMAGE_BYTES;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_ram(state, T_RAM_BYTES, true);
}

/* Guest RAM with a high region: 3 GiB low, 16 MiB at 4 GiB. */
static int setup_high(void **state)
{
	return setup_ram(state, GiB(3) + MiB(16), false);
}

/* Room for a distro kernel (16 MiB + init_size of about 64 MiB). */
static int setup_debian(void **state)
{
	return setup_ram(state, MiB(256), false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

/* Loads f->image through an exact-size heap copy, so ASan sees any read past
 * the image's end. */
static int load(struct fixture *f, const struct boot_request *req)
{
	uint8_t *copy = malloc(f->image_size ? f->image_size : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, f->image, f->image_size);
	memset(f->err, 'X', sizeof(f->err));
	f->err[sizeof(f->err) - 1] = '\0';
	ret = linux_load(&f->mem, copy, f->image_size, req, &f->out, f->err, sizeof(f->err));
	free(copy);
	return ret;
}

static const uint8_t *gpa(struct fixture *f, uint64_t addr, uint64_t len)
{
	const uint8_t *p = guest_mem_ptr(&f->mem, addr, len);

	assert_non_null(p);
	return p;
}

static const uint8_t *zero_page(struct fixture *f)
{
	return gpa(f, f->out.boot_info_gpa, 0x1000);
}

static uint64_t zp(struct fixture *f, size_t off, size_t width)
{
	return get_le(zero_page(f), off, width);
}

static unsigned int read_e820(struct fixture *f, struct t_e820 *map, unsigned int max)
{
	unsigned int n = (unsigned int)zp(f, Z_E820_ENTRIES);

	assert_true(n <= max);
	for (unsigned int i = 0; i < n; i++) {
		size_t off = Z_E820_TABLE + i * 20;

		map[i].addr = zp(f, off, 8);
		map[i].size = zp(f, off + 8, 8);
		map[i].type = (uint32_t)zp(f, off + 16, 4);
	}
	return n;
}

static void expect_e820(struct fixture *f, const struct t_e820 *want, unsigned int count)
{
	struct t_e820 got[16];
	unsigned int n = read_e820(f, got, 16);

	if (n != count)
		fail_msg("e820 has %u entries, want %u", n, count);
	for (unsigned int i = 0; i < n; i++)
		if (got[i].addr != want[i].addr || got[i].size != want[i].size ||
		    got[i].type != want[i].type)
			fail_msg("e820[%u] = 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
				 (unsigned long long)got[i].addr, (unsigned long long)got[i].size,
				 got[i].type, (unsigned long long)want[i].addr,
				 (unsigned long long)want[i].size, want[i].type);
}

static uint8_t *make_initrd(size_t size)
{
	uint8_t *p = malloc(size);

	assert_non_null(p);
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 13 + 5);
	return p;
}

/* Checks the ramdisk fields and the copied bytes; returns the address. */
static uint64_t check_initrd(struct fixture *f, const uint8_t *initrd, size_t size)
{
	uint64_t addr = zp(f, H_RAMDISK_IMAGE) | zp(f, Z_EXT_RAMDISK_IMAGE) << 32;
	uint64_t len = zp(f, H_RAMDISK_SIZE) | zp(f, Z_EXT_RAMDISK_SIZE) << 32;

	assert_int_equal(len, size);
	assert_int_equal(addr & 0xFFF, 0);
	assert_memory_equal(gpa(f, addr, size), initrd, size);
	return addr;
}

/* ---- success paths ---- */

static void test_linux_probe_recognises_hdrs_magic_only(void **state)
{
	struct fixture *f = *state;

	assert_true(linux_probe(f->image, T_IMAGE_BYTES));
	assert_true(linux_probe(f->image, 0x206));
	assert_false(linux_probe(f->image, 0x205));
	f->image[0x202] = 'h';
	assert_false(linux_probe(f->image, T_IMAGE_BYTES));
	assert_false(linux_probe(NULL, 0));
}

static void test_linux_load_valid_image_returns_64bit_entry(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->err, "");
	assert_int_equal(f->out.mode, BOOT_MODE_LINUX64);
	assert_int_equal(f->out.entry, T_PREF + 0x200);
	assert_int_equal(f->out.boot_info_gpa, LINUX_ZERO_PAGE_GPA);
	assert_int_equal(f->out.page_table_gpa, LINUX_PML4_GPA);
	assert_int_equal(f->out.gdt_gpa, LINUX_GDT_GPA);
	assert_int_equal(f->out.gdt_limit, 4 * 8 - 1);
}

static void test_linux_layout_stays_inside_boot_area(void **state)
{
	(void)state;
	assert_true(LINUX_ZERO_PAGE_GPA >= MEMMAP_BOOT_INFO_BASE);
	assert_true(LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX_BYTES <= MEMMAP_BOOT_INFO_END);
	assert_true(LINUX_PD_GPA + LINUX_PD_COUNT * 0x1000 <= LINUX_CMDLINE_GPA);
	assert_int_equal(LINUX_ZERO_PAGE_GPA & 0xFFF, 0);
	assert_int_equal(LINUX_PML4_GPA & 0xFFF, 0);
	assert_int_equal(LINUX_PDPT_GPA & 0xFFF, 0);
	assert_int_equal(LINUX_PD_GPA & 0xFFF, 0);
}

static void test_linux_load_copies_kernel_to_pref_address_without_trailer(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, NULL), 0);
	assert_memory_equal(gpa(f, T_PREF, T_KERNEL_BYTES), f->image + T_SETUP_BYTES,
			    T_KERNEL_BYTES);
	/* syssize ends the copy: the appended trailer stays in the file. */
	assert_int_equal(*gpa(f, T_PREF + T_KERNEL_BYTES, 1), T_GARBAGE);
	assert_int_equal(*gpa(f, T_PREF - 1, 1), T_GARBAGE);
}

static void test_linux_load_copies_setup_header_into_zero_page(void **state)
{
	struct fixture *f = *state;
	const uint8_t *z;

	assert_int_equal(load(f, NULL), 0);
	z = zero_page(f);
	/* Fields the loader does not own are the image's. */
	assert_memory_equal(z + 0x1F1, f->image + 0x1F1, 0x1FA - 0x1F1);
	assert_memory_equal(z + 0x1FC, f->image + 0x1FC, 0x210 - 0x1FC);
	assert_memory_equal(z + 0x22C, f->image + 0x22C, 0x23C - 0x22C);
	assert_memory_equal(z + 0x258, f->image + 0x258, T_HEADER_END - 0x258);
	assert_int_equal(zp(f, H_MAGIC), 0x53726448);
	assert_int_equal(zp(f, H_VERSION), 0x020F);
	/* Nothing past the header length, and the sentinel stays 0. */
	for (size_t off = T_HEADER_END; off < 0x2D0; off++)
		if (z[off] != 0)
			fail_msg("zero page byte 0x%zx is 0x%02x past the setup header", off,
				 z[off]);
	for (size_t off = 0x40; off < 0x1F1; off++)
		if (off != 0x1E8 /* e820_entries */ && z[off] != 0)
			fail_msg("zero page byte 0x%zx is 0x%02x, want 0", off, z[off]);
	assert_int_equal(zp(f, Z_SENTINEL), 0);
}

static void test_linux_load_writes_loader_fields(void **state)
{
	struct fixture *f = *state;

	/* Whatever the image says here is not for the kernel to follow. */
	put_le(f->image, H_SETUP_DATA, 0x123456);
	put_le(f->image, H_SUBARCH, 2);
	put_le(f->image, H_TYPE_OF_LOADER, 0x72);
	put_le(f->image, H_VID_MODE, 0x317);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(zp(f, H_TYPE_OF_LOADER), 0xFF);
	assert_int_equal(zp(f, H_VID_MODE), 0xFFFF);
	assert_int_equal(zp(f, H_LOADFLAGS), 0x01);
	assert_int_equal(zp(f, H_CODE32_START), T_PREF);
	assert_int_equal(zp(f, H_SETUP_DATA), 0);
	assert_int_equal(zp(f, H_SUBARCH), 0);
	assert_int_equal(zp(f, H_RAMDISK_IMAGE), 0);
	assert_int_equal(zp(f, H_RAMDISK_SIZE), 0);
}

/* boot_params.acpi_rsdp_addr (0x070) exists from boot protocol 2.14. */
static void test_linux_load_passes_rsdp_to_protocol_2_14_and_later(void **state)
{
	struct fixture *f = *state;
	struct boot_request req = { .acpi_rsdp_gpa = 0xE0000 };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(zp(f, 0x070, 8), 0xE0000);
	put_le(f->image, H_VERSION, 0x020E);
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(zp(f, 0x070, 8), 0xE0000);
	put_le(f->image, H_VERSION, 0x020D);
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(zp(f, 0x070, 8), 0);
	put_le(f->image, H_VERSION, 0x020F);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(zp(f, 0x070, 8), 0);
}

static void test_linux_load_writes_cmdline_and_pointer(void **state)
{
	struct fixture *f = *state;
	struct boot_request req = { .cmdline = "console=ttyS0 nokaslr" };
	uint64_t ptr;

	assert_int_equal(load(f, &req), 0);
	ptr = zp(f, H_CMD_LINE_PTR) | zp(f, Z_EXT_CMD_LINE_PTR) << 32;
	assert_int_equal(ptr, LINUX_CMDLINE_GPA);
	assert_memory_equal(gpa(f, ptr, sizeof("console=ttyS0 nokaslr")),
			    "console=ttyS0 nokaslr", sizeof("console=ttyS0 nokaslr"));
}

static void test_linux_load_without_cmdline_points_at_empty_string(void **state)
{
	struct fixture *f = *state;

	/* boot.rst: cmd_line_ptr 0 means "pre-2.02 loader"; point at "". */
	assert_int_equal(load(f, NULL), 0);
	assert_int_not_equal(zp(f, H_CMD_LINE_PTR), 0);
	assert_int_equal(*gpa(f, zp(f, H_CMD_LINE_PTR), 1), 0);
}

static char *make_cmdline(size_t len)
{
	char *s = malloc(len + 1);

	assert_non_null(s);
	memset(s, 'a', len);
	s[len] = '\0';
	return s;
}

static void test_linux_load_accepts_cmdline_of_cmdline_size_bytes(void **state)
{
	struct fixture *f = *state;
	char *cmdline = make_cmdline(T_CMDLINE_SIZE);
	struct boot_request req = { .cmdline = cmdline };

	assert_int_equal(load(f, &req), 0);
	assert_memory_equal(gpa(f, LINUX_CMDLINE_GPA, T_CMDLINE_SIZE + 1), cmdline,
			    T_CMDLINE_SIZE + 1);
	free(cmdline);
}

static void test_linux_load_rejects_cmdline_over_cmdline_size(void **state)
{
	struct fixture *f = *state;
	char *cmdline = make_cmdline(T_CMDLINE_SIZE + 1);
	struct boot_request req = { .cmdline = cmdline };

	assert_int_equal(load(f, &req), -E2BIG);
	assert_string_equal(f->err, "kernel command line is 2048 bytes; this kernel accepts at"
			    " most 2047 (cmdline_size)");
	free(cmdline);
}

static void test_linux_load_rejects_cmdline_longer_than_boot_area(void **state)
{
	struct fixture *f = *state;
	char *cmdline = make_cmdline(LINUX_CMDLINE_MAX_BYTES);
	struct boot_request req = { .cmdline = cmdline };

	/* The kernel would take it, but it does not fit below 0x10000. */
	put_le(f->image, H_CMDLINE_SIZE, 0x100000);
	assert_int_equal(load(f, &req), -E2BIG);
	assert_non_null(strstr(f->err, "kernel command line is 28672 bytes; at most 28671"));
	free(cmdline);
	/* One byte less fits exactly. */
	cmdline = make_cmdline(LINUX_CMDLINE_MAX_BYTES - 1);
	req.cmdline = cmdline;
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(*gpa(f, LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX_BYTES - 1, 1), 0);
	free(cmdline);
}

static void test_linux_load_e820_lists_low_ram_legacy_area_and_device_hole(void **state)
{
	struct fixture *f = *state;
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, T_RAM_BYTES - 0x100000, 1 },
		{ GiB(3), GiB(1), 2 },
	};

	assert_int_equal(load(f, NULL), 0);
	expect_e820(f, want, 4);
}

static void test_linux_load_e820_lists_high_ram_above_4g(void **state)
{
	struct fixture *f = *state;
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, GiB(3) - 0x100000, 1 },
		{ GiB(3), GiB(1), 2 },
		{ GiB(4), MiB(16), 1 },
	};

	assert_int_equal(load(f, NULL), 0);
	expect_e820(f, want, 5);
}

static void test_linux_load_e820_carves_reserved_framebuffer_from_low_ram(void **state)
{
	struct fixture *f = *state;
	const struct boot_framebuffer fb = { .gpa = MiB(48), .width = 1024, .height = 768,
					     .stride = 4096, .reserved_in_ram = true };
	struct boot_request req = { .framebuffer = &fb };
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, MiB(48) - 0x100000, 1 },
		{ MiB(48), MiB(3), 2 },
		{ MiB(51), MiB(13), 1 },
		{ GiB(3), GiB(1), 2 },
	};

	assert_int_equal(load(f, &req), 0);
	expect_e820(f, want, 6);
}

static void test_linux_load_e820_reserves_framebuffer_rounded_to_64k(void **state)
{
	struct fixture *f = *state;
	/* 800x600: 1920000 bytes, 29.3 units of 64 KiB; vesafb maps all 30. */
	const struct boot_framebuffer fb = { .gpa = T_RAM_BYTES - MiB(2), .width = 800,
					     .height = 600, .stride = 3200,
					     .reserved_in_ram = true };
	struct boot_request req = { .framebuffer = &fb };
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, T_RAM_BYTES - MiB(2) - 0x100000, 1 },
		{ T_RAM_BYTES - MiB(2), 30 * KiB(64), 2 },
		{ T_RAM_BYTES - MiB(2) + 30 * KiB(64), MiB(2) - 30 * KiB(64), 1 },
		{ GiB(3), GiB(1), 2 },
	};

	assert_int_equal(load(f, &req), 0);
	expect_e820(f, want, 6);
	assert_int_equal(zp(f, S_LFB_SIZE), 30);
}

static void test_linux_load_e820_reserves_whole_framebuffer_region(void **state)
{
	struct fixture *f = *state;
	/* A region sized for a larger mode than the current one. */
	const struct boot_framebuffer fb = { .gpa = GiB(3) - MiB(8), .width = 640,
					     .height = 480, .stride = 2560, .size = MiB(8),
					     .reserved_in_ram = true };
	struct boot_request req = { .framebuffer = &fb };
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, GiB(3) - MiB(8) - 0x100000, 1 },
		{ GiB(3) - MiB(8), MiB(8), 2 },
		{ GiB(3), GiB(1), 2 },
		{ GiB(4), MiB(16), 1 },
	};

	assert_int_equal(load(f, &req), 0);
	expect_e820(f, want, 6);
	assert_int_equal(zp(f, S_LFB_SIZE), MiB(8) >> 16);
}

static void test_linux_load_e820_carves_framebuffer_from_high_ram(void **state)
{
	struct fixture *f = *state;
	const struct boot_framebuffer fb = { .gpa = GiB(4) + MiB(4), .width = 1024,
					     .height = 768, .stride = 4096,
					     .reserved_in_ram = true };
	struct boot_request req = { .framebuffer = &fb };
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, GiB(3) - 0x100000, 1 },
		{ GiB(3), GiB(1), 2 },
		{ GiB(4), MiB(4), 1 },
		{ GiB(4) + MiB(4), MiB(3), 2 },
		{ GiB(4) + MiB(7), MiB(9), 1 },
	};

	assert_int_equal(load(f, &req), 0);
	expect_e820(f, want, 7);
	assert_int_equal(zp(f, S_LFB_BASE), MiB(4));
	assert_int_equal(zp(f, S_EXT_LFB_BASE), 1);
	assert_int_equal(zp(f, S_CAPABILITIES), 1u << 1);
}

static void test_linux_load_device_framebuffer_leaves_e820_alone(void **state)
{
	struct fixture *f = *state;
	/* std VGA: BAR0 in the device hole, 16 MiB of VRAM. */
	const struct boot_framebuffer fb = { .gpa = 0xFD000000, .width = 1280, .height = 800,
					     .stride = 5120, .size = MiB(16) };
	struct boot_request req = { .framebuffer = &fb };
	static const struct t_e820 want[] = {
		{ 0, 0xA0000, 1 },
		{ 0xA0000, 0x60000, 2 },
		{ 0x100000, T_RAM_BYTES - 0x100000, 1 },
		{ GiB(3), GiB(1), 2 },
	};

	assert_int_equal(load(f, &req), 0);
	expect_e820(f, want, 4);
	assert_int_equal(zp(f, S_LFB_BASE), 0xFD000000);
	assert_int_equal(zp(f, S_LFB_SIZE), 256);
	assert_int_equal(zp(f, S_CAPABILITIES), 0);
	assert_int_equal(zp(f, S_EXT_LFB_BASE), 0);
}

static void test_linux_load_screen_info_describes_xrgb8888_lfb(void **state)
{
	struct fixture *f = *state;
	const struct boot_framebuffer fb = { .gpa = MiB(48), .width = 1024, .height = 768,
					     .stride = 4224, .reserved_in_ram = true };
	struct boot_request req = { .framebuffer = &fb };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(zp(f, S_ISVGA), 0x23);  /* VIDEO_TYPE_VLFB */
	assert_int_equal(zp(f, S_LFB_WIDTH), 1024);
	assert_int_equal(zp(f, S_LFB_HEIGHT), 768);
	assert_int_equal(zp(f, S_LFB_DEPTH), 32);
	assert_int_equal(zp(f, S_LFB_BASE), MiB(48));
	assert_int_equal(zp(f, S_LFB_LINELENGTH), 4224);
	/* 768 * 4224 = 3244032 bytes: 50 units of 64 KiB (49.5 rounded up). */
	assert_int_equal(zp(f, S_LFB_SIZE), 50);
	assert_true(zp(f, S_LFB_SIZE) * 65536 >= 768ull * 4224);
	assert_int_equal(zp(f, S_RED_SIZE), 8);
	assert_int_equal(zp(f, S_RED_POS), 16);
	assert_int_equal(zp(f, S_GREEN_SIZE), 8);
	assert_int_equal(zp(f, S_GREEN_POS), 8);
	assert_int_equal(zp(f, S_BLUE_SIZE), 8);
	assert_int_equal(zp(f, S_BLUE_POS), 0);
	assert_int_equal(zp(f, S_RSVD_SIZE), 8);
	assert_int_equal(zp(f, S_RSVD_POS), 24);
	assert_int_equal(zp(f, S_ORIG_VIDEO_COLS), 80);
	assert_int_equal(zp(f, S_ORIG_VIDEO_LINES), 25);
	assert_int_equal(zp(f, S_CAPABILITIES), 0);
}

static void test_linux_load_screen_info_uses_ext_base_above_4g(void **state)
{
	struct fixture *f = *state;
	/* A device BAR above 4 GiB, far from the 64 MiB of RAM. */
	const struct boot_framebuffer fb = { .gpa = 0x800001000ull, .width = 640,
					     .height = 480, .stride = 2560 };
	struct boot_request req = { .framebuffer = &fb };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(zp(f, S_LFB_BASE), 0x1000);
	assert_int_equal(zp(f, S_EXT_LFB_BASE), 8);
	assert_int_equal(zp(f, S_CAPABILITIES), 1u << 1);  /* VIDEO_CAPABILITY_64BIT_BASE */
}

static void test_linux_load_without_framebuffer_leaves_screen_info_zero(void **state)
{
	struct fixture *f = *state;
	const uint8_t *z;

	assert_int_equal(load(f, NULL), 0);
	z = zero_page(f);
	for (size_t off = 0; off < 0x40; off++)
		if (z[off] != 0)
			fail_msg("screen_info byte 0x%zx is 0x%02x without a framebuffer", off,
				 z[off]);
}

struct bad_fb {
	const char *name;
	struct boot_framebuffer fb;
	int ret;
	const char *msg;
};

static const struct bad_fb bad_fbs[] = {
	{ "width 0", { MiB(48), 0, 768, 4096, 0, true }, -EINVAL,
	  "framebuffer 0x768 cannot be described" },
	{ "height 0", { MiB(48), 1024, 0, 4096, 0, true }, -EINVAL,
	  "width and height must be 1..65535" },
	{ "width 65536", { 0xFD000000, 65536, 1, 65535, 0, false }, -EINVAL,
	  "framebuffer 65536x1 cannot be described" },
	{ "stride below width * 4", { MiB(48), 1024, 768, 4095, 0, true }, -EINVAL,
	  "framebuffer stride 4095 must be between 4096 (width * 4) and 65535" },
	{ "stride above u16", { 0xFD000000, 1024, 16, 65536, 0, false }, -EINVAL,
	  "stride 65536 must be between" },
	{ "region smaller than the mode", { MiB(48), 1024, 768, 4096, MiB(2), true }, -EINVAL,
	  "framebuffer region of 2097152 bytes is smaller than height * stride (3145728)" },
	{ "address 0", { 0, 1024, 768, 4096, 0, false }, -EINVAL,
	  "framebuffer address 0x0 must be non-zero and 4 KiB aligned" },
	{ "address not page aligned", { MiB(48) + 0x10, 1024, 768, 4096, 0, true }, -EINVAL,
	  "framebuffer address 0x3000010 must be" },
	{ "region wraps", { 0xFFFFFFFFFFFF0000ull, 1024, 768, 4096, 0, false }, -EINVAL,
	  "wraps around the address space" },
	{ "region absurd", { 0xFD000000, 1024, 768, 4096, 1ull << 50, false }, -EINVAL,
	  "too large to describe" },
	{ "reserved region runs past RAM", { T_RAM_BYTES - MiB(1), 1024, 768, 4096, 0, true },
	  -EINVAL, "framebuffer region 0x3f00000..0x4200000 (its size rounded up to 64 KiB" },
	/* 1920000 bytes end inside RAM, their 64 KiB rounding (1966080) does not. */
	{ "reserved 64 KiB rounding runs past RAM", { T_RAM_BYTES - 0x1D5000, 800, 600, 3200,
	  0, true }, -EINVAL, "framebuffer region 0x3e2b000..0x400b000 (its size rounded up" },
	{ "reserved region below 1 MiB", { 0x80000, 320, 200, 1280, 0, true }, -EINVAL,
	  "is not inside guest RAM above 1 MiB" },
	{ "reserved region in the device hole", { 0xFD000000, 1024, 768, 4096, 0, true },
	  -EINVAL, "is not inside guest RAM" },
	{ "reserved region on the kernel", { T_PREF + MiB(1), 1024, 768, 4096, 0, true },
	  -ENOSPC, "overlaps the kernel at 0x1000000..0x1400000" },
	{ "device region on RAM", { MiB(48), 1024, 768, 4096, 0, false }, -EINVAL,
	  "overlaps guest RAM but is not marked reserved_in_ram" },
};

static void test_linux_load_rejects_bad_framebuffers(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_fbs) / sizeof(bad_fbs[0]); i++) {
		const struct bad_fb *c = &bad_fbs[i];
		struct boot_request req = { .framebuffer = &c->fb };
		int ret = load(f, &req);

		if (ret != c->ret)
			fail_msg("%s: got %d, want %d (err \"%s\")", c->name, ret, c->ret, f->err);
		if (!strstr(f->err, c->msg))
			fail_msg("%s: err \"%s\" does not mention \"%s\"", c->name, f->err, c->msg);
	}
}

static void test_linux_load_writes_identity_page_tables(void **state)
{
	struct fixture *f = *state;
	const uint8_t *pml4, *pdpt, *pd;

	assert_int_equal(load(f, NULL), 0);
	pml4 = gpa(f, f->out.page_table_gpa, 0x1000);
	assert_int_equal(get_le(pml4, 0, 8), LINUX_PDPT_GPA | 0x3);  /* present, writable */
	for (size_t i = 1; i < 512; i++)
		assert_int_equal(get_le(pml4, i * 8, 8), 0);
	pdpt = gpa(f, LINUX_PDPT_GPA, 0x1000);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(get_le(pdpt, i * 8, 8), (LINUX_PD_GPA + i * 0x1000) | 0x3);
	for (size_t i = 4; i < 512; i++)
		assert_int_equal(get_le(pdpt, i * 8, 8), 0);
	/* 2048 2 MiB pages: 0 .. 4 GiB, each mapping its own address. */
	pd = gpa(f, LINUX_PD_GPA, 4 * 0x1000);
	for (uint64_t i = 0; i < 2048; i++)
		if (get_le(pd, i * 8, 8) != (i * MiB(2) | 0x83))
			fail_msg("PD entry %llu is 0x%llx, want 0x%llx", (unsigned long long)i,
				 (unsigned long long)get_le(pd, i * 8, 8),
				 (unsigned long long)(i * MiB(2) | 0x83));
}

static void test_linux_load_identity_map_covers_kernel_and_boot_data(void **state)
{
	struct fixture *f = *state;

	/* boot.rst: the kernel's init_size area, the zero page and the command
	 * line must be identity-mapped; the map covers 0 .. 4 GiB. */
	assert_int_equal(load(f, NULL), 0);
	assert_true(T_PREF + T_INIT_SIZE <= LINUX_IDENTITY_MAP_BYTES);
	assert_true(LINUX_CMDLINE_GPA + LINUX_CMDLINE_MAX_BYTES <= LINUX_IDENTITY_MAP_BYTES);
	assert_int_equal(LINUX_IDENTITY_MAP_BYTES, GiB(4));
}

static void test_linux_load_writes_gdt_with_boot_selectors(void **state)
{
	struct fixture *f = *state;
	const uint8_t *gdt;

	assert_int_equal(load(f, NULL), 0);
	gdt = gpa(f, f->out.gdt_gpa, f->out.gdt_limit + 1);
	assert_int_equal(get_le(gdt, 0x00, 8), 0);
	assert_int_equal(get_le(gdt, 0x08, 8), 0);
	/* 0x10: code, present, DPL 0, execute/read, L=1, G=1, limit 0xFFFFF. */
	assert_int_equal(get_le(gdt, 0x10, 8), 0x00AF9B000000FFFFull);
	/* 0x18: data, present, DPL 0, read/write, D/B=1, G=1. */
	assert_int_equal(get_le(gdt, 0x18, 8), 0x00CF93000000FFFFull);
	assert_int_equal(LINUX_BOOT_CS, 0x10);
	assert_int_equal(LINUX_BOOT_DS, 0x18);
}

static void test_linux_load_zeroes_page_zero(void **state)
{
	struct fixture *f = *state;
	const uint8_t *p;

	/* The decompressor reads the EBDA and base-memory words in page 0. */
	assert_int_equal(load(f, NULL), 0);
	p = gpa(f, 0, 0x1000);
	for (size_t i = 0; i < 0x1000; i++)
		if (p[i] != 0)
			fail_msg("page 0 byte 0x%zx is 0x%02x", i, p[i]);
}

static void test_linux_load_places_initrd_at_top_of_low_ram(void **state)
{
	struct fixture *f = *state;
	const size_t size = 10000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd(f, initrd, size), (T_RAM_BYTES - size) & ~0xFFFull);
	free(initrd);
}

static void test_linux_load_places_initrd_under_initrd_addr_max(void **state)
{
	struct fixture *f = *state;
	const size_t size = 10000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	/* Highest byte the initrd may occupy: 48 MiB - 1. */
	put_le(f->image, H_INITRD_MAX, MiB(48) - 1);
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd(f, initrd, size), (MiB(48) - size) & ~0xFFFull);
	free(initrd);
}

static void test_linux_load_places_initrd_below_kernel_area(void **state)
{
	struct fixture *f = *state;
	const size_t size = MiB(8);
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	/* The kernel runs at 40..60 MiB: the top 4 MiB are too small. */
	put_le(f->image, H_PREF_ADDRESS, MiB(40));
	put_le(f->image, H_INIT_SIZE, MiB(20));
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd(f, initrd, size), MiB(32));
	free(initrd);
}

static void test_linux_load_places_initrd_below_reserved_framebuffer(void **state)
{
	struct fixture *f = *state;
	const size_t size = MiB(2);
	uint8_t *initrd = make_initrd(size);
	const struct boot_framebuffer fb = { .gpa = T_RAM_BYTES - MiB(4), .width = 1024,
					     .height = 1024, .stride = 4096,
					     .reserved_in_ram = true };
	struct boot_request req = { .initrd = initrd, .initrd_size = size, .framebuffer = &fb };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd(f, initrd, size), T_RAM_BYTES - MiB(6));
	free(initrd);
}

static void test_linux_load_places_initrd_below_3g_with_high_ram(void **state)
{
	struct fixture *f = *state;
	const size_t size = 10000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	put_le(f->image, H_INITRD_MAX, 0xFFFFFFFF);
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd(f, initrd, size), (GiB(3) - size) & ~0xFFFull);
	free(initrd);
}

static void test_linux_load_rejects_initrd_that_does_not_fit(void **state)
{
	struct fixture *f = *state;
	const size_t size = MiB(44);
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	/* 1..16 MiB below the kernel, 20..64 MiB above it: 44 MiB fits
	 * exactly above; one byte more must start a page lower, on the kernel,
	 * and 15 MiB below it is too small. */
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd(f, initrd, size), MiB(20));
	free(initrd);

	initrd = make_initrd(MiB(44) + 1);
	req.initrd = initrd;
	req.initrd_size = MiB(44) + 1;
	assert_int_equal(load(f, &req), -ENOSPC);
	assert_string_equal(f->err, "initrd (46137345 bytes) does not fit in guest RAM between"
			    " 1 MiB and 0x4000000 (initrd_addr_max 0x7fffffff) beside the"
			    " kernel at 0x1000000..0x1400000 (guest RAM is 64 MiB)");
	free(initrd);
}

static void test_linux_load_rejects_initrd_above_initrd_addr_max(void **state)
{
	struct fixture *f = *state;
	const size_t size = MiB(1);
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	/* Below 1 MiB + 1 MiB nothing fits. */
	put_le(f->image, H_INITRD_MAX, MiB(2) - 2);
	assert_int_equal(load(f, &req), -ENOSPC);
	assert_non_null(strstr(f->err, "initrd (1048576 bytes) does not fit"));
	free(initrd);
}

static void test_linux_load_rejects_empty_initrd(void **state)
{
	struct fixture *f = *state;
	static const uint8_t byte;
	struct boot_request req = { .initrd = &byte, .initrd_size = 0 };

	assert_int_equal(load(f, &req), -EINVAL);
	assert_string_equal(f->err, "initrd is empty (0 bytes)");
}

static void test_linux_load_non_relocatable_kernel_loads_at_pref_address(void **state)
{
	struct fixture *f = *state;

	put_le(f->image, H_RELOCATABLE, 0);
	put_le(f->image, H_PREF_ADDRESS, MiB(17));  /* not 2 MiB aligned: used as is */
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, MiB(17) + 0x200);
	assert_memory_equal(gpa(f, MiB(17), T_KERNEL_BYTES), f->image + T_SETUP_BYTES,
			    T_KERNEL_BYTES);
}

static void test_linux_load_relocatable_kernel_aligns_pref_address_up(void **state)
{
	struct fixture *f = *state;

	put_le(f->image, H_PREF_ADDRESS, MiB(17));
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, MiB(18) + 0x200);
	assert_int_equal(zp(f, H_CODE32_START), MiB(18));
}

static void test_linux_load_relocatable_kernel_without_pref_loads_at_1mib(void **state)
{
	struct fixture *f = *state;

	put_le(f->image, H_PREF_ADDRESS, 0);
	put_le(f->image, H_ALIGNMENT, MiB(1));
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, MiB(1) + 0x200);
}

static void test_linux_load_treats_setup_sects_zero_as_four(void **state)
{
	struct fixture *f = *state;

	put_le(f->image, H_SETUP_SECTS, 0);
	assert_int_equal(load(f, NULL), 0);
	assert_memory_equal(gpa(f, T_PREF, T_KERNEL_BYTES), f->image + T_SETUP_BYTES,
			    T_KERNEL_BYTES);
}

static void test_linux_parse_header_reports_fields(void **state)
{
	struct fixture *f = *state;
	struct linux_header hdr;

	assert_int_equal(linux_parse_header(f->image, T_IMAGE_BYTES, &hdr, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(hdr.version, 0x020F);
	assert_int_equal(hdr.header_end, T_HEADER_END);
	assert_int_equal(hdr.kernel_offset, T_SETUP_BYTES);
	assert_int_equal(hdr.kernel_bytes, T_KERNEL_BYTES);
	assert_int_equal(hdr.kernel_alignment, T_ALIGN);
	assert_true(hdr.relocatable);
	assert_int_equal(hdr.xloadflags, 0x3);
	assert_int_equal(hdr.init_size, T_INIT_SIZE);
	assert_int_equal(hdr.cmdline_size, T_CMDLINE_SIZE);
	assert_int_equal(hdr.initrd_addr_max, 0x7fffffff);
	assert_int_equal(hdr.pref_address, T_PREF);
	assert_int_equal(hdr.load_gpa, T_PREF);
}

/* ---- rejections: one valid image, one or two fields changed ---- */

struct patch {
	size_t off;
	size_t width;  /* 0 ends the list */
	uint64_t value;
};

struct bad_case {
	const char *name;
	struct patch patches[3];
	size_t size;  /* 0: the whole image */
	int ret;
	const char *msg;  /* must appear in err */
};

#define P(...) { __VA_ARGS__ }

static const struct bad_case bad_cases[] = {
	{ "empty file", {}, 1, -ENOEXEC, "not a Linux bzImage: no \"HdrS\" setup header at"
	  " offset 0x202 of the 1-byte file" },
	{ "cut before the magic ends", {}, 0x205, -ENOEXEC, "of the 517-byte file" },
	{ "no magic", { P(H_MAGIC, 0x53726449) }, 0, -ENOEXEC, "no \"HdrS\" setup header" },
	{ "bad boot_flag", { P(H_BOOT_FLAG, 0x55AA) }, 0, -ENOEXEC,
	  "bzImage boot_flag is 0x55aa, want 0xaa55" },
	{ "cut inside the version", {}, 0x207, -ENOEXEC,
	  "the 519-byte file ends inside the setup header" },
	{ "protocol 2.11", { P(H_VERSION, 0x020B) }, 0, -ENOEXEC,
	  "bzImage boot protocol 2.11 is too old: the 64-bit entry needs 2.12 or later" },
	{ "protocol 1.0", { P(H_VERSION, 0x0100) }, 0, -ENOEXEC, "boot protocol 1.00 is too old" },
	{ "header length past the file", {}, 0x260, -ENOEXEC,
	  "its setup header ends at 0x26c (0x202 plus the byte at 0x201), past the end of"
	  " the 608-byte file" },
	{ "header length before init_size", { P(H_JUMP_LEN, 0x5E) }, 0, -ENOEXEC,
	  "bzImage setup header ends at 0x260, before init_size" },
	{ "header length past boot_params' room", { P(H_JUMP_LEN, 0xFF) }, 0, -ENOEXEC,
	  "bzImage setup header ends at 0x301, past the room boot_params has for it (0x290)" },
	{ "no XLF_KERNEL_64", { P(H_XLOADFLAGS, 0x2) }, 0, -ENOEXEC,
	  "bzImage has no 64-bit entry point (xloadflags 0x2 lacks XLF_KERNEL_64)" },
	{ "setup_sects 255", { P(H_SETUP_SECTS, 255) }, 0, -ENOEXEC,
	  "truncated bzImage: the 6720-byte file ends inside its 131072-byte real-mode setup"
	  " area (setup_sects 255)" },
	{ "file shorter than the setup area", {}, T_SETUP_BYTES - 0x100, -ENOEXEC,
	  "ends inside its 2560-byte real-mode setup area (setup_sects 4)" },
	{ "file ends with the setup area", {}, T_SETUP_BYTES, -ENOEXEC,
	  "ends inside its 2560-byte real-mode setup area" },
	{ "syssize 0", { P(H_SYSSIZE, 0) }, 0, -ENOEXEC, "bzImage syssize is 0" },
	{ "syssize past the file", { P(H_SYSSIZE, (T_KERNEL_BYTES + T_TRAILER_BYTES) / 16 + 1) },
	  0, -ENOEXEC, "truncated bzImage: syssize says 4176 bytes of protected-mode kernel at"
	  " offset 0xa00 but the file has 4160" },
	{ "syssize huge", { P(H_SYSSIZE, 0xFFFFFFFF) }, 0, -ENOEXEC,
	  "syssize says 68719476720 bytes" },
	{ "file cut inside the kernel", {}, T_SETUP_BYTES + 0x800, -ENOEXEC,
	  "syssize says 4096 bytes of protected-mode kernel at offset 0xa00 but the file has"
	  " 2048" },
	{ "kernel_alignment 0", { P(H_ALIGNMENT, 0) }, 0, -ENOEXEC,
	  "bzImage kernel_alignment 0x0 is not a power of two" },
	{ "kernel_alignment 3 MiB", { P(H_ALIGNMENT, 0x300000) }, 0, -ENOEXEC,
	  "kernel_alignment 0x300000 is not a power of two" },
	{ "init_size 0", { P(H_INIT_SIZE, 0) }, 0, -ENOEXEC,
	  "bzImage init_size 0x0 is smaller than its protected-mode kernel (0x1000 bytes)" },
	{ "init_size below the kernel", { P(H_INIT_SIZE, T_KERNEL_BYTES - 1) }, 0, -ENOEXEC,
	  "init_size 0xfff is smaller" },
	{ "init_size bigger than RAM", { P(H_INIT_SIZE, 0xFFFFF000) }, 0, -ENOSPC,
	  "kernel needs RAM at 0x1000000..0x100fff000 (load address from pref_address"
	  " 0x1000000 plus init_size 0xfffff000) but guest RAM below 4 GiB ends at 0x4000000"
	  " (64 MiB of RAM)" },
	{ "init_size past the end of RAM", { P(H_INIT_SIZE, MiB(48) + 0x1000) }, 0, -ENOSPC,
	  "kernel needs RAM at 0x1000000..0x4001000" },
	{ "pref_address beyond RAM", { P(H_PREF_ADDRESS, MiB(256)) }, 0, -ENOSPC,
	  "kernel needs RAM at 0x10000000..0x10400000 (load address from pref_address"
	  " 0x10000000" },
	{ "pref_address in the device hole", { P(H_PREF_ADDRESS, 0xFEC00000) }, 0, -ENOSPC,
	  "kernel needs RAM at 0xfec00000" },
	{ "pref_address in high memory", { P(H_PREF_ADDRESS, GiB(5)) }, 0, -ENOSPC,
	  "kernel needs RAM at 0x140000000" },
	{ "pref_address wraps when aligned", { P(H_PREF_ADDRESS, 0xFFFFFFFFFFF00000ull) }, 0,
	  -ENOEXEC, "pref_address 0xfffffffffff00000 aligned to kernel_alignment 0x200000 wraps" },
	{ "load address plus init_size wraps",
	  { P(H_RELOCATABLE, 0), P(H_PREF_ADDRESS, 0xFFFFFFFFFFFFF000ull) }, 0, -ENOSPC,
	  "kernel load address 0xfffffffffffff000 (from pref_address 0xfffffffffffff000) plus"
	  " init_size 0x400000 wraps" },
	{ "huge alignment moves the kernel past RAM", { P(H_ALIGNMENT, 0x80000000) }, 0, -ENOSPC,
	  "kernel needs RAM at 0x80000000" },
	{ "non-relocatable without pref_address", { P(H_RELOCATABLE, 0), P(H_PREF_ADDRESS, 0) },
	  0, -ENOEXEC, "non-relocatable kernel wants to run at pref_address 0x0, below 1 MiB" },
	{ "non-relocatable on the boot structures",
	  { P(H_RELOCATABLE, 0), P(H_PREF_ADDRESS, 0x1000) }, 0, -ENOEXEC,
	  "pref_address 0x1000, below 1 MiB" },
	{ "non-relocatable beyond RAM",
	  { P(H_RELOCATABLE, 0), P(H_PREF_ADDRESS, GiB(32)) }, 0, -ENOSPC,
	  "kernel needs RAM at 0x800000000" },
};

static void test_linux_load_rejects_malformed_images(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		int ret;

		make_bzimage(f->image);
		for (size_t j = 0; j < 3 && c->patches[j].width; j++)
			put_le(f->image, c->patches[j].off, c->patches[j].width,
			       c->patches[j].value);
		f->image_size = c->size ? c->size : T_IMAGE_BYTES;
		ret = load(f, NULL);
		if (ret != c->ret)
			fail_msg("%s: got %d, want %d (err \"%s\")", c->name, ret, c->ret, f->err);
		if (!strstr(f->err, c->msg))
			fail_msg("%s: err \"%s\" does not mention \"%s\"", c->name, f->err, c->msg);
		if (strchr(f->err, '\n'))
			fail_msg("%s: err \"%s\" is more than one line", c->name, f->err);
	}
}

static void test_linux_load_rejects_missing_image(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(linux_load(&f->mem, NULL, 0, NULL, &f->out, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, "Linux loader called without an image");
}

/* ---- Debian's kernel, when `make linux-guest` has fetched it ---- */

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len);
		if (buf && fread(buf, 1, (size_t)len, fp) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)len;
	}
	fclose(fp);
	return buf;
}

/* BUILD/linux/vmlinuz relative to this binary in BUILD/tests/ or
 * BUILD/asan/tests/, else build/linux/vmlinuz from the tree root. */
static uint8_t *read_vmlinuz(size_t *size, char *path, size_t path_len)
{
	static const char *const rel[] = { "/../linux/vmlinuz", "/../../linux/vmlinuz" };
	char exe[1024];
	ssize_t n;
	uint8_t *buf;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (strrchr(exe, '/'))
			*strrchr(exe, '/') = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(path, path_len, "%s%s", exe, rel[i]);
			buf = read_file(path, size);
			if (buf)
				return buf;
		}
	}
	snprintf(path, path_len, "build/linux/vmlinuz");
	return read_file(path, size);
}

static void test_linux_load_accepts_debian_vmlinuz(void **state)
{
	struct fixture *f = *state;
	char path[1024 + 32];
	size_t size = 0;
	uint8_t *image = read_vmlinuz(&size, path, sizeof(path));
	const struct boot_framebuffer fb = { .gpa = MiB(240), .width = 1024, .height = 768,
					     .stride = 4096, .reserved_in_ram = true };
	uint8_t *initrd = make_initrd(MiB(1));
	struct boot_request req = { .cmdline = "console=ttyS0 nokaslr", .initrd = initrd,
				    .initrd_size = MiB(1), .framebuffer = &fb };
	struct linux_header hdr;
	int ret;

	if (!image) {
		free(initrd);
		print_message("build/linux/vmlinuz not fetched (make linux-guest): skipping\n");
		skip();
	}
	ret = linux_parse_header(image, size, &hdr, f->err, sizeof(f->err));
	if (ret)
		fail_msg("%s: %s", path, f->err);
	/* What a distro x86_64 kernel has had for a decade. */
	assert_true(hdr.version >= 0x020C);
	assert_true(hdr.xloadflags & 1);
	assert_true(hdr.relocatable);
	assert_true(hdr.kernel_alignment >= 0x1000);
	assert_true(hdr.cmdline_size >= 255);
	assert_true(hdr.init_size > hdr.kernel_bytes);
	assert_true(hdr.kernel_offset + hdr.kernel_bytes <= size);
	assert_int_equal(hdr.load_gpa, hdr.pref_address);
	assert_int_equal(hdr.load_gpa % hdr.kernel_alignment, 0);

	ret = linux_load(&f->mem, image, size, &req, &f->out, f->err, sizeof(f->err));
	if (ret)
		fail_msg("%s: %s", path, f->err);
	assert_int_equal(f->out.mode, BOOT_MODE_LINUX64);
	assert_int_equal(f->out.entry, hdr.pref_address + 0x200);
	assert_memory_equal(gpa(f, hdr.load_gpa, hdr.kernel_bytes), image + hdr.kernel_offset,
			    hdr.kernel_bytes);
	assert_memory_equal(zero_page(f) + 0x1F1, image + 0x1F1, 0x1FA - 0x1F1);
	assert_int_equal(zp(f, H_TYPE_OF_LOADER), 0xFF);
	assert_int_equal(zp(f, H_CMD_LINE_PTR), LINUX_CMDLINE_GPA);
	assert_true(check_initrd(f, initrd, MiB(1)) >= hdr.load_gpa + hdr.init_size);
	assert_int_equal(zp(f, S_ISVGA), 0x23);
	free(image);
	free(initrd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define T_HIGH(name) cmocka_unit_test_setup_teardown(name, setup_high, teardown)
		T(test_linux_probe_recognises_hdrs_magic_only),
		T(test_linux_load_valid_image_returns_64bit_entry),
		cmocka_unit_test(test_linux_layout_stays_inside_boot_area),
		T(test_linux_load_copies_kernel_to_pref_address_without_trailer),
		T(test_linux_load_copies_setup_header_into_zero_page),
		T(test_linux_load_writes_loader_fields),
		T(test_linux_load_passes_rsdp_to_protocol_2_14_and_later),
		T(test_linux_load_writes_cmdline_and_pointer),
		T(test_linux_load_without_cmdline_points_at_empty_string),
		T(test_linux_load_accepts_cmdline_of_cmdline_size_bytes),
		T(test_linux_load_rejects_cmdline_over_cmdline_size),
		T(test_linux_load_rejects_cmdline_longer_than_boot_area),
		T(test_linux_load_e820_lists_low_ram_legacy_area_and_device_hole),
		T_HIGH(test_linux_load_e820_lists_high_ram_above_4g),
		T(test_linux_load_e820_carves_reserved_framebuffer_from_low_ram),
		T(test_linux_load_e820_reserves_framebuffer_rounded_to_64k),
		T_HIGH(test_linux_load_e820_reserves_whole_framebuffer_region),
		T_HIGH(test_linux_load_e820_carves_framebuffer_from_high_ram),
		T(test_linux_load_device_framebuffer_leaves_e820_alone),
		T(test_linux_load_screen_info_describes_xrgb8888_lfb),
		T(test_linux_load_screen_info_uses_ext_base_above_4g),
		T(test_linux_load_without_framebuffer_leaves_screen_info_zero),
		T(test_linux_load_rejects_bad_framebuffers),
		T(test_linux_load_writes_identity_page_tables),
		T(test_linux_load_identity_map_covers_kernel_and_boot_data),
		T(test_linux_load_writes_gdt_with_boot_selectors),
		T(test_linux_load_zeroes_page_zero),
		T(test_linux_load_places_initrd_at_top_of_low_ram),
		T(test_linux_load_places_initrd_under_initrd_addr_max),
		T(test_linux_load_places_initrd_below_kernel_area),
		T(test_linux_load_places_initrd_below_reserved_framebuffer),
		T_HIGH(test_linux_load_places_initrd_below_3g_with_high_ram),
		T(test_linux_load_rejects_initrd_that_does_not_fit),
		T(test_linux_load_rejects_initrd_above_initrd_addr_max),
		T(test_linux_load_rejects_empty_initrd),
		T(test_linux_load_non_relocatable_kernel_loads_at_pref_address),
		T(test_linux_load_relocatable_kernel_aligns_pref_address_up),
		T(test_linux_load_relocatable_kernel_without_pref_loads_at_1mib),
		T(test_linux_load_treats_setup_sects_zero_as_four),
		T(test_linux_parse_header_reports_fields),
		T(test_linux_load_rejects_malformed_images),
		T(test_linux_load_rejects_missing_image),
		cmocka_unit_test_setup_teardown(test_linux_load_accepts_debian_vmlinuz,
						setup_debian, teardown),
#undef T
#undef T_HIGH
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
