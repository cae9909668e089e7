#include "acpi_pm.h"

#include <inttypes.h>
#include <time.h>

#include "hypervisor/bus.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"

/* Byte offsets in the block (acpi_pm.h has the ports). */
#define PM_OFF_STS        0
#define PM_OFF_EN         2
#define PM_OFF_CNT        4
#define PM_OFF_TMR        8
#define PM_TMR_BYTES      4

#define NS_PER_SEC        1000000000ull
/* TMR_STS is set each time bit 23 of the counter changes (ACPI 6.4 4.8.3.3). */
#define PM_TMR_STS_SHIFT  23

static uint64_t acpi_pm_host_clock(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Timer ticks since reset; 128-bit product, so no overflow for ~1e13 years. */
static uint64_t acpi_pm_ticks(const struct acpi_pm *pm)
{
	uint64_t ns = pm->clock(pm->clock_ctx) - pm->timer_zero_ns;

	return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / NS_PER_SEC);
}

/* Sets TMR_STS when bit 23 moved since the last time it was set. */
static void acpi_pm_update_timer_status(struct acpi_pm *pm, uint64_t ticks)
{
	uint32_t epoch = (uint32_t)(ticks >> PM_TMR_STS_SHIFT);

	if (epoch != pm->timer_epoch) {
		pm->timer_epoch = epoch;
		pm->sts |= ACPI_PM1_STS_TMR;
	}
}

static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	bool level = (pm->cnt & ACPI_PM1_CNT_SCI_EN) && (pm->sts & pm->en);

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

