/*
 * PCI configuration space through mechanism #1 (I/O ports 0xCF8 address,
 * 0xCFC-0xCFF data; PCI Local Bus spec 3.0 section 3.2.2.3.2), the way a
 * PC operating system reaches it without ACPI. Functions are named by
 * "bdf" = bus << 8 | device << 3 | function.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_CONFIG_ADDRESS      0xCF8
#define PCI_CONFIG_DATA         0xCFC
#define PCI_CONFIG_ENABLE       0x80000000u

/* Type-0/1 header offsets. */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0A    /* u16: base class << 8 | subclass */
#define PCI_HEADER_TYPE         0x0E
#define PCI_BAR0                0x10
#define PCI_SECONDARY_BUS       0x19    /* type-1 (bridge) header */

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004

#define PCI_HEADER_TYPE_MASK    0x7F
#define PCI_HEADER_TYPE_BRIDGE  0x01
#define PCI_HEADER_MULTIFUNCTION 0x80

#define PCI_BAR_IO              0x01
#define PCI_BAR_MEM_TYPE_MASK   0x06
#define PCI_BAR_MEM_TYPE_64     0x04
#define PCI_BAR_MEM_PREFETCH    0x08
#define PCI_BAR_MEM_MASK        (~0x0Full)
#define PCI_BAR_IO_MASK         (~0x03ull)
#define PCI_BAR_COUNT           6

#define PCI_BDF(bus, dev, fn)   ((uint16_t)((bus) << 8 | (dev) << 3 | (fn)))
#define PCI_BDF_BUS(bdf)        ((unsigned)(bdf) >> 8)
#define PCI_BDF_DEV(bdf)        ((unsigned)(bdf) >> 3 & 0x1F)
#define PCI_BDF_FN(bdf)         ((unsigned)(bdf) & 7)

/*
 * Whether mechanism #1 answers, checked as Linux's pci_check_type1() does:
 * byte 0x01 to 0xCFB, then 0x80000000 to 0xCF8 must read back unchanged;
 * the old address is restored. 0, or -ENODEV (*readback gets what 0xCF8
 * returned, when readback is not NULL).
 */
int pci_probe(uint32_t *readback);

uint32_t pci_read32(uint16_t bdf, uint8_t offset);     /* offset 4-aligned */
uint16_t pci_read16(uint16_t bdf, uint8_t offset);     /* offset 2-aligned */
uint8_t pci_read8(uint16_t bdf, uint8_t offset);
void pci_write32(uint16_t bdf, uint8_t offset, uint32_t value);
void pci_write16(uint16_t bdf, uint8_t offset, uint16_t value);
void pci_write8(uint16_t bdf, uint8_t offset, uint8_t value);

/*
 * Depth-first scan from bus 0 (functions 1-7 only when function 0 says
 * multi-function; buses behind PCI-to-PCI bridges are followed) for the
 * first function with this vendor and device ID: 0 and *bdf, or -ENOENT.
 */
int pci_find_device(uint16_t vendor, uint16_t device, uint16_t *bdf);

struct pci_bar {
	uint64_t addr;          /* base address as assigned (0 = unassigned) */
	uint64_t size;          /* bytes decoded; 0 = BAR not implemented */
	int io;                 /* 1 I/O space, 0 memory */
	int is64;               /* 64-bit memory BAR (uses the next BAR too) */
	int prefetch;
};

/*
 * Reads BAR index (0-5) of a type-0 function and sizes it the way Linux's
 * __pci_read_base() does: memory and I/O decoding off in COMMAND, write
 * all-ones, read the mask back, restore the BAR and COMMAND. The address is
 * left where firmware or the VMM put it. 0, -EINVAL for a bad index or a
 * 64-bit BAR in slot 5, -EIO when the BAR does not read back its old
 * address after the restore.
 */
int pci_read_bar(uint16_t bdf, unsigned index, struct pci_bar *bar);

#endif
