/*
 * ramfb: the guest (or fbvm itself, for direct-boot Linux) describes a
 * framebuffer in guest RAM; we validate it and publish it as the display
 * surface. The pixels are never touched here: frontends read them through
 * the change tracker.
 *
 * Validation, in this order (the first failing rule is the one reported):
 *  1. fourcc is one of display_format_bpp()'s formats: XR24, AR24 (alpha
 *     ignored), XB24, AB24 (4 bytes per pixel) and RG24 (3), the formats
 *     QEMU's and propolis' ramfb tables map. flags is ignored, as in QEMU.
 *  2. 1 <= width <= DISPLAY_MAX_WIDTH, 1 <= height <= DISPLAY_MAX_HEIGHT.
 *     QEMU requires at least 16; nothing here depends on that, so tiny
 *     surfaces are allowed. The maximum bounds the frontend's shadow copy.
 *  3. stride 0 means width * bpp (QEMU). stride >= width * bpp, so lines
 *     never overlap (QEMU does not check; overlapping lines are a guest bug
 *     nobody relies on); stride <= DISPLAY_MAX_STRIDE, so the memory span a
 *     surface covers stays bounded; stride a multiple of 4, as pixman
 *     requires of every QEMU surface (pixman_image_create_bits): a ramfb
 *     config that works in QEMU passes, and every line starts 4-byte
 *     aligned relative to addr. For RG24 this means 4 and not 3.
 *  4. addr >= MEMMAP_BOOT_INFO_END: page 0 is where an all-zero or
 *     half-written config points, and [MEMMAP_BOOT_INFO_BASE,
 *     MEMMAP_BOOT_INFO_END) holds the loader's boot structures. No firmware
 *     puts a framebuffer there, so a surface there is a bug worth reporting.
 *  5. The span addr .. addr + stride * (height - 1) + width * bpp (QEMU's
 *     formula: the last line needs only its pixels) neither wraps around
 *     2^64 nor leaves one guest RAM region (guest_mem_ptr: not past the end
 *     of RAM, not in the 3-4 GiB hole, not straddling it).
 *
 * Partial writes: as QEMU, every fw_cfg write callback re-reads the whole
 * 28-byte item, whatever part of it the guest wrote, and applies it. A guest
 * writing field by field or byte by byte therefore produces intermediate
 * configs; each is fully validated, so the worst case is a short-lived
 * valid surface mixing old and new fields (and rejects for the invalid
 * ones), never a surface outside guest RAM. Every known guest writes all
 * 28 bytes in one DMA transfer.
 */
#include "ramfb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devices/display.h"
#include "devices/fw_cfg.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/memmap.h"

/* Byte offsets of the big-endian fields in etc/ramfb (QEMU struct RAMFBCfg). */
#define RAMFB_OFF_ADDR   0
#define RAMFB_OFF_FOURCC 8
#define RAMFB_OFF_FLAGS  12
#define RAMFB_OFF_WIDTH  16
#define RAMFB_OFF_HEIGHT 20
#define RAMFB_OFF_STRIDE 24

/* Line pitch alignment pixman (and so every QEMU display surface) requires. */
#define RAMFB_STRIDE_ALIGN 4

static const char *const ramfb_reject_names[RAMFB_REJECT_COUNT] = {
	[RAMFB_REJECT_FORMAT] = "format",
	[RAMFB_REJECT_WIDTH] = "width",
	[RAMFB_REJECT_HEIGHT] = "height",
	[RAMFB_REJECT_STRIDE_SHORT] = "stride_short",
	[RAMFB_REJECT_STRIDE_ALIGN] = "stride_align",
	[RAMFB_REJECT_STRIDE_LARGE] = "stride_large",
	[RAMFB_REJECT_LOW_MEMORY] = "low_memory",
	[RAMFB_REJECT_WRAP] = "wrap",
	[RAMFB_REJECT_NOT_RAM] = "not_ram",
};

const char *ramfb_reject_name(enum ramfb_reject reason)
{
	return (unsigned int)reason < RAMFB_REJECT_COUNT ? ramfb_reject_names[reason] : "unknown";
}

static uint32_t ramfb_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t ramfb_get_be64(const uint8_t *p)
{
	return (uint64_t)ramfb_get_be32(p) << 32 | ramfb_get_be32(p + 4);
}

