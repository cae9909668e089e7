#include "guest.h"
#include "pci.h"

#define PCI_MAX_BUSES   256
#define PCI_MAX_DEVICES 32
#define PCI_MAX_FUNCTIONS 8

int pci_probe(uint32_t *readback)
{
	uint32_t saved, got;

	outb(0x01, PCI_CONFIG_ADDRESS + 3);
	saved = inl(PCI_CONFIG_ADDRESS);
	outl(PCI_CONFIG_ENABLE, PCI_CONFIG_ADDRESS);
	got = inl(PCI_CONFIG_ADDRESS);
	outl(saved, PCI_CONFIG_ADDRESS);
	if (readback)
		*readback = got;
	return got == PCI_CONFIG_ENABLE ? 0 : -ENODEV;
}

static void pci_select(uint16_t bdf, uint8_t offset)
{
	outl(PCI_CONFIG_ENABLE | (uint32_t)bdf << 8 | (offset & 0xFCu), PCI_CONFIG_ADDRESS);
}

uint32_t pci_read32(uint16_t bdf, uint8_t offset)
{
	pci_select(bdf, offset);
	return inl(PCI_CONFIG_DATA);
}

uint16_t pci_read16(uint16_t bdf, uint8_t offset)
{
	pci_select(bdf, offset);
	return inw(PCI_CONFIG_DATA + (offset & 2));
}

uint8_t pci_read8(uint16_t bdf, uint8_t offset)
{
	pci_select(bdf, offset);
	return inb(PCI_CONFIG_DATA + (offset & 3));
}

void pci_write32(uint16_t bdf, uint8_t offset, uint32_t value)
{
	pci_select(bdf, offset);
	outl(value, PCI_CONFIG_DATA);
}

void pci_write16(uint16_t bdf, uint8_t offset, uint16_t value)
{
	pci_select(bdf, offset);
	outw(value, PCI_CONFIG_DATA + (offset & 2));
}

void pci_write8(uint16_t bdf, uint8_t offset, uint8_t value)
{
	pci_select(bdf, offset);
	outb(value, PCI_CONFIG_DATA + (offset & 3));
}

static int pci_present(uint16_t bdf)
{
	uint16_t vendor = pci_read16(bdf, PCI_VENDOR_ID);

	return vendor != 0xFFFF && vendor != 0x0000;
}

int pci_find_device(uint16_t vendor, uint16_t device, uint16_t *bdf)
{
	/* Buses still to scan, a stack; each bus is pushed at most once. */
	uint8_t pending[PCI_MAX_BUSES];
	uint8_t seen[PCI_MAX_BUSES / 8] = { 0 };
	unsigned npending = 0;

	pending[npending++] = 0;
	seen[0] = 1;
	while (npending) {
		unsigned bus = pending[--npending];

		for (unsigned dev = 0; dev < PCI_MAX_DEVICES; dev++) {
			unsigned nfn = 1;

			for (unsigned fn = 0; fn < nfn; fn++) {
				uint16_t f = PCI_BDF(bus, dev, fn);
				uint8_t type;

				if (!pci_present(f))
					continue;
				type = pci_read8(f, PCI_HEADER_TYPE);
				if (fn == 0 && (type & PCI_HEADER_MULTIFUNCTION))
					nfn = PCI_MAX_FUNCTIONS;
				if (pci_read16(f, PCI_VENDOR_ID) == vendor &&
				    pci_read16(f, PCI_DEVICE_ID) == device) {
					*bdf = f;
					return 0;
				}
				if ((type & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE) {
					uint8_t sec = pci_read8(f, PCI_SECONDARY_BUS);

					if (sec && !(seen[sec / 8] & (1u << sec % 8))) {
						seen[sec / 8] |= (uint8_t)(1u << sec % 8);
						pending[npending++] = sec;
					}
				}
			}
		}
	}
	return -ENOENT;
}

int pci_read_bar(uint16_t bdf, unsigned index, struct pci_bar *bar)
{
	uint8_t off = (uint8_t)(PCI_BAR0 + 4 * index);
	uint16_t cmd;
	uint32_t lo, lo_mask, hi = 0, hi_mask = 0xFFFFFFFFu;
	uint64_t mask;

	if (index >= PCI_BAR_COUNT)
		return -EINVAL;
	memset(bar, 0, sizeof(*bar));
	lo = pci_read32(bdf, off);
	bar->io = lo & PCI_BAR_IO;
	bar->is64 = !bar->io && (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
	bar->prefetch = !bar->io && (lo & PCI_BAR_MEM_PREFETCH);
	if (bar->is64 && index == PCI_BAR_COUNT - 1)
		return -EINVAL;

	/* Size with decoding off, so the all-ones address is never live. */
	cmd = pci_read16(bdf, PCI_COMMAND);
	if (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
		pci_write16(bdf, PCI_COMMAND, cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	pci_write32(bdf, off, 0xFFFFFFFFu);
	lo_mask = pci_read32(bdf, off);
	pci_write32(bdf, off, lo);
	if (bar->is64) {
		hi = pci_read32(bdf, off + 4);
		pci_write32(bdf, off + 4, 0xFFFFFFFFu);
		hi_mask = pci_read32(bdf, off + 4);
		pci_write32(bdf, off + 4, hi);
	}
	if (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
		pci_write16(bdf, PCI_COMMAND, cmd);
	if (pci_read32(bdf, off) != lo || (bar->is64 && pci_read32(bdf, off + 4) != hi))
		return -EIO;

	if (bar->io) {
		bar->addr = lo & PCI_BAR_IO_MASK & 0xFFFFu;
		mask = (lo_mask & PCI_BAR_IO_MASK) | 0xFFFF0000ull;
		mask &= 0xFFFFFFFFull;
	} else {
		bar->addr = (uint64_t)hi << 32 | (lo & PCI_BAR_MEM_MASK & 0xFFFFFFFFu);
		mask = (uint64_t)hi_mask << 32 | (lo_mask & PCI_BAR_MEM_MASK & 0xFFFFFFFFu);
		if (!bar->is64)
			mask |= 0xFFFFFFFF00000000ull;
	}
	/* An unimplemented BAR reads back 0 (or the all-ones of an absent
	 * function); otherwise the size is the lowest writable address bit. */
	if (lo_mask == 0 || lo_mask == 0xFFFFFFFFu || mask == 0 ||
	    (!bar->io && !bar->is64 && !(lo_mask & PCI_BAR_MEM_MASK)))
		bar->size = 0;
	else
		bar->size = mask & ~(mask - 1);
	return 0;
}
