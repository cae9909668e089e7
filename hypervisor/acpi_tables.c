#include "acpi_tables.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "loader_util.h"
#include "log.h"
#include "memmap.h"

#define ACPI_OEM_ID            "FBVM  "    /* 6 bytes */
#define ACPI_OEM_REVISION      1u
#define ACPI_CREATOR_ID        "FBVM"
#define ACPI_CREATOR_REVISION  1u
#define ACPI_RSDP_REVISION     2           /* ACPI 2.0+: XSDT address and length present */
#define ACPI_RSDT_REVISION     1
#define ACPI_XSDT_REVISION     1
#define ACPI_FADT_REVISION     6           /* ACPI 6.x layout, 276 bytes */
#define ACPI_FADT_MINOR        0
#define ACPI_MADT_REVISION     1           /* as QEMU's PC; Linux reads every revision */
#define ACPI_FACS_VERSION      2
#define ACPI_TABLE_ALIGN       16u
#define ACPI_FACS_ALIGN        64u         /* FACS must be 64-byte aligned (5.2.10) */

/* Header field offsets (5.2.6). */
#define HDR_LENGTH             4
#define HDR_REVISION           8
#define HDR_CHECKSUM           9
#define HDR_OEM_ID             10
#define HDR_OEM_TABLE_ID       16
#define HDR_OEM_REVISION       24
#define HDR_CREATOR_ID         28
#define HDR_CREATOR_REVISION   32

/* RSDP (5.2.5.3). */
#define RSDP_CHECKSUM          8
#define RSDP_OEM_ID            9
#define RSDP_REVISION          15
#define RSDP_RSDT_ADDRESS      16
#define RSDP_LENGTH            20
#define RSDP_XSDT_ADDRESS      24
#define RSDP_EXT_CHECKSUM      32

/* P_LVL2/3 latencies over 100/1000 us say C2/C3 are not supported. */
#define FADT_NO_C2_LATENCY     0x0FFF
#define FADT_NO_C3_LATENCY     0x0FFF

/* The tables that hang off the XSDT and RSDT. */
#define ACPI_ROOT_ENTRIES      2           /* FADT, MADT */

#define MADT_LAPIC_BYTES       8u
#define MADT_IOAPIC_BYTES      12u
#define MADT_ISO_BYTES         10u
#define MADT_LAPIC_NMI_BYTES   6u
#define MADT_ALL_PROCESSORS    0xFF
#define LAPIC_LINT1            1           /* NMI pin of every local APIC (QEMU's MADT) */

_Static_assert(MEMMAP_ACPI_END <= GiB(4), "the RSDT holds 32-bit addresses");

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

