/*
 * fbvm's DSDT: the ACPI namespace a guest's OS sees (ACPI 6.4 spec, ch. 5-6;
 * compiled by Debian's acpica-tools iasl at build time and embedded by
 * hypervisor/acpi_dsdt.c). Only what the board has:
 *
 * - \_S5: the sleep type that means soft-off. Linux's poweroff evaluates it
 *   and writes SLP_TYP = its first element with SLP_EN to PM1a_CNT, which
 *   devices/acpi_pm.c turns into fbvm's exit status 0. 0, as QEMU's PIIX4
 *   and ICH9 PM use (hw/acpi/core.c acpi_pm1_cnt_write); must equal
 *   ACPI_PM_SLP_TYP_S5 (tests/test_acpi.c checks). No _S1.._S4: fbvm has
 *   no suspend, so the OS never offers one.
 * - \_SB.PCI0: the i440FX host bridge at 00:00.0 (devices/pci.c). With ACPI
 *   on, Linux finds PCI buses only through PNP0A03 devices (arch/x86/pci/
 *   acpi.c makes pci_subsys_init skip the legacy scan), so without it the
 *   std VGA would vanish. _CRS gives the windows QEMU's PC DSDT gives
 *   (hw/i386/acpi-build.c): bus 0-255, config ports 0xCF8-0xCFF, the I/O
 *   space around them, the legacy VGA window and the device hole from
 *   3 GiB (MEMMAP_PCI_HOLE_BASE) up to the IOAPIC. No _PRT: no PCI function
 *   of ours raises an interrupt.
 *
 * ISA devices (UART, i8042, RTC) are not listed: Linux probes them at their
 * legacy ports when the FADT's IAPC_BOOT_ARCH says LEGACY_DEVICES and 8042.
 */
DefinitionBlock ("", "DSDT", 2, "FBVM  ", "FBVMDSDT", 1)
{
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_BBN, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xFEBFFFFF, 0x00000000, 0x3EC00000)
            })
        }
    }

    Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero })
}
