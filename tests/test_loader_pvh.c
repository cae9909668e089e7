/*
 * Unit tests for hypervisor/loader_pvh.c. Images are built here in memory: a
 * valid PVH ELF (one PT_LOAD, one PT_NOTE with the Xen entry note, one spare
 * PT_NULL header a test can turn into a second segment), then mutated.
 *
 * Over 800 lines on purpose: one test file per unit under test (as every
 * tests/test_X.c for X.c), made of independent cases, each short.
 */
#include <elf.h>
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
#include "hypervisor/loader_pvh.h"

#define T_RAM_BYTES   MiB(64)
#define T_GARBAGE     0xA5
#define T_IMAGE_BYTES 0x500u
#define T_PHNUM       3u
#define T_NOTE_OFF    0x100u      /* notes in the file */
#define T_NOTE_BYTES  20u         /* one Xen note with a 4-byte value */
#define T_DATA_OFF    0x200u      /* segment 0's file bytes */
#define T_FILESZ      0x300u
#define T_MEMSZ       0x2000u
#define T_LOAD_GPA    0x100000u
#define T_ENTRY       (T_LOAD_GPA + 0x40)
#define T_XEN_PHYS32_ENTRY 18     /* Xen elfnote.h XEN_ELFNOTE_PHYS32_ENTRY */

/* Offsets into a 64-bit test image, for the mutation tables. */
#define EH(f)    offsetof(Elf64_Ehdr, f), sizeof(((Elf64_Ehdr *)0)->f)
#define PH(i, f) (sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, f)), \
		 sizeof(((Elf64_Phdr *)0)->f)
#define NOTE_NAMESZ   T_NOTE_OFF, 4
#define NOTE_DESCSZ   (T_NOTE_OFF + 4), 4
#define NOTE_TYPE     (T_NOTE_OFF + 8), 4
#define NOTE_NAME     (T_NOTE_OFF + 12), 4
#define NOTE_DESC     (T_NOTE_OFF + 16), 4

/* Mirrors of the start_info.h layouts, to read back what the loader wrote. */
struct t_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct t_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct t_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct fixture {
	struct guest_mem mem;
	uint8_t image[T_IMAGE_BYTES];
	size_t image_size;
	char err[256];
	struct boot_entry out;
};

static uint8_t data_byte(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static void put_le(uint8_t *p, size_t width, uint64_t v)
{
	for (size_t i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_note(uint8_t *p, uint32_t namesz, uint32_t descsz, uint32_t type,
		     const char *name)
{
	put_le(p, 4, namesz);
	put_le(p + 4, 4, descsz);
	put_le(p + 8, 4, type);
	memcpy(p + 12, name, namesz);
}

/* A valid 64-bit PVH image: PT_LOAD 0 at T_LOAD_GPA, PT_NOTE 1, PT_NULL 2. */
static void make_elf64(uint8_t *img)
{
	Elf64_Ehdr eh = {
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = 0xffffffff81000000ull,  /* virtual; PVH ignores it */
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = T_PHNUM,
	};
	Elf64_Phdr ph[T_PHNUM] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = T_DATA_OFF,
		  .p_vaddr = 0xffffffff81000000ull, .p_paddr = T_LOAD_GPA,
		  .p_filesz = T_FILESZ, .p_memsz = T_MEMSZ, .p_align = 0x1000 },
		{ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = T_NOTE_OFF,
		  .p_filesz = T_NOTE_BYTES, .p_memsz = T_NOTE_BYTES, .p_align = 4 },
		{ .p_type = PT_NULL },
	};

	memset(img, 0, T_IMAGE_BYTES);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + eh.e_phoff, ph, sizeof(ph));
	put_note(img + T_NOTE_OFF, 4, 4, T_XEN_PHYS32_ENTRY, "Xen");
	put_le(img + T_NOTE_OFF + 16, 4, T_ENTRY);
	for (size_t i = 0; i < T_FILESZ; i++)
		img[T_DATA_OFF + i] = data_byte(i);
}

