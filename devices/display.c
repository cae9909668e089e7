/*
 * The published display surface: one mutex-protected struct copied in and
 * out whole, so a frontend's snapshot never mixes two publishes. Publishes
 * happen on reconfiguration only (rare), snapshots once per refresh tick:
 * a plain mutex costs nothing measurable at those rates.
 */
#include "display.h"

#include <string.h>

void display_init(struct display *d)
{
	pthread_mutex_init(&d->lock, NULL);
	memset(&d->surface, 0, sizeof(d->surface));
}

void display_destroy(struct display *d)
{
	pthread_mutex_destroy(&d->lock);
}

unsigned int display_format_bpp(uint32_t format)
{
	switch (format) {
	case DISPLAY_FORMAT_XRGB8888:
	case DISPLAY_FORMAT_ARGB8888:
	case DISPLAY_FORMAT_XBGR8888:
	case DISPLAY_FORMAT_ABGR8888:
		return 4;
	case DISPLAY_FORMAT_RGB888:
		return 3;
	default:
		return 0;
	}
}

bool display_surface_span(const struct display_surface *s, uint64_t *span_bytes)
{
	unsigned int bpp = display_format_bpp(s->format);
	uint64_t line, rows;

	if (bpp == 0 || s->width == 0 || s->height == 0)
		return false;
	if (__builtin_mul_overflow((uint64_t)s->width, bpp, &line) || s->stride < line)
		return false;
	if (__builtin_mul_overflow((uint64_t)s->stride, (uint64_t)s->height - 1, &rows) ||
	    __builtin_add_overflow(rows, line, span_bytes))
		return false;
	return true;
}

void display_publish(struct display *d, const struct display_surface *s)
{
	pthread_mutex_lock(&d->lock);
	uint32_t generation = d->surface.generation + 1;
	d->surface = *s;
	/* 0 means "never published"; skip it when the counter wraps. */
	d->surface.generation = generation ? generation : 1;
	pthread_mutex_unlock(&d->lock);
}

void display_reset(struct display *d)
{
	const struct display_surface none = { .enabled = false };

	display_publish(d, &none);
}

void display_snapshot(struct display *d, struct display_surface *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->surface;
	pthread_mutex_unlock(&d->lock);
}
