/* Guest-physical memory map (x86-64); see DESIGN.md "Guest physical memory map". */
#ifndef FBVM_MEMMAP_H
#define FBVM_MEMMAP_H

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

/* RAM runs from 0 up to 3 GiB; the rest continues at 4 GiB, leaving a 1 GiB
 * hole below 4 GiB for device memory (VRAM, MMIO, IOAPIC, LAPIC). */
#define MEMMAP_LOW_RAM_MAX     GiB(3)
#define MEMMAP_HIGH_RAM_BASE   GiB(4)

/* The boot framebuffer fbvm sets up for a Linux guest with --display ramfb:
 * device memory at the bottom of the hole (its own memslot, dirty-logged),
 * so it is never RAM, whatever --mem is, and the e820 map already marks it
 * reserved with the rest of the hole. */
#define MEMMAP_BOOT_FB_BASE    GiB(3)
/* std VGA VRAM (BAR0) of --vram bytes (a power of two up to 256 MiB) sits at
 * the highest base aligned to its size that ends at or below BAR2:
 * align_down(MEMMAP_VGA_MMIO_BASE - size, size). For the default 16 MiB that
 * is 0xFD000000, where SeaBIOS puts it on QEMU's PC machine; 256 MiB goes to
 * 0xE0000000. */
#define MEMMAP_VGA_VRAM_BASE   0xFD000000ull
#define MEMMAP_VGA_MMIO_BASE   0xFEBF0000ull
#define MEMMAP_IOAPIC_BASE     0xFEC00000ull
#define MEMMAP_LAPIC_BASE      0xFEE00000ull
/* The hole between low RAM and 4 GiB, reserved in memory maps given to guests. */
#define MEMMAP_PCI_HOLE_BASE   MEMMAP_LOW_RAM_MAX

/* --mem limits: below 16 MiB nothing useful boots; 64 GiB bounds address space. */
#define MEMMAP_RAM_MIN         MiB(16)
#define MEMMAP_RAM_MAX         GiB(64)

/* ACPI tables (hypervisor/acpi_tables.c), in the BIOS area a PC's firmware
 * uses: Linux scans 0xE0000-0xFFFFF for the RSDP when nobody hands it over,
 * and every memory map given to a guest marks this range reserved (as it
 * lies in the 0xA0000-0x100000 legacy hole of a PC), so the OS never
 * reuses it. Images and initrds may not overlap it. */
#define MEMMAP_ACPI_BASE       0xE0000ull
#define MEMMAP_ACPI_END        0x100000ull

/* Boot structures the loaders place in low memory; images may not overlap them. */
#define MEMMAP_BOOT_INFO_BASE  0x1000ull   /* hvm_start_info / Linux zero page */
#define MEMMAP_BOOT_INFO_END   0x10000ull  /* first byte after loader structures */

#endif