static void ramfb_config_decode(const uint8_t *data, struct ramfb_config *cfg)
{
	cfg->addr = ramfb_get_be64(data + RAMFB_OFF_ADDR);
	cfg->fourcc = ramfb_get_be32(data + RAMFB_OFF_FOURCC);
	cfg->flags = ramfb_get_be32(data + RAMFB_OFF_FLAGS);
	cfg->width = ramfb_get_be32(data + RAMFB_OFF_WIDTH);
	cfg->height = ramfb_get_be32(data + RAMFB_OFF_HEIGHT);
	cfg->stride = ramfb_get_be32(data + RAMFB_OFF_STRIDE);
}

/* Counts and logs a reject; the caller holds rf->lock. Always -EINVAL. */
__attribute__((format(printf, 3, 4)))
static int ramfb_reject(struct ramfb *rf, enum ramfb_reject reason, const char *fmt, ...)
{
	unsigned int suppressed;
	char detail[160];
	va_list ap;

	rf->configs_rejected++;
	rf->rejects[reason]++;
	rf->last_reject = reason;
	if (!log_ratelimit_allow(&rf->log_rl, &suppressed))
		return -EINVAL;
	if (suppressed)
		log_warn("ramfb", "%u similar messages suppressed", suppressed);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_warn("ramfb", "rejected config: %s", detail);
	return -EINVAL;
}

static char ramfb_printable(uint32_t c)
{
	c &= 0xFF;
	return c >= 0x20 && c < 0x7F ? (char)c : '?';
}

/* Validates cfg and publishes it; the caller holds rf->lock. */
static int ramfb_apply_locked(struct ramfb *rf, const struct ramfb_config *cfg)
{
	struct display_surface s;
	unsigned int bpp = display_format_bpp(cfg->fourcc);
	uint64_t line_bytes, span_bytes, end;
	uint32_t stride = cfg->stride;

	if (bpp == 0)
		return ramfb_reject(rf, RAMFB_REJECT_FORMAT,
				    "fourcc 0x%08" PRIx32 " '%c%c%c%c' not supported", cfg->fourcc,
				    ramfb_printable(cfg->fourcc), ramfb_printable(cfg->fourcc >> 8),
				    ramfb_printable(cfg->fourcc >> 16),
				    ramfb_printable(cfg->fourcc >> 24));
	if (cfg->width == 0 || cfg->width > DISPLAY_MAX_WIDTH)
		return ramfb_reject(rf, RAMFB_REJECT_WIDTH, "width %" PRIu32 " not in 1..%u",
				    cfg->width, DISPLAY_MAX_WIDTH);
	if (cfg->height == 0 || cfg->height > DISPLAY_MAX_HEIGHT)
		return ramfb_reject(rf, RAMFB_REJECT_HEIGHT, "height %" PRIu32 " not in 1..%u",
				    cfg->height, DISPLAY_MAX_HEIGHT);
	/* width <= 4096 and bpp <= 4: the line fits easily in 32 bits. */
	line_bytes = (uint64_t)cfg->width * bpp;
	if (stride == 0)
		stride = (uint32_t)line_bytes;
	if (stride < line_bytes)
		return ramfb_reject(rf, RAMFB_REJECT_STRIDE_SHORT,
				    "stride %" PRIu32 " < width %" PRIu32 " * %u", stride, cfg->width,
				    bpp);
	if (stride > DISPLAY_MAX_STRIDE)
		return ramfb_reject(rf, RAMFB_REJECT_STRIDE_LARGE, "stride %" PRIu32 " > %u",
				    stride, DISPLAY_MAX_STRIDE);
	if (stride % RAMFB_STRIDE_ALIGN)
		return ramfb_reject(rf, RAMFB_REJECT_STRIDE_ALIGN,
				    "stride %" PRIu32 " not a multiple of %u", stride,
				    RAMFB_STRIDE_ALIGN);
	if (cfg->addr < MEMMAP_BOOT_INFO_END)
		return ramfb_reject(rf, RAMFB_REJECT_LOW_MEMORY,
				    "addr 0x%" PRIx64 " below 0x%llx (page 0 and boot info)",
				    cfg->addr, MEMMAP_BOOT_INFO_END);

	s = (struct display_surface){
		.enabled = true,
		.gpa = cfg->addr,
		.width = cfg->width,
		.height = cfg->height,
		.stride = stride,
		.format = cfg->fourcc,
	};
	/* display_surface_span cannot fail after the checks above (it is the
	 * one definition of the span frontends read); the sum can wrap. */
	if (!display_surface_span(&s, &span_bytes) ||
	    __builtin_add_overflow(cfg->addr, span_bytes, &end))
		return ramfb_reject(rf, RAMFB_REJECT_WRAP,
				    "addr 0x%" PRIx64 " + %" PRIu32 " lines of stride %" PRIu32
				    " wraps around 2^64", cfg->addr, cfg->height, stride);
	if (!guest_mem_ptr(rf->mem, cfg->addr, span_bytes))
		return ramfb_reject(rf, RAMFB_REJECT_NOT_RAM,
				    "addr 0x%" PRIx64 "..0x%" PRIx64 " (%" PRIu32 "x%" PRIu32
				    " stride %" PRIu32 ") not in guest RAM",
				    cfg->addr, end, cfg->width, cfg->height, stride);

	display_publish(rf->display, &s);
	rf->current = *cfg;
	rf->current.stride = stride;
	rf->active = true;
	rf->configs_applied++;
	log_debug("ramfb", "config addr=0x%" PRIx64 " size=%" PRIu32 "x%" PRIu32 " stride=%" PRIu32
		  " fourcc=0x%08" PRIx32, cfg->addr, cfg->width, cfg->height, stride, cfg->fourcc);
	return 0;
}

