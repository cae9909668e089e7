/*
 * CMOS / RTC. Register behaviour follows QEMU hw/rtc/mc146818rtc.c:
 *  - The clock runs while register B's SET is clear and register A's
 *    divider bits (6:4) are 010 or lower. Reading a time register while it
 *    runs latches the current time into the register file in B's format;
 *    while stopped, reads return what is stored (what the guest wrote).
 *  - Writing a time register while running changes that field of the
 *    current time at once; while stopped the value waits. Clearing SET (or releasing the divider reset,
 *    bits 6:5 = 11, after which the first update comes half a second later)
 *    sets the clock from the registers. Setting SET first latches the
 *    current time and clears UIE. Day of week is derived from the date, so
 *    a written one is not kept.
 *  - A's UIP bit and all of C and D are read-only; reading C clears it.
 *  - Index port reads return 0xFF; index writes select index & 0x7F and
 *    record bit 7 (NMI mask).
 * Differences: the year is kept as century * 100 + year with no base-year
 * offset (QEMU's PC passes base year 2000), so 0x32 reads 0x20 this
 * century as a PC BIOS keeps it; a time the guest sets is clamped to
 * 1970..9999; no interrupts (see cmos.h).
 *
 * Guest-written time registers may hold anything (0xFF, month 0): they are
 * decoded as BCD or binary without validation and normalised like mktime,
 * so garbage gives some date in range, never undefined arithmetic.
 */
#include "cmos.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "hypervisor/bus.h"
#include "hypervisor/log.h"
#include "hypervisor/memmap.h"

#define NS_PER_SEC          1000000000ll
#define SECS_PER_DAY        86400ll
/* MC146818A: UIP is set 244 us before an update and stays set through it. */
#define UIP_HOLD_NS         244000ll
/* After the divider reset is released the first update is 500 ms away. */
#define DIVIDER_RELEASE_PHASE_NS 500000000ll

#define RTC_REG_A_DIVIDER   0x70
#define RTC_REG_A_DIV_RESET 0x60       /* bits 6:5 both set: divider chain held in reset */
#define RTC_REG_A_DIV_RUN_MAX 0x20     /* 010 = 32.768 kHz time base */
#define RTC_REG_A_RESET     0x26       /* 32.768 kHz, 1024 Hz periodic rate */
#define RTC_REG_B_RESET     RTC_REG_B_24H
#define RTC_HOURS_PM        0x80

#define CMOS_INDEX_MASK     0x7F

/* 0001-01-01 .. 9999-12-31: clamp for guest-set times. */
#define RTC_MAX_YEAR        9999