/* The same image as ELF32 (i386), as 32-bit PVH kernels are built. */
static void make_elf32(uint8_t *img)
{
	Elf32_Ehdr eh = {
		.e_type = ET_EXEC,
		.e_machine = EM_386,
		.e_version = EV_CURRENT,
		.e_entry = T_ENTRY,
		.e_phoff = sizeof(Elf32_Ehdr),
		.e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr),
		.e_phnum = T_PHNUM,
	};
	Elf32_Phdr ph[T_PHNUM] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = T_DATA_OFF,
		  .p_vaddr = T_LOAD_GPA, .p_paddr = T_LOAD_GPA,
		  .p_filesz = T_FILESZ, .p_memsz = T_MEMSZ, .p_align = 0x1000 },
		{ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = T_NOTE_OFF,
		  .p_filesz = T_NOTE_BYTES, .p_memsz = T_NOTE_BYTES, .p_align = 4 },
		{ .p_type = PT_NULL },
	};

	memset(img, 0, T_IMAGE_BYTES);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + eh.e_phoff, ph, sizeof(ph));
	put_note(img + T_NOTE_OFF, 4, 4, T_XEN_PHYS32_ENTRY, "Xen");
	put_le(img + T_NOTE_OFF + 16, 4, T_ENTRY);
	for (size_t i = 0; i < T_FILESZ; i++)
		img[T_DATA_OFF + i] = data_byte(i);
}

static Elf64_Phdr *phdr64(struct fixture *f, unsigned int i)
{
	return (Elf64_Phdr *)(f->image + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static void fill_garbage(struct fixture *f)
{
	/* Everything the loader may touch in the default layout; not all 64 MiB. */
	memset(f->mem.mapping, T_GARBAGE, MiB(2));
	memset(f->mem.mapping + T_RAM_BYTES - MiB(2), T_GARBAGE, MiB(2));
}

static int setup_ram(struct fixture **out, uint64_t ram_bytes)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, ram_bytes) != 0) {
		free(f);
		return -1;
	}
	make_elf64(f->image);
	f->image_size = T_IMAGE_BYTES;
	*out = f;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f;

	if (setup_ram(&f, T_RAM_BYTES))
		return -1;
	fill_garbage(f);
	*state = f;
	return 0;
}

/* Guest RAM with a high region: 3 GiB low, 16 MiB at 4 GiB. */
static int setup_high(void **state)
{
	struct fixture *f;

	if (setup_ram(&f, GiB(3) + MiB(16)))
		return -1;
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
	ret = pvh_load(&f->mem, copy, f->image_size, req, &f->out, f->err, sizeof(f->err));
	free(copy);
	return ret;
}

static const void *gpa(struct fixture *f, uint64_t addr, uint64_t len)
{
	const void *p = guest_mem_ptr(&f->mem, addr, len);

	assert_non_null(p);
	return p;
}

static struct t_start_info start_info(struct fixture *f)
{
	struct t_start_info si;

	memcpy(&si, gpa(f, f->out.boot_info_gpa, sizeof(si)), sizeof(si));
	return si;
}

/* ---- success paths ---- */

static void test_pvh_probe_recognises_elf_magic_only(void **state)
{
	static const uint8_t elf[] = { 0x7f, 'E', 'L', 'F' };
	static const uint8_t bz[] = { 'M', 'Z', 0, 0 };
	(void)state;

	assert_true(pvh_probe(elf, sizeof(elf)));
	assert_false(pvh_probe(elf, 3));
	assert_false(pvh_probe(bz, sizeof(bz)));
	assert_false(pvh_probe(NULL, 0));
}

static void test_pvh_load_valid_elf64_returns_pvh_entry(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, NULL), 0);
	assert_string_equal(f->err, "");
	assert_int_equal(f->out.mode, BOOT_MODE_PVH32);
	assert_int_equal(f->out.entry, T_ENTRY);
	assert_int_equal(f->out.boot_info_gpa, PVH_START_INFO_GPA);
}

static void test_pvh_load_valid_elf32_returns_pvh_entry(void **state)
{
	struct fixture *f = *state;

	make_elf32(f->image);
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, T_ENTRY);
	assert_memory_equal(gpa(f, T_LOAD_GPA, T_FILESZ), f->image + T_DATA_OFF, T_FILESZ);
}

static void test_pvh_load_copies_file_bytes_to_paddr(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, NULL), 0);
	assert_memory_equal(gpa(f, T_LOAD_GPA, T_FILESZ), f->image + T_DATA_OFF, T_FILESZ);
}

static void test_pvh_load_zeroes_bss_and_nothing_beyond(void **state)
{
	struct fixture *f = *state;
	const uint8_t *bss;

	assert_int_equal(load(f, NULL), 0);
	bss = gpa(f, T_LOAD_GPA + T_FILESZ, T_MEMSZ - T_FILESZ);
	for (size_t i = 0; i < T_MEMSZ - T_FILESZ; i++)
		if (bss[i] != 0)
			fail_msg("bss byte 0x%zx is 0x%02x, want 0", i, bss[i]);
	assert_int_equal(*(const uint8_t *)gpa(f, T_LOAD_GPA + T_MEMSZ, 1), T_GARBAGE);
	assert_int_equal(*(const uint8_t *)gpa(f, T_LOAD_GPA - 1, 1), T_GARBAGE);
}

