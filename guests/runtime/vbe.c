#include "guest.h"
#include "vbe.h"

uint16_t vbe_read(const struct vbe *v, unsigned index)
{
	if (v->mmio)
		return *(volatile uint16_t *)(v->mmio + VBE_MMIO_DISPI + index * 2);
	outw((uint16_t)index, VBE_DISPI_IOPORT_INDEX);
	return inw(VBE_DISPI_IOPORT_DATA);
}

void vbe_write(const struct vbe *v, unsigned index, uint16_t value)
{
	if (v->mmio) {
		*(volatile uint16_t *)(v->mmio + VBE_MMIO_DISPI + index * 2) = value;
		return;
	}
	outw((uint16_t)index, VBE_DISPI_IOPORT_INDEX);
	outw(value, VBE_DISPI_IOPORT_DATA);
}

static uint8_t vbe_vga_readb(const struct vbe *v, uint16_t port)
{
	if (v->mmio)
		return *(volatile uint8_t *)(v->mmio + VBE_MMIO_VGA_PORTS + (port - VGA_ATT_W));
	return inb(port);
}

static void vbe_vga_writeb(const struct vbe *v, uint16_t port, uint8_t value)
{
	if (v->mmio) {
		*(volatile uint8_t *)(v->mmio + VBE_MMIO_VGA_PORTS + (port - VGA_ATT_W)) = value;
		return;
	}
	outb(value, port);
}

void vbe_unblank(const struct vbe *v)
{
	(void)vbe_vga_readb(v, VGA_IS1_RC);
	vbe_vga_writeb(v, VGA_ATT_W, VGA_AR_ENABLE_DISPLAY);
}

void vbe_set_mode(const struct vbe *v, uint16_t xres, uint16_t yres, uint64_t fb_size)
{
	uint64_t stride = (uint64_t)xres * 4;
	uint64_t yres_virtual = stride ? fb_size / stride : 0;

	if (yres_virtual > 0xFFFF)
		yres_virtual = 0xFFFF;
	vbe_unblank(v);
	vbe_write(v, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_DISABLED);
	vbe_write(v, VBE_DISPI_INDEX_BPP, 32);
	vbe_write(v, VBE_DISPI_INDEX_XRES, xres);
	vbe_write(v, VBE_DISPI_INDEX_YRES, yres);
	vbe_write(v, VBE_DISPI_INDEX_BANK, 0);
	vbe_write(v, VBE_DISPI_INDEX_VIRT_WIDTH, xres);
	vbe_write(v, VBE_DISPI_INDEX_VIRT_HEIGHT, (uint16_t)yres_virtual);
	vbe_write(v, VBE_DISPI_INDEX_X_OFFSET, 0);
	vbe_write(v, VBE_DISPI_INDEX_Y_OFFSET, 0);
	vbe_write(v, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
}