int ramfb_apply_config(struct ramfb *rf, const struct ramfb_config *cfg)
{
	int ret;

	pthread_mutex_lock(&rf->lock);
	ret = ramfb_apply_locked(rf, cfg);
	pthread_mutex_unlock(&rf->lock);
	return ret;
}

/* fw_cfg write callback, on the vCPU thread: data is the whole item after a
 * successful DMA write of [offset, offset + len). */
static void ramfb_fw_cfg_write(void *opaque, const uint8_t *data, size_t size, size_t offset,
			       size_t len)
{
	struct ramfb *rf = opaque;
	struct ramfb_config cfg;

	/* fw_cfg never resizes an item; a different size would be our bug. */
	if (size != RAMFB_CFG_SIZE)
		return;
	ramfb_config_decode(data, &cfg);
	pthread_mutex_lock(&rf->lock);
	rf->guest_writes++;
	if (offset != 0 || len != RAMFB_CFG_SIZE)
		rf->partial_writes++;
	ramfb_apply_locked(rf, &cfg);
	pthread_mutex_unlock(&rf->lock);
}

int ramfb_init(struct ramfb *rf, struct fw_cfg *fw, struct display *display,
	       const struct guest_mem *mem)
{
	static const uint8_t zeros[RAMFB_CFG_SIZE];
	int ret;

	memset(rf, 0, sizeof(*rf));
	rf->display = display;
	rf->mem = mem;
	pthread_mutex_init(&rf->lock, NULL);
	ret = fw_cfg_add_file(fw, RAMFB_FILE_NAME, zeros, RAMFB_CFG_SIZE, ramfb_fw_cfg_write, rf);
	if (ret < 0) {
		pthread_mutex_destroy(&rf->lock);
		return ret;
	}
	return 0;
}

void ramfb_reset(struct ramfb *rf)
{
	pthread_mutex_lock(&rf->lock);
	memset(&rf->current, 0, sizeof(rf->current));
	rf->active = false;
	pthread_mutex_unlock(&rf->lock);
}

void ramfb_destroy(struct ramfb *rf)
{
	pthread_mutex_destroy(&rf->lock);
}

void ramfb_print_stats(struct ramfb *rf, FILE *out)
{
	struct ramfb_config cur;
	uint64_t writes, partial, applied, rejected, rejects[RAMFB_REJECT_COUNT];
	bool active;

	pthread_mutex_lock(&rf->lock);
	cur = rf->current;
	active = rf->active;
	writes = rf->guest_writes;
	partial = rf->partial_writes;
	applied = rf->configs_applied;
	rejected = rf->configs_rejected;
	memcpy(rejects, rf->rejects, sizeof(rejects));
	pthread_mutex_unlock(&rf->lock);

	fprintf(out, "ramfb: guest_writes=%" PRIu64 " partial_writes=%" PRIu64 " applied=%" PRIu64
		" rejected=%" PRIu64, writes, partial, applied, rejected);
	for (unsigned int i = 0; i < RAMFB_REJECT_COUNT; i++)
		if (rejects[i])
			fprintf(out, " rejected_%s=%" PRIu64, ramfb_reject_names[i], rejects[i]);
	if (active)
		fprintf(out, " current=%" PRIu32 "x%" PRIu32 "@0x%" PRIx64 " stride=%" PRIu32
			" fourcc=0x%08" PRIx32, cur.width, cur.height, cur.addr, cur.stride,
			cur.fourcc);
	fputc('\n', out);
}