static uint64_t cmos_host_clock(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Days since 1970-01-01 of a proleptic Gregorian date; any month value is
 * normalised into the year (H. Hinnant, "chrono-compatible low-level date
 * algorithms"). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t months = y * 12 + (m - 1);
	int64_t era, yoe, doy, doe;

	y = months >= 0 ? months / 12 : -((-months + 11) / 12);
	m = months - y * 12 + 1;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool rtc_binary(const struct cmos *c)
{
	return c->data[RTC_REG_B] & RTC_REG_B_DM;
}

static uint8_t rtc_to_reg(const struct cmos *c, unsigned int v)
{
	return rtc_binary(c) ? (uint8_t)v : (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static int64_t rtc_from_reg(const struct cmos *c, uint8_t v)
{
	return rtc_binary(c) ? v : (v >> 4) * 10 + (v & 0x0F);
}

static bool rtc_running(const struct cmos *c)
{
	return !(c->data[RTC_REG_B] & RTC_REG_B_SET) &&
	       (c->data[RTC_REG_A] & RTC_REG_A_DIVIDER) <= RTC_REG_A_DIV_RUN_MAX;
}

static void guest_time(const struct cmos *c, int64_t *sec, int64_t *nsec)
{
	uint64_t now = c->clock(c->clock_ctx);
	int64_t s = (int64_t)(now / NS_PER_SEC) + c->offset_s;
	int64_t ns = (int64_t)(now % NS_PER_SEC) + c->offset_ns;

	if (ns >= NS_PER_SEC) {
		ns -= NS_PER_SEC;
		s++;
	}
	*sec = s;
	*nsec = ns;
}

/* The guest's time as seconds since the epoch, from the time registers. */
static int64_t rtc_regs_to_seconds(const struct cmos *c)
{
	const uint8_t *r = c->data;
	int64_t hour = rtc_from_reg(c, r[RTC_HOURS] & (uint8_t)~RTC_HOURS_PM);
	int64_t year = rtc_from_reg(c, r[RTC_CENTURY]) * 100 + rtc_from_reg(c, r[RTC_YEAR]);
	int64_t days, secs, max;

	if (!(r[RTC_REG_B] & RTC_REG_B_24H)) {
		hour %= 12;
		if (r[RTC_HOURS] & RTC_HOURS_PM)
			hour += 12;
	}
	/* Every field is at most 165 (0xFF as BCD): no overflow anywhere. */
	days = days_from_civil(year, rtc_from_reg(c, r[RTC_MONTH]), rtc_from_reg(c, r[RTC_DAY_OF_MONTH]));
	secs = days * SECS_PER_DAY + hour * 3600 + rtc_from_reg(c, r[RTC_MINUTES]) * 60 +
	       rtc_from_reg(c, r[RTC_SECONDS]);
	max = days_from_civil(RTC_MAX_YEAR, 12, 31) * SECS_PER_DAY + SECS_PER_DAY - 1;
	return secs < 0 ? 0 : secs > max ? max : secs;
}

/* Sets the clock from the time registers; the sub-second phase becomes phase_ns. */
static void rtc_set_time(struct cmos *c, int64_t phase_ns)
{
	int64_t secs = rtc_regs_to_seconds(c);
	uint64_t now = c->clock(c->clock_ctx);

	c->offset_s = secs - (int64_t)(now / NS_PER_SEC);
	c->offset_ns = phase_ns - (int64_t)(now % NS_PER_SEC);
	if (c->offset_ns < 0) {
		c->offset_ns += NS_PER_SEC;
		c->offset_s--;
	}
	c->time_sets++;
	c->uf_second = secs;
}

/* Latches the running clock into the time registers in B's format. */
static void rtc_latch_time(struct cmos *c)
{
	int64_t secs, nsec, days, year;
	unsigned int month, mday, sod, hour;
	uint8_t *r = c->data;

	guest_time(c, &secs, &nsec);
	days = secs / SECS_PER_DAY;   /* secs >= 0: offsets keep the clock after 1970 */
	sod = (unsigned int)(secs % SECS_PER_DAY);
	civil_from_days(days, &year, &month, &mday);
	hour = sod / 3600;
	r[RTC_SECONDS] = rtc_to_reg(c, sod % 60);
	r[RTC_MINUTES] = rtc_to_reg(c, sod / 60 % 60);
	if (r[RTC_REG_B] & RTC_REG_B_24H) {
		r[RTC_HOURS] = rtc_to_reg(c, hour);
	} else {
		r[RTC_HOURS] = rtc_to_reg(c, hour % 12 ? hour % 12 : 12);
		if (hour >= 12)
			r[RTC_HOURS] |= RTC_HOURS_PM;
	}
	r[RTC_DAY_OF_WEEK] = rtc_to_reg(c, (unsigned int)((days + 4) % 7) + 1);  /* 1970-01-01: Thursday */
	r[RTC_DAY_OF_MONTH] = rtc_to_reg(c, mday);
	r[RTC_MONTH] = rtc_to_reg(c, month);
	r[RTC_YEAR] = rtc_to_reg(c, (unsigned int)(year % 100));
	r[RTC_CENTURY] = rtc_to_reg(c, (unsigned int)(year / 100));
}

static bool rtc_update_in_progress(const struct cmos *c)
{
	int64_t secs, nsec;

	if (!rtc_running(c))
		return false;
	guest_time(c, &secs, &nsec);
	return nsec >= NS_PER_SEC - UIP_HOLD_NS;
}

static uint8_t cmos_data_read(struct cmos *c)
{
	int64_t secs, nsec;
	uint8_t value;

	c->reads++;
	if (c->index == RTC_IBM_PS2_CENTURY_BYTE)
		c->index = RTC_CENTURY;
	switch (c->index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		if (rtc_running(c))
			rtc_latch_time(c);
		return c->data[c->index];
	case RTC_REG_A:
		return (uint8_t)(c->data[RTC_REG_A] | (rtc_update_in_progress(c) ? RTC_REG_A_UIP : 0));
	case RTC_REG_C:
		value = 0;
		if (rtc_running(c)) {
			guest_time(c, &secs, &nsec);
			if (secs != c->uf_second)
				value |= RTC_REG_C_UF;
			c->uf_second = secs;
		}
		if (value & c->data[RTC_REG_B] & RTC_REG_B_UIE)
			value |= RTC_REG_C_IRQF;
		return value;
	case RTC_REG_D:
		return RTC_REG_D_VRT;
	default:
		return c->data[c->index];
	}
}

static void cmos_data_write(struct cmos *c, uint8_t value)
{
	int64_t secs, nsec;
	uint8_t old;

	c->writes++;
	if (c->index == RTC_IBM_PS2_CENTURY_BYTE)
		c->index = RTC_CENTURY;
	switch (c->index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		if (!rtc_running(c)) {
			c->data[c->index] = value;
			break;
		}
		/* Running: change this field of the current time, not of
		 * whatever was last latched. */
		rtc_latch_time(c);
		c->data[c->index] = value;
		guest_time(c, &secs, &nsec);
		rtc_set_time(c, nsec);
		break;
	case RTC_REG_A:
		old = c->data[RTC_REG_A];
		if ((value & RTC_REG_A_DIV_RESET) == RTC_REG_A_DIV_RESET) {
			if (rtc_running(c))
				rtc_latch_time(c);
		} else if ((old & RTC_REG_A_DIV_RESET) == RTC_REG_A_DIV_RESET &&
			   (value & RTC_REG_A_DIVIDER) <= RTC_REG_A_DIV_RUN_MAX &&
			   !(c->data[RTC_REG_B] & RTC_REG_B_SET)) {
			rtc_set_time(c, DIVIDER_RELEASE_PHASE_NS);
		}
		c->data[RTC_REG_A] = value & (uint8_t)~RTC_REG_A_UIP;
		break;
	case RTC_REG_B:
		if (value & RTC_REG_B_SET) {
			if (rtc_running(c))
				rtc_latch_time(c);
			c->data[RTC_REG_B] = value & (uint8_t)~RTC_REG_B_UIE;
		} else {
			/* Leaving SET: the registers are read in the format they
			 * were written in, the old one (as QEMU does). */
			if ((c->data[RTC_REG_B] & RTC_REG_B_SET) &&
			    (c->data[RTC_REG_A] & RTC_REG_A_DIVIDER) <= RTC_REG_A_DIV_RUN_MAX) {
				guest_time(c, &secs, &nsec);
				rtc_set_time(c, nsec);
			}
			c->data[RTC_REG_B] = value;
		}
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		c->ignored_writes++;
		log_ratelimited(LOG_DEBUG, "cmos", "write 0x%02x to read-only register 0x%02x ignored",
				value, c->index);
		break;
	default:
		c->data[c->index] = value;
		break;
	}
}

static uint64_t cmos_port_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct cmos *c = opaque;
	uint8_t value;

	(void)size;
	if (offset == 0)
		return 0xFF;   /* the index register is write-only (QEMU reads 0xFF) */
	pthread_mutex_lock(&c->lock);
	value = cmos_data_read(c);
	pthread_mutex_unlock(&c->lock);
	return value;
}

static void cmos_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct cmos *c = opaque;

	(void)size;
	pthread_mutex_lock(&c->lock);
	if (offset == 0) {
		c->index = (uint8_t)value & CMOS_INDEX_MASK;
		c->nmi_disabled = value & CMOS_NMI_DISABLE;
	} else {
		cmos_data_write(c, (uint8_t)value);
	}
	pthread_mutex_unlock(&c->lock);
}

static const struct bus_ops cmos_ops = {
	.read = cmos_port_read,
	.write = cmos_port_write,
};

static void put16(uint8_t *data, unsigned int lo, unsigned int hi, uint64_t v)
{
	data[lo] = (uint8_t)v;
	data[hi] = (uint8_t)(v >> 8);
}

/* QEMU pc_cmos_init's memory size bytes. */
static void cmos_set_memory_size(struct cmos *c, uint64_t ram_bytes)
{
	uint64_t below = ram_bytes < MEMMAP_LOW_RAM_MAX ? ram_bytes : MEMMAP_LOW_RAM_MAX;
	uint64_t above = ram_bytes - below;
	uint64_t v;

	v = below / KiB(1) < 640 ? below / KiB(1) : 640;
	put16(c->data, CMOS_BASE_MEM_KIB_LO, CMOS_BASE_MEM_KIB_HI, v);
	v = below > MiB(1) ? (below - MiB(1)) / KiB(1) : 0;
	if (v > UINT16_MAX)
		v = UINT16_MAX;
	put16(c->data, CMOS_EXT_MEM_KIB_LO, CMOS_EXT_MEM_KIB_HI, v);
	put16(c->data, CMOS_EXT_MEM2_KIB_LO, CMOS_EXT_MEM2_KIB_HI, v);
	v = below > MiB(16) ? (below - MiB(16)) / KiB(64) : 0;
	if (v > UINT16_MAX)
		v = UINT16_MAX;
	put16(c->data, CMOS_MEM_16M_64K_LO, CMOS_MEM_16M_64K_HI, v);
	v = above / KiB(64);
	c->data[CMOS_MEM_4G_64K_0] = (uint8_t)v;
	c->data[CMOS_MEM_4G_64K_1] = (uint8_t)(v >> 8);
	c->data[CMOS_MEM_4G_64K_2] = (uint8_t)(v >> 16);
}

static void cmos_reset_locked(struct cmos *c)
{
	int64_t secs, nsec;

	c->index = 0;
	c->nmi_disabled = false;
	c->data[RTC_REG_A] = RTC_REG_A_RESET;
	c->data[RTC_REG_B] = RTC_REG_B_RESET;
	c->data[RTC_REG_C] = 0;
	c->data[RTC_REG_D] = RTC_REG_D_VRT;
	c->offset_s = 0;
	c->offset_ns = 0;
	rtc_latch_time(c);
	guest_time(c, &secs, &nsec);
	c->uf_second = secs;
}

void cmos_reset(struct cmos *c)
{
	pthread_mutex_lock(&c->lock);
	cmos_reset_locked(c);
	pthread_mutex_unlock(&c->lock);
}

void cmos_set_clock(struct cmos *c, cmos_clock_fn clock, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->clock = clock ? clock : cmos_host_clock;
	c->clock_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

int cmos_init(struct cmos *c, struct bus *bus, uint64_t ram_bytes)
{
	const struct bus_region region = {
		.name = "cmos", .base = CMOS_INDEX_PORT, .len = 2,
		.min_access = 1, .max_access = 1, .ops = &cmos_ops, .opaque = c,
	};
	int ret;

	memset(c, 0, sizeof(*c));
	ret = pthread_mutex_init(&c->lock, NULL);
	if (ret)
		return -ret;
	c->clock = cmos_host_clock;
	cmos_set_memory_size(c, ram_bytes);
	cmos_reset_locked(c);
	ret = bus_register(bus, BUS_PIO, &region);
	if (ret < 0)
		pthread_mutex_destroy(&c->lock);
	return ret;
}

void cmos_destroy(struct cmos *c)
{
	pthread_mutex_destroy(&c->lock);
}

void cmos_print_stats(struct cmos *c, FILE *out)
{
	pthread_mutex_lock(&c->lock);
	fprintf(out, "cmos: reads=%" PRIu64 " writes=%" PRIu64 " ignored_writes=%" PRIu64
		" time_sets=%" PRIu64 " offset_s=%" PRId64 "\n", c->reads, c->writes,
		c->ignored_writes, c->time_sets, c->offset_s);
	pthread_mutex_unlock(&c->lock);
}
