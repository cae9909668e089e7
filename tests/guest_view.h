/*
 * What a vCPU sees: a writable pointer into guest memory for tests that play
 * the guest. fbvm's own code writes guest memory only through
 * guest_mem_write & co. (hypervisor/guest_mem.h), which also mark the pages
 * for the display tracker; a write through this pointer is like a vCPU's:
 * only the (fake) dirty log of the test knows about it.
 */
#ifndef FBVM_TESTS_GUEST_VIEW_H
#define FBVM_TESTS_GUEST_VIEW_H

#include <stdint.h>

#include "hypervisor/guest_mem.h"

static inline uint8_t *guest_view(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return (uint8_t *)(uintptr_t)guest_mem_ptr(mem, gpa, len);
}

#endif
