/*
 * Naming a code address's function (see symbolize.h): the detective work of
 * the bug report that started fbvm (a 3 MB frame on a 2 MB stack, found by
 * hand in a core file), done for the fault report. Split from the thread
 * code (git log --follow stack/thread.c has the history before the split).
 */
#include "symbolize.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct own_sym {
	uintptr_t lo, hi;  /* runtime addresses of the function: [lo, hi) */
	uint32_t name;     /* offset of its NUL-terminated name in own_symtab.names */
};

static struct {
	const struct own_sym *syms;
	size_t count;
	const char *names;
} own_symtab;
static pthread_once_t symbolize_once = PTHREAD_ONCE_INIT;

/* The largest .symtab or string table we read (fbvm's are tens of KiB). */
#define SYMTAB_MAX_BYTES (64u << 20)

static bool read_exact_at(int fd, void *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static int executable_bias_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(uintptr_t *)data = info->dlpi_addr;
	return 1; /* the first object is the executable */
}

static int own_sym_cmp(const void *a, const void *b)
{
	const struct own_sym *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Reads /proc/self/exe's function symbols (.symtab, else .dynsym). Any
 * failure leaves the table empty: the report then names fewer functions. */
static void own_symtab_load(void)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL, *symsec = NULL, *strsec;
	Elf64_Sym *syms = NULL;
	char *strtab = NULL;
	size_t nsyms, count = 0, name_bytes = 0, map_bytes;
	struct own_sym *out;
	char *names;
	uintptr_t bias = 0;
	void *map;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!read_exact_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shnum == 0)
		goto out;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh || !read_exact_at(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff))
		goto out;
	for (unsigned int i = 0; i < eh.e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB ||
		    (sh[i].sh_type == SHT_DYNSYM && !symsec))
			symsec = &sh[i];
	if (!symsec || symsec->sh_link >= eh.e_shnum || symsec->sh_size > SYMTAB_MAX_BYTES)
		goto out;
	strsec = &sh[symsec->sh_link];
	if (strsec->sh_size == 0 || strsec->sh_size > SYMTAB_MAX_BYTES)
		goto out;
	nsyms = symsec->sh_size / sizeof(Elf64_Sym);
	syms = malloc(nsyms * sizeof(*syms));
	strtab = malloc(strsec->sh_size + 1);
	if (!syms || !strtab ||
	    !read_exact_at(fd, syms, nsyms * sizeof(*syms), (off_t)symsec->sh_offset) ||
	    !read_exact_at(fd, strtab, strsec->sh_size, (off_t)strsec->sh_offset))
		goto out;
	strtab[strsec->sh_size] = '\0';

	for (size_t i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &syms[i];

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_size == 0 || s->st_name >= strsec->sh_size)
			continue;
		count++;
		name_bytes += strlen(strtab + s->st_name) + 1;
	}
	if (count == 0 || name_bytes > UINT32_MAX)
		goto out;
	map_bytes = count * sizeof(*out) + name_bytes;
	map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		goto out;
	out = map;
	names = (char *)map + count * sizeof(*out);
	if (eh.e_type == ET_DYN)
		dl_iterate_phdr(executable_bias_cb, &bias);
	count = name_bytes = 0;
	for (size_t i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &syms[i];
		size_t len;

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_size == 0 || s->st_name >= strsec->sh_size)
			continue;
		len = strlen(strtab + s->st_name) + 1;
		memcpy(names + name_bytes, strtab + s->st_name, len);
		out[count].lo = bias + s->st_value;
		out[count].hi = out[count].lo + s->st_size;
		out[count].name = (uint32_t)name_bytes;
		name_bytes += len;
		count++;
	}
	qsort(out, count, sizeof(*out), own_sym_cmp);
	mprotect(map, map_bytes, PROT_READ);
	own_symtab.names = names;
	own_symtab.syms = out;
	own_symtab.count = count;
out:
	free(strtab);
	free(syms);
	free(sh);
	close(fd);
}

/* Async-signal-safe: the function of ours holding ip, or NULL. */
static const struct own_sym *own_symtab_find(uintptr_t ip)
{
	size_t lo = 0, hi = own_symtab.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (own_symtab.syms[mid].lo <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ip >= own_symtab.syms[lo - 1].hi)
		return NULL;
	return &own_symtab.syms[lo - 1];
}

