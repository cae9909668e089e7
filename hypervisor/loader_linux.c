/*
 * Linux bzImage loader for the x86 64-bit boot protocol.
 *
 * Sources: Linux Documentation/arch/x86/boot.rst (setup header fields,
 * "64-bit Boot Protocol", init_size and the runtime start address),
 * Documentation/arch/x86/zero-page.rst and
 * arch/x86/include/uapi/asm/bootparam.h (struct boot_params offsets),
 * include/uapi/linux/screen_info.h (screen_info), and what the kernel does
 * with them: arch/x86/boot/compressed/head_64.S startup_64 (runs from
 * max(align_up(load, kernel_alignment), LOAD_PHYSICAL_ADDR), so loading at
 * pref_address makes where we load and where it runs the same),
 * drivers/firmware/sysfb*.c and drivers/video/fbdev/vesafb.c (lfb_size is in
 * 64 KiB units; vesafb maps up to lfb_size * 64 KiB, and x86 ioremap refuses
 * System RAM, so a framebuffer in RAM is reserved to that rounded size).
 *
 * The image is trusted no more than a guest: every header field is checked
 * with overflow-safe arithmetic before use, and every write to guest memory
 * goes through guest_mem_ram_ptr().
 */
#include "loader_linux.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loader_util.h"
#include "log.h"
#include "memmap.h"

/* Setup header: offsets in the file, which are also offsets in boot_params. */
#define HDR_SETUP_SECTS        0x1F1  /* u8, 0 means 4 */
#define HDR_SYSSIZE            0x1F4  /* u32, protected-mode code in 16-byte units */
#define HDR_VID_MODE           0x1FA  /* u16 */
#define HDR_BOOT_FLAG          0x1FE  /* u16, 0xAA55 */
#define HDR_JUMP_LEN           0x201  /* u8: the setup header ends at 0x202 + this */
#define HDR_MAGIC              0x202  /* u32, "HdrS" */
#define HDR_VERSION            0x206  /* u16 */
#define HDR_KERNEL_VERSION     0x20E  /* u16, string offset - 0x200 */
#define HDR_TYPE_OF_LOADER     0x210  /* u8 */
#define HDR_LOADFLAGS          0x211  /* u8 */
#define HDR_CODE32_START       0x214  /* u32 */
#define HDR_RAMDISK_IMAGE      0x218  /* u32 */
#define HDR_RAMDISK_SIZE       0x21C  /* u32 */
#define HDR_CMD_LINE_PTR       0x228  /* u32 */
#define HDR_INITRD_ADDR_MAX    0x22C  /* u32 */
#define HDR_KERNEL_ALIGNMENT   0x230  /* u32 */
#define HDR_RELOCATABLE        0x234  /* u8 */
#define HDR_XLOADFLAGS         0x236  /* u16 */
#define HDR_CMDLINE_SIZE       0x238  /* u32 */
#define HDR_HARDWARE_SUBARCH   0x23C  /* u32 */
#define HDR_SUBARCH_DATA       0x240  /* u64 */
#define HDR_SETUP_DATA         0x250  /* u64 */
#define HDR_PREF_ADDRESS       0x258  /* u64 */
#define HDR_INIT_SIZE          0x260  /* u32 */
#define HDR_INIT_SIZE_END      0x264  /* the last field we read ends here */
/* boot_params has room for the setup header up to edd_mbr_sig_buffer. */
#define HDR_ROOM_END           0x290

#define HDR_MAGIC_VALUE        0x53726448u  /* "HdrS" */
#define HDR_BOOT_FLAG_VALUE    0xAA55u
#define HDR_MIN_VERSION        0x020Cu      /* 2.12: xloadflags */
#define HDR_ACPI_RSDP_VERSION  0x020Eu      /* 2.14: boot_params.acpi_rsdp_addr */
#define HDR_SECTOR_BYTES       512u
#define HDR_DEFAULT_SETUP_SECTS 4u
#define XLF_KERNEL_64          (1u << 0)
#define TYPE_OF_LOADER_UNDEFINED 0xFF        /* no assigned boot-loader id */
#define VID_MODE_NORMAL        0xFFFF
#define ENTRY_64_OFFSET        0x200u        /* startup_64 */

/* boot_params (zero page) fields outside the setup header. */
#define BP_SCREEN_INFO         0x000
#define BP_ACPI_RSDP_ADDR      0x070  /* u64, boot protocol 2.14+ */
#define BP_EXT_RAMDISK_IMAGE   0x0C0  /* u32, high half */
#define BP_EXT_RAMDISK_SIZE    0x0C4  /* u32, high half */
#define BP_EXT_CMD_LINE_PTR    0x0C8  /* u32, high half */
#define BP_E820_ENTRIES        0x1E8  /* u8 */
#define BP_E820_TABLE          0x2D0  /* struct boot_e820_entry[128], packed */
#define BP_BYTES               0x1000
#define E820_ENTRY_BYTES       20u    /* u64 addr, u64 size, u32 type */
#define E820_MAX_ENTRIES       128u
#define E820_TYPE_RAM          1u
#define E820_TYPE_RESERVED     2u

