/*
 * Xen PVH loader for ELF kernels.
 *
 * Sources: Xen docs/misc/pvh.pandoc (entry state), Xen
 * xen/include/public/arch-x86/hvm/start_info.h (structures), Xen
 * xen/include/public/elfnote.h (XEN_ELFNOTE_PHYS32_ENTRY = 18; numeric notes
 * are 4 or 8 bytes). QEMU's behaviour, which guests built for QEMU rely on:
 * hw/i386/x86-common.c load_elfboot() and include/hw/elf_ops.h.inc load_elf():
 * segments go to p_paddr, notes are found through PT_NOTE program headers
 * only (never section headers), PT_LOAD segments with p_memsz 0 are skipped,
 * and p_filesz > p_memsz is an error. QEMU refuses segments whose file data
 * overlap (its ROM overlap check) but quietly truncates a bss that runs into
 * another segment; we refuse any overlap of [p_paddr, p_paddr + p_memsz), as
 * zeroing one segment's bss over another's code cannot be what was meant.
 *
 * Every input byte is untrusted: all offsets and sizes are checked with
 * overflow-safe arithmetic before use, and every write to guest memory goes
 * through guest_mem_ram_ptr().
 */
#include "loader_pvh.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loader_util.h"
#include "log.h"
#include "memmap.h"

#define XEN_ELFNOTE_PHYS32_ENTRY   18
#define XEN_HVM_START_MAGIC_VALUE  0x336ec578u
/* Version 1 adds memmap_paddr/memmap_entries. */
#define XEN_HVM_START_VERSION      1
/* E820 types, as hvm_memmap_table_entry.type uses them. */
#define PVH_MEMMAP_TYPE_RAM        1
#define PVH_MEMMAP_TYPE_RESERVED   2

#define PVH_PAGE_BYTES             0x1000ull
#define PVH_NOTE_HEADER_BYTES      12u  /* n_namesz, n_descsz, n_type */