/* A function found through the loader: its object, and its exact bounds
 * from .eh_frame_hdr (end 0 if only the start is known). */
struct loader_fn {
	uintptr_t ip, start, end;
	uintptr_t base; /* the object's load address */
	const char *object;
};

/* DWARF pointer encodings used by .eh_frame_hdr (LSB Core, "Exception Frame Header"). */
#define DW_EH_PE_udata4  0x03
#define DW_EH_PE_sdata4  0x0b
#define DW_EH_PE_pcrel   0x10
#define DW_EH_PE_datarel 0x30

static int32_t load_s32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Binary search of the sorted (initial location, FDE) table gcc's linker
 * writes into .eh_frame_hdr: every function compiled with unwind tables has
 * an entry, exported or not. */
static void eh_frame_hdr_find(uintptr_t hdr, struct loader_fn *f)
{
	const uint8_t *h = (const uint8_t *)hdr;
	intptr_t rel = (intptr_t)(f->ip - hdr);
	uint32_t count, lo = 0, hi;
	const uint8_t *table, *fde;
	uintptr_t start;

	if (h[0] != 1 || (h[1] & 0x0f) != DW_EH_PE_sdata4 || h[2] != DW_EH_PE_udata4 ||
	    h[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return;
	memcpy(&count, h + 8, sizeof(count));
	table = h + 12;
	hi = count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (load_s32(table + 8 * mid) <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return;
	start = hdr + (intptr_t)load_s32(table + 8 * (lo - 1));
	f->start = start;
	f->end = lo < count ? hdr + (intptr_t)load_s32(table + 8 * lo) : 0;
	/* The FDE's own range, where its pc_begin is the usual pcrel sdata4
	 * (checked: it must point back at start); a gap after the function
	 * would otherwise be taken for part of it. */
	fde = (const uint8_t *)hdr + load_s32(table + 8 * (lo - 1) + 4);
	if (load_s32(fde) != -1 &&
	    (uintptr_t)(fde + 8) + (intptr_t)load_s32(fde + 8) == start) {
		uint32_t range;

		memcpy(&range, fde + 12, sizeof(range));
		f->end = start + range;
		if (f->ip >= f->end)
			f->start = f->end = 0; /* in no function: a gap */
	}
}

static int loader_fn_find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct loader_fn *f = data;
	uintptr_t eh_hdr = 0;
	bool inside = false;

	(void)size;
	for (unsigned int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + p->p_vaddr;

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && f->ip >= lo &&
		    f->ip - lo < p->p_memsz)
			inside = true;
		if (p->p_type == PT_GNU_EH_FRAME)
			eh_hdr = lo;
	}
	if (!inside)
		return 0;
	f->object = info->dlpi_name;
	f->base = info->dlpi_addr;
	if (eh_hdr)
		eh_frame_hdr_find(eh_hdr, f);
	return 1;
}

/* The work of symbolize_init (see symbolize.h for why the lookups run now). */
static void symbolize_load(void)
{
	struct loader_fn f = { .ip = (uintptr_t)symbolize_load };
	Dl_info info;

	own_symtab_load();
	dl_iterate_phdr(loader_fn_find_cb, &f);
	dladdr((void *)symbolize_load, &info);
}

void symbolize_init(void)
{
	pthread_once(&symbolize_once, symbolize_load);
}

bool symbolize_own(uintptr_t ip, struct function_at *out)
{
	const struct own_sym *own = own_symtab_find(ip);

	if (!own)
		return false;
	*out = (struct function_at){
		.name = own_symtab.names + own->name,
		.name_addr = own->lo,
		.start = own->lo,
		.end = own->hi,
	};
	return true;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

bool symbolize_loaded(uintptr_t ip, struct function_at *out)
{
	struct loader_fn f = { .ip = ip };
	Dl_info info = { 0 };

	*out = (struct function_at){ .name = NULL };
	dl_iterate_phdr(loader_fn_find_cb, &f);
	if (dladdr((void *)ip, &info) && info.dli_sname) {
		out->name = info.dli_sname;
		out->name_addr = (uintptr_t)info.dli_saddr;
	}
	out->object = base_name(f.object && f.object[0] ? f.object : info.dli_fname);
	out->start = f.start;
	out->end = f.end;
	out->base = f.base;
	if (!out->name && f.start)
		out->name_addr = f.start;
	return f.start || out->name;
}