static void test_pvh_load_loads_second_segment(void **state)
{
	struct fixture *f = *state;
	Elf64_Phdr *ph = phdr64(f, 2);

	*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = T_DATA_OFF + 0x100,
			    .p_paddr = 0x200000, .p_filesz = 0x80, .p_memsz = 0x1000 };
	assert_int_equal(load(f, NULL), 0);
	assert_memory_equal(gpa(f, 0x200000, 0x80), f->image + T_DATA_OFF + 0x100, 0x80);
	assert_int_equal(*(const uint8_t *)gpa(f, 0x200000 + 0xfff, 1), 0);
}

static void test_pvh_load_skips_empty_load_segment(void **state)
{
	struct fixture *f = *state;

	/* memsz 0 at address 0: QEMU ignores such segments, so must we. */
	*phdr64(f, 2) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = 0 };
	assert_int_equal(load(f, NULL), 0);
}

static void test_pvh_load_writes_start_info_header(void **state)
{
	struct fixture *f = *state;
	struct t_start_info si;

	assert_int_equal(load(f, NULL), 0);
	si = start_info(f);
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0);
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	assert_int_equal(si.rsdp_paddr, 0);
	assert_int_equal(si.reserved, 0);
	assert_int_equal(si.memmap_paddr, PVH_MEMMAP_GPA);
	assert_int_equal(si.cmdline_paddr, PVH_CMDLINE_GPA);
}

static void test_pvh_load_writes_cmdline(void **state)
{
	struct fixture *f = *state;
	const char *cmdline = "console=ttyS0 fbvm.test=1";
	struct boot_request req = { .cmdline = cmdline };
	struct t_start_info si;

	assert_int_equal(load(f, &req), 0);
	si = start_info(f);
	assert_memory_equal(gpa(f, si.cmdline_paddr, strlen(cmdline) + 1), cmdline,
			    strlen(cmdline) + 1);
}

static void test_pvh_load_without_cmdline_writes_empty_string(void **state)
{
	struct fixture *f = *state;
	struct t_start_info si;

	assert_int_equal(load(f, NULL), 0);
	si = start_info(f);
	assert_int_equal(*(const char *)gpa(f, si.cmdline_paddr, 1), '\0');
}

static void test_pvh_load_accepts_cmdline_of_4095_bytes(void **state)
{
	struct fixture *f = *state;
	char *cmdline = malloc(PVH_CMDLINE_MAX_BYTES);
	struct boot_request req = { .cmdline = cmdline };
	struct t_start_info si;

	assert_non_null(cmdline);
	memset(cmdline, 'c', PVH_CMDLINE_MAX_BYTES - 1);
	cmdline[PVH_CMDLINE_MAX_BYTES - 1] = '\0';
	assert_int_equal(load(f, &req), 0);
	si = start_info(f);
	assert_memory_equal(gpa(f, si.cmdline_paddr, PVH_CMDLINE_MAX_BYTES), cmdline,
			    PVH_CMDLINE_MAX_BYTES);
	free(cmdline);
}

static void test_pvh_load_rejects_cmdline_over_4095_bytes(void **state)
{
	struct fixture *f = *state;
	char *cmdline = malloc(PVH_CMDLINE_MAX_BYTES + 1);
	struct boot_request req = { .cmdline = cmdline };

	assert_non_null(cmdline);
	memset(cmdline, 'c', PVH_CMDLINE_MAX_BYTES);
	cmdline[PVH_CMDLINE_MAX_BYTES] = '\0';
	assert_int_equal(load(f, &req), -E2BIG);
	assert_non_null(strstr(f->err, "command line is 4096 bytes"));
	assert_non_null(strstr(f->err, "4095"));
	free(cmdline);
}

static void test_pvh_load_memmap_lists_low_ram_acpi_area_and_reserved_hole(void **state)
{
	struct fixture *f = *state;
	struct t_start_info si;
	struct t_memmap_entry map[4];

	assert_int_equal(load(f, NULL), 0);
	si = start_info(f);
	assert_int_equal(si.memmap_entries, 4);
	memcpy(map, gpa(f, si.memmap_paddr, sizeof(map)), sizeof(map));
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].size, 0xE0000);
	assert_int_equal(map[0].type, 1);
	assert_int_equal(map[0].reserved, 0);
	assert_int_equal(map[1].addr, 0xE0000);
	assert_int_equal(map[1].size, 0x20000);
	assert_int_equal(map[1].type, 2);
	assert_int_equal(map[2].addr, 0x100000);
	assert_int_equal(map[2].size, T_RAM_BYTES - 0x100000);
	assert_int_equal(map[2].type, 1);
	assert_int_equal(map[3].addr, GiB(3));
	assert_int_equal(map[3].size, GiB(1));
	assert_int_equal(map[3].type, 2);
}