/* screen_info, offsets from its start (boot_params offset 0). */
#define SI_ORIG_VIDEO_COLS     0x07  /* u8 */
#define SI_ORIG_VIDEO_LINES    0x0E  /* u8 */
#define SI_ORIG_VIDEO_ISVGA    0x0F  /* u8: the video type */
#define SI_ORIG_VIDEO_POINTS   0x10  /* u16: font height */
#define SI_LFB_WIDTH           0x12  /* u16 */
#define SI_LFB_HEIGHT          0x14  /* u16 */
#define SI_LFB_DEPTH           0x16  /* u16 */
#define SI_LFB_BASE            0x18  /* u32 */
#define SI_LFB_SIZE            0x1C  /* u32, 64 KiB units for VIDEO_TYPE_VLFB */
#define SI_LFB_LINELENGTH      0x24  /* u16 */
#define SI_RED_SIZE            0x26  /* then red_pos, green_size/pos, blue, rsvd: u8 each */
#define SI_PAGES               0x32  /* u16 */
#define SI_CAPABILITIES        0x36  /* u32 */
#define SI_EXT_LFB_BASE        0x3A  /* u32 */
#define VIDEO_TYPE_VLFB        0x23
#define VIDEO_CAPABILITY_64BIT_BASE (1u << 1)
#define LFB_SIZE_UNIT_BYTES    KiB(64)
#define LFB_BYTES_PER_PIXEL    4u
#define LFB_DEPTH_BITS         32u
#define LFB_MAX_DIMENSION      0xFFFFu  /* lfb_width, lfb_height, lfb_linelength are u16 */
/* What a VGA text console would say; vgacon steps aside for VLFB anyway. */
#define TEXT_COLS              80
#define TEXT_LINES             25
#define TEXT_FONT_HEIGHT       16

/* The legacy area between 640 KiB and 1 MiB: VGA window and ROMs on a PC. */
#define LEGACY_HOLE_BASE       0xA0000ull
#define LEGACY_HOLE_END        0x100000ull

/* Page-table entry bits (Intel SDM vol. 3 4.5). */
#define PTE_PRESENT            (1ull << 0)
#define PTE_WRITABLE           (1ull << 1)
#define PTE_LARGE              (1ull << 7)  /* 2 MiB page in a PD entry */
#define PAGE_BYTES             0x1000ull
#define LARGE_PAGE_BYTES       MiB(2)
#define PT_ENTRIES             512u

/* GDT descriptors matching the segment state vcpu_set_boot_state() loads:
 * flat, present, DPL 0; code is execute/read, accessed, long mode (L=1,
 * D=0, G=1); data is read/write, accessed (D/B=1, G=1). */
#define GDT_CODE64             0x00AF9B000000FFFFull
#define GDT_DATA               0x00CF93000000FFFFull

_Static_assert(LINUX_ZERO_PAGE_GPA >= MEMMAP_BOOT_INFO_BASE, "zero page below its region");
_Static_assert(LINUX_ZERO_PAGE_GPA + BP_BYTES <= LINUX_GDT_GPA, "zero page overlaps the GDT");
_Static_assert(LINUX_GDT_GPA + LINUX_GDT_ENTRIES * 8 <= LINUX_PML4_GPA, "GDT overlaps the PML4");
_Static_assert(LINUX_PML4_GPA + PAGE_BYTES <= LINUX_PDPT_GPA, "PML4 overlaps the PDPT");
_Static_assert(LINUX_PDPT_GPA + PAGE_BYTES <= LINUX_PD_GPA, "PDPT overlaps the PDs");
_Static_assert(LINUX_PD_GPA + LINUX_PD_COUNT * PAGE_BYTES <= LINUX_CMDLINE_GPA,
	       "PDs overlap the command line");
_Static_assert(LINUX_BOOT_INFO_END <= MEMMAP_BOOT_INFO_END, "boot info past its region");
_Static_assert(LINUX_BOOT_INFO_END <= LEGACY_HOLE_BASE, "boot info in the legacy hole");
_Static_assert(LINUX_LOAD_MIN_GPA >= LEGACY_HOLE_END, "kernel in the legacy hole");
_Static_assert(MEMMAP_ACPI_BASE >= LEGACY_HOLE_BASE && MEMMAP_ACPI_END <= LEGACY_HOLE_END,
	       "the ACPI tables must lie in the reserved legacy hole");
_Static_assert(BP_E820_TABLE + E820_MAX_ENTRIES * E820_ENTRY_BYTES <= BP_BYTES,
	       "e820 table past the zero page");
_Static_assert(MEMMAP_LOW_RAM_MAX <= LINUX_IDENTITY_MAP_BYTES, "low RAM not identity-mapped");

/* A range of guest-physical addresses, [base, end). */
struct range {
	uint64_t base;
	uint64_t end;
};

