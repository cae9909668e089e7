/*
 * Test-exit port with QEMU isa-debug-exit semantics (hw/misc/debugexit.c):
 * a write of v ends fbvm with exit status (v << 1) | 1, so a test guest can
 * report pass/fail to CI. Statuses are always odd; fbvm's own are even.
 */
#ifndef FBVM_DEBUG_EXIT_H
#define FBVM_DEBUG_EXIT_H

#include <stdint.h>

struct bus;

#define DEBUG_EXIT_PORT 0x501

struct debug_exit {
	uint16_t port;
	uint64_t writes;
};

int debug_exit_init(struct debug_exit *dev, struct bus *bus, uint16_t port);

#endif
