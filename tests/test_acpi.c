/* Unit tests for hypervisor/acpi_tables.c: the tables are parsed back as a
 * guest OS would (RSDP -> XSDT/RSDT -> FADT, MADT, FACS, DSDT), checking
 * signatures, lengths, checksums and the fields Linux relies on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "hypervisor/acpi_tables.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/memmap.h"

#define T_BASE   0xE0000ull
#define T_BYTES  0x20000u

static uint64_t le(const uint8_t *p, unsigned int width)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static struct acpi_platform platform(unsigned int cpus)
{
	return (struct acpi_platform){
		.cpus = cpus,
		.lapic_gpa = 0xFEE00000u,
		.ioapic_gpa = 0xFEC00000u,
		.ioapic_id = 0,
		.sci_irq = ACPI_PM_SCI_IRQ,
		.pm1a_evt_port = ACPI_PM1A_EVT_PORT,
		.pm1a_cnt_port = ACPI_PM1A_CNT_PORT,
		.pm_tmr_port = ACPI_PM_TMR_PORT,
		.reset_port = 0xCF9,
		.reset_value = 0x06,
		.rtc_century_index = 0x32,
	};
}

struct fixture {
	uint8_t *buf;
	struct acpi_layout layout;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct acpi_platform p = platform(1);

	assert_non_null(f);
	f->buf = malloc(T_BYTES);
	assert_non_null(f->buf);
	assert_int_equal(acpi_tables_build(f->buf, T_BYTES, T_BASE, &p, &f->layout), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->buf);
	free(f);
	return 0;
}

/* The bytes at guest address gpa, len of them, inside the buffer. */
static const uint8_t *at(const struct fixture *f, uint64_t gpa, uint64_t len)
{
	assert_true(gpa >= T_BASE && len <= T_BYTES && gpa - T_BASE <= T_BYTES - len);
	return f->buf + (gpa - T_BASE);
}

/* A table with signature sig at gpa: its length, after checking its checksum. */
static const uint8_t *table(const struct fixture *f, uint64_t gpa, const char *sig,
			    uint32_t *len)
{
	const uint8_t *t = at(f, gpa, ACPI_HEADER_BYTES);

	assert_memory_equal(t, sig, 4);
	*len = (uint32_t)le(t + 4, 4);
	t = at(f, gpa, *len);
	assert_int_equal(acpi_checksum(t, *len), 0);
	assert_memory_equal(t + 10, "FBVM  ", 6);
	return t;
}

static void test_acpi_rsdp_is_revision_2_with_both_checksums(void **state)
{
	struct fixture *f = *state;
	const uint8_t *r = at(f, f->layout.rsdp, ACPI_RSDP_BYTES);

	assert_int_equal(f->layout.rsdp, MEMMAP_ACPI_BASE);
	assert_int_equal(f->layout.rsdp % 16, 0);  /* Linux scans 16-byte boundaries */
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(r, 20), 0);
	assert_int_equal(acpi_checksum(r, 36), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(le(r + 16, 4), f->layout.rsdt);
	assert_int_equal(le(r + 20, 4), 36);
	assert_int_equal(le(r + 24, 8), f->layout.xsdt);
}

static void test_acpi_xsdt_and_rsdt_list_fadt_and_madt(void **state)
{
	struct fixture *f = *state;
	uint32_t len;
	const uint8_t *x = table(f, f->layout.xsdt, "XSDT", &len);

	assert_int_equal(len, ACPI_HEADER_BYTES + 16);
	assert_int_equal(le(x + 36, 8), f->layout.fadt);
	assert_int_equal(le(x + 44, 8), f->layout.madt);
	x = table(f, f->layout.rsdt, "RSDT", &len);
	assert_int_equal(len, ACPI_HEADER_BYTES + 8);
	assert_int_equal(le(x + 36, 4), f->layout.fadt);
	assert_int_equal(le(x + 40, 4), f->layout.madt);
}

static void expect_gas_io(const uint8_t *g, unsigned int bits, uint64_t port)
{
	assert_int_equal(g[0], ACPI_GAS_SYSTEM_IO);
	assert_int_equal(g[1], bits);
	assert_int_equal(g[2], 0);
	assert_int_equal(le(g + 4, 8), port);
}

