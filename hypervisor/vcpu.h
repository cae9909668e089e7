/* A vCPU and its run loop: KVM_RUN, port-I/O and MMIO exits through the bus. */
#ifndef FBVM_VCPU_H
#define FBVM_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm;
struct bus;
struct boot_entry;
struct kvm_run;

struct coalesced_io;
struct vcpu_power_on;

struct vcpu {
	unsigned int id;
	char name[16];
	int fd;
	struct kvm_run *run;
	struct kvm *kvm;
	struct bus *bus;
	struct coalesced_io *coalesced;  /* replayed before each exit; NULL: none */
	pthread_t pthread;
	atomic_bool started;
	/* Exits handled in userspace; the halt watchdog compares snapshots. */
	atomic_uint_fast64_t exits;
	uint64_t watchdog_exits;
	atomic_bool check_halt;
	uint64_t io_exits;
	uint64_t mmio_exits;
	uint64_t reg_syncs;    /* KVM_GET/SET_REGS pairs for register-protocol ports */
	/* The state KVM gave the vCPU on creation, for vcpu_reset(). */
	struct vcpu_power_on *power_on;
	/* vcpu_pause(): the thread parks outside KVM_RUN until vcpu_resume(). */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool pause_requested;
	bool parked;           /* guarded by pause_lock */
	bool exited;           /* the thread left its loop; guarded by pause_lock */
};

/* Creates vCPU `id` with the CPUID KVM supports. 0 or -errno with err set. */
int vcpu_create(struct vcpu *vcpu, struct kvm *kvm, struct bus *bus, unsigned int id,
		char *err, size_t err_len);
void vcpu_destroy(struct vcpu *vcpu);

/*
 * Stops the vCPU thread outside KVM_RUN, at a point where KVM has completed
 * the last exit's I/O (KVM_RUN re-entered with immediate_exit, as the KVM
 * API asks before userspace changes vCPU state): kicks it and waits until
 * it parks. 0, or -ECANCELED when a VM stop came first (the thread is then
 * leaving; call vcpu_resume() anyway). Not on the vCPU's own thread.
 */
int vcpu_pause(struct vcpu *vcpu);
/* Lets a paused (or never started) vCPU run again. */
void vcpu_resume(struct vcpu *vcpu);

/*
 * Power-on state, the vCPU paused or not started: the registers, FPU/XSAVE,
 * XCRs, MSRs, local APIC, pending events, debug registers and MP state
 * vcpu_create() read from KVM right after creating the vCPU (KVM's own
 * reset values, what the first boot started from), then the loader's entry
 * convention on top. 0 or -errno.
 */
int vcpu_reset(struct vcpu *vcpu, const struct boot_entry *entry);

/* Sets registers for the loader's entry convention (PVH 32-bit or Linux 64-bit). */
int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_entry *entry);

/* Thread body: runs the guest until a stop is requested. arg is the vcpu. */
void *vcpu_thread_main(void *arg);

/* Makes KVM_RUN return so the loop sees a stop request. Any thread. */
void vcpu_kick(struct vcpu *vcpu);

/* Called about once a second by the main thread: when the vCPU made no exit
 * since the last call, asks it to check whether it halted with interrupts
 * off — with an in-kernel irqchip such a halt never reaches userspace. */
void vcpu_watchdog_tick(struct vcpu *vcpu);

/* Installs the signal handler vcpu_kick relies on. Call once before threads start. */
void vcpu_install_kick_handler(void);

#endif