/* Where everything goes, decided before anything is written. */
struct linux_plan {
	struct linux_header hdr;
	const char *cmdline;
	size_t cmdline_len;
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	const struct boot_framebuffer *fb;
	struct range fb_region;   /* the framebuffer rounded up to 64 KiB */
	uint64_t acpi_rsdp_gpa;   /* 0: none */
};

static bool ranges_overlap(struct range a, struct range b)
{
	return a.base < b.end && b.base < a.end;
}

bool linux_probe(const uint8_t *image, size_t size)
{
	return image && size >= HDR_MAGIC + 4 && rd32(image + HDR_MAGIC) == HDR_MAGIC_VALUE;
}

/* Version as boot.rst writes it: 0x020f is "2.15". */
#define VERSION_FMT "%u.%02u"
#define VERSION_ARGS(v) (unsigned int)((v) >> 8), (unsigned int)((v) & 0xFF)

static int linux_check_layout(const uint8_t *image, size_t size, struct linux_header *hdr,
			      char *err, size_t err_len)
{
	uint32_t setup_sects = image[HDR_SETUP_SECTS];
	uint32_t syssize = rd32(image + HDR_SYSSIZE);
	uint64_t end;

	if (setup_sects == 0)
		setup_sects = HDR_DEFAULT_SETUP_SECTS;
	/* At most 256 sectors: no overflow. */
	hdr->kernel_offset = (uint64_t)(setup_sects + 1) * HDR_SECTOR_BYTES;
	if (hdr->kernel_offset >= size)
		return loader_error(err, err_len, -ENOEXEC,
				   "truncated bzImage: the %zu-byte file ends inside its %" PRIu64
				   "-byte real-mode setup area (setup_sects %u)",
				   size, hdr->kernel_offset, setup_sects);
	/* boot.rst: syssize is trustworthy from protocol 2.04 on. Files carry
	 * more than the code (a CRC, an appended signature), so it is what
	 * tells how much to copy. */
	if (syssize == 0)
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage syssize is 0: the header does not say how long the"
				   " protected-mode kernel is");
	hdr->kernel_bytes = (uint64_t)syssize * 16;
	end = hdr->kernel_offset + hdr->kernel_bytes;  /* both well below 2^37 */
	if (end > size)
		return loader_error(err, err_len, -ENOEXEC,
				   "truncated bzImage: syssize says %" PRIu64 " bytes of"
				   " protected-mode kernel at offset 0x%" PRIx64
				   " but the file has %" PRIu64,
				   hdr->kernel_bytes, hdr->kernel_offset,
				   (uint64_t)size - hdr->kernel_offset);
	return 0;
}

/*
 * The kernel's runtime start (boot.rst, init_size): a relocatable kernel runs
 * at align_up(load, kernel_alignment), and head_64.S never goes below
 * LOAD_PHYSICAL_ADDR, which pref_address reports; a non-relocatable one runs
 * at pref_address whatever we do. Loading there makes both the same.
 */
static int linux_choose_load_address(struct linux_header *hdr, char *err, size_t err_len)
{
	uint64_t want = hdr->pref_address, align = hdr->kernel_alignment, sum;

	if (!hdr->relocatable) {
		if (want < LINUX_LOAD_MIN_GPA)
			return loader_error(err, err_len, -ENOEXEC,
					   "non-relocatable kernel wants to run at pref_address"
					   " 0x%" PRIx64 ", below 1 MiB", want);
		hdr->load_gpa = want;
		return 0;
	}
	if (want < LINUX_LOAD_MIN_GPA)
		want = LINUX_LOAD_MIN_GPA;
	if (__builtin_add_overflow(want, align - 1, &sum))
		return loader_error(err, err_len, -ENOEXEC,
				   "pref_address 0x%" PRIx64 " aligned to kernel_alignment 0x%"
				   PRIx64 " wraps around the address space", want, align);
	hdr->load_gpa = sum & ~(align - 1);
	return 0;
}

