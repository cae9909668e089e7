/*
 * Unit tests for hypervisor/loader.c: the image's content, not its name,
 * picks the loader. Minimal valid images of each kind are built here.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hypervisor/boot.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/loader.h"

#define T_RAM_BYTES    MiB(64)
#define T_IMAGE_BYTES  0x2000u
/* PVH image: one PT_LOAD at 1 MiB, one PT_NOTE with the Xen entry note. */
#define T_PVH_LOAD_GPA 0x100000u
#define T_PVH_ENTRY    (T_PVH_LOAD_GPA + 0x10)
#define T_PVH_NOTE_OFF 0x100u
#define T_PVH_DATA_OFF 0x200u
/* bzImage: 4 setup sectors, 0x1000 bytes of protected-mode code. */
#define T_BZ_SETUP_BYTES 0xA00u
#define T_BZ_KERNEL_BYTES 0x1000u
#define T_BZ_PREF      0x1000000u

struct fixture {
	struct guest_mem mem;
	uint8_t image[T_IMAGE_BYTES];
	char err[512];
	struct boot_entry out;
};

static void put_le(uint8_t *p, size_t off, size_t width, uint64_t v)
{
	for (size_t i = 0; i < width; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static size_t make_pvh(uint8_t *img)
{
	Elf64_Ehdr eh = {
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
	};
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_offset = T_PVH_DATA_OFF, .p_paddr = T_PVH_LOAD_GPA,
		  .p_filesz = 0x100, .p_memsz = 0x100, .p_align = 0x1000 },
		{ .p_type = PT_NOTE, .p_offset = T_PVH_NOTE_OFF, .p_filesz = 20,
		  .p_memsz = 20, .p_align = 4 },
	};

	memset(img, 0, T_IMAGE_BYTES);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + eh.e_phoff, ph, sizeof(ph));
	put_le(img, T_PVH_NOTE_OFF, 4, 4);        /* namesz */
	put_le(img, T_PVH_NOTE_OFF + 4, 4, 4);    /* descsz */
	put_le(img, T_PVH_NOTE_OFF + 8, 4, 18);   /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(img + T_PVH_NOTE_OFF + 12, "Xen", 4);
	put_le(img, T_PVH_NOTE_OFF + 16, 4, T_PVH_ENTRY);
	return T_PVH_DATA_OFF + 0x100;
}

static size_t make_bzimage(uint8_t *img)
{
	memset(img, 0, T_IMAGE_BYTES);
	put_le(img, 0x1F1, 1, 4);                         /* setup_sects */
	put_le(img, 0x1F4, 4, T_BZ_KERNEL_BYTES / 16);    /* syssize */
	put_le(img, 0x1FE, 2, 0xAA55);                    /* boot_flag */
	put_le(img, 0x200, 2, 0x6AEB);                    /* jmp; header ends at 0x26C */
	memcpy(img + 0x202, "HdrS", 4);
	put_le(img, 0x206, 2, 0x020F);                    /* version 2.15 */
	put_le(img, 0x22C, 4, 0x7fffffff);                /* initrd_addr_max */
	put_le(img, 0x230, 4, 0x200000);                  /* kernel_alignment */
	put_le(img, 0x234, 1, 1);                         /* relocatable_kernel */
	put_le(img, 0x236, 2, 1);                         /* XLF_KERNEL_64 */
	put_le(img, 0x238, 4, 2047);                      /* cmdline_size */
	put_le(img, 0x258, 8, T_BZ_PREF);                 /* pref_address */
	put_le(img, 0x260, 4, 0x200000);                  /* init_size */
	return T_BZ_SETUP_BYTES + T_BZ_KERNEL_BYTES;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, T_RAM_BYTES) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

/* Through an exact-size heap copy, so ASan sees any read past the end. */
static int load(struct fixture *f, size_t size, const struct boot_request *req)
{
	uint8_t *copy = malloc(size ? size : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, f->image, size);
	memset(f->err, 'X', sizeof(f->err) - 1);
	f->err[sizeof(f->err) - 1] = '\0';
	ret = loader_load(&f->mem, copy, size, req, &f->out, f->err, sizeof(f->err));
	free(copy);
	return ret;
}

