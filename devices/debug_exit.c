#include "debug_exit.h"

#include <stdio.h>

#include "hypervisor/bus.h"
#include "hypervisor/vmstop.h"

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct debug_exit *dev = opaque;
	char detail[48];
	/* QEMU calls exit((val << 1) | 1); the OS keeps the low 8 bits. */
	int status = (int)(((value << 1) | 1) & 0xFF);

	(void)offset;
	(void)size;
	dev->writes++;
	snprintf(detail, sizeof(detail), "value 0x%llx", (unsigned long long)value);
	vm_request_stop(VM_STOP_TEST_EXIT, status, detail);
}

static const struct bus_ops debug_exit_ops = {
	.write = debug_exit_write,
};

int debug_exit_init(struct debug_exit *dev, struct bus *bus, uint16_t port)
{
	struct bus_region region = {
		.name = "debug-exit", .base = port, .len = 1,
		/* As QEMU's `-device isa-debug-exit,iobase=0x501,iosize=1`. */
		.min_access = 1, .max_access = 1,
		.ops = &debug_exit_ops, .opaque = dev,
	};

	dev->port = port;
	dev->writes = 0;
	return bus_register(bus, BUS_PIO, &region);
}