int linux_parse_header(const uint8_t *image, size_t size, struct linux_header *hdr,
		       char *err, size_t err_len)
{
	uint16_t boot_flag;
	int ret;

	memset(hdr, 0, sizeof(*hdr));
	if (!linux_probe(image, size))
		return loader_error(err, err_len, -ENOEXEC,
				   "not a Linux bzImage: no \"HdrS\" setup header at offset 0x202"
				   " of the %zu-byte file", size);
	boot_flag = rd16(image + HDR_BOOT_FLAG);
	if (boot_flag != HDR_BOOT_FLAG_VALUE)
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage boot_flag is 0x%04x, want 0xaa55", boot_flag);
	if (size < HDR_VERSION + 2)
		return loader_error(err, err_len, -ENOEXEC,
				   "truncated bzImage: the %zu-byte file ends inside the setup"
				   " header", size);
	hdr->version = rd16(image + HDR_VERSION);
	if (hdr->version < HDR_MIN_VERSION)
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage boot protocol " VERSION_FMT " is too old: the 64-bit"
				   " entry needs 2.12 or later", VERSION_ARGS(hdr->version));
	hdr->header_end = HDR_MAGIC + image[HDR_JUMP_LEN];
	if (hdr->header_end > size)
		return loader_error(err, err_len, -ENOEXEC,
				   "truncated bzImage: its setup header ends at 0x%x (0x202 plus"
				   " the byte at 0x201), past the end of the %zu-byte file",
				   hdr->header_end, size);
	if (hdr->header_end < HDR_INIT_SIZE_END)
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage setup header ends at 0x%x, before init_size"
				   " (0x260..0x264) that protocol " VERSION_FMT " must have",
				   hdr->header_end, VERSION_ARGS(hdr->version));
	if (hdr->header_end > HDR_ROOM_END)
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage setup header ends at 0x%x, past the room boot_params"
				   " has for it (0x%x)", hdr->header_end, HDR_ROOM_END);

	hdr->loadflags = image[HDR_LOADFLAGS];
	hdr->xloadflags = rd16(image + HDR_XLOADFLAGS);
	hdr->relocatable = image[HDR_RELOCATABLE] != 0;
	hdr->kernel_alignment = rd32(image + HDR_KERNEL_ALIGNMENT);
	hdr->initrd_addr_max = rd32(image + HDR_INITRD_ADDR_MAX);
	hdr->cmdline_size = rd32(image + HDR_CMDLINE_SIZE);
	hdr->init_size = rd32(image + HDR_INIT_SIZE);
	hdr->pref_address = rd64(image + HDR_PREF_ADDRESS);

	if (!(hdr->xloadflags & XLF_KERNEL_64))
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage has no 64-bit entry point (xloadflags 0x%x lacks"
				   " XLF_KERNEL_64): only 64-bit kernels are supported",
				   hdr->xloadflags);
	ret = linux_check_layout(image, size, hdr, err, err_len);
	if (ret)
		return ret;
	if (hdr->kernel_alignment == 0 || (hdr->kernel_alignment & (hdr->kernel_alignment - 1)))
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage kernel_alignment 0x%x is not a power of two",
				   hdr->kernel_alignment);
	if (hdr->init_size < hdr->kernel_bytes)
		return loader_error(err, err_len, -ENOEXEC,
				   "bzImage init_size 0x%x is smaller than its protected-mode"
				   " kernel (0x%" PRIx64 " bytes)",
				   hdr->init_size, hdr->kernel_bytes);
	return linux_choose_load_address(hdr, err, err_len);
}

/* The kernel's version string (boot.rst kernel_version), or "" when the
 * header has none or it does not end inside the setup area. For logs. */
static const char *linux_version_string(const uint8_t *image, const struct linux_header *hdr)
{
	uint64_t off = rd16(image + HDR_KERNEL_VERSION);

	if (off == 0)
		return "";
	off += 0x200;
	if (off >= hdr->kernel_offset ||
	    !memchr(image + off, '\0', hdr->kernel_offset - off))
		return "";
	return (const char *)image + off;
}

static int linux_check_kernel_area(const struct guest_mem *mem, const struct linux_header *hdr,
				   char *err, size_t err_len)
{
	uint64_t end;

	/* The whole runtime area must be low RAM: identity-mapped by our page
	 * tables, and RAM the kernel may use before it reads the e820 map. */
	if (__builtin_add_overflow(hdr->load_gpa, (uint64_t)hdr->init_size, &end))
		return loader_error(err, err_len, -ENOSPC,
				   "kernel load address 0x%" PRIx64 " (from pref_address 0x%"
				   PRIx64 ") plus init_size 0x%x wraps around the address space",
				   hdr->load_gpa, hdr->pref_address, hdr->init_size);
	if (end > guest_mem_low_end(mem) || !guest_mem_ram_ptr(mem, hdr->load_gpa, hdr->init_size))
		return loader_error(err, err_len, -ENOSPC,
				   "kernel needs RAM at 0x%" PRIx64 "..0x%" PRIx64
				   " (load address from pref_address 0x%" PRIx64 " plus init_size"
				   " 0x%x) but guest RAM below 4 GiB ends at 0x%" PRIx64
				   " (%llu MiB of RAM)",
				   hdr->load_gpa, end, hdr->pref_address, hdr->init_size,
				   guest_mem_low_end(mem), ram_mib(mem));
	return 0;
}

/*
 * Validates req->framebuffer against what screen_info can say and against
 * guest memory; on success plan->fb_region is the range the kernel may map
 * (lfb_size * 64 KiB).
 */