static void test_pvh_load_passes_rsdp_address(void **state)
{
	struct fixture *f = *state;
	struct boot_request req = { .acpi_rsdp_gpa = 0xE0000 };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(start_info(f).rsdp_paddr, 0xE0000);
}

static void test_pvh_load_memmap_lists_high_ram_above_4g(void **state)
{
	struct fixture *f = *state;
	struct t_start_info si;
	struct t_memmap_entry map[5];

	assert_int_equal(load(f, NULL), 0);
	si = start_info(f);
	assert_int_equal(si.memmap_entries, 5);
	memcpy(map, gpa(f, si.memmap_paddr, sizeof(map)), sizeof(map));
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].size, 0xE0000);
	assert_int_equal(map[1].type, 2);
	assert_int_equal(map[2].addr, 0x100000);
	assert_int_equal(map[2].size, GiB(3) - 0x100000);
	assert_int_equal(map[2].type, 1);
	assert_int_equal(map[3].addr, GiB(3));
	assert_int_equal(map[3].size, GiB(1));
	assert_int_equal(map[3].type, 2);
	assert_int_equal(map[4].addr, GiB(4));
	assert_int_equal(map[4].size, MiB(16));
	assert_int_equal(map[4].type, 1);
}

static uint8_t *make_initrd(size_t size)
{
	uint8_t *p = malloc(size);

	assert_non_null(p);
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 13 + 5);
	return p;
}

/* Checks the single module entry and returns its address. */
static uint64_t check_initrd_module(struct fixture *f, const uint8_t *initrd, size_t size)
{
	struct t_start_info si = start_info(f);
	struct t_modlist_entry mod;

	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(si.modlist_paddr, PVH_MODLIST_GPA);
	memcpy(&mod, gpa(f, si.modlist_paddr, sizeof(mod)), sizeof(mod));
	assert_int_equal(mod.size, size);
	assert_int_equal(mod.cmdline_paddr, 0);
	assert_int_equal(mod.reserved, 0);
	assert_int_equal(mod.paddr & 0xFFF, 0);
	assert_memory_equal(gpa(f, mod.paddr, size), initrd, size);
	return mod.paddr;
}

static void test_pvh_load_places_initrd_at_top_of_low_ram(void **state)
{
	struct fixture *f = *state;
	const size_t size = 10000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	assert_int_equal(load(f, &req), 0);
	/* Highest page-aligned start that still fits: (64M - 10000) & ~0xFFF. */
	assert_int_equal(check_initrd_module(f, initrd, size), 0x3FFD000);
	free(initrd);
}

static void test_pvh_load_places_initrd_below_image_at_top_of_ram(void **state)
{
	struct fixture *f = *state;
	const size_t size = 10000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	/* Segment 0 occupies the last 1 MiB of RAM; the initrd must go below it. */
	phdr64(f, 0)->p_paddr = T_RAM_BYTES - MiB(1);
	phdr64(f, 0)->p_memsz = MiB(1);
	put_le(f->image + T_NOTE_OFF + 16, 4, T_RAM_BYTES - MiB(1));
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd_module(f, initrd, size), (T_RAM_BYTES - MiB(1) - size) & ~0xFFFull);
	free(initrd);
}

static void test_pvh_load_places_initrd_below_acpi_area(void **state)
{
	struct fixture *f = *state;
	const size_t size = 0x3000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	/* The image fills RAM from 1 MiB up; below it lie the ACPI tables,
	 * so the initrd must go below 0xE0000. */
	phdr64(f, 0)->p_memsz = T_RAM_BYTES - T_LOAD_GPA;
	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd_module(f, initrd, size), 0xE0000 - size);
	free(initrd);
}

static void test_pvh_load_places_initrd_below_3g_with_high_ram(void **state)
{
	struct fixture *f = *state;
	const size_t size = 0x3000;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	assert_int_equal(load(f, &req), 0);
	assert_int_equal(check_initrd_module(f, initrd, size), GiB(3) - size);
	free(initrd);
}

static void test_pvh_load_rejects_initrd_larger_than_low_ram(void **state)
{
	struct fixture *f = *state;
	const size_t size = T_RAM_BYTES;
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	assert_int_equal(load(f, &req), -ENOSPC);
	assert_non_null(strstr(f->err, "initrd"));
	assert_non_null(strstr(f->err, "does not fit"));
	free(initrd);
}