/* Layouts from start_info.h; little-endian, the same on host and guest. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info.h layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "start_info.h layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "start_info.h layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "structures are copied as-is");
_Static_assert(PVH_START_INFO_GPA >= MEMMAP_BOOT_INFO_BASE, "boot info below its region");
_Static_assert(PVH_START_INFO_GPA + sizeof(struct hvm_start_info) <= PVH_MODLIST_GPA,
	       "start_info overlaps the module list");
_Static_assert(PVH_MODLIST_GPA + sizeof(struct hvm_modlist_entry) <= PVH_MEMMAP_GPA,
	       "module list overlaps the memory map");
_Static_assert(PVH_MEMMAP_GPA + PVH_MEMMAP_MAX_ENTRIES * sizeof(struct hvm_memmap_table_entry)
	       <= PVH_CMDLINE_GPA, "memory map overlaps the command line");
_Static_assert(PVH_BOOT_INFO_END <= MEMMAP_BOOT_INFO_END, "boot info past its region");

/* One program header, widened from either ELF class. */
struct pvh_phdr {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

/* What the ELF header says, validated. */
struct pvh_elf {
	const uint8_t *image;
	size_t size;
	bool is64;
	uint64_t phoff;
	unsigned int phnum;
	unsigned int phentsize;
};

bool pvh_probe(const uint8_t *image, size_t size)
{
	return image && size >= SELFMAG && memcmp(image, ELFMAG, SELFMAG) == 0;
}

static int pvh_parse_ehdr(struct pvh_elf *elf, const uint8_t *image, size_t size,
			  char *err, size_t err_len)
{
	size_t ehdr_bytes;
	uint16_t type, machine;
	uint64_t table_bytes, table_end;

	if (memcmp(image, ELFMAG, size < SELFMAG ? size : SELFMAG) != 0) {
		if (size < SELFMAG)
			return loader_error(err, err_len, -ENOEXEC,
					 "not an ELF image: bad magic in a %zu-byte file", size);
		return loader_error(err, err_len, -ENOEXEC,
				 "not an ELF image: bad magic %02x %02x %02x %02x (want 7f 45 4c 46)",
				 image[0], image[1], image[2], image[3]);
	}
	ehdr_bytes = size > EI_CLASS && image[EI_CLASS] == ELFCLASS32 ?
		sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	if (size < EI_NIDENT)
		return loader_error(err, err_len, -ENOEXEC, "truncated ELF header (%zu of %zu bytes)",
				 size, ehdr_bytes);
	if (image[EI_CLASS] != ELFCLASS32 && image[EI_CLASS] != ELFCLASS64)
		return loader_error(err, err_len, -ENOEXEC,
				 "unsupported ELF class %u (want 1 for ELF32 or 2 for ELF64)",
				 image[EI_CLASS]);
	if (image[EI_DATA] != ELFDATA2LSB)
		return loader_error(err, err_len, -ENOEXEC,
				 "unsupported ELF data encoding %u (want 1, little-endian)",
				 image[EI_DATA]);
	if (size < ehdr_bytes)
		return loader_error(err, err_len, -ENOEXEC, "truncated ELF header (%zu of %zu bytes)",
				 size, ehdr_bytes);

	elf->image = image;
	elf->size = size;
	elf->is64 = image[EI_CLASS] == ELFCLASS64;
	if (elf->is64) {
		type = rd16(image + offsetof(Elf64_Ehdr, e_type));
		machine = rd16(image + offsetof(Elf64_Ehdr, e_machine));
		elf->phoff = rd64(image + offsetof(Elf64_Ehdr, e_phoff));
		elf->phentsize = rd16(image + offsetof(Elf64_Ehdr, e_phentsize));
		elf->phnum = rd16(image + offsetof(Elf64_Ehdr, e_phnum));
	} else {
		type = rd16(image + offsetof(Elf32_Ehdr, e_type));
		machine = rd16(image + offsetof(Elf32_Ehdr, e_machine));
		elf->phoff = rd32(image + offsetof(Elf32_Ehdr, e_phoff));
		elf->phentsize = rd16(image + offsetof(Elf32_Ehdr, e_phentsize));
		elf->phnum = rd16(image + offsetof(Elf32_Ehdr, e_phnum));
	}

	if (type != ET_EXEC)
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF type %u is not ET_EXEC (2): a PVH kernel is a linked executable",
				 type);
	/* Like QEMU, either x86 machine in either class: 64-bit kernels are
	 * sometimes linked as ELF32 (elf32-x86-64) and vice versa. */
	if (machine != EM_386 && machine != EM_X86_64)
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF machine %u is not x86 (want EM_386 = 3 or EM_X86_64 = 62)",
				 machine);
	if (elf->phentsize != (elf->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF program header size e_phentsize is %u, want %zu for ELF%s",
				 elf->phentsize,
				 elf->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr),
				 elf->is64 ? "64" : "32");
	if (elf->phnum == 0)
		return loader_error(err, err_len, -ENOEXEC, "ELF has no program headers");
	if (elf->phnum > PVH_MAX_PHDRS)
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF has %u program headers; at most %u are supported",
				 elf->phnum, PVH_MAX_PHDRS);
	table_bytes = (uint64_t)elf->phnum * elf->phentsize;
	if (__builtin_add_overflow(elf->phoff, table_bytes, &table_end) || table_end > size)
		return loader_error(err, err_len, -ENOEXEC,
				 "truncated ELF program headers (%u entries at offset 0x%" PRIx64
				 " run past the end of the %zu-byte file)",
				 elf->phnum, elf->phoff, size);
	return 0;
}