static void test_acpi_fadt_describes_the_pm_block_and_reset_register(void **state)
{
	struct fixture *f = *state;
	uint32_t len, flags;
	const uint8_t *t = table(f, f->layout.fadt, "FACP", &len);

	assert_int_equal(len, ACPI_FADT_BYTES);
	assert_int_equal(t[8], 6);
	flags = (uint32_t)le(t + FADT_FLAGS, 4);
	assert_int_equal(flags & FADT_FLAG_HW_REDUCED, 0);
	/* The timer is 24 bits, as the device implements it. */
	assert_int_equal(flags & FADT_FLAG_TMR_VAL_EXT, 0);
	assert_int_equal(ACPI_PM_TIMER_MASK, 0xFFFFFF);
	assert_int_not_equal(flags & FADT_FLAG_RESET_REG_SUP, 0);
	assert_int_equal(le(t + FADT_SCI_INT, 2), 9);
	assert_int_equal(le(t + FADT_SMI_CMD, 4), 0);  /* always in ACPI mode */
	assert_int_equal(le(t + FADT_PM1A_EVT_BLK, 4), 0x600);
	assert_int_equal(le(t + FADT_PM1A_CNT_BLK, 4), 0x604);
	assert_int_equal(le(t + FADT_PM_TMR_BLK, 4), 0x608);
	assert_int_equal(t[FADT_PM1_EVT_LEN], 4);
	assert_int_equal(t[FADT_PM1_CNT_LEN], 2);
	assert_int_equal(t[FADT_PM_TMR_LEN], 4);
	/* The 64-bit blocks agree with the 32-bit ones (ACPICA warns otherwise). */
	expect_gas_io(t + FADT_X_PM1A_EVT_BLK, 32, 0x600);
	expect_gas_io(t + FADT_X_PM1A_CNT_BLK, 16, 0x604);
	expect_gas_io(t + FADT_X_PM_TMR_BLK, 32, 0x608);
	expect_gas_io(t + FADT_RESET_REG, 8, 0xCF9);
	assert_int_equal(t[FADT_RESET_VALUE], 0x06);
	/* Linux probes the i8042 only when the FADT says it exists. */
	assert_int_equal(le(t + FADT_IAPC_BOOT_ARCH, 2) & FADT_BOOT_ARCH_8042, FADT_BOOT_ARCH_8042);
	assert_int_equal(t[FADT_CENTURY], 0x32);
	assert_int_equal(le(t + FADT_DSDT, 4), f->layout.dsdt);
	assert_int_equal(le(t + FADT_X_DSDT, 8), f->layout.dsdt);
	assert_int_equal(le(t + FADT_FIRMWARE_CTRL, 4), f->layout.facs);
	assert_int_equal(le(t + FADT_X_FIRMWARE_CTRL, 8), 0);  /* only one may be set */
}

static void test_acpi_facs_is_64_byte_aligned(void **state)
{
	struct fixture *f = *state;
	const uint8_t *t = at(f, f->layout.facs, ACPI_FACS_BYTES);

	assert_int_equal(f->layout.facs % 64, 0);
	assert_memory_equal(t, "FACS", 4);
	assert_int_equal(le(t + 4, 4), ACPI_FACS_BYTES);
}

/* Walks the MADT entries, checking they tile the table exactly. */
static void test_acpi_madt_matches_the_irqchip(void **state)
{
	struct fixture *f = *state;
	uint32_t len, off = MADT_ENTRIES;
	unsigned int lapics = 0, ioapics = 0, sci_isos = 0, nmis = 0;
	const uint8_t *t = table(f, f->layout.madt, "APIC", &len);

	assert_int_equal(le(t + MADT_LOCAL_APIC_ADDR, 4), 0xFEE00000u);
	assert_int_equal(le(t + MADT_FLAGS, 4), MADT_FLAG_PCAT_COMPAT);
	while (off < len) {
		const uint8_t *e = t + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case MADT_TYPE_LOCAL_APIC:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics);  /* APIC id = vCPU id */
			assert_int_equal(le(e + 4, 4), 1);
			lapics++;
			break;
		case MADT_TYPE_IO_APIC:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], 0);
			assert_int_equal(le(e + 4, 4), 0xFEC00000u);
			assert_int_equal(le(e + 8, 4), 0);
			ioapics++;
			break;
		case MADT_TYPE_ISO:
			assert_int_equal(e[1], 10);
			/* KVM's default routing sends GSI n to IOAPIC pin n: no
			 * IRQ0 -> GSI2 override may be declared. */
			assert_int_equal(e[3], 9);
			assert_int_equal(le(e + 4, 4), 9);
			assert_int_equal(le(e + 8, 2), MADT_ISO_ACTIVE_HIGH_LEVEL);
			sci_isos++;
			break;
		case MADT_TYPE_LAPIC_NMI:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(sci_isos, 1);
	assert_int_equal(nmis, 1);
}

static void test_acpi_madt_has_one_local_apic_per_cpu(void **state)
{
	struct acpi_platform p = platform(4);
	struct acpi_layout l;
	uint8_t *buf = malloc(T_BYTES);
	const uint8_t *t;
	unsigned int lapics = 0;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(acpi_tables_build(buf, T_BYTES, T_BASE, &p, &l), 0);
	t = buf + (l.madt - T_BASE);
	assert_int_equal(acpi_checksum(t, (uint32_t)le(t + 4, 4)), 0);
	for (uint32_t off = MADT_ENTRIES; off < le(t + 4, 4); off += t[off + 1])
		if (t[off] == MADT_TYPE_LOCAL_APIC)
			assert_int_equal(t[off + 3], lapics++);
	assert_int_equal(lapics, 4);
	free(buf);
}