static void test_pvh_load_rejects_initrd_with_no_room_beside_image(void **state)
{
	struct fixture *f = *state;
	/* Segment 0 covers 32 MiB..64 MiB; a 32 MiB initrd fits neither above
	 * nor below it (below, the boot structures take the first 64 KiB). */
	const size_t size = MiB(32);
	uint8_t *initrd = make_initrd(size);
	struct boot_request req = { .initrd = initrd, .initrd_size = size };

	phdr64(f, 0)->p_paddr = MiB(32);
	phdr64(f, 0)->p_memsz = MiB(32);
	put_le(f->image + T_NOTE_OFF + 16, 4, MiB(32));
	assert_int_equal(load(f, &req), -ENOSPC);
	assert_non_null(strstr(f->err, "initrd (33554432 bytes) does not fit"));
	free(initrd);
}

static void test_pvh_load_rejects_empty_initrd(void **state)
{
	struct fixture *f = *state;
	static const uint8_t byte;
	struct boot_request req = { .initrd = &byte, .initrd_size = 0 };

	assert_int_equal(load(f, &req), -EINVAL);
	assert_non_null(strstr(f->err, "initrd is empty"));
}

static void test_pvh_load_accepts_8_byte_entry_note(void **state)
{
	struct fixture *f = *state;

	/* Newer Linux emits the entry with _ASM_PTR: 8 bytes in ELF64. */
	put_note(f->image + T_NOTE_OFF, 4, 8, T_XEN_PHYS32_ENTRY, "Xen");
	put_le(f->image + T_NOTE_OFF + 16, 8, T_ENTRY + 4);
	phdr64(f, 1)->p_filesz = 24;
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, T_ENTRY + 4);
}

static void test_pvh_load_finds_entry_note_after_other_notes(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = f->image + T_NOTE_OFF;

	/* "Linux" (namesz 6, padded to 8) with a 3-byte value (padded to 4). */
	put_note(p, 6, 3, 1, "Linux");
	memcpy(p + 20, "abc", 3);
	put_note(p + 24, 4, 4, T_XEN_PHYS32_ENTRY, "Xen");
	put_le(p + 40, 4, T_ENTRY + 8);
	phdr64(f, 1)->p_filesz = 44;
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, T_ENTRY + 8);
}

static void test_pvh_load_pads_notes_by_8_when_p_align_is_8(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = f->image + T_NOTE_OFF;

	/* Name ends at 18: the value starts at 24 (not 20), the next note at 32. */
	put_note(p, 6, 4, 1, "Linux");
	put_le(p + 24, 4, 0xdeadbeef);
	put_note(p + 32, 4, 4, T_XEN_PHYS32_ENTRY, "Xen");
	put_le(p + 48, 4, T_ENTRY + 12);
	phdr64(f, 1)->p_filesz = 56;
	phdr64(f, 1)->p_align = 8;
	assert_int_equal(load(f, NULL), 0);
	assert_int_equal(f->out.entry, T_ENTRY + 12);
}

static void test_pvh_load_rejects_segment_spanning_3g_hole(void **state)
{
	struct fixture *f = *state;

	phdr64(f, 0)->p_paddr = GiB(3) - 0x1000;
	put_le(f->image + T_NOTE_OFF + 16, 4, GiB(3) - 0x1000);
	assert_int_equal(load(f, NULL), -ENOSPC);
	assert_non_null(strstr(f->err, "ELF segment 0 (0xbffff000+0x2000) lies outside guest RAM"));
}

static void test_pvh_load_accepts_segment_in_high_ram(void **state)
{
	struct fixture *f = *state;

	/* The entry must be 32-bit, but other segments may live above 4 GiB. */
	*phdr64(f, 2) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = T_DATA_OFF,
				       .p_paddr = GiB(4) + 0x1000, .p_filesz = 0x10,
				       .p_memsz = 0x20 };
	assert_int_equal(load(f, NULL), 0);
	assert_memory_equal(gpa(f, GiB(4) + 0x1000, 0x10), f->image + T_DATA_OFF, 0x10);
}

static void test_pvh_load_rejects_truncated_elf32_header(void **state)
{
	struct fixture *f = *state;

	make_elf32(f->image);
	f->image_size = 40;
	assert_int_equal(load(f, NULL), -ENOEXEC);
	assert_string_equal(f->err, "truncated ELF header (40 of 52 bytes)");
}