/* Program header i; the table was bounds-checked by pvh_parse_ehdr(). */
static void pvh_read_phdr(const struct pvh_elf *elf, unsigned int i, struct pvh_phdr *ph)
{
	const uint8_t *p = elf->image + elf->phoff + (uint64_t)i * elf->phentsize;

	if (elf->is64) {
		ph->type = rd32(p + offsetof(Elf64_Phdr, p_type));
		ph->offset = rd64(p + offsetof(Elf64_Phdr, p_offset));
		ph->paddr = rd64(p + offsetof(Elf64_Phdr, p_paddr));
		ph->filesz = rd64(p + offsetof(Elf64_Phdr, p_filesz));
		ph->memsz = rd64(p + offsetof(Elf64_Phdr, p_memsz));
		ph->align = rd64(p + offsetof(Elf64_Phdr, p_align));
	} else {
		ph->type = rd32(p + offsetof(Elf32_Phdr, p_type));
		ph->offset = rd32(p + offsetof(Elf32_Phdr, p_offset));
		ph->paddr = rd32(p + offsetof(Elf32_Phdr, p_paddr));
		ph->filesz = rd32(p + offsetof(Elf32_Phdr, p_filesz));
		ph->memsz = rd32(p + offsetof(Elf32_Phdr, p_memsz));
		ph->align = rd32(p + offsetof(Elf32_Phdr, p_align));
	}
}

static bool pvh_is_loaded(const struct pvh_phdr *ph)
{
	/* QEMU skips empty PT_LOAD segments; some linkers emit them. */
	return ph->type == PT_LOAD && ph->memsz != 0;
}

static int pvh_check_file_range(const struct pvh_elf *elf, unsigned int i,
				const struct pvh_phdr *ph, char *err, size_t err_len)
{
	uint64_t end;

	if (__builtin_add_overflow(ph->offset, ph->filesz, &end) || end > elf->size)
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF segment %u file data (offset 0x%" PRIx64 ", 0x%" PRIx64
				 " bytes) runs past the end of the %zu-byte file",
				 i, ph->offset, ph->filesz, elf->size);
	return 0;
}

/*
 * Checks a PT_LOAD segment that will be loaded: its file bytes exist, it fits
 * in RAM clear of the loader's structures, and no earlier segment overlaps it.
 */
