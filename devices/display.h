/*
 * The display surface devices publish and frontends (VNC, SDL) consume:
 * where the guest's framebuffer is and how to read it. A device publishes a
 * new surface (new generation) on every reconfiguration; frontends take a
 * consistent snapshot under the lock and never race the vCPU thread.
 */
#ifndef FBVM_DISPLAY_H
#define FBVM_DISPLAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* DRM fourcc codes (linux/drm_fourcc.h), little-endian pixel layouts. */
#define DISPLAY_FOURCC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define DISPLAY_FORMAT_XRGB8888 DISPLAY_FOURCC('X', 'R', '2', '4')  /* B,G,R,X in memory */
#define DISPLAY_FORMAT_ARGB8888 DISPLAY_FOURCC('A', 'R', '2', '4')  /* alpha ignored */
#define DISPLAY_FORMAT_XBGR8888 DISPLAY_FOURCC('X', 'B', '2', '4')  /* R,G,B,X in memory */
#define DISPLAY_FORMAT_ABGR8888 DISPLAY_FOURCC('A', 'B', '2', '4')
#define DISPLAY_FORMAT_RGB888   DISPLAY_FOURCC('R', 'G', '2', '4')  /* B,G,R in memory */

/* Largest surface any device may publish. 4096x4096 covers every mode
 * firmware offers; it bounds the shadow copy at 64 MiB. */
#define DISPLAY_MAX_WIDTH  4096
#define DISPLAY_MAX_HEIGHT 4096
/* Largest line pitch in bytes (4x the widest line): room for panning inside
 * a wider virtual screen (Bochs VBE allows 16000 px * 4), while the span of
 * guest memory a surface covers, and so the tracker's dirty bitmap, stays
 * below 256 MiB whatever the guest asks for. */
#define DISPLAY_MAX_STRIDE 65536

struct display_surface {
	bool enabled;          /* false until a device publishes one */
	uint64_t gpa;          /* guest-physical address of pixel (0,0); any alignment */
	uint32_t width;
	uint32_t height;
	uint32_t stride;       /* bytes per line, a multiple of 4 */
	uint32_t format;       /* DISPLAY_FORMAT_* */
	uint32_t generation;   /* changes on every publish; 0 only before the first */
};

struct display {
	pthread_mutex_t lock;
	struct display_surface surface;
};

/* No surface (enabled false, generation 0) until the first publish. */
void display_init(struct display *d);
void display_destroy(struct display *d);

/* Bytes per pixel of a supported format, 0 for an unsupported one. This table
 * is the one list of formats devices accept and the tracker must convert. */
unsigned int display_format_bpp(uint32_t format);

/*
 * Bytes of guest memory a surface covers from its gpa: stride * (height - 1)
 * + width * bpp (the last line needs only its pixels, as in QEMU ramfb).
 * False for an unsupported format, a zero width or height, or a stride below
 * the line size; overflow-safe for any field values.
 */
bool display_surface_span(const struct display_surface *s, uint64_t *span_bytes);

/* Publishes s (already validated by the device) as the current surface with
 * a new generation number; s->generation is ignored. Any thread. */
void display_publish(struct display *d, const struct display_surface *s);

/* Power-on: no surface ("no frame yet"), published with a new generation so
 * every frontend drops the old picture and adopts the next one whole. */
void display_reset(struct display *d);

/* Copies the current surface: all fields come from the same publish. Any thread. */
void display_snapshot(struct display *d, struct display_surface *out);

#endif
