/*
 * KVM's coalesced I/O (KVM_REGISTER_COALESCED_MMIO, with KVM_CAP_COALESCED_PIO
 * for ports): a guest write to a registered range does not leave the kernel;
 * KVM appends it to a ring page shared with every vCPU's kvm_run mapping and
 * resumes the guest. fbvm replays the ring on the bus, in order, before it
 * handles the next exit of any vCPU, so a device sees the writes before the
 * access that needs them. Worth it only for write-only registers whose
 * effect nobody observes until a later access exits anyway: QEMU does this
 * for the RTC index port 0x70 (hw/rtc/mc146818rtc.c), which halves the
 * userspace exits of every CMOS index + data pair.
 *
 * Set up on the main thread after the vCPUs are created; replay runs on vCPU
 * threads, one at a time (the ring is per VM).
 */
#ifndef FBVM_COALESCED_IO_H
#define FBVM_COALESCED_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct bus;
struct kvm;
struct kvm_coalesced_mmio_ring;

struct coalesced_io {
	struct kvm_coalesced_mmio_ring *ring;   /* NULL: not in use */
	uint32_t max_entries;
	pthread_mutex_t lock;                   /* replay in ring order */
	bool lock_ready;
	uint64_t replayed;                      /* writes replayed on the bus */
	uint64_t bad_entries;                   /* ring state or entries out of range */
	unsigned int zones;
};

/*
 * Finds the ring page in a vCPU's kvm_run mapping (run, run_bytes long) when
 * KVM offers coalesced MMIO and PIO. 0; -ENOTSUP when KVM does not offer
 * them (then nothing is registered and replay does nothing); -errno.
 */
int coalesced_io_init(struct coalesced_io *c, struct kvm *kvm, void *run, size_t run_bytes);

/* Test hook: uses ring (a 4 KiB page laid out as KVM's) without KVM. */
int coalesced_io_init_ring(struct coalesced_io *c, void *ring_page);

void coalesced_io_destroy(struct coalesced_io *c);

/* Asks KVM to coalesce guest writes to ports [port, port + len). 0 or -errno. */
int coalesced_io_add_pio(struct coalesced_io *c, struct kvm *kvm, uint16_t port, uint32_t len);

/* Replays what the ring holds as bus writes; cheap (one load) when empty.
 * Call on a vCPU thread after every KVM_RUN return, before the exit is
 * handled. */
void coalesced_io_replay(struct coalesced_io *c, struct bus *bus);

/* The --stats line. */
void coalesced_io_print_stats(struct coalesced_io *c, FILE *out);

#endif