static int pvh_check_load(const struct pvh_elf *elf, const struct guest_mem *mem,
			  unsigned int i, const struct pvh_phdr *ph, char *err, size_t err_len)
{
	uint64_t end;
	int ret;

	ret = pvh_check_file_range(elf, i, ph, err, err_len);
	if (ret)
		return ret;
	if (__builtin_add_overflow(ph->paddr, ph->memsz, &end))
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF segment %u (0x%" PRIx64 "+0x%" PRIx64
				 ") wraps around the end of the address space",
				 i, ph->paddr, ph->memsz);
	/* Page 0 stays unused (a 0 address in start_info means "absent"), and
	 * the boot structures must survive the copy. */
	if (ph->paddr < MEMMAP_BOOT_INFO_END)
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF segment %u (0x%" PRIx64 "+0x%" PRIx64
				 ") overlaps the loader's boot structures below 0x%llx",
				 i, ph->paddr, ph->memsz, (unsigned long long)MEMMAP_BOOT_INFO_END);
	if (ph->paddr < MEMMAP_ACPI_END && MEMMAP_ACPI_BASE < end)
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF segment %u (0x%" PRIx64 "+0x%" PRIx64
				 ") overlaps the ACPI tables at 0x%llx-0x%llx (the PC BIOS area)",
				 i, ph->paddr, ph->memsz, (unsigned long long)MEMMAP_ACPI_BASE,
				 (unsigned long long)MEMMAP_ACPI_END - 1);
	if (!guest_mem_ram_ptr(mem, ph->paddr, ph->memsz))
		return loader_error(err, err_len, -ENOSPC,
				 "ELF segment %u (0x%" PRIx64 "+0x%" PRIx64
				 ") lies outside guest RAM (%llu MiB)",
				 i, ph->paddr, ph->memsz, ram_mib(mem));
	for (unsigned int j = 0; j < i; j++) {
		struct pvh_phdr other;

		pvh_read_phdr(elf, j, &other);
		if (!pvh_is_loaded(&other))
			continue;
		/* Both ranges were checked not to wrap. */
		if (ph->paddr < other.paddr + other.memsz && other.paddr < end)
			return loader_error(err, err_len, -ENOEXEC,
					 "ELF segments %u (0x%" PRIx64 "+0x%" PRIx64 ") and %u (0x%"
					 PRIx64 "+0x%" PRIx64 ") overlap in guest memory",
					 j, other.paddr, other.memsz, i, ph->paddr, ph->memsz);
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t align, bool *overflow)
{
	uint64_t sum;

	if (__builtin_add_overflow(v, align - 1, &sum)) {
		*overflow = true;
		return 0;
	}
	return sum & ~(align - 1);
}

/*
 * Walks the notes of PT_NOTE segment i; sets *entry and *found on the first
 * XEN_ELFNOTE_PHYS32_ENTRY note named "Xen". Any note that does not fit in
 * the segment is an error, so a corrupt image is reported rather than
 * half-understood.
 */
static int pvh_scan_notes(const struct pvh_elf *elf, unsigned int i, const struct pvh_phdr *ph,
			  uint32_t *entry, bool *found, char *err, size_t err_len)
{
	const uint8_t *notes;
	uint64_t align, pos = 0;
	int ret;

	ret = pvh_check_file_range(elf, i, ph, err, err_len);
	if (ret)
		return ret;
	/* The gABI pads notes to 8 bytes in ELF64; everyone in practice (Linux,
	 * GNU ld) uses 4 in both classes and says so with p_align. Same rule as
	 * binutils readelf: p_align up to 4 means 4, 8 means 8, anything else is
	 * corrupt. (QEMU pads by p_align whatever it is.) */
	if (ph->align <= 4)
		align = 4;
	else if (ph->align == 8)
		align = 8;
	else
		return loader_error(err, err_len, -ENOEXEC,
				 "ELF note segment %u has alignment %" PRIu64 " (want 4 or 8)",
				 i, ph->align);

	notes = elf->image + ph->offset;
	while (pos < ph->filesz) {
		uint32_t namesz, descsz, type;
		uint64_t desc_off, desc_end, next;
		bool overflow = false;

		if (ph->filesz - pos < PVH_NOTE_HEADER_BYTES)
			return loader_error(err, err_len, -ENOEXEC,
					 "malformed ELF note at offset 0x%" PRIx64
					 " of note segment %u: header runs past the segment end",
					 pos, i);
		namesz = rd32(notes + pos);
		descsz = rd32(notes + pos + 4);
		type = rd32(notes + pos + 8);
		/* pos <= filesz <= file size, so adding two 32-bit sizes cannot
		 * overflow 64 bits; align_up still checks. */
		desc_off = align_up(pos + PVH_NOTE_HEADER_BYTES + namesz, align, &overflow);
		desc_end = desc_off + descsz;
		if (overflow || desc_end > ph->filesz)
			return loader_error(err, err_len, -ENOEXEC,
					 "malformed ELF note at offset 0x%" PRIx64 " of note segment %u:"
					 " name (%" PRIu32 " bytes) and descriptor (%" PRIu32
					 " bytes) run past the segment end",
					 pos, i, namesz, descsz);
		if (!*found && type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(notes + pos + PVH_NOTE_HEADER_BYTES, "Xen", 4) == 0) {
			const uint8_t *desc = notes + desc_off;
			uint64_t value;

			/* Xen elfnote.h: numeric notes are 4 or 8 bytes. */
			if (descsz == 4)
				value = rd32(desc);
			else if (descsz == 8)
				value = rd64(desc);
			else
				return loader_error(err, err_len, -ENOEXEC,
						 "XEN_ELFNOTE_PHYS32_ENTRY note has a %" PRIu32
						 "-byte value (want 4 or 8)", descsz);
			if (value > UINT32_MAX)
				return loader_error(err, err_len, -ENOEXEC,
						 "XEN_ELFNOTE_PHYS32_ENTRY 0x%" PRIx64
						 " is not a 32-bit address", value);
			*entry = (uint32_t)value;
			*found = true;
		}
		next = align_up(desc_end, align, &overflow);
		if (overflow)
			break;
		pos = next;
	}
	return 0;
}

/* Validates every program header; on success *entry is the PVH entry point. */
static int pvh_check_image(const struct pvh_elf *elf, const struct guest_mem *mem,
			   uint32_t *entry, char *err, size_t err_len)
{
	unsigned int loads = 0;
	bool found = false;
	int ret;

	for (unsigned int i = 0; i < elf->phnum; i++) {
		struct pvh_phdr ph;

		pvh_read_phdr(elf, i, &ph);
		if (ph.type == PT_LOAD) {
			if (ph.filesz > ph.memsz)
				return loader_error(err, err_len, -ENOEXEC,
						 "ELF segment %u has more file bytes (0x%" PRIx64
						 ") than memory bytes (0x%" PRIx64 ")",
						 i, ph.filesz, ph.memsz);
			if (!pvh_is_loaded(&ph))
				continue;
			ret = pvh_check_load(elf, mem, i, &ph, err, err_len);
			if (ret)
				return ret;
			loads++;
		} else if (ph.type == PT_NOTE) {
			ret = pvh_scan_notes(elf, i, &ph, entry, &found, err, err_len);
			if (ret)
				return ret;
		}
	}
	if (loads == 0)
		return loader_error(err, err_len, -ENOEXEC, "ELF has no loadable (PT_LOAD) segment");
	if (!found)
		return loader_error(err, err_len, -ENOEXEC,
				 "no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");

	/* The first instruction must be file data, not bss or a hole. */
	for (unsigned int i = 0; i < elf->phnum; i++) {
		struct pvh_phdr ph;

		pvh_read_phdr(elf, i, &ph);
		if (pvh_is_loaded(&ph) && *entry >= ph.paddr && *entry - ph.paddr < ph.filesz)
			return 0;
	}
	return loader_error(err, err_len, -ENOEXEC,
			 "PVH entry point 0x%" PRIx32 " lies outside the file data of every"
			 " loaded ELF segment", *entry);
}

static int pvh_copy_segments(const struct pvh_elf *elf, struct guest_mem *mem,
			     char *err, size_t err_len)
{
	for (unsigned int i = 0; i < elf->phnum; i++) {
		struct pvh_phdr ph;
		uint8_t *dst;

		pvh_read_phdr(elf, i, &ph);
		if (!pvh_is_loaded(&ph))
			continue;
		dst = guest_mem_ram_write_begin(mem, ph.paddr, ph.memsz);
		if (!dst)  /* checked by pvh_check_load() */
			return loader_error(err, err_len, -ENOSPC,
					 "ELF segment %u lies outside guest RAM", i);
		memcpy(dst, elf->image + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		guest_mem_write_end(mem, ph.paddr, ph.memsz);
	}
	return 0;
}

/*
 * Highest page-aligned gpa in low RAM, above the boot structures, where
 * [gpa, gpa + size) overlaps no loaded segment. Each move goes below the
 * segment that was hit, so the loop ends after at most one move per segment.
 */
static int pvh_place_initrd(const struct pvh_elf *elf, const struct guest_mem *mem,
			    uint64_t size, uint64_t *gpa_out, char *err, size_t err_len)
{
	uint64_t low_end = guest_mem_low_end(mem);
	uint64_t gpa;
	bool moved;

	if (size > low_end - MEMMAP_BOOT_INFO_END)
		goto no_room;
	gpa = (low_end - size) & ~(PVH_PAGE_BYTES - 1);
	do {
		moved = false;
		for (unsigned int i = 0; i < elf->phnum; i++) {
			struct pvh_phdr ph;

			pvh_read_phdr(elf, i, &ph);
			if (!pvh_is_loaded(&ph) ||
			    !(ph.paddr < gpa + size && gpa < ph.paddr + ph.memsz))
				continue;
			if (ph.paddr < MEMMAP_BOOT_INFO_END + size)
				goto no_room;
			gpa = (ph.paddr - size) & ~(PVH_PAGE_BYTES - 1);
			moved = true;
		}
		if (MEMMAP_ACPI_BASE < gpa + size && gpa < MEMMAP_ACPI_END) {
			if (MEMMAP_ACPI_BASE < MEMMAP_BOOT_INFO_END + size)
				goto no_room;
			gpa = (MEMMAP_ACPI_BASE - size) & ~(PVH_PAGE_BYTES - 1);
			moved = true;
		}
	} while (moved);
	if (gpa < MEMMAP_BOOT_INFO_END)
		goto no_room;
	*gpa_out = gpa;
	return 0;

no_room:
	return loader_error(err, err_len, -ENOSPC,
			 "initrd (%" PRIu64 " bytes) does not fit in guest RAM below 0x%" PRIx64
			 " beside the kernel image (guest RAM is %llu MiB)",
			 size, low_end, ram_mib(mem));
}

/*
 * RAM regions as type 1, and as reserved the ACPI tables' BIOS area and the
 * device hole below 4 GiB (memmap.h: both are reserved in maps given to
 * guests), in address order. guest_mem always has low RAM at 0, past
 * MEMMAP_ACPI_END (MEMMAP_RAM_MIN), and, above 3 GiB of RAM, the rest at
 * 4 GiB.
 */
static unsigned int pvh_build_memmap(const struct guest_mem *mem,
				     struct hvm_memmap_table_entry *map)
{
	unsigned int n = 0;

	_Static_assert(MEMMAP_ACPI_END <= MEMMAP_RAM_MIN, "ACPI area beyond the smallest RAM");
	map[n++] = (struct hvm_memmap_table_entry){
		.addr = mem->regions[0].gpa,
		.size = MEMMAP_ACPI_BASE - mem->regions[0].gpa,
		.type = PVH_MEMMAP_TYPE_RAM,
	};
	map[n++] = (struct hvm_memmap_table_entry){
		.addr = MEMMAP_ACPI_BASE,
		.size = MEMMAP_ACPI_END - MEMMAP_ACPI_BASE,
		.type = PVH_MEMMAP_TYPE_RESERVED,
	};
	map[n++] = (struct hvm_memmap_table_entry){
		.addr = MEMMAP_ACPI_END,
		.size = mem->regions[0].gpa + mem->regions[0].size - MEMMAP_ACPI_END,
		.type = PVH_MEMMAP_TYPE_RAM,
	};
	map[n++] = (struct hvm_memmap_table_entry){
		.addr = MEMMAP_PCI_HOLE_BASE,
		.size = MEMMAP_HIGH_RAM_BASE - MEMMAP_PCI_HOLE_BASE,
		.type = PVH_MEMMAP_TYPE_RESERVED,
	};
	for (unsigned int i = 1; i < mem->count; i++)
		map[n++] = (struct hvm_memmap_table_entry){
			.addr = mem->regions[i].gpa,
			.size = mem->regions[i].size,
			.type = PVH_MEMMAP_TYPE_RAM,
		};
	return n;
}

static int pvh_write_boot_info(struct guest_mem *mem, const char *cmdline, size_t cmdline_len,
			       uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa,
			       char *err, size_t err_len)
{
	struct hvm_memmap_table_entry map[PVH_MEMMAP_MAX_ENTRIES];
	struct hvm_start_info info = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = XEN_HVM_START_VERSION,
		.cmdline_paddr = PVH_CMDLINE_GPA,
		.rsdp_paddr = rsdp_gpa,
	};
	uint8_t *area;

	_Static_assert(GUEST_MEM_MAX_REGIONS + 3 <= PVH_MEMMAP_MAX_ENTRIES, "memmap table size");

	area = guest_mem_ram_write_begin(mem, PVH_START_INFO_GPA,
					 PVH_BOOT_INFO_END - PVH_START_INFO_GPA);
	if (!area)  /* guest RAM is at least MEMMAP_RAM_MIN */
		return loader_error(err, err_len, -ENOSPC,
				 "guest RAM does not cover the PVH boot structures");
	memset(area, 0, PVH_BOOT_INFO_END - PVH_START_INFO_GPA);

	info.memmap_entries = pvh_build_memmap(mem, map);
	info.memmap_paddr = PVH_MEMMAP_GPA;
	memcpy(area + (PVH_MEMMAP_GPA - PVH_START_INFO_GPA), map,
	       info.memmap_entries * sizeof(map[0]));

	if (initrd_size) {
		struct hvm_modlist_entry mod = { .paddr = initrd_gpa, .size = initrd_size };

		memcpy(area + (PVH_MODLIST_GPA - PVH_START_INFO_GPA), &mod, sizeof(mod));
		info.nr_modules = 1;
		info.modlist_paddr = PVH_MODLIST_GPA;
	}

	/* Always present, possibly empty, as QEMU's PVH option ROM does. */
	memcpy(area + (PVH_CMDLINE_GPA - PVH_START_INFO_GPA), cmdline, cmdline_len);

	memcpy(area, &info, sizeof(info));
	guest_mem_write_end(mem, PVH_START_INFO_GPA, PVH_BOOT_INFO_END - PVH_START_INFO_GPA);
	return 0;
}

int pvh_load(struct guest_mem *mem, const uint8_t *image, size_t image_size,
	     const struct boot_request *req, struct boot_entry *out,
	     char *err, size_t err_len)
{
	struct pvh_elf elf;
	const char *cmdline = req && req->cmdline ? req->cmdline : "";
	size_t cmdline_len;
	uint64_t initrd_gpa = 0, initrd_size = req ? req->initrd_size : 0;
	uint32_t entry = 0;
	int ret;

	if (err && err_len)
		err[0] = '\0';
	if (!mem || !image || !out)
		return loader_error(err, err_len, -EINVAL, "PVH loader called without an image");
	if (req && (req->initrd == NULL) != (req->initrd_size == 0))
		return loader_error(err, err_len, -EINVAL,
				 req->initrd ? "initrd is empty (0 bytes)"
					     : "initrd size given without initrd data");
	cmdline_len = strlen(cmdline);
	if (cmdline_len >= PVH_CMDLINE_MAX_BYTES)
		return loader_error(err, err_len, -E2BIG,
				 "kernel command line is %zu bytes; at most %u are allowed",
				 cmdline_len, PVH_CMDLINE_MAX_BYTES - 1);

	ret = pvh_parse_ehdr(&elf, image, image_size, err, err_len);
	if (ret)
		return ret;
	ret = pvh_check_image(&elf, mem, &entry, err, err_len);
	if (ret)
		return ret;
	if (initrd_size) {
		ret = pvh_place_initrd(&elf, mem, initrd_size, &initrd_gpa, err, err_len);
		if (ret)
			return ret;
	}

	ret = pvh_copy_segments(&elf, mem, err, err_len);
	if (ret)
		return ret;
	if (initrd_size) {
		uint8_t *dst = guest_mem_ram_write_begin(mem, initrd_gpa, initrd_size);

		if (!dst)  /* placed inside low RAM by pvh_place_initrd() */
			return loader_error(err, err_len, -ENOSPC, "initrd lies outside guest RAM");
		memcpy(dst, req->initrd, initrd_size);
		guest_mem_write_end(mem, initrd_gpa, initrd_size);
	}
	ret = pvh_write_boot_info(mem, cmdline, cmdline_len, initrd_gpa, initrd_size,
				  req ? req->acpi_rsdp_gpa : 0, err, err_len);
	if (ret)
		return ret;

	*out = (struct boot_entry){
		.mode = BOOT_MODE_PVH32,
		.entry = entry,
		.boot_info_gpa = PVH_START_INFO_GPA,
	};
	log_debug("pvh", "loaded elf=%s entry=0x%" PRIx32 " initrd=0x%" PRIx64 "+0x%" PRIx64
		  " cmdline_bytes=%zu", elf.is64 ? "64" : "32", entry, initrd_gpa, initrd_size,
		  cmdline_len);
	return 0;
}
