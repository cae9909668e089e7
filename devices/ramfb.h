/*
 * QEMU's ramfb (hw/display/ramfb.c; shared/specs/interfaces.md section 2): a
 * framebuffer in guest RAM, described by the 28-byte big-endian fw_cfg file
 * "etc/ramfb" the guest writes by DMA. Each valid config publishes a new
 * display surface; an invalid one is rejected, counted and logged, and the
 * previous surface stays.
 */
#ifndef FBVM_RAMFB_H
#define FBVM_RAMFB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hypervisor/log.h"

struct display;
struct fw_cfg;
struct guest_mem;

#define RAMFB_FILE_NAME "etc/ramfb"
#define RAMFB_CFG_SIZE  28   /* OVMF refuses ramfb unless the file has exactly this size */

/* The config in host byte order; in the fw_cfg file every field is big-endian:
 * addr @0 (8 bytes), fourcc @8, flags @12, width @16, height @20, stride @24. */
struct ramfb_config {
	uint64_t addr;     /* guest-physical address of pixel (0,0) */
	uint32_t fourcc;   /* DISPLAY_FORMAT_* (DRM fourcc) */
	uint32_t flags;    /* unused; ignored as QEMU does */
	uint32_t width;
	uint32_t height;
	uint32_t stride;   /* bytes per line; 0 means width * bytes-per-pixel */
};

/* Why a config was rejected, one counter each. */
enum ramfb_reject {
	RAMFB_REJECT_FORMAT,        /* fourcc not in display_format_bpp() */
	RAMFB_REJECT_WIDTH,         /* 0 or above DISPLAY_MAX_WIDTH */
	RAMFB_REJECT_HEIGHT,        /* 0 or above DISPLAY_MAX_HEIGHT */
	RAMFB_REJECT_STRIDE_SHORT,  /* below width * bytes-per-pixel */
	RAMFB_REJECT_STRIDE_ALIGN,  /* not a multiple of 4 */
	RAMFB_REJECT_STRIDE_LARGE,  /* above DISPLAY_MAX_STRIDE */
	RAMFB_REJECT_LOW_MEMORY,    /* starts below MEMMAP_BOOT_INFO_END */
	RAMFB_REJECT_WRAP,          /* addr + span wraps around 2^64 */
	RAMFB_REJECT_NOT_RAM,       /* not wholly inside one guest RAM region */
	RAMFB_REJECT_COUNT,
};

struct ramfb {
	pthread_mutex_t lock;            /* guards everything below */
	struct display *display;
	const struct guest_mem *mem;
	struct ramfb_config current;     /* last applied config, stride resolved */
	bool active;                     /* current holds a published config */
	/* Counters for --stats. */
	uint64_t guest_writes;           /* fw_cfg write callbacks */
	uint64_t partial_writes;         /* of those, writes not covering all 28 bytes */
	uint64_t configs_applied;
	uint64_t configs_rejected;
	uint64_t rejects[RAMFB_REJECT_COUNT];
	enum ramfb_reject last_reject;   /* valid when configs_rejected > 0 */
	struct log_ratelimit log_rl;     /* per device, so one VM cannot silence another */
};

/*
 * Adds the writable, initially all-zero fw_cfg file "etc/ramfb" to fw.
 * Nothing is published until a valid config arrives. mem and display must
 * outlive rf. Call before the vCPUs start. 0 or the negative errno of
 * fw_cfg_add_file().
 */
int ramfb_init(struct ramfb *rf, struct fw_cfg *fw, struct display *display,
	       const struct guest_mem *mem);
void ramfb_destroy(struct ramfb *rf);

/* Power-on state: no config applied (the guest must write etc/ramfb again;
 * fw_cfg_reset() zeroes the file). Publishes nothing: the board resets the
 * display surface itself. Counters survive. Any thread. */
void ramfb_reset(struct ramfb *rf);

/*
 * Validates cfg exactly as a guest write is validated and, when valid,
 * publishes it as a new surface (new generation). The host-side path: fbvm
 * programs ramfb itself for direct-boot Linux guests. Any thread. 0, or
 * -EINVAL with the previous surface kept, the reject counted and logged.
 */
int ramfb_apply_config(struct ramfb *rf, const struct ramfb_config *cfg);

const char *ramfb_reject_name(enum ramfb_reject reason);

void ramfb_print_stats(struct ramfb *rf, FILE *out);

#endif