static int linux_check_framebuffer(const struct guest_mem *mem, struct linux_plan *plan,
				   char *err, size_t err_len)
{
	const struct boot_framebuffer *fb = plan->fb;
	uint64_t bytes, size, rounded;
	struct range kernel = { plan->hdr.load_gpa, plan->hdr.load_gpa + plan->hdr.init_size };

	if (fb->width == 0 || fb->height == 0 || fb->width > LFB_MAX_DIMENSION ||
	    fb->height > LFB_MAX_DIMENSION)
		return loader_error(err, err_len, -EINVAL,
				   "framebuffer %" PRIu32 "x%" PRIu32 " cannot be described to"
				   " Linux: width and height must be 1..65535",
				   fb->width, fb->height);
	if (fb->stride < (uint64_t)fb->width * LFB_BYTES_PER_PIXEL ||
	    fb->stride > LFB_MAX_DIMENSION)
		return loader_error(err, err_len, -EINVAL,
				   "framebuffer stride %" PRIu32 " must be between %" PRIu64
				   " (width * 4) and 65535", fb->stride,
				   (uint64_t)fb->width * LFB_BYTES_PER_PIXEL);
	bytes = (uint64_t)fb->height * fb->stride;  /* < 2^32 */
	size = fb->size ? fb->size : bytes;
	if (size < bytes)
		return loader_error(err, err_len, -EINVAL,
				   "framebuffer region of %" PRIu64 " bytes is smaller than"
				   " height * stride (%" PRIu64 ")", size, bytes);
	if (fb->gpa == 0 || (fb->gpa & (PAGE_BYTES - 1)))
		return loader_error(err, err_len, -EINVAL,
				   "framebuffer address 0x%" PRIx64 " must be non-zero and 4 KiB"
				   " aligned", fb->gpa);
	/* lfb_size is a u32 count of 64 KiB units. */
	if (size > (uint64_t)UINT32_MAX * LFB_SIZE_UNIT_BYTES)
		return loader_error(err, err_len, -EINVAL,
				   "framebuffer region of %" PRIu64
				   " bytes is too large to describe",
				   size);
	rounded = (size + LFB_SIZE_UNIT_BYTES - 1) & ~(LFB_SIZE_UNIT_BYTES - 1);
	if (__builtin_add_overflow(fb->gpa, rounded, &plan->fb_region.end))
		return loader_error(err, err_len, -EINVAL,
				   "framebuffer region 0x%" PRIx64 "+0x%" PRIx64
				   " wraps around the address space", fb->gpa, rounded);
	plan->fb_region.base = fb->gpa;

	if (fb->reserved_in_ram) {
		if (fb->gpa < LINUX_LOAD_MIN_GPA || !guest_mem_ram_ptr(mem, fb->gpa, rounded))
			return loader_error(err, err_len, -EINVAL,
					   "framebuffer region 0x%" PRIx64 "..0x%" PRIx64
					   " (its size rounded up to 64 KiB, the unit Linux counts"
					   " in) is not inside guest RAM above 1 MiB",
					   fb->gpa, plan->fb_region.end);
		if (ranges_overlap(plan->fb_region, kernel))
			return loader_error(err, err_len, -ENOSPC,
					   "framebuffer region 0x%" PRIx64 "..0x%" PRIx64
					   " overlaps the kernel at 0x%" PRIx64 "..0x%" PRIx64,
					   fb->gpa, plan->fb_region.end, kernel.base, kernel.end);
		return 0;
	}
	for (unsigned int i = 0; i < mem->count; i++) {
		struct range ram = { mem->regions[i].gpa,
				     mem->regions[i].gpa + mem->regions[i].size };

		if (ranges_overlap(plan->fb_region, ram))
			return loader_error(err, err_len, -EINVAL,
					   "framebuffer region 0x%" PRIx64 "..0x%" PRIx64
					   " overlaps guest RAM but is not marked reserved_in_ram",
					   fb->gpa, plan->fb_region.end);
	}
	return 0;
}

/*
 * Highest page-aligned gpa with [gpa, gpa + size) in low RAM at or above
 * 1 MiB, ending at or below initrd_addr_max + 1, clear of the kernel's
 * runtime area and of a framebuffer reserved in RAM. Each move goes below the
 * range that was hit, so the loop ends after at most one move per range.
 */
static int linux_place_initrd(const struct guest_mem *mem, struct linux_plan *plan,
			      char *err, size_t err_len)
{
	struct range avoid[2] = {
		{ plan->hdr.load_gpa, plan->hdr.load_gpa + plan->hdr.init_size },
		{ 0, 0 },
	};
	uint64_t size = plan->initrd_size;
	uint64_t top = guest_mem_low_end(mem);
	uint64_t gpa;
	bool moved;

	if (plan->fb && plan->fb->reserved_in_ram)
		avoid[1] = plan->fb_region;
	if ((uint64_t)plan->hdr.initrd_addr_max + 1 < top)
		top = (uint64_t)plan->hdr.initrd_addr_max + 1;
	if (top < LINUX_LOAD_MIN_GPA || size > top - LINUX_LOAD_MIN_GPA)
		goto no_room;
	gpa = (top - size) & ~(PAGE_BYTES - 1);
	do {
		moved = false;
		for (unsigned int i = 0; i < 2; i++) {
			if (!ranges_overlap((struct range){ gpa, gpa + size }, avoid[i]))
				continue;
			if (avoid[i].base < LINUX_LOAD_MIN_GPA + size)
				goto no_room;
			gpa = (avoid[i].base - size) & ~(PAGE_BYTES - 1);
			moved = true;
		}
	} while (moved);
	if (gpa < LINUX_LOAD_MIN_GPA)
		goto no_room;
	plan->initrd_gpa = gpa;
	return 0;

no_room:
	return loader_error(err, err_len, -ENOSPC,
			   "initrd (%" PRIu64 " bytes) does not fit in guest RAM between 1 MiB"
			   " and 0x%" PRIx64 " (initrd_addr_max 0x%" PRIx32 ") beside the kernel"
			   " at 0x%" PRIx64 "..0x%" PRIx64 " (guest RAM is %llu MiB)",
			   size, top, plan->hdr.initrd_addr_max, avoid[0].base, avoid[0].end,
			   ram_mib(mem));
}