static void test_loader_loads_pvh_elf_with_pvh_loader(void **state)
{
	struct fixture *f = *state;
	size_t size = make_pvh(f->image);

	assert_int_equal(load(f, size, NULL), 0);
	assert_int_equal(f->out.mode, BOOT_MODE_PVH32);
	assert_int_equal(f->out.entry, T_PVH_ENTRY);
	assert_int_equal(f->out.page_table_gpa, 0);
}

static void test_loader_loads_bzimage_with_linux_loader(void **state)
{
	struct fixture *f = *state;
	size_t size = make_bzimage(f->image);

	assert_int_equal(load(f, size, NULL), 0);
	assert_int_equal(f->out.mode, BOOT_MODE_LINUX64);
	assert_int_equal(f->out.entry, T_BZ_PREF + 0x200);
	assert_int_not_equal(f->out.page_table_gpa, 0);
}

static void test_loader_pvh_ignores_framebuffer_request(void **state)
{
	struct fixture *f = *state;
	size_t size = make_pvh(f->image);
	const struct boot_framebuffer fb = { .gpa = MiB(48), .width = 640, .height = 480,
					     .stride = 2560, .reserved_in_ram = true };
	struct boot_request req = { .framebuffer = &fb };

	assert_int_equal(load(f, size, &req), 0);
	assert_int_equal(f->out.mode, BOOT_MODE_PVH32);
}

static void test_loader_rejects_unknown_format(void **state)
{
	struct fixture *f = *state;

	memset(f->image, 0, T_IMAGE_BYTES);
	memcpy(f->image, "MZ", 2);
	assert_int_equal(load(f, T_IMAGE_BYTES, NULL), -ENOEXEC);
	assert_string_equal(f->err, "unknown kernel image format in a 8192-byte file: neither a"
			    " PVH ELF (7f 45 4c 46 at offset 0) nor a Linux bzImage (\"HdrS\" at"
			    " offset 0x202)");
}

static void test_loader_rejects_empty_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, 0, NULL), -ENOEXEC);
	assert_non_null(strstr(f->err, "unknown kernel image format in a 0-byte file"));
}

static void test_loader_rejects_bzimage_cut_before_magic(void **state)
{
	struct fixture *f = *state;

	make_bzimage(f->image);
	assert_int_equal(load(f, 0x204, NULL), -ENOEXEC);
	assert_non_null(strstr(f->err, "unknown kernel image format in a 516-byte file"));
}

static void test_loader_reports_pvh_errors_for_broken_elf(void **state)
{
	struct fixture *f = *state;

	make_pvh(f->image);
	assert_int_equal(load(f, 40, NULL), -ENOEXEC);
	assert_string_equal(f->err, "truncated ELF header (40 of 64 bytes)");
}

static void test_loader_reports_linux_errors_for_broken_bzimage(void **state)
{
	struct fixture *f = *state;
	size_t size = make_bzimage(f->image);

	put_le(f->image, 0x236, 2, 0);  /* no XLF_KERNEL_64 */
	assert_int_equal(load(f, size, NULL), -ENOEXEC);
	assert_non_null(strstr(f->err, "lacks XLF_KERNEL_64"));
}

static void test_loader_reports_too_long_cmdline(void **state)
{
	struct fixture *f = *state;
	size_t size = make_bzimage(f->image);
	char cmdline[2049];
	struct boot_request req = { .cmdline = cmdline };

	memset(cmdline, 'x', sizeof(cmdline) - 1);
	cmdline[sizeof(cmdline) - 1] = '\0';
	assert_int_equal(load(f, size, &req), -E2BIG);
	assert_non_null(strstr(f->err, "kernel command line is 2048 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_loader_loads_pvh_elf_with_pvh_loader),
		T(test_loader_loads_bzimage_with_linux_loader),
		T(test_loader_pvh_ignores_framebuffer_request),
		T(test_loader_rejects_unknown_format),
		T(test_loader_rejects_empty_file),
		T(test_loader_rejects_bzimage_cut_before_magic),
		T(test_loader_reports_pvh_errors_for_broken_elf),
		T(test_loader_reports_linux_errors_for_broken_bzimage),
		T(test_loader_reports_too_long_cmdline),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
