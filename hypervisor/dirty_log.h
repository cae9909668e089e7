/*
 * KVM dirty-page logging for the memory slots that can hold a framebuffer.
 * The display tracker asks "which pages of [gpa, gpa + len) did the guest
 * write since I last asked?" through dirty_log_fetch, which has the shape of
 * struct dirty_source's fetch (display/tracker.h).
 *
 * Two kernel modes, best first:
 *  - manual protect (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with
 *    MANUAL_PROTECT_ENABLE | INITIALLY_SET): KVM_GET_DIRTY_LOG only reads the
 *    slot's bitmap and KVM_CLEAR_DIRTY_LOG re-arms exactly the fetched pages
 *    that were dirty, so logging costs the guest a write fault only on
 *    framebuffer pages; every page starts dirty and unprotected.
 *  - get-and-clear: KVM_GET_DIRTY_LOG reads and re-arms the whole slot; bits
 *    of pages outside the fetched range are kept in `pending` until fetched,
 *    but every page of the slot faults again on its next guest write.
 * Only guest writes are logged: host writes through the userspace mapping
 * (loaders, DMA emulation) never set a bit here; guest_mem records those
 * (guest_mem_write & co.) and the tracker merges both.
 *
 * Slots are added on the main thread before vCPUs run; fetch is then called
 * by one thread (the tracker's). Nothing here locks.
 */
#ifndef FBVM_DIRTY_LOG_H
#define FBVM_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct kvm;

#define DIRTY_LOG_PAGE_BYTES 4096u
#define DIRTY_LOG_MAX_SLOTS  8

enum dirty_log_mode {
	DIRTY_LOG_OFF,      /* slots mapped without logging; fetch says -ENOTSUP */
	DIRTY_LOG_GET,      /* KVM_GET_DIRTY_LOG re-arms the whole slot */
	DIRTY_LOG_MANUAL,   /* manual protect: KVM_CLEAR_DIRTY_LOG per fetched range */
};

struct dirty_log_slot {
	uint32_t slot;
	uint64_t gpa;
	uint64_t pages;
	size_t words;           /* 64-bit words of one slot bitmap */
	uint64_t *kvm_bitmap;   /* KVM_GET_DIRTY_LOG's output (the whole slot) */
	uint64_t *pending;      /* GET mode: fetched from KVM, not yet reported */
	uint64_t *clear;        /* MANUAL mode: KVM_CLEAR_DIRTY_LOG's input */
};

struct dirty_log_stats {
	uint64_t fetches;
	uint64_t get_ioctls;
	uint64_t clear_ioctls;
	uint64_t pages_reported;   /* dirty pages handed to callers */
	uint64_t not_covered;      /* fetches outside every logged slot (-ENOTSUP) */
	uint64_t errors;           /* failed ioctls */
};

struct dirty_log {
	int vm_fd;
	enum dirty_log_mode mode;
	struct dirty_log_slot slots[DIRTY_LOG_MAX_SLOTS];
	unsigned int count;
	struct dirty_log_stats stats;
};

/*
 * Picks the best mode the kernel offers (DIRTY_LOG_OFF when want_logging is
 * false) and, for manual protect, enables it on the VM. Call before the first
 * memory slot is created: INITIALLY_SET applies to slots created after it.
 * When enabling an offered capability fails, falls back to DIRTY_LOG_GET.
 */
void dirty_log_init(struct dirty_log *dl, struct kvm *kvm, bool want_logging);
void dirty_log_destroy(struct dirty_log *dl);

/*
 * Maps [gpa, gpa + size) to host as KVM slot `slot`, with dirty logging unless
 * the mode is DIRTY_LOG_OFF, and allocates the slot's bitmaps up front so a
 * fetch never allocates. gpa and size must be page-aligned (-EINVAL). Returns
 * 0, -ENOSPC when DIRTY_LOG_MAX_SLOTS are logged already, -ENOMEM, or the
 * KVM_SET_USER_MEMORY_REGION error; on failure nothing is mapped or kept.
 */
int dirty_log_map_slot(struct dirty_log *dl, struct kvm *kvm, uint32_t slot, uint64_t gpa,
		       uint64_t size, void *host);

/*
 * struct dirty_source's fetch; ctx is the struct dirty_log. For page i of
 * [gpa, gpa + len) (gpa page-aligned, len a non-zero multiple of 4 KiB) sets
 * bit i of bitmap (64-bit words, LSB first) when the guest wrote the page
 * since the previous fetch that covered it, clears it otherwise, and re-arms
 * exactly those pages. Writes all ceil(pages / 64) words (bits past the range
 * are 0). Returns 0; -ENOTSUP when the range is not inside one logged slot
 * (or logging is off); -EINVAL for a misaligned or empty range; a KVM ioctl's
 * -errno. After an error the bitmap is unspecified: compare everything.
 */
int dirty_log_fetch(void *ctx, uint64_t gpa, uint64_t len, uint64_t *bitmap);

const char *dirty_log_mode_name(enum dirty_log_mode mode);

/* The --stats lines: mode, slots, counters. */
void dirty_log_print_stats(const struct dirty_log *dl, FILE *out);

#endif