/* Everything about the request that can be refused, before any write. */
static int linux_plan_load(const struct guest_mem *mem, const uint8_t *image, size_t size,
			   const struct boot_request *req, struct linux_plan *plan,
			   char *err, size_t err_len)
{
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->cmdline = req && req->cmdline ? req->cmdline : "";
	plan->initrd_size = req ? req->initrd_size : 0;
	plan->fb = req ? req->framebuffer : NULL;
	plan->acpi_rsdp_gpa = req ? req->acpi_rsdp_gpa : 0;
	if (req && (req->initrd == NULL) != (req->initrd_size == 0))
		return loader_error(err, err_len, -EINVAL,
				   req->initrd ? "initrd is empty (0 bytes)"
					       : "initrd size given without initrd data");

	ret = linux_parse_header(image, size, &plan->hdr, err, err_len);
	if (ret)
		return ret;
	plan->cmdline_len = strnlen(plan->cmdline, LINUX_CMDLINE_MAX_BYTES);
	if (plan->cmdline_len > plan->hdr.cmdline_size)
		return loader_error(err, err_len, -E2BIG,
				   "kernel command line is %zu bytes; this kernel accepts at most"
				   " %" PRIu32 " (cmdline_size)",
				   strlen(plan->cmdline), plan->hdr.cmdline_size);
	if (plan->cmdline_len >= LINUX_CMDLINE_MAX_BYTES)
		return loader_error(err, err_len, -E2BIG,
				   "kernel command line is %zu bytes; at most %llu are supported",
				   strlen(plan->cmdline),
				   (unsigned long long)LINUX_CMDLINE_MAX_BYTES - 1);
	ret = linux_check_kernel_area(mem, &plan->hdr, err, err_len);
	if (ret)
		return ret;
	if (plan->fb) {
		ret = linux_check_framebuffer(mem, plan, err, err_len);
		if (ret)
			return ret;
	}
	if (plan->initrd_size) {
		ret = linux_place_initrd(mem, plan, err, err_len);
		if (ret)
			return ret;
	}
	return 0;
}

static void e820_add(uint8_t *zp, unsigned int *n, uint64_t base, uint64_t end, uint32_t type)
{
	unsigned int off = BP_E820_TABLE + *n * E820_ENTRY_BYTES;

	if (end <= base)
		return;
	wr64(zp, off, base);
	wr64(zp, off + 8, end - base);
	wr32(zp, off + 16, type);
	(*n)++;
}

/* RAM range [base, end) as type 1, with the framebuffer carved out as type 2
 * when it lies inside. */
static void e820_add_ram(uint8_t *zp, unsigned int *n, uint64_t base, uint64_t end,
			 const struct range *carve)
{
	if (carve && carve->base >= base && carve->end <= end) {
		e820_add(zp, n, base, carve->base, E820_TYPE_RAM);
		e820_add(zp, n, carve->base, carve->end, E820_TYPE_RESERVED);
		e820_add(zp, n, carve->end, end, E820_TYPE_RAM);
		return;
	}
	e820_add(zp, n, base, end, E820_TYPE_RAM);
}

/*
 * In address order: low RAM below 640 KiB, the legacy VGA/ROM area reserved
 * (the kernel would reserve it anyway; the ACPI tables live in it), the rest of low RAM, the device hole
 * up to 4 GiB reserved (memmap.h), and RAM above 4 GiB; a framebuffer in RAM
 * becomes a reserved hole in its RAM range. At most 8 entries.
 */
static void linux_write_e820(uint8_t *zp, const struct guest_mem *mem,
			     const struct linux_plan *plan)
{
	const struct range *carve = plan->fb && plan->fb->reserved_in_ram ? &plan->fb_region : NULL;
	uint64_t low_end = guest_mem_low_end(mem);
	unsigned int n = 0;

	e820_add(zp, &n, 0, LEGACY_HOLE_BASE, E820_TYPE_RAM);
	e820_add(zp, &n, LEGACY_HOLE_BASE, LEGACY_HOLE_END, E820_TYPE_RESERVED);
	e820_add_ram(zp, &n, LEGACY_HOLE_END, low_end, carve);
	e820_add(zp, &n, MEMMAP_PCI_HOLE_BASE, MEMMAP_HIGH_RAM_BASE, E820_TYPE_RESERVED);
	for (unsigned int i = 1; i < mem->count; i++)
		e820_add_ram(zp, &n, mem->regions[i].gpa,
			     mem->regions[i].gpa + mem->regions[i].size, carve);
	wr8(zp, BP_E820_ENTRIES, (uint8_t)n);
}

