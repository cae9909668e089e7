/*
 * A tiny ACPI table walker: from the RSDP the loader hands over
 * (hvm_start_info.rsdp_paddr) through the XSDT (or the RSDT, for a revision 0
 * RSDP as QEMU's PC machine gives) to the FADT, its PM1a control block and
 * the DSDT's \_S5 sleep type: what an OS needs to power the machine off.
 * Every table's signature, length and checksum is checked; tables must lie
 * in the identity-mapped first 4 GiB. ACPI 6.4 spec 5.2.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

#define ACPI_MAX_ROOT_ENTRIES 32

struct acpi_info {
	uint64_t rsdp;                 /* guest-physical addresses */
	uint8_t rsdp_revision;
	char oem_id[7];                /* the RSDP's, NUL-terminated */
	int xsdt;                      /* 1: the root table is the XSDT, 0: the RSDT */
	uint64_t root;
	unsigned int root_entries;
	char root_sigs[ACPI_MAX_ROOT_ENTRIES][5];  /* signatures the root table lists */
	uint64_t fadt;
	uint8_t fadt_revision;
	uint16_t sci_irq;
	uint16_t pm1a_cnt_port;        /* 0 when the FADT has none (hardware-reduced) */
	uint64_t dsdt;
	int s5_slp_typ;                /* \_S5's first element; -1 when the DSDT has no \_S5 */
};

/*
 * Fills *info from the tables the loader handed over. 0; -ENOENT when
 * rsdp_paddr is 0 or the root table lists no FADT; -EINVAL when a table is
 * malformed (bad signature, length or checksum, or outside 4 GiB).
 */
int acpi_find(struct acpi_info *info);

#endif