/* ---- rejections: one valid ELF64 image, one or two fields changed ---- */

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
	{ "empty file", {}, 1, -ENOEXEC, "truncated ELF header (1 of 64 bytes)" },
	{ "header cut at 40 bytes", {}, 40, -ENOEXEC, "truncated ELF header (40 of 64 bytes)" },
	{ "ident cut at 10 bytes", {}, 10, -ENOEXEC, "truncated ELF header (10 of 64 bytes)" },
	{ "bad magic", { P(0, 1, 0x7e) }, 0, -ENOEXEC, "bad magic 7e 45 4c 46 (want 7f 45 4c 46)" },
	{ "two bytes, not ELF", { P(0, 2, 0x5a4d) }, 2, -ENOEXEC,
	  "not an ELF image: bad magic in a 2-byte file" },
	{ "not ELF at all", { P(0, 4, 0x00905a4d) }, 0, -ENOEXEC, "not an ELF image" },
	{ "class 3", { P(EI_CLASS, 1, 3) }, 0, -ENOEXEC, "ELF class 3" },
	{ "big-endian", { P(EI_DATA, 1, ELFDATA2MSB) }, 0, -ENOEXEC, "little-endian" },
	{ "ET_DYN", { P(EH(e_type), ET_DYN) }, 0, -ENOEXEC, "ELF type 3 is not ET_EXEC" },
	{ "ET_REL", { P(EH(e_type), ET_REL) }, 0, -ENOEXEC, "ELF type 1 is not ET_EXEC" },
	{ "arm64", { P(EH(e_machine), EM_AARCH64) }, 0, -ENOEXEC, "ELF machine 183 is not x86" },
	{ "phentsize 55", { P(EH(e_phentsize), 55) }, 0, -ENOEXEC, "e_phentsize is 55" },
	{ "phentsize of ELF32", { P(EH(e_phentsize), 32) }, 0, -ENOEXEC, "e_phentsize is 32" },
	{ "no program headers", { P(EH(e_phnum), 0) }, 0, -ENOEXEC, "no program headers" },
	{ "65 program headers", { P(EH(e_phnum), 65) }, 0, -ENOEXEC, "65 program headers" },
	{ "PN_XNUM program headers", { P(EH(e_phnum), 0xffff) }, 0, -ENOEXEC,
	  "65535 program headers" },
	{ "program headers past the end", { P(EH(e_phoff), T_IMAGE_BYTES - 100) }, 0, -ENOEXEC,
	  "truncated ELF program headers" },
	{ "program header offset wraps", { P(EH(e_phoff), UINT64_MAX - 8) }, 0, -ENOEXEC,
	  "truncated ELF program headers" },
	{ "file cut inside program headers", {}, 100, -ENOEXEC, "truncated ELF program headers" },
	{ "segment data past the end", { P(PH(0, p_offset), T_IMAGE_BYTES - 0x10) }, 0, -ENOEXEC,
	  "ELF segment 0 file data" },
	{ "segment offset wraps", { P(PH(0, p_offset), UINT64_MAX - 0x10) }, 0, -ENOEXEC,
	  "ELF segment 0 file data" },
	{ "segment filesz past the end", { P(PH(0, p_filesz), T_FILESZ + 1),
					   P(PH(0, p_memsz), 0x100000) }, 0, -ENOEXEC,
	  "runs past the end of the 1280-byte file" },
	{ "filesz above memsz", { P(PH(0, p_memsz), T_FILESZ - 1) }, 0, -ENOEXEC,
	  "ELF segment 0 has more file bytes (0x300) than memory bytes (0x2ff)" },
	{ "filesz with memsz 0", { P(PH(0, p_memsz), 0) }, 0, -ENOEXEC,
	  "ELF segment 0 has more file bytes" },
	{ "segment beyond RAM", { P(PH(0, p_paddr), T_RAM_BYTES) }, 0, -ENOSPC,
	  "ELF segment 0 (0x4000000+0x2000) lies outside guest RAM (64 MiB)" },
	{ "segment straddles end of RAM", { P(PH(0, p_paddr), T_RAM_BYTES - 0x1000) }, 0,
	  -ENOSPC, "lies outside guest RAM (64 MiB)" },
	{ "absurd memsz", { P(PH(0, p_memsz), 0x40000000) }, 0, -ENOSPC,
	  "ELF segment 0 (0x100000+0x40000000) lies outside guest RAM (64 MiB)" },
	{ "segment in the device hole", { P(PH(0, p_paddr), GiB(3) + 0x1000) }, 0, -ENOSPC,
	  "lies outside guest RAM" },
	{ "segment wraps the address space", { P(PH(0, p_paddr), UINT64_MAX - 0xfff) }, 0,
	  -ENOEXEC, "wraps around the end of the address space" },
	{ "segment at page 0", { P(PH(0, p_paddr), 0) }, 0, -ENOEXEC,
	  "ELF segment 0 (0x0+0x2000) overlaps the loader's boot structures" },
	{ "segment on the start_info", { P(PH(0, p_paddr), 0x1000) }, 0, -ENOEXEC,
	  "overlaps the loader's boot structures below 0x10000" },
	{ "segment ends just inside the boot area", { P(PH(0, p_paddr), 0xF000) }, 0, -ENOEXEC,
	  "overlaps the loader's boot structures" },
	{ "segment on the ACPI tables", { P(PH(0, p_paddr), 0xF0000) }, 0, -ENOEXEC,
	  "ELF segment 0 (0xf0000+0x2000) overlaps the ACPI tables at 0xe0000-0xfffff" },
	{ "segment ends just inside the ACPI area", { P(PH(0, p_paddr), 0xDF000) }, 0, -ENOEXEC,
	  "overlaps the ACPI tables" },
	{ "no PT_LOAD", { P(PH(0, p_type), PT_NULL) }, 0, -ENOEXEC,
	  "no loadable (PT_LOAD) segment" },
	{ "second segment overlaps the first's bss",
	  { P(PH(2, p_type), PT_LOAD), P(PH(2, p_paddr), T_LOAD_GPA + T_MEMSZ - 1),
	    P(PH(2, p_memsz), 0x10) }, 0, -ENOEXEC, "ELF segments 0 (0x100000+0x2000) and 2" },
	{ "second segment inside the first",
	  { P(PH(2, p_type), PT_LOAD), P(PH(2, p_paddr), T_LOAD_GPA + 0x10),
	    P(PH(2, p_memsz), 0x10) }, 0, -ENOEXEC, "overlap in guest memory" },
	{ "no PT_NOTE", { P(PH(1, p_type), PT_NULL) }, 0, -ENOEXEC,
	  "no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel" },
	{ "note of another type", { P(NOTE_TYPE, 17) }, 0, -ENOEXEC,
	  "no XEN_ELFNOTE_PHYS32_ENTRY note" },
	{ "note of another owner", { P(NOTE_NAME, 0x00454e47) /* "GNE" */ }, 0, -ENOEXEC,
	  "no XEN_ELFNOTE_PHYS32_ENTRY note" },
	{ "entry note with 2-byte value", { P(NOTE_DESCSZ, 2) }, 0, -ENOEXEC,
	  "XEN_ELFNOTE_PHYS32_ENTRY note has a 2-byte value (want 4 or 8)" },
	{ "entry note with 8-byte value above 4 GiB",
	  { P(NOTE_DESCSZ, 8), P(T_NOTE_OFF + 16, 8, 0x100100000ull),
	    P(PH(1, p_filesz), 24) }, 0, -ENOEXEC,
	  "XEN_ELFNOTE_PHYS32_ENTRY 0x100100000 is not a 32-bit address" },
	{ "note namesz runs past the segment", { P(NOTE_NAMESZ, 0xffffffff) }, 0, -ENOEXEC,
	  "malformed ELF note at offset 0x0 of note segment 1" },
	{ "note descsz runs past the segment", { P(NOTE_DESCSZ, 0xfffffff0) }, 0, -ENOEXEC,
	  "descriptor (4294967280 bytes) run past the segment end" },
	{ "note descsz one too big", { P(NOTE_DESCSZ, 5) }, 0, -ENOEXEC,
	  "malformed ELF note" },
	{ "note header cut short", { P(PH(1, p_filesz), 8) }, 0, -ENOEXEC,
	  "header runs past the segment end" },
	{ "second note header cut short", { P(PH(1, p_filesz), T_NOTE_BYTES + 4) }, 0,
	  -ENOEXEC, "malformed ELF note at offset 0x14 of note segment 1" },
	{ "note segment past the end", { P(PH(1, p_offset), T_IMAGE_BYTES - 4) }, 0, -ENOEXEC,
	  "ELF segment 1 file data" },
	{ "note segment alignment 16", { P(PH(1, p_align), 16) }, 0, -ENOEXEC,
	  "ELF note segment 1 has alignment 16 (want 4 or 8)" },
	{ "entry below the image", { P(NOTE_DESC, T_LOAD_GPA - 1) }, 0, -ENOEXEC,
	  "PVH entry point 0xfffff lies outside the file data of every loaded ELF segment" },
	{ "entry in bss", { P(NOTE_DESC, T_LOAD_GPA + T_FILESZ) }, 0, -ENOEXEC,
	  "PVH entry point 0x100300 lies outside" },
	{ "entry zero", { P(NOTE_DESC, 0) }, 0, -ENOEXEC, "PVH entry point 0x0 lies outside" },
};