/* screen_info for a VESA linear framebuffer, XRGB8888 (screen_info.h). */
static void linux_write_screen_info(uint8_t *zp, const struct linux_plan *plan)
{
	const struct boot_framebuffer *fb = plan->fb;
	uint8_t *si = zp + BP_SCREEN_INFO;
	static const uint8_t colours[8] = {
		8, 16,  /* red size, position */
		8, 8,   /* green */
		8, 0,   /* blue */
		8, 24,  /* reserved (the X in XRGB) */
	};

	wr8(si, SI_ORIG_VIDEO_COLS, TEXT_COLS);
	wr8(si, SI_ORIG_VIDEO_LINES, TEXT_LINES);
	wr8(si, SI_ORIG_VIDEO_ISVGA, VIDEO_TYPE_VLFB);
	wr16(si, SI_ORIG_VIDEO_POINTS, TEXT_FONT_HEIGHT);
	wr16(si, SI_LFB_WIDTH, (uint16_t)fb->width);
	wr16(si, SI_LFB_HEIGHT, (uint16_t)fb->height);
	wr16(si, SI_LFB_DEPTH, LFB_DEPTH_BITS);
	wr32(si, SI_LFB_BASE, (uint32_t)fb->gpa);
	wr32(si, SI_LFB_SIZE,
	     (uint32_t)((plan->fb_region.end - plan->fb_region.base) / LFB_SIZE_UNIT_BYTES));
	wr16(si, SI_LFB_LINELENGTH, (uint16_t)fb->stride);
	memcpy(si + SI_RED_SIZE, colours, sizeof(colours));
	wr16(si, SI_PAGES, 1);
	if (fb->gpa >> 32) {
		wr32(si, SI_CAPABILITIES, VIDEO_CAPABILITY_64BIT_BASE);
		wr32(si, SI_EXT_LFB_BASE, (uint32_t)(fb->gpa >> 32));
	}
}

static void linux_write_zero_page(uint8_t *zp, const uint8_t *image, const struct guest_mem *mem,
				  const struct linux_plan *plan)
{
	memset(zp, 0, BP_BYTES);
	/* boot.rst: copy the setup header from the image, then fill in the
	 * fields a boot loader writes. The sentinel at 0x1EF stays 0. */
	memcpy(zp + HDR_SETUP_SECTS, image + HDR_SETUP_SECTS,
	       plan->hdr.header_end - HDR_SETUP_SECTS);
	wr16(zp, HDR_VID_MODE, VID_MODE_NORMAL);
	wr8(zp, HDR_TYPE_OF_LOADER, TYPE_OF_LOADER_UNDEFINED);
	wr32(zp, HDR_CODE32_START, (uint32_t)plan->hdr.load_gpa);
	wr32(zp, HDR_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE_GPA);
	wr32(zp, BP_EXT_CMD_LINE_PTR, (uint32_t)(LINUX_CMDLINE_GPA >> 32));
	wr32(zp, HDR_RAMDISK_IMAGE, (uint32_t)plan->initrd_gpa);
	wr32(zp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(plan->initrd_gpa >> 32));
	wr32(zp, HDR_RAMDISK_SIZE, (uint32_t)plan->initrd_size);
	wr32(zp, BP_EXT_RAMDISK_SIZE, (uint32_t)(plan->initrd_size >> 32));
	/* We are a plain PC and pass no setup_data: whatever the image's
	 * header holds there is not ours to hand on. */
	wr32(zp, HDR_HARDWARE_SUBARCH, 0);
	wr64(zp, HDR_SUBARCH_DATA, 0);
	wr64(zp, HDR_SETUP_DATA, 0);
	linux_write_e820(zp, mem, plan);
	/* Older kernels find the RSDP by scanning the BIOS area, where it is
	 * too (MEMMAP_ACPI_BASE); 2.14+ take it from here first
	 * (arch/x86/kernel/acpi/boot.c x86_default_get_root_pointer). */
	if (plan->acpi_rsdp_gpa && plan->hdr.version >= HDR_ACPI_RSDP_VERSION)
		wr64(zp, BP_ACPI_RSDP_ADDR, plan->acpi_rsdp_gpa);
	if (plan->fb)
		linux_write_screen_info(zp, plan);
}

static void linux_write_gdt(uint8_t *area)
{
	uint8_t *gdt = area + (LINUX_GDT_GPA - LINUX_ZERO_PAGE_GPA);

	/* Entries 0 and 1 stay null; 0x10 and 0x18 are __BOOT_CS, __BOOT_DS. */
	wr64(gdt, LINUX_BOOT_CS, GDT_CODE64);
	wr64(gdt, LINUX_BOOT_DS, GDT_DATA);
}