/* \_S5's first element, read as the bundled poweroff guest reads it. */
static int dsdt_s5(const uint8_t *t, uint32_t len)
{
	for (uint32_t i = ACPI_HEADER_BYTES; i + 8 < len; i++) {
		const uint8_t *p = t + i;

		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		p += 5 + 1 + (p[5] >> 6) + 1;
		return p[0] == 0x0A ? p[1] : p[0] <= 1 ? p[0] : -1;
	}
	return -1;
}

static bool contains(const uint8_t *t, uint32_t len, const void *needle, size_t n)
{
	for (uint32_t i = 0; i + n <= len; i++)
		if (memcmp(t + i, needle, n) == 0)
			return true;
	return false;
}

static void test_acpi_dsdt_has_s5_matching_the_pm_device_and_pci_root(void **state)
{
	struct fixture *f = *state;
	uint32_t len;
	const uint8_t *t = table(f, f->layout.dsdt, "DSDT", &len);
	/* EisaId("PNP0A03") as AML encodes it: DWordPrefix 0x0C, 0x030AD041. */
	static const uint8_t pnp0a03[] = { 0x0C, 0x41, 0xD0, 0x0A, 0x03 };

	assert_int_equal(dsdt_s5(t, len), ACPI_PM_SLP_TYP_S5);
	assert_true(contains(t, len, "PCI0", 4));
	assert_true(contains(t, len, pnp0a03, sizeof(pnp0a03)));
	/* No other sleep state is offered: fbvm has none. */
	assert_false(contains(t, len, "_S3_", 4));
	assert_false(contains(t, len, "_S4_", 4));
	assert_int_equal(f->layout.end, f->layout.dsdt + len);
}

static void test_acpi_tables_do_not_overlap(void **state)
{
	struct fixture *f = *state;
	const struct acpi_layout *l = &f->layout;

	assert_true(l->rsdp + ACPI_RSDP_BYTES <= l->facs);
	assert_true(l->facs + ACPI_FACS_BYTES <= l->rsdt);
	assert_true(l->rsdt + ACPI_HEADER_BYTES + 8 <= l->xsdt);
	assert_true(l->xsdt + ACPI_HEADER_BYTES + 16 <= l->fadt);
	assert_true(l->fadt + ACPI_FADT_BYTES <= l->madt);
	assert_true(l->madt < l->dsdt && l->dsdt < l->end);
	assert_true(l->end <= MEMMAP_ACPI_END);
}

static void test_acpi_build_refuses_bad_requests(void **state)
{
	struct acpi_platform p = platform(1);
	struct acpi_layout l;
	uint8_t *buf = malloc(T_BYTES);

	(void)state;
	assert_non_null(buf);
	p.cpus = 0;
	assert_int_equal(acpi_tables_build(buf, T_BYTES, T_BASE, &p, &l), -EINVAL);
	p.cpus = ACPI_MAX_CPUS + 1;
	assert_int_equal(acpi_tables_build(buf, T_BYTES, T_BASE, &p, &l), -EINVAL);
	p.cpus = 1;
	assert_int_equal(acpi_tables_build(buf, T_BYTES, T_BASE + 16, &p, &l), -EINVAL);
	assert_int_equal(acpi_tables_build(buf, T_BYTES, 0x100000000ull, &p, &l), -EINVAL);
	assert_int_equal(acpi_tables_build(buf, 256, T_BASE, &p, &l), -ENOSPC);
	free(buf);
}

static void test_acpi_write_puts_rsdp_in_guest_ram_bios_area(void **state)
{
	struct guest_mem mem;
	struct acpi_platform p = platform(1);
	struct acpi_layout l;
	const uint8_t *r;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, MiB(16)), 0);
	assert_int_equal(acpi_tables_write(&mem, &p, &l), 0);
	assert_int_equal(l.rsdp, 0xE0000);
	r = guest_mem_ptr(&mem, l.rsdp, ACPI_RSDP_BYTES);
	assert_non_null(r);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(r, ACPI_RSDP_BYTES), 0);
	r = guest_mem_ptr(&mem, l.fadt, ACPI_FADT_BYTES);
	assert_non_null(r);
	assert_int_equal(acpi_checksum(r, ACPI_FADT_BYTES), 0);
	guest_mem_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_acpi_rsdp_is_revision_2_with_both_checksums),
		T(test_acpi_xsdt_and_rsdt_list_fadt_and_madt),
		T(test_acpi_fadt_describes_the_pm_block_and_reset_register),
		T(test_acpi_facs_is_64_byte_aligned),
		T(test_acpi_madt_matches_the_irqchip),
		T(test_acpi_dsdt_has_s5_matching_the_pm_device_and_pci_root),
		T(test_acpi_tables_do_not_overlap),
#undef T
		cmocka_unit_test(test_acpi_madt_has_one_local_apic_per_cpu),
		cmocka_unit_test(test_acpi_build_refuses_bad_requests),
		cmocka_unit_test(test_acpi_write_puts_rsdp_in_guest_ram_bios_area),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
