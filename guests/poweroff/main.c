/*
 * poweroff: finds the ACPI tables the loader handed over
 * (hvm_start_info.rsdp_paddr -> RSDP -> XSDT or RSDT -> FADT -> DSDT),
 * prints what it found on COM1 and powers the machine off as an OS does:
 * SLP_TYP = \_S5's value with SLP_EN, written to the FADT's PM1a control
 * block. fbvm then exits with status 0, as QEMU does for its PIIX4 / ICH9 PM.
 *
 *     poweroff: RSDP at 0xe0000 revision 2 oem "FBVM  "
 *     poweroff: XSDT at 0xe00b0 lists FACP APIC
 *     poweroff: FACP revision 6 sci=9 PM1a_CNT=0x604
 *     poweroff: DSDT at 0xe0260 \_S5 SLP_TYP=0
 *     poweroff: writing 0x2000 (SLP_TYP=0 | SLP_EN) to port 0x604
 *
 * Statuses: none (exit 0 from the VMM) on success; 3 when the machine is
 * still running 100 ms after the request or a table is malformed; 5 when
 * there is no RSDP, FADT, PM1a control block or \_S5.
 */
#include "runtime/guest.h"

#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN        (1u << 13)
/* Busy-wait iterations after the request: each is an I/O exit (~µs). */
#define STILL_RUNNING_SPINS   100000

int main(void)
{
	struct acpi_info info;
	char list[ACPI_MAX_ROOT_ENTRIES * 5 + 1] = "";
	size_t used = 0;
	uint16_t value;
	int ret = acpi_find(&info);

	if (ret == -ENOENT && !info.rsdp) {
		serial_printf("poweroff: no RSDP (hvm_start_info.rsdp_paddr is 0)\n");
		return GUEST_EXIT_NO_DEVICE;
	}
	serial_printf("poweroff: RSDP at 0x%lx revision %u oem \"%s\"\n", info.rsdp,
		      info.rsdp_revision, info.oem_id);
	if (ret == -EINVAL) {
		serial_printf("poweroff: error: malformed ACPI table (signature, length or checksum)\n");
		return GUEST_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < info.root_entries; i++)
		used += (size_t)fmt_snprintf(list + used, sizeof(list) - used, " %s", info.root_sigs[i]);
	serial_printf("poweroff: %s at 0x%lx lists%s\n", info.xsdt ? "XSDT" : "RSDT", info.root, list);
	if (ret == -ENOENT) {
		serial_printf("poweroff: no FADT\n");
		return GUEST_EXIT_NO_DEVICE;
	}
	serial_printf("poweroff: FACP revision %u sci=%u PM1a_CNT=0x%x\n", info.fadt_revision,
		      info.sci_irq, info.pm1a_cnt_port);
	serial_printf("poweroff: DSDT at 0x%lx \\_S5 SLP_TYP=%d\n", info.dsdt, info.s5_slp_typ);
	if (!info.pm1a_cnt_port || info.s5_slp_typ < 0 || info.s5_slp_typ > 7) {
		serial_printf("poweroff: no PM1a control block or \\_S5: cannot power off\n");
		return GUEST_EXIT_NO_DEVICE;
	}
	/* As ACPICA: keep the other PM1a_CNT bits (SCI_EN), set SLP_TYP, then SLP_EN. */
	value = (uint16_t)((inw(info.pm1a_cnt_port) & ~(7u << PM1_CNT_SLP_TYP_SHIFT)) |
			   (unsigned int)info.s5_slp_typ << PM1_CNT_SLP_TYP_SHIFT);
	serial_printf("poweroff: writing 0x%x (SLP_TYP=%d | SLP_EN) to port 0x%x\n",
		      value | PM1_CNT_SLP_EN, info.s5_slp_typ, info.pm1a_cnt_port);
	outw(value, info.pm1a_cnt_port);
	outw((uint16_t)(value | PM1_CNT_SLP_EN), info.pm1a_cnt_port);
	for (int i = 0; i < STILL_RUNNING_SPINS; i++)
		(void)inb(0x80 + 1);
	serial_printf("poweroff: error: still running after the S5 request\n");
	return GUEST_EXIT_FAIL;
}