/* PML4[0] -> PDPT; PDPT[i] -> PD i; PD i maps GiB i with 2 MiB pages. */
static void linux_write_page_tables(uint8_t *area)
{
	uint8_t *pml4 = area + (LINUX_PML4_GPA - LINUX_ZERO_PAGE_GPA);
	uint8_t *pdpt = area + (LINUX_PDPT_GPA - LINUX_ZERO_PAGE_GPA);
	uint8_t *pd = area + (LINUX_PD_GPA - LINUX_ZERO_PAGE_GPA);

	wr64(pml4, 0, LINUX_PDPT_GPA | PTE_PRESENT | PTE_WRITABLE);
	for (unsigned int i = 0; i < LINUX_PD_COUNT; i++) {
		wr64(pdpt, i * 8, (LINUX_PD_GPA + i * PAGE_BYTES) | PTE_PRESENT | PTE_WRITABLE);
		for (unsigned int j = 0; j < PT_ENTRIES; j++) {
			uint64_t gpa = ((uint64_t)i * PT_ENTRIES + j) * LARGE_PAGE_BYTES;

			wr64(pd, (i * PT_ENTRIES + j) * 8,
			     gpa | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE);
		}
	}
}

int linux_load(struct guest_mem *mem, const uint8_t *image, size_t image_size,
	       const struct boot_request *req, struct boot_entry *out,
	       char *err, size_t err_len)
{
	struct linux_plan plan;
	uint8_t *low, *dst;
	int ret;

	if (err && err_len)
		err[0] = '\0';
	if (!mem || !image || !out)
		return loader_error(err, err_len, -EINVAL, "Linux loader called without an image");
	ret = linux_plan_load(mem, image, image_size, req, &plan, err, err_len);
	if (ret)
		return ret;

	/* Checked by linux_check_kernel_area() and linux_place_initrd(). */
	/* Host-side writes: each span is marked written when done. */
	dst = guest_mem_ram_write_begin(mem, plan.hdr.load_gpa, plan.hdr.kernel_bytes);
	if (!dst)
		return loader_error(err, err_len, -ENOSPC, "kernel lies outside guest RAM");
	memcpy(dst, image + plan.hdr.kernel_offset, plan.hdr.kernel_bytes);
	guest_mem_write_end(mem, plan.hdr.load_gpa, plan.hdr.kernel_bytes);
	if (plan.initrd_size) {
		dst = guest_mem_ram_write_begin(mem, plan.initrd_gpa, plan.initrd_size);
		if (!dst)
			return loader_error(err, err_len, -ENOSPC, "initrd lies outside guest RAM");
		memcpy(dst, req->initrd, plan.initrd_size);
		guest_mem_write_end(mem, plan.initrd_gpa, plan.initrd_size);
	}

	/* Page 0 and the boot structures, zeroed then filled. */
	low = guest_mem_ram_write_begin(mem, 0, LINUX_BOOT_INFO_END);
	if (!low)  /* guest RAM is at least MEMMAP_RAM_MIN */
		return loader_error(err, err_len, -ENOSPC,
				   "guest RAM does not cover the Linux boot structures");
	memset(low, 0, LINUX_BOOT_INFO_END);
	linux_write_zero_page(low + LINUX_ZERO_PAGE_GPA, image, mem, &plan);
	linux_write_gdt(low + LINUX_ZERO_PAGE_GPA);
	linux_write_page_tables(low + LINUX_ZERO_PAGE_GPA);
	memcpy(low + LINUX_CMDLINE_GPA, plan.cmdline, plan.cmdline_len);
	guest_mem_write_end(mem, 0, LINUX_BOOT_INFO_END);

	*out = (struct boot_entry){
		.mode = BOOT_MODE_LINUX64,
		.entry = plan.hdr.load_gpa + ENTRY_64_OFFSET,
		.boot_info_gpa = LINUX_ZERO_PAGE_GPA,
		.page_table_gpa = LINUX_PML4_GPA,
		.gdt_gpa = LINUX_GDT_GPA,
		.gdt_limit = LINUX_GDT_ENTRIES * 8 - 1,
	};
	log_debug("linux", "loaded protocol=" VERSION_FMT " version=\"%.64s\" load=0x%" PRIx64
		  " init_size=0x%" PRIx32 " initrd=0x%" PRIx64 "+0x%" PRIx64 " cmdline_bytes=%zu"
		  " framebuffer=%s", VERSION_ARGS(plan.hdr.version),
		  linux_version_string(image, &plan.hdr), plan.hdr.load_gpa, plan.hdr.init_size,
		  plan.initrd_gpa, plan.initrd_size, plan.cmdline_len,
		  !plan.fb ? "none" : plan.fb->reserved_in_ram ? "reserved-ram" : "device");
	return 0;
}
