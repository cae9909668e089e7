#include "reset_control.h"

#include "hypervisor/bus.h"
#include "hypervisor/vmstop.h"

/* Intel PIIX3/ICH datasheets: RCR bit 1 SYS_RST (hard reset), bit 2 RST_CPU. */
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

void reset_control_reset(struct reset_control *dev)
{
	dev->value = 0;
}

uint8_t reset_control_read(const struct reset_control *dev)
{
	return dev->value;
}

void reset_control_write(struct reset_control *dev, uint8_t value)
{
	if (value & RCR_RST_CPU)
		vm_request_stop(VM_STOP_RESET, EXIT_STATUS_RESET,
				value & RCR_SYS_RST ? "port 0xCF9 hard reset" : "port 0xCF9 soft reset");
	dev->value = value & RCR_SYS_RST;
}

static uint64_t reset_control_bus_read(void *opaque, uint64_t offset, unsigned int size)
{
	(void)offset;
	(void)size;
	return reset_control_read(opaque);
}

static void reset_control_bus_write(void *opaque, uint64_t offset, uint64_t value,
				    unsigned int size)
{
	(void)offset;
	(void)size;
	reset_control_write(opaque, (uint8_t)value);
}

static const struct bus_ops reset_control_ops = {
	.read = reset_control_bus_read,
	.write = reset_control_bus_write,
};

int reset_control_init(struct reset_control *dev, struct bus *bus)
{
	struct bus_region region = {
		.name = "reset-control", .base = RESET_CONTROL_PORT, .len = 1,
		.min_access = 1, .max_access = 1,
		.ops = &reset_control_ops, .opaque = dev,
	};

	reset_control_reset(dev);
	return bus_register(bus, BUS_PIO, &region);
}