static void apply_patch(uint8_t *img, const struct patch *p)
{
	put_le(img + p->off, p->width, p->value);
}

static void test_pvh_load_rejects_malformed_images(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		int ret;

		make_elf64(f->image);
		for (size_t j = 0; j < 3 && c->patches[j].width; j++)
			apply_patch(f->image, &c->patches[j]);
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

/* ---- the real guest, when another part of the build has produced it ---- */

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

/* build/guests/hello.elf from the tree root, or relative to this binary in
 * build/tests/ or build/asan/tests/. */
static uint8_t *read_hello_elf(size_t *size, char *path, size_t path_len)
{
	static const char *const rel[] = { "/../guests/hello.elf", "/../../guests/hello.elf" };
	char exe[1024];
	ssize_t n;
	uint8_t *buf;

	snprintf(path, path_len, "build/guests/hello.elf");
	buf = read_file(path, size);
	if (buf)
		return buf;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, path_len, "%s%s", exe, rel[i]);
		buf = read_file(path, size);
		if (buf)
			return buf;
	}
	return NULL;
}

static void test_pvh_load_accepts_bundled_hello_guest(void **state)
{
	struct fixture *f = *state;
	char path[1024 + 32];
	size_t size = 0;
	uint8_t *image = read_hello_elf(&size, path, sizeof(path));
	struct boot_request req = { .cmdline = "fbvm-test" };
	struct t_start_info si;
	int ret;

	if (!image) {
		print_message("build/guests/hello.elf not built yet: skipping\n");
		skip();
	}
	ret = pvh_load(&f->mem, image, size, &req, &f->out, f->err, sizeof(f->err));
	free(image);
	if (ret)
		fail_msg("%s: %s", path, f->err);
	assert_int_equal(f->out.mode, BOOT_MODE_PVH32);
	assert_true(f->out.entry >= MEMMAP_BOOT_INFO_END && f->out.entry < T_RAM_BYTES);
	si = start_info(f);
	assert_int_equal(si.magic, 0x336ec578);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_probe_recognises_elf_magic_only),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_pvh_load_valid_elf64_returns_pvh_entry),
		T(test_pvh_load_valid_elf32_returns_pvh_entry),
		T(test_pvh_load_copies_file_bytes_to_paddr),
		T(test_pvh_load_zeroes_bss_and_nothing_beyond),
		T(test_pvh_load_loads_second_segment),
		T(test_pvh_load_skips_empty_load_segment),
		T(test_pvh_load_writes_start_info_header),
		T(test_pvh_load_writes_cmdline),
		T(test_pvh_load_without_cmdline_writes_empty_string),
		T(test_pvh_load_accepts_cmdline_of_4095_bytes),
		T(test_pvh_load_rejects_cmdline_over_4095_bytes),
		T(test_pvh_load_memmap_lists_low_ram_acpi_area_and_reserved_hole),
		T(test_pvh_load_passes_rsdp_address),
		cmocka_unit_test_setup_teardown(test_pvh_load_memmap_lists_high_ram_above_4g,
						setup_high, teardown),
		T(test_pvh_load_places_initrd_at_top_of_low_ram),
		T(test_pvh_load_places_initrd_below_image_at_top_of_ram),
		T(test_pvh_load_places_initrd_below_acpi_area),
		cmocka_unit_test_setup_teardown(test_pvh_load_places_initrd_below_3g_with_high_ram,
						setup_high, teardown),
		T(test_pvh_load_rejects_initrd_larger_than_low_ram),
		T(test_pvh_load_rejects_initrd_with_no_room_beside_image),
		T(test_pvh_load_rejects_empty_initrd),
		T(test_pvh_load_accepts_8_byte_entry_note),
		T(test_pvh_load_finds_entry_note_after_other_notes),
		T(test_pvh_load_pads_notes_by_8_when_p_align_is_8),
		cmocka_unit_test_setup_teardown(test_pvh_load_rejects_segment_spanning_3g_hole,
						setup_high, teardown),
		cmocka_unit_test_setup_teardown(test_pvh_load_accepts_segment_in_high_ram,
						setup_high, teardown),
		T(test_pvh_load_rejects_truncated_elf32_header),
		T(test_pvh_load_rejects_malformed_images),
		T(test_pvh_load_accepts_bundled_hello_guest),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