static void acpi_write_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision,
			      const char table_id[8])
{
	memcpy(t, sig, 4);
	wr32(t, HDR_LENGTH, len);
	wr8(t, HDR_REVISION, revision);
	memcpy(t + HDR_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, table_id, 8);
	wr32(t, HDR_OEM_REVISION, ACPI_OEM_REVISION);
	memcpy(t + HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	wr32(t, HDR_CREATOR_REVISION, ACPI_CREATOR_REVISION);
}

/* Sets the header checksum so the whole table sums to 0. */
static void acpi_seal(uint8_t *t)
{
	uint32_t len = rd32(t + HDR_LENGTH);

	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

static void acpi_write_gas_io(uint8_t *p, unsigned int off, uint8_t bits, uint8_t access,
			      uint16_t port)
{
	wr8(p, off, ACPI_GAS_SYSTEM_IO);
	wr8(p, off + 1, bits);
	wr8(p, off + 2, 0);         /* bit offset */
	wr8(p, off + 3, access);
	wr64(p, off + 4, port);
}

/*
 * Not hardware-reduced: a PC with a PM1a block at the ports the platform
 * names. SMI_CMD 0 means ACPI mode is always on (SCI_EN reads 1 from reset),
 * so the OS never needs an SMI handshake; the 32-bit and 64-bit (X_) block
 * fields agree, as ACPICA checks. IAPC_BOOT_ARCH says legacy devices and an
 * 8042 exist: Linux probes the i8042 only then (drivers/input/serio/
 * i8042-acpipnpio.h) since our DSDT lists no PNP0303. RESET_REG is 0xCF9
 * with 0x06, as QEMU sets it, so Linux's ACPI reboot hits the reset control
 * register (status 4).
 */
static void acpi_write_fadt(uint8_t *t, const struct acpi_platform *p, uint64_t facs,
			    uint64_t dsdt)
{
	acpi_write_header(t, "FACP", ACPI_FADT_BYTES, ACPI_FADT_REVISION, "FBVMFACP");
	wr32(t, FADT_FIRMWARE_CTRL, (uint32_t)facs);
	wr32(t, FADT_DSDT, (uint32_t)dsdt);
	wr16(t, FADT_SCI_INT, p->sci_irq);
	wr32(t, FADT_SMI_CMD, 0);
	wr32(t, FADT_PM1A_EVT_BLK, p->pm1a_evt_port);
	wr32(t, FADT_PM1A_CNT_BLK, p->pm1a_cnt_port);
	wr32(t, FADT_PM_TMR_BLK, p->pm_tmr_port);
	wr8(t, FADT_PM1_EVT_LEN, 4);
	wr8(t, FADT_PM1_CNT_LEN, 2);
	wr8(t, FADT_PM_TMR_LEN, 4);
	wr16(t, FADT_P_LVL2_LAT, FADT_NO_C2_LATENCY);
	wr16(t, FADT_P_LVL3_LAT, FADT_NO_C3_LATENCY);
	wr8(t, FADT_CENTURY, p->rtc_century_index);
	wr16(t, FADT_IAPC_BOOT_ARCH, FADT_BOOT_ARCH_LEGACY_DEVICES | FADT_BOOT_ARCH_8042);
	wr32(t, FADT_FLAGS, FADT_FLAG_WBINVD | FADT_FLAG_PROC_C1 | FADT_FLAG_PWR_BUTTON |
			    FADT_FLAG_SLP_BUTTON | FADT_FLAG_RESET_REG_SUP);
	acpi_write_gas_io(t, FADT_RESET_REG, 8, ACPI_GAS_ACCESS_BYTE, p->reset_port);
	wr8(t, FADT_RESET_VALUE, p->reset_value);
	wr8(t, FADT_MINOR_VERSION, ACPI_FADT_MINOR);
	/* X_FIRMWARE_CTRL stays 0: the spec allows only one of the two to be
	 * set (ACPI 6.4 table 5.9), and ACPICA installs the FACS twice when
	 * both are, as QEMU leaves it. */
	wr64(t, FADT_X_DSDT, dsdt);
	acpi_write_gas_io(t, FADT_X_PM1A_EVT_BLK, 32, ACPI_GAS_ACCESS_WORD, p->pm1a_evt_port);
	acpi_write_gas_io(t, FADT_X_PM1A_CNT_BLK, 16, ACPI_GAS_ACCESS_WORD, p->pm1a_cnt_port);
	acpi_write_gas_io(t, FADT_X_PM_TMR_BLK, 32, ACPI_GAS_ACCESS_DWORD, p->pm_tmr_port);
	acpi_seal(t);
}

static void acpi_write_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	wr32(t, 4, ACPI_FACS_BYTES);
	wr8(t, 32, ACPI_FACS_VERSION);
}

static uint32_t acpi_madt_bytes(const struct acpi_platform *p)
{
	return ACPI_HEADER_BYTES + 8 + p->cpus * MADT_LAPIC_BYTES + MADT_IOAPIC_BYTES +
	       MADT_ISO_BYTES + MADT_LAPIC_NMI_BYTES;
}

/*
 * One local APIC per vCPU (processor UID = APIC id = vCPU id), KVM's
 * in-kernel IOAPIC with GSI base 0, and the SCI's override to level,
 * active high, as QEMU declares it. No IRQ0 -> GSI2 override: QEMU routes
 * the PIT's GSI 0 to IOAPIC pin 2 (kvm_pc_setup_irq_routing) and says so,
 * but fbvm keeps KVM's default routing, where GSI n reaches IOAPIC pin n,
 * so the identity mapping is the true one (as kvmtool and Firecracker
 * declare it). Every local APIC's LINT1 is NMI, as on a PC.
 */
static void acpi_write_madt(uint8_t *t, const struct acpi_platform *p)
{
	uint32_t len = acpi_madt_bytes(p);
	unsigned int off = MADT_ENTRIES;

	acpi_write_header(t, "APIC", len, ACPI_MADT_REVISION, "FBVMAPIC");
	wr32(t, MADT_LOCAL_APIC_ADDR, p->lapic_gpa);
	wr32(t, MADT_FLAGS, MADT_FLAG_PCAT_COMPAT);
	for (unsigned int i = 0; i < p->cpus; i++) {
		wr8(t, off, MADT_TYPE_LOCAL_APIC);
		wr8(t, off + 1, MADT_LAPIC_BYTES);
		wr8(t, off + 2, (uint8_t)i);        /* ACPI processor UID */
		wr8(t, off + 3, (uint8_t)i);        /* APIC id */
		wr32(t, off + 4, MADT_LAPIC_ENABLED);
		off += MADT_LAPIC_BYTES;
	}
	wr8(t, off, MADT_TYPE_IO_APIC);
	wr8(t, off + 1, MADT_IOAPIC_BYTES);
	wr8(t, off + 2, p->ioapic_id);
	wr32(t, off + 4, p->ioapic_gpa);
	wr32(t, off + 8, 0);                        /* GSI base */
	off += MADT_IOAPIC_BYTES;
	wr8(t, off, MADT_TYPE_ISO);
	wr8(t, off + 1, MADT_ISO_BYTES);
	wr8(t, off + 2, 0);                         /* bus: ISA */
	wr8(t, off + 3, p->sci_irq);
	wr32(t, off + 4, p->sci_irq);
	wr16(t, off + 8, MADT_ISO_ACTIVE_HIGH_LEVEL);
	off += MADT_ISO_BYTES;
	wr8(t, off, MADT_TYPE_LAPIC_NMI);
	wr8(t, off + 1, MADT_LAPIC_NMI_BYTES);
	wr8(t, off + 2, MADT_ALL_PROCESSORS);
	wr16(t, off + 3, 0);                        /* flags: conforming to the bus */
	wr8(t, off + 5, LAPIC_LINT1);
	acpi_seal(t);
}

static void acpi_write_rsdp(uint8_t *t, uint64_t rsdt, uint64_t xsdt)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	wr8(t, RSDP_REVISION, ACPI_RSDP_REVISION);
	wr32(t, RSDP_RSDT_ADDRESS, (uint32_t)rsdt);
	wr32(t, RSDP_LENGTH, ACPI_RSDP_BYTES);
	wr64(t, RSDP_XSDT_ADDRESS, xsdt);
	t[RSDP_CHECKSUM] = (uint8_t)(0x100 - acpi_checksum(t, ACPI_RSDP_V1_BYTES));
	t[RSDP_EXT_CHECKSUM] = (uint8_t)(0x100 - acpi_checksum(t, ACPI_RSDP_BYTES));
}

