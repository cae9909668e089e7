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

#define DISPLAY_MAX_WIDTH  4096
#define DISPLAY_MAX_HEIGHT 4096

struct display_surface {
	bool enabled;          /* false until a device publishes one */
	uint64_t gpa;          /* guest-physical address of pixel (0,0) */
	uint32_t width;
	uint32_t height;
	uint32_t stride;       /* bytes per line */
	uint32_t format;       /* DISPLAY_FORMAT_* */
	uint32_t generation;   /* changes on every publish */
};

struct display {
	pthread_mutex_t lock;
	struct display_surface surface;
};

void display_init(struct display *d);

/* Bytes per pixel of a supported format, 0 for an unsupported one. */
unsigned int display_format_bpp(uint32_t format);

/* Publishes s (already validated by the device) as the current surface with
 * a new generation number. Any thread. */
void display_publish(struct display *d, const struct display_surface *s);

/* Copies the current surface. Any thread. */
void display_snapshot(struct display *d, struct display_surface *out);

#endif
