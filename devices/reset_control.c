#include "reset_control.h"

#include "hypervisor/bus.h"
#include "hypervisor/vmstop.h"

/* Intel PIIX3/ICH datasheets: RCR bit 1 SYS_RST (hard reset), bit 2 RST_CPU. */
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

static uint64_t reset_control_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct reset_control *dev = opaque;

	(void)offset;
	(void)size;
	return dev->value;
}

static void reset_control_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct reset_control *dev = opaque;

	(void)offset;
	(void)size;
	if (value & RCR_RST_CPU)
		vm_request_stop(VM_STOP_RESET, EXIT_STATUS_RESET,
				value & RCR_SYS_RST ? "port 0xCF9 hard reset" : "port 0xCF9 soft reset");
	dev->value = (uint8_t)(value & RCR_SYS_RST);
}

static const struct bus_ops reset_control_ops = {
	.read = reset_control_read,
	.write = reset_control_write,
};

int reset_control_init(struct reset_control *dev, struct bus *bus)
{
	struct bus_region region = {
		.name = "reset-control", .base = RESET_CONTROL_PORT, .len = 1,
		.min_access = 1, .max_access = 1,
		.ops = &reset_control_ops, .opaque = dev,
	};

	dev->value = 0;
	return bus_register(bus, BUS_PIO, &region);
}
