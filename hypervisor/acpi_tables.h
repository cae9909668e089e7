/*
 * The ACPI tables fbvm gives a guest instead of firmware: RSDP (revision 2)
 * -> XSDT and RSDT -> FADT (-> FACS, DSDT) and MADT, laid out in the BIOS
 * area at MEMMAP_ACPI_BASE, which every memory map given to a guest marks
 * reserved. They describe the board machine.c assembles: the ACPI PM block
 * (devices/acpi_pm.c) for power off, the 0xCF9 reset register, the
 * in-kernel irqchip, and the PCI host in the DSDT (hypervisor/acpi_dsdt.asl).
 *
 * Why these tables: Linux powers a PC off only through ACPI (the FADT's
 * PM1a control block and the DSDT's \_S5), and with ACPI on it takes
 * interrupt routing from the MADT and PCI buses from the DSDT, so all must
 * be there and agree with the hardware. Sources: ACPI 6.4 spec (5.2.5 RSDP,
 * 5.2.7-8 RSDT/XSDT, 5.2.9 FADT, 5.2.10 FACS, 5.2.12 MADT); QEMU's
 * hw/i386/acpi-build.c and hw/acpi/aml-build.c for what a PC presents.
 */
#ifndef FBVM_ACPI_TABLES_H
#define FBVM_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

/* Common table header (ACPI 6.4 5.2.6). */
#define ACPI_HEADER_BYTES      36u
#define ACPI_RSDP_BYTES        36u   /* revision 2 */
#define ACPI_RSDP_V1_BYTES     20u   /* what the first checksum covers */
#define ACPI_FADT_BYTES        276u  /* revision 6 */
#define ACPI_FACS_BYTES        64u

/* FADT field offsets (ACPI 6.4 table 5.9). */
#define FADT_FIRMWARE_CTRL     36
#define FADT_DSDT              40
#define FADT_SCI_INT           46
#define FADT_SMI_CMD           48
#define FADT_PM1A_EVT_BLK      56
#define FADT_PM1A_CNT_BLK      64
#define FADT_PM_TMR_BLK        76
#define FADT_PM1_EVT_LEN       88
#define FADT_PM1_CNT_LEN       89
#define FADT_PM_TMR_LEN        91
#define FADT_P_LVL2_LAT        96
#define FADT_P_LVL3_LAT        98
#define FADT_CENTURY           108
#define FADT_IAPC_BOOT_ARCH    109
#define FADT_FLAGS             112
#define FADT_RESET_REG         116
#define FADT_RESET_VALUE       128
#define FADT_MINOR_VERSION     131
#define FADT_X_FIRMWARE_CTRL   132
#define FADT_X_DSDT            140
#define FADT_X_PM1A_EVT_BLK    148
#define FADT_X_PM1A_CNT_BLK    172
#define FADT_X_PM_TMR_BLK      208

#define FADT_FLAG_WBINVD        (1u << 0)
#define FADT_FLAG_PROC_C1       (1u << 2)
#define FADT_FLAG_PWR_BUTTON    (1u << 4)   /* set: no fixed-feature power button */
#define FADT_FLAG_SLP_BUTTON    (1u << 5)   /* set: no fixed-feature sleep button */
#define FADT_FLAG_TMR_VAL_EXT   (1u << 8)   /* set: 32-bit PM timer; clear: 24-bit */
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_FLAG_HW_REDUCED    (1u << 20)
#define FADT_BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_ARCH_8042     (1u << 1)

/* Generic Address Structure (5.2.3.2): 12 bytes. */
#define ACPI_GAS_SYSTEM_IO     1
#define ACPI_GAS_ACCESS_BYTE   1
#define ACPI_GAS_ACCESS_WORD   2
#define ACPI_GAS_ACCESS_DWORD  3

/* MADT (5.2.12): entry types and flags. */
#define MADT_LOCAL_APIC_ADDR   36
#define MADT_FLAGS             40
#define MADT_ENTRIES           44
#define MADT_FLAG_PCAT_COMPAT  (1u << 0)   /* dual 8259 PICs present */
#define MADT_TYPE_LOCAL_APIC   0
#define MADT_TYPE_IO_APIC      1
#define MADT_TYPE_ISO          2           /* interrupt source override */
#define MADT_TYPE_LAPIC_NMI    4
#define MADT_LAPIC_ENABLED     1u
/* MPS INTI flags: polarity bits 0-1 (1 = active high), trigger bits 2-3
 * (3 = level). */
#define MADT_ISO_ACTIVE_HIGH_LEVEL 0x000Du

/* What the tables describe; machine.c fills it from the devices it wires. */
struct acpi_platform {
	unsigned int cpus;          /* local APICs, ids 0..cpus-1 (KVM's vCPU ids) */
	uint32_t lapic_gpa;
	uint32_t ioapic_gpa;
	uint8_t ioapic_id;          /* KVM's in-kernel IOAPIC resets to id 0 */
	uint8_t sci_irq;            /* ISA IRQ = GSI of the SCI, level, active high */
	uint16_t pm1a_evt_port;     /* PM1a status + enable, pm1_evt_len bytes */
	uint16_t pm1a_cnt_port;     /* PM1a control, 2 bytes */
	uint16_t pm_tmr_port;       /* PM timer, 4 bytes, 24 bits */
	uint16_t reset_port;        /* RESET_REG: a byte port */
	uint8_t reset_value;
	uint8_t rtc_century_index;  /* CMOS index of the century byte */
};

/* Where each table landed (guest-physical), for logs and tests. */
struct acpi_layout {
	uint64_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
	uint64_t end;               /* first byte after the last table */
};

/*
 * Builds every table into buf (len bytes), which the guest will see at
 * base_gpa (16-byte aligned, below 4 GiB so the RSDT can point at it too),
 * computing each checksum. 0 and *layout filled, -EINVAL for a bad platform
 * (no CPU, more than ACPI_MAX_CPUS, unaligned base) or -ENOSPC when len is
 * too small. buf is zeroed first.
 */
#define ACPI_MAX_CPUS 255
int acpi_tables_build(uint8_t *buf, size_t len, uint64_t base_gpa,
		      const struct acpi_platform *platform, struct acpi_layout *layout);

/*
 * acpi_tables_build() into guest RAM at [MEMMAP_ACPI_BASE, MEMMAP_ACPI_END),
 * through a write span of guest_mem.h (so the pages are marked written).
 * 0 or a negative errno.
 */
int acpi_tables_write(const struct guest_mem *mem, const struct acpi_platform *platform,
		      struct acpi_layout *layout);

/* The sum of len bytes, mod 256: 0 for a table with a correct checksum. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

/* The compiled DSDT (hypervisor/acpi_dsdt.asl), with iasl's checksum. */
const uint8_t *acpi_dsdt_aml(size_t *len);

#endif
