/*
 * CMOS RAM and MC146818A real-time clock at ports 0x70 (index; bit 7 masks
 * NMI) and 0x71 (data), with QEMU's register semantics (hw/rtc/mc146818rtc.c)
 * and the memory-size bytes QEMU's PC machine stores (hw/i386/pc.c
 * pc_cmos_init). Enough for Linux's mc146818_get_time / rtc-cmos and for
 * bare-metal guests that read the date.
 *
 * The clock is the host's UTC time plus an offset the guest sets by writing
 * the time registers (SET in register B, or while running, as QEMU allows).
 * BCD or binary per register B's DM bit, 12- or 24-hour per its 24H bit,
 * century at 0x32 (0x37, the IBM PS/2 century byte, aliases it as in QEMU).
 * Register A's UIP bit reads 1 during the last 244 us of each second, so a
 * reader that waits for UIP to clear has 244 us of stable registers
 * (MC146818A datasheet). Register D always reads VRT (valid RAM and time).
 *
 * No interrupts: IRQ 8 is not wired, so periodic, alarm and update
 * interrupts are never raised. Register C reports UF (update ended, with
 * IRQF when UIE is set) if the second changed since C was last read, for
 * guests that poll; PF and AF stay 0.
 *
 * Threads: the ports are reached from vCPU threads; one mutex guards the state.
 */
#ifndef FBVM_CMOS_H
#define FBVM_CMOS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct bus;

#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT  0x71
#define CMOS_BYTES      128

/* Register indices (MC146818A datasheet; QEMU include/hw/rtc/mc146818rtc_regs.h). */
#define RTC_SECONDS        0x00
#define RTC_SECONDS_ALARM  0x01
#define RTC_MINUTES        0x02
#define RTC_MINUTES_ALARM  0x03
#define RTC_HOURS          0x04
#define RTC_HOURS_ALARM    0x05
#define RTC_DAY_OF_WEEK    0x06   /* 1 = Sunday */
#define RTC_DAY_OF_MONTH   0x07
#define RTC_MONTH          0x08
#define RTC_YEAR           0x09
#define RTC_REG_A          0x0A
#define RTC_REG_B          0x0B
#define RTC_REG_C          0x0C
#define RTC_REG_D          0x0D
#define RTC_CENTURY        0x32
#define RTC_IBM_PS2_CENTURY_BYTE 0x37

#define RTC_REG_A_UIP      0x80
#define RTC_REG_B_SET      0x80
#define RTC_REG_B_PIE      0x40
#define RTC_REG_B_AIE      0x20
#define RTC_REG_B_UIE      0x10
#define RTC_REG_B_DM       0x04   /* binary, not BCD */
#define RTC_REG_B_24H      0x02
#define RTC_REG_C_IRQF     0x80
#define RTC_REG_C_UF       0x10
#define RTC_REG_D_VRT      0x80

#define CMOS_NMI_DISABLE   0x80   /* in the byte written to the index port */

/* Memory size bytes (QEMU pc_cmos_init, the layout SeaBIOS reads). */
#define CMOS_BASE_MEM_KIB_LO  0x15   /* KiB below 1 MiB, at most 640 */
#define CMOS_BASE_MEM_KIB_HI  0x16
#define CMOS_EXT_MEM_KIB_LO   0x17   /* KiB from 1 MiB, at most 65535 */
#define CMOS_EXT_MEM_KIB_HI   0x18
#define CMOS_EXT_MEM2_KIB_LO  0x30   /* the same value again */
#define CMOS_EXT_MEM2_KIB_HI  0x31
#define CMOS_MEM_16M_64K_LO   0x34   /* 64 KiB units from 16 MiB to 4 GiB, at most 65535 */
#define CMOS_MEM_16M_64K_HI   0x35
#define CMOS_MEM_4G_64K_0     0x5B   /* 64 KiB units above 4 GiB, 24 bits */
#define CMOS_MEM_4G_64K_1     0x5C
#define CMOS_MEM_4G_64K_2     0x5D

/* Wall-clock source: nanoseconds since the Unix epoch, UTC. */
typedef uint64_t (*cmos_clock_fn)(void *ctx);

struct cmos {
	pthread_mutex_t lock;
	uint8_t index;               /* 0..127 */
	bool nmi_disabled;           /* bit 7 of the last index write; nothing raises NMIs */
	uint8_t data[CMOS_BYTES];    /* RAM, alarm and control registers; time as last latched */
	/* Guest clock = host clock + offset_s seconds + offset_ns (0..1e9-1). */
	int64_t offset_s;
	int64_t offset_ns;
	int64_t uf_second;           /* guest second when register C was last read */
	cmos_clock_fn clock;
	void *clock_ctx;
	/* Counters for --stats. */
	uint64_t reads;
	uint64_t writes;
	uint64_t ignored_writes;     /* to read-only registers C and D */
	uint64_t time_sets;          /* guest set the clock */
};

/*
 * Fills CMOS RAM (zero, then the memory-size bytes for ram_bytes of guest
 * RAM laid out as MEMMAP_LOW_RAM_MAX below 4 GiB and the rest above),
 * resets the clock to the host's time and claims ports 0x70-0x71 (1-byte
 * accesses). 0 or a negative errno, with nothing registered.
 */
int cmos_init(struct cmos *c, struct bus *bus, uint64_t ram_bytes);
void cmos_destroy(struct cmos *c);

/*
 * Power-on state: index 0, NMI enabled, register A 0x26 (32.768 kHz, 1024 Hz
 * rate), B 0x02 (24-hour, BCD), C 0, D VRT, clock = host UTC (a time the
 * guest set is forgotten). CMOS RAM keeps its contents (battery-backed).
 */
void cmos_reset(struct cmos *c);

/* Replaces the host clock (tests). NULL restores CLOCK_REALTIME. */
void cmos_set_clock(struct cmos *c, cmos_clock_fn clock, void *ctx);

void cmos_print_stats(struct cmos *c, FILE *out);

#endif