static void acpi_pm_reset_locked(struct acpi_pm *pm)
{
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = ACPI_PM1_CNT_SCI_EN;
	pm->timer_zero_ns = pm->clock(pm->clock_ctx);
	pm->timer_epoch = 0;
	pm->sci_level = false;
	irq_line_set(&pm->sci, false);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	acpi_pm_reset_locked(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* SLP_EN was written with the SLP_TYP now in cnt. */
static void acpi_pm_sleep(struct acpi_pm *pm)
{
	unsigned int type = (pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;

	if (type == ACPI_PM_SLP_TYP_S5) {
		pm->poweroffs++;
		log_info("acpi", "guest requested S5 power off");
		vm_request_stop(VM_STOP_POWEROFF, EXIT_STATUS_OK, "ACPI S5 (PM1a_CNT SLP_EN)");
		return;
	}
	pm->sleeps_ignored++;
	log_ratelimited(LOG_WARN, "acpi", "guest requested sleep type %u, ignored (only S5,"
			" power off, is supported); reporting an immediate wake", type);
	pm->sts |= ACPI_PM1_STS_WAK;
}

static uint8_t acpi_pm_read_byte(const struct acpi_pm *pm, unsigned int off, uint64_t ticks)
{
	switch (off) {
	case PM_OFF_STS:
	case PM_OFF_STS + 1:
		return (uint8_t)(pm->sts >> (8 * (off - PM_OFF_STS)));
	case PM_OFF_EN:
	case PM_OFF_EN + 1:
		return (uint8_t)(pm->en >> (8 * (off - PM_OFF_EN)));
	case PM_OFF_CNT:
	case PM_OFF_CNT + 1:
		return (uint8_t)(pm->cnt >> (8 * (off - PM_OFF_CNT)));
	default:
		if (off >= PM_OFF_TMR && off < PM_OFF_TMR + PM_TMR_BYTES)
			return (uint8_t)((ticks & ACPI_PM_TIMER_MASK) >> (8 * (off - PM_OFF_TMR)));
		return 0;  /* 0x606-0x607: between the blocks the FADT names */
	}
}

static void acpi_pm_write_byte(struct acpi_pm *pm, unsigned int off, uint8_t v)
{
	unsigned int shift;

	switch (off) {
	case PM_OFF_STS:
	case PM_OFF_STS + 1:
		/* Write 1 to clear. */
		pm->sts &= (uint16_t)~((unsigned int)v << (8 * (off - PM_OFF_STS)));
		break;
	case PM_OFF_EN:
	case PM_OFF_EN + 1:
		shift = 8 * (off - PM_OFF_EN);
		pm->en = (uint16_t)((pm->en & ~(0xFFu << shift)) | (unsigned int)v << shift);
		break;
	case PM_OFF_CNT:
	case PM_OFF_CNT + 1: {
		uint16_t value, write_only = ACPI_PM1_CNT_SLP_EN | ACPI_PM1_CNT_GBL_RLS;

		shift = 8 * (off - PM_OFF_CNT);
		value = (uint16_t)((unsigned int)v << shift);
		pm->cnt = (uint16_t)((pm->cnt & ~(0xFFu << shift)) | (value & ~write_only));
		if (value & ACPI_PM1_CNT_SLP_EN)
			acpi_pm_sleep(pm);
		break;
	}
	default:
		pm->ignored_writes++;
		log_ratelimited(LOG_DEBUG, "acpi", "write to read-only PM byte 0x%x ignored",
				ACPI_PM_BASE + off);
		break;
	}
}

static uint64_t acpi_pm_bus_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint64_t value = 0, ticks;

	pthread_mutex_lock(&pm->lock);
	pm->reads++;
	ticks = acpi_pm_ticks(pm);
	acpi_pm_update_timer_status(pm, ticks);
	for (unsigned int i = 0; i < size; i++)
		value |= (uint64_t)acpi_pm_read_byte(pm, (unsigned int)offset + i, ticks) << (8 * i);
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return value;
}

static void acpi_pm_bus_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	pm->writes++;
	/* A status bit that became due is set before a write can clear it. */
	acpi_pm_update_timer_status(pm, acpi_pm_ticks(pm));
	for (unsigned int i = 0; i < size; i++)
		acpi_pm_write_byte(pm, (unsigned int)offset + i, (uint8_t)(value >> (8 * i)));
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static const struct bus_ops acpi_pm_ops = {
	.read = acpi_pm_bus_read,
	.write = acpi_pm_bus_write,
};

int acpi_pm_init(struct acpi_pm *pm, struct bus *bus, struct irq_line sci)
{
	struct bus_region region = {
		.name = "acpi-pm", .base = ACPI_PM_BASE, .len = ACPI_PM_BYTES,
		/* QEMU's PM ops accept 1-2 byte accesses to PM1 and 1-4 to the
		 * timer; one region with 1-4 covers both (the bus refuses an
		 * access that runs past the block). */
		.min_access = 1, .max_access = 4,
		.ops = &acpi_pm_ops, .opaque = pm,
	};
	int ret;

	*pm = (struct acpi_pm){ .sci = sci, .clock = acpi_pm_host_clock };
	ret = pthread_mutex_init(&pm->lock, NULL);
	if (ret)
		return -ret;
	acpi_pm_reset(pm);
	ret = bus_register(bus, BUS_PIO, &region);
	if (ret < 0)
		pthread_mutex_destroy(&pm->lock);
	return ret;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}

void acpi_pm_set_clock(struct acpi_pm *pm, acpi_pm_clock_fn clock, void *ctx)
{
	pthread_mutex_lock(&pm->lock);
	pm->clock = clock ? clock : acpi_pm_host_clock;
	pm->clock_ctx = ctx;
	pm->timer_zero_ns = pm->clock(pm->clock_ctx);
	pm->timer_epoch = 0;
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_print_stats(struct acpi_pm *pm, FILE *out)
{
	pthread_mutex_lock(&pm->lock);
	fprintf(out, "acpi-pm: reads=%" PRIu64 " writes=%" PRIu64 " poweroffs=%" PRIu64
		" sleeps_ignored=%" PRIu64 " ignored_writes=%" PRIu64 " sci_en=%u\n", pm->reads,
		pm->writes, pm->poweroffs, pm->sleeps_ignored, pm->ignored_writes,
		pm->cnt & ACPI_PM1_CNT_SCI_EN);
	pthread_mutex_unlock(&pm->lock);
}
