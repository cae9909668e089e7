#include "acpi.h"

#include "guest.h"

#define ACPI_HEADER_BYTES     36u
#define ACPI_MAX_TABLE_BYTES  0x100000u   /* sanity bound: our tables are < 1 KiB */
#define ACPI_ADDR_LIMIT       0x100000000ull  /* the runtime identity-maps 4 GiB */

/* RSDP (5.2.5.3) and FADT (5.2.9) offsets. */
#define RSDP_REVISION         15
#define RSDP_RSDT             16
#define RSDP_LENGTH           20
#define RSDP_XSDT             24
#define RSDP_V1_BYTES         20u
#define RSDP_V2_BYTES         36u
#define FADT_DSDT             40
#define FADT_SCI_INT          46
#define FADT_PM1A_CNT_BLK     64
#define FADT_X_DSDT           140
#define FADT_X_PM1A_CNT_BLK   172    /* GAS: space id, width, offset, access, u64 address */
#define GAS_SYSTEM_IO         1

/* AML opcodes (ACPI 6.4 20.2) met while reading \_S5's package. */
#define AML_ZERO_OP           0x00
#define AML_ONE_OP            0x01
#define AML_BYTE_PREFIX       0x0A
#define AML_PACKAGE_OP        0x12

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int acpi_sum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static int acpi_in_range(uint64_t addr, uint64_t len)
{
	return addr != 0 && len <= ACPI_ADDR_LIMIT && addr <= ACPI_ADDR_LIMIT - len;
}

/* The table at addr when its signature is sig (NULL: any), its length sane and its checksum right. */
static const uint8_t *acpi_table(uint64_t addr, const char *sig, uint32_t *len)
{
	const uint8_t *t;

	if (!acpi_in_range(addr, ACPI_HEADER_BYTES))
		return 0;
	t = (const uint8_t *)(uintptr_t)addr;
	*len = rd32(t + 4);
	if ((sig && memcmp(t, sig, 4) != 0) || *len < ACPI_HEADER_BYTES ||
	    *len > ACPI_MAX_TABLE_BYTES || !acpi_in_range(addr, *len) || !acpi_sum_ok(t, *len))
		return 0;
	return t;
}

/* \_S5's SLP_TYPa: the first element of the package named _S5_ (a plain
 * byte scan, as small OSes do: Name(_S5, Package(){...}) compiles to
 * NameOp "_S5_" PackageOp PkgLength NumElements elements). */
static int acpi_find_s5(const uint8_t *dsdt, uint32_t len)
{
	for (uint32_t i = ACPI_HEADER_BYTES; i + 8 < len; i++) {
		const uint8_t *p = dsdt + i;
		uint32_t pkg_len_bytes;

		if (memcmp(p, "_S5_", 4) != 0 || p[4] != AML_PACKAGE_OP)
			continue;
		pkg_len_bytes = 1u + (p[5] >> 6);
		if (i + 5 + pkg_len_bytes + 2 >= len)
			return -1;
		p += 5 + pkg_len_bytes + 1;  /* past PkgLength and NumElements */
		switch (p[0]) {
		case AML_ZERO_OP:
			return 0;
		case AML_ONE_OP:
			return 1;
		case AML_BYTE_PREFIX:
			return p[1];
		default:
			return -1;
		}
	}
	return -1;
}

static int acpi_read_fadt(struct acpi_info *info)
{
	uint32_t len, dsdt_len;
	const uint8_t *fadt = acpi_table(info->fadt, "FACP", &len);
	const uint8_t *dsdt;

	if (!fadt || len < FADT_PM1A_CNT_BLK + 4)
		return -EINVAL;
	info->fadt_revision = fadt[8];
	info->sci_irq = rd16(fadt + FADT_SCI_INT);
	info->pm1a_cnt_port = (uint16_t)rd32(fadt + FADT_PM1A_CNT_BLK);
	if (len >= FADT_X_PM1A_CNT_BLK + 12 && fadt[FADT_X_PM1A_CNT_BLK] == GAS_SYSTEM_IO &&
	    rd64(fadt + FADT_X_PM1A_CNT_BLK + 4))
		info->pm1a_cnt_port = (uint16_t)rd64(fadt + FADT_X_PM1A_CNT_BLK + 4);
	info->dsdt = rd32(fadt + FADT_DSDT);
	if (len >= FADT_X_DSDT + 8 && rd64(fadt + FADT_X_DSDT))
		info->dsdt = rd64(fadt + FADT_X_DSDT);
	dsdt = acpi_table(info->dsdt, "DSDT", &dsdt_len);
	if (!dsdt)
		return -EINVAL;
	info->s5_slp_typ = acpi_find_s5(dsdt, dsdt_len);
	return 0;
}

int acpi_find(struct acpi_info *info)
{
	const struct hvm_start_info *si = boot_start_info();
	const uint8_t *rsdp, *root;
	uint32_t root_len, entry_bytes;

	memset(info, 0, sizeof(*info));
	info->s5_slp_typ = -1;
	info->rsdp = si->rsdp_paddr;
	if (!info->rsdp)
		return -ENOENT;
	if (!acpi_in_range(info->rsdp, RSDP_V2_BYTES))
		return -EINVAL;
	rsdp = (const uint8_t *)(uintptr_t)info->rsdp;
	if (memcmp(rsdp, "RSD PTR ", 8) != 0 || !acpi_sum_ok(rsdp, RSDP_V1_BYTES))
		return -EINVAL;
	info->rsdp_revision = rsdp[RSDP_REVISION];
	memcpy(info->oem_id, rsdp + 9, 6);
	if (info->rsdp_revision >= 2 && rd32(rsdp + RSDP_LENGTH) >= RSDP_V2_BYTES &&
	    acpi_sum_ok(rsdp, RSDP_V2_BYTES) && rd64(rsdp + RSDP_XSDT)) {
		info->xsdt = 1;
		info->root = rd64(rsdp + RSDP_XSDT);
	} else {
		info->root = rd32(rsdp + RSDP_RSDT);
	}
	root = acpi_table(info->root, info->xsdt ? "XSDT" : "RSDT", &root_len);
	if (!root)
		return -EINVAL;
	entry_bytes = info->xsdt ? 8 : 4;
	for (uint32_t off = ACPI_HEADER_BYTES; off + entry_bytes <= root_len; off += entry_bytes) {
		uint64_t addr = info->xsdt ? rd64(root + off) : rd32(root + off);
		uint32_t len;
		const uint8_t *t = acpi_table(addr, 0, &len);

		if (!t)
			return -EINVAL;
		if (info->root_entries < ACPI_MAX_ROOT_ENTRIES) {
			memcpy(info->root_sigs[info->root_entries], t, 4);
			info->root_sigs[info->root_entries][4] = '\0';
			info->root_entries++;
		}
		if (!info->fadt && memcmp(t, "FACP", 4) == 0)
			info->fadt = addr;
	}
	if (!info->fadt)
		return -ENOENT;
	return acpi_read_fadt(info);
}