static uint64_t align_up_u64(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

int acpi_tables_build(uint8_t *buf, size_t len, uint64_t base_gpa,
		      const struct acpi_platform *platform, struct acpi_layout *layout)
{
	const uint64_t rsdt_bytes = ACPI_HEADER_BYTES + ACPI_ROOT_ENTRIES * 4;
	const uint64_t xsdt_bytes = ACPI_HEADER_BYTES + ACPI_ROOT_ENTRIES * 8;
	size_t dsdt_bytes;
	const uint8_t *dsdt = acpi_dsdt_aml(&dsdt_bytes);
	struct acpi_layout l;
	uint8_t *t;

	if (!buf || !platform || !layout || platform->cpus == 0 ||
	    platform->cpus > ACPI_MAX_CPUS || base_gpa % ACPI_FACS_ALIGN != 0 ||
	    base_gpa >= GiB(4) || len > GiB(4) - base_gpa)
		return -EINVAL;
	/* RSDP first (16-byte aligned, where a scan of the BIOS area finds
	 * it), then the FACS on its 64-byte boundary, then the rest. */
	l.rsdp = base_gpa;
	l.facs = align_up_u64(l.rsdp + ACPI_RSDP_BYTES, ACPI_FACS_ALIGN);
	l.rsdt = align_up_u64(l.facs + ACPI_FACS_BYTES, ACPI_TABLE_ALIGN);
	l.xsdt = align_up_u64(l.rsdt + rsdt_bytes, ACPI_TABLE_ALIGN);
	l.fadt = align_up_u64(l.xsdt + xsdt_bytes, ACPI_TABLE_ALIGN);
	l.madt = align_up_u64(l.fadt + ACPI_FADT_BYTES, ACPI_TABLE_ALIGN);
	l.dsdt = align_up_u64(l.madt + acpi_madt_bytes(platform), ACPI_TABLE_ALIGN);
	l.end = l.dsdt + dsdt_bytes;
	if (l.end - base_gpa > len)
		return -ENOSPC;

	memset(buf, 0, len);
	memcpy(buf + (l.dsdt - base_gpa), dsdt, dsdt_bytes);
	acpi_write_facs(buf + (l.facs - base_gpa));
	acpi_write_fadt(buf + (l.fadt - base_gpa), platform, l.facs, l.dsdt);
	acpi_write_madt(buf + (l.madt - base_gpa), platform);

	t = buf + (l.rsdt - base_gpa);
	acpi_write_header(t, "RSDT", (uint32_t)rsdt_bytes, ACPI_RSDT_REVISION, "FBVMRSDT");
	wr32(t, ACPI_HEADER_BYTES, (uint32_t)l.fadt);
	wr32(t, ACPI_HEADER_BYTES + 4, (uint32_t)l.madt);
	acpi_seal(t);
	t = buf + (l.xsdt - base_gpa);
	acpi_write_header(t, "XSDT", (uint32_t)xsdt_bytes, ACPI_XSDT_REVISION, "FBVMXSDT");
	wr64(t, ACPI_HEADER_BYTES, l.fadt);
	wr64(t, ACPI_HEADER_BYTES + 8, l.madt);
	acpi_seal(t);

	acpi_write_rsdp(buf + (l.rsdp - base_gpa), l.rsdt, l.xsdt);
	*layout = l;
	return 0;
}

int acpi_tables_write(const struct guest_mem *mem, const struct acpi_platform *platform,
		      struct acpi_layout *layout)
{
	const uint64_t bytes = MEMMAP_ACPI_END - MEMMAP_ACPI_BASE;
	uint8_t *area = guest_mem_ram_write_begin(mem, MEMMAP_ACPI_BASE, bytes);
	int ret;

	if (!area)  /* guest RAM is at least MEMMAP_RAM_MIN */
		return -ENOSPC;
	ret = acpi_tables_build(area, bytes, MEMMAP_ACPI_BASE, platform, layout);
	guest_mem_write_end(mem, MEMMAP_ACPI_BASE, bytes);
	if (ret == 0)
		log_debug("acpi", "tables rsdp=0x%" PRIx64 " xsdt=0x%" PRIx64 " fadt=0x%" PRIx64
			  " madt=0x%" PRIx64 " dsdt=0x%" PRIx64 " end=0x%" PRIx64, layout->rsdp,
			  layout->xsdt, layout->fadt, layout->madt, layout->dsdt, layout->end);
	return ret;
}
