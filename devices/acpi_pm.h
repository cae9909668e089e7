/*
 * ACPI fixed-hardware power management block, the part of QEMU's PIIX4 /
 * ICH9 PM (hw/acpi/core.c) an OS uses to power off, at QEMU's addresses
 * (PM base 0x600, as SeaBIOS programs PIIX4 and QEMU's ICH9 LPC has it):
 *
 *   0x600  PM1a_STS  16 bits, write 1 to clear: TMR_STS (bit 0), WAK_STS (15)
 *   0x602  PM1a_EN   16 bits, read/write: every bit is kept, as in QEMU
 *                    (ACPICA checks that GBL_EN sticks); fbvm itself only
 *                    ever sets TMR_STS and WAK_STS (no buttons, no RTC
 *                    alarm, no firmware sharing the global lock)
 *   0x604  PM1a_CNT  16 bits: SCI_EN (0, reads 1 from reset: no SMI
 *                    handshake), SLP_TYP (10-12), SLP_EN (13) and GBL_RLS
 *                    (2) write-only; the rest is kept as written
 *   0x608  PM_TMR    24-bit counter at 3.579545 MHz, read-only
 *
 * Any access of 1 to 4 bytes inside the block is served byte by byte, so a
 * byte write to PM1a_CNT's high half works as a 16-bit one (QEMU widens it).
 *
 * Writing SLP_EN with SLP_TYP = ACPI_PM_SLP_TYP_S5 (the DSDT's \_S5)
 * powers the VM off: fbvm ends with status 0 and logs "acpi: guest
 * requested S5 power off". fbvm has no other sleep state: other SLP_TYPs
 * are counted, logged (rate-limited) and answered with WAK_STS set, as if
 * the guest woke at once, so an OS that polls WAK_STS after a sleep
 * request (ACPICA does) continues instead of spinning.
 *
 * PM timer: host CLOCK_MONOTONIC scaled to 3.579545 MHz, 0 at reset, 24
 * bits (the FADT leaves TMR_VAL_EXT clear, as QEMU). TMR_STS is set when
 * bit 23 changed since it was last cleared, computed on each access of the
 * block: nothing times an interrupt, so with TMR_EN set the SCI rises at the
 * guest's next access, not at the overflow itself (Linux never sets TMR_EN;
 * it reads the timer as a clocksource).
 *
 * SCI (ISA IRQ 9, level, active high, as the MADT says): raised while
 * SCI_EN and (PM1a_STS & PM1a_EN) have a bit in common.
 *
 * Threads: reached from vCPU threads; one mutex guards the state.
 */
#ifndef FBVM_ACPI_PM_H
#define FBVM_ACPI_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hypervisor/irq.h"

struct bus;

#define ACPI_PM_BASE          0x600
#define ACPI_PM_BYTES         12
#define ACPI_PM1A_EVT_PORT    (ACPI_PM_BASE + 0x0)   /* status, then enable at +2 */
#define ACPI_PM1A_CNT_PORT    (ACPI_PM_BASE + 0x4)
#define ACPI_PM_TMR_PORT      (ACPI_PM_BASE + 0x8)
#define ACPI_PM_SCI_IRQ       9

#define ACPI_PM1_STS_TMR      (1u << 0)
#define ACPI_PM1_STS_WAK      (1u << 15)
#define ACPI_PM1_EN_TMR       (1u << 0)
#define ACPI_PM1_CNT_SCI_EN   (1u << 0)
#define ACPI_PM1_CNT_GBL_RLS  (1u << 2)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN   (1u << 13)

/* \_S5's SLP_TYP in hypervisor/acpi_dsdt.asl; QEMU's soft-off value. */
#define ACPI_PM_SLP_TYP_S5    0

#define ACPI_PM_TIMER_HZ      3579545u
#define ACPI_PM_TIMER_MASK    0xFFFFFFu  /* 24 bits */

/* Monotonic time in nanoseconds. */
typedef uint64_t (*acpi_pm_clock_fn)(void *ctx);

struct acpi_pm {
	pthread_mutex_t lock;
	struct irq_line sci;
	uint16_t sts;              /* PM1a_STS */
	uint16_t en;               /* PM1a_EN */
	uint16_t cnt;              /* PM1a_CNT as it reads (SLP_EN never stored) */
	uint64_t timer_zero_ns;    /* clock value at which the timer read 0 */
	uint32_t timer_epoch;      /* timer bit 23 and above when TMR_STS was last set or reset */
	bool sci_level;
	acpi_pm_clock_fn clock;
	void *clock_ctx;
	/* Counters for --stats. */
	uint64_t reads;
	uint64_t writes;
	uint64_t poweroffs;        /* S5 requests */
	uint64_t sleeps_ignored;   /* SLP_EN with another SLP_TYP */
	uint64_t ignored_writes;   /* bytes written to the read-only timer or to 0x606-0x607 */
};

/* Resets the block and claims ACPI_PM_BASE..+ACPI_PM_BYTES (accesses of 1-4
 * bytes). 0 or a negative errno, with nothing registered. */
int acpi_pm_init(struct acpi_pm *pm, struct bus *bus, struct irq_line sci);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Power-on state: STS 0, EN 0, CNT = SCI_EN, timer 0, SCI low. */
void acpi_pm_reset(struct acpi_pm *pm);

/* Replaces the host clock (tests) and resets the timer to 0. NULL restores
 * CLOCK_MONOTONIC. */
void acpi_pm_set_clock(struct acpi_pm *pm, acpi_pm_clock_fn clock, void *ctx);

void acpi_pm_print_stats(struct acpi_pm *pm, FILE *out);

#endif
