#include "vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot.h"
#include "bus.h"
#include "coalesced_io.h"
#include "kvm.h"
#include "log.h"
#include "vmstop.h"

#define VCPU_KICK_SIGNAL SIGUSR1
#define RFLAGS_IF        (1u << 9)
#define RFLAGS_RESERVED1 (1u << 1)
#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)

/* The kvm_run of the vCPU this thread runs, for the kick handler. */
static __thread struct kvm_run *thread_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (thread_run)
		thread_run->immediate_exit = 1;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

/*
 * What KVM set when it created the vCPU (kvm_vcpu_reset): read once, before
 * the first KVM_RUN, and written back by vcpu_reset(). Taken from KVM rather
 * than written down here so nothing a guest can change is forgotten (MSRs
 * such as kvm-clock's, the local APIC, a pending exception). XSAVE and XCRS
 * only where KVM has them.
 */
struct vcpu_power_on {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	struct kvm_xcrs xcrs;
	bool have_xcrs, have_xsave;
	struct kvm_xsave xsave;
	uint64_t msrs_skipped;      /* MSRs KVM would not take back on the last reset */
	struct kvm_msrs *msrs;      /* every MSR in KVM_GET_MSR_INDEX_LIST it could read */
};

/* The MSRs KVM saves for userspace, each read alone (KVM_GET_MSRS stops
 * at the first it cannot read): the ones it could read, with their values. */
static int save_msrs(struct vcpu *vcpu, struct vcpu_power_on *p)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;
	uint32_t n;
	int ret = 0;

	if (ioctl(vcpu->kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	n = probe.nmsrs;
	list = calloc(1, sizeof(*list) + (size_t)n * sizeof(list->indices[0]));
	p->msrs = calloc(1, sizeof(*p->msrs) + (size_t)n * sizeof(p->msrs->entries[0]));
	if (!list || !p->msrs) {
		ret = -ENOMEM;
		goto out;
	}
	list->nmsrs = n;
	if (ioctl(vcpu->kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		ret = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < list->nmsrs && i < n; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry entry;
		} one = { .hdr.nmsrs = 1, .entry.index = list->indices[i] };

		if (ioctl(vcpu->fd, KVM_GET_MSRS, &one) == 1)
			p->msrs->entries[p->msrs->nmsrs++] = one.entry;
	}
out:
	free(list);
	return ret;
}

static void free_power_on(struct vcpu_power_on *p)
{
	if (p)
		free(p->msrs);
	free(p);
}

static int save_power_on(struct vcpu *vcpu)
{
	struct vcpu_power_on *p = calloc(1, sizeof(*p));
	int fd = vcpu->fd, ret;

	if (!p)
		return -ENOMEM;
	if (ioctl(fd, KVM_GET_REGS, &p->regs) < 0 || ioctl(fd, KVM_GET_SREGS, &p->sregs) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &p->fpu) < 0 || ioctl(fd, KVM_GET_LAPIC, &p->lapic) < 0 ||
	    ioctl(fd, KVM_GET_VCPU_EVENTS, &p->events) < 0 ||
	    ioctl(fd, KVM_GET_DEBUGREGS, &p->debugregs) < 0 ||
	    ioctl(fd, KVM_GET_MP_STATE, &p->mp_state) < 0) {
		ret = -errno;
		free_power_on(p);
		return ret;
	}
	p->have_xcrs = ioctl(vcpu->kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
		       ioctl(fd, KVM_GET_XCRS, &p->xcrs) == 0;
	p->have_xsave = ioctl(vcpu->kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 &&
			ioctl(fd, KVM_GET_XSAVE, &p->xsave) == 0;
	ret = save_msrs(vcpu, p);
	if (ret < 0) {
		free_power_on(p);
		return ret;
	}
	vcpu->power_on = p;
	return 0;
}

/* KVM_SET_MSRS stops at the first MSR it refuses: skip that one, go on. */
static int restore_msrs(struct vcpu *vcpu, struct vcpu_power_on *p)
{
	const struct kvm_msrs *all = p->msrs;
	struct kvm_msrs *rest;
	uint32_t done = 0;

	rest = calloc(1, sizeof(*rest) + (size_t)all->nmsrs * sizeof(rest->entries[0]));
	if (!rest)
		return -ENOMEM;
	p->msrs_skipped = 0;
	while (done < all->nmsrs) {
		int r;

		rest->nmsrs = all->nmsrs - done;
		memcpy(rest->entries, all->entries + done, rest->nmsrs * sizeof(rest->entries[0]));
		r = ioctl(vcpu->fd, KVM_SET_MSRS, rest);
		if (r < 0) {
			r = -errno;
			free(rest);
			return r;
		}
		done += (uint32_t)r;
		if (done < all->nmsrs) {
			log_debug(vcpu->name, "reset: KVM refused MSR 0x%x=0x%llx",
				  all->entries[done].index,
				  (unsigned long long)all->entries[done].data);
			p->msrs_skipped++;
			done++;
		}
	}
	free(rest);
	return 0;
}

int vcpu_reset(struct vcpu *vcpu, const struct boot_entry *entry)
{
	struct vcpu_power_on *p = vcpu->power_on;
	int fd = vcpu->fd, ret;

	if (!p)
		return -EINVAL;
	/* QEMU's order (kvm_arch_put_registers): the APIC base in sregs before
	 * the MSRs and the local APIC; events last. */
	if (ioctl(fd, KVM_SET_REGS, &p->regs) < 0)
		return -errno;
	if (p->have_xsave && ioctl(fd, KVM_SET_XSAVE, &p->xsave) < 0)
		return -errno;
	if (!p->have_xsave && ioctl(fd, KVM_SET_FPU, &p->fpu) < 0)
		return -errno;
	if (p->have_xcrs && ioctl(fd, KVM_SET_XCRS, &p->xcrs) < 0)
		return -errno;
	if (ioctl(fd, KVM_SET_SREGS, &p->sregs) < 0)
		return -errno;
	ret = restore_msrs(vcpu, p);
	if (ret < 0)
		return ret;
	if (ioctl(fd, KVM_SET_MP_STATE, &p->mp_state) < 0 ||
	    ioctl(fd, KVM_SET_LAPIC, &p->lapic) < 0 ||
	    ioctl(fd, KVM_SET_VCPU_EVENTS, &p->events) < 0 ||
	    ioctl(fd, KVM_SET_DEBUGREGS, &p->debugregs) < 0)
		return -errno;
	return vcpu_set_boot_state(vcpu, entry);
}

int vcpu_create(struct vcpu *vcpu, struct kvm *kvm, struct bus *bus, unsigned int id,
		char *err, size_t err_len)
{
	void *run;
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	pthread_mutex_init(&vcpu->pause_lock, NULL);
	pthread_cond_init(&vcpu->pause_cond, NULL);
	vcpu->id = id;
	vcpu->kvm = kvm;
	vcpu->bus = bus;
	snprintf(vcpu->name, sizeof(vcpu->name), "vcpu%u", id);
	vcpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		vcpu_destroy(vcpu);
		return ret;
	}
	run = mmap(NULL, kvm->run_mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		ret = -errno;
		snprintf(err, err_len, "mmap of kvm_run for vcpu %u: %s", id, strerror(errno));
		vcpu_destroy(vcpu);
		return ret;
	}
	vcpu->run = run;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, kvm->cpuid) < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_SET_CPUID2: %s", strerror(errno));
		vcpu_destroy(vcpu);
		return ret;
	}
	ret = save_power_on(vcpu);
	if (ret < 0) {
		snprintf(err, err_len, "reading vcpu %u's power-on state: %s", id, strerror(-ret));
		vcpu_destroy(vcpu);
		return ret;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->kvm->run_mmap_bytes);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free_power_on(vcpu->power_on);
	vcpu->power_on = NULL;
	vcpu->run = NULL;
	vcpu->fd = -1;
	pthread_cond_destroy(&vcpu->pause_cond);
	pthread_mutex_destroy(&vcpu->pause_lock);
}

static void kick_signal(struct vcpu *vcpu);

/* On the vCPU thread, out of KVM_RUN with its I/O completed: wait while a
 * pause is asked for (a VM stop ends the wait: the thread then leaves). */
static void park(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->pause_lock);
	vcpu->parked = true;
	pthread_cond_broadcast(&vcpu->pause_cond);
	while (atomic_load(&vcpu->pause_requested) && !vm_stop_requested())
		pthread_cond_wait(&vcpu->pause_cond, &vcpu->pause_lock);
	vcpu->parked = false;
	pthread_mutex_unlock(&vcpu->pause_lock);
}

int vcpu_pause(struct vcpu *vcpu)
{
	int ret = 0;

	atomic_store(&vcpu->pause_requested, true);
	pthread_mutex_lock(&vcpu->pause_lock);
	while (!vcpu->parked && !vcpu->exited) {
		struct timespec until;

		if (vm_stop_requested()) {
			ret = -ECANCELED;
			break;
		}
		/* The thread may not have started yet; kick again until it parks. */
		kick_signal(vcpu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 20 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&vcpu->pause_cond, &vcpu->pause_lock, &until);
	}
	if (vcpu->exited)
		ret = -ECANCELED;
	pthread_mutex_unlock(&vcpu->pause_lock);
	return ret;
}

void vcpu_resume(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->pause_lock);
	atomic_store(&vcpu->pause_requested, false);
	pthread_cond_broadcast(&vcpu->pause_cond);
	pthread_mutex_unlock(&vcpu->pause_lock);
}

static void set_flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xFFFFFFFF, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0,
		.g = 1,
	};
}

int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_entry *entry)
{
	/* Control-register and EFER bits (Intel SDM vol. 3 2.5, 2.2.1). */
	const uint64_t cr0_pg = 1ull << 31, cr4_pae = 1ull << 5;
	const uint64_t efer_lme = 1ull << 8, efer_lma = 1ull << 10;
	const bool linux64 = entry->mode == BOOT_MODE_LINUX64;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (entry->mode != BOOT_MODE_PVH32 && !linux64)
		return -EINVAL;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	/* Linux boot.rst requires __BOOT_CS 0x10 and __BOOT_DS 0x18, flat, and
	 * for the 64-bit entry a long-mode CS; the loader's GDT holds the same
	 * descriptors. PVH leaves selectors unspecified; it gets the same ones
	 * as 32-bit segments. */
	set_flat_segment(&sregs.cs, 0x10, 0xB, linux64);
	set_flat_segment(&sregs.ds, 0x18, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	/* PVH: "TR must be a 32-bit TSS (active)"; base and limit unspecified.
	 * Type 0xB is also the busy 64-bit TSS long mode requires. */
	sregs.tr = (struct kvm_segment){ .selector = 0x20, .limit = 0x67, .type = 0xB,
					 .present = 1, .s = 0 };
	sregs.ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .unusable = 1 };
	if (linux64) {
		/* boot.rst "64-bit Boot Protocol": 64-bit mode, paging on with
		 * the loader's identity map, its GDT loaded. */
		sregs.gdt.base = entry->gdt_gpa;
		sregs.gdt.limit = entry->gdt_limit;
		sregs.cr3 = entry->page_table_gpa;
		sregs.cr0 = CR0_PE | CR0_ET | cr0_pg;
		sregs.cr4 = cr4_pae;
		sregs.efer = efer_lme | efer_lma;
	} else {
		sregs.cr0 = CR0_PE | CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry->entry;
	regs.rflags = RFLAGS_RESERVED1;  /* interrupts off */
	if (linux64)
		regs.rsi = entry->boot_info_gpa;
	else
		regs.rbx = entry->boot_info_gpa;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* The registers of a vCPU stopped in a port-I/O exit, for devices whose
 * protocol lives in them (bus_ops.access_regs). KVM completes the `in`
 * after KVM_SET_REGS: it loads EAX from the data buffer and steps past the
 * instruction, as it does for QEMU's vmport. */
struct io_regs {
	struct vcpu *vcpu;
	struct kvm_regs kvm;
};

static int io_regs_get(void *ctx, struct bus_regs *regs)
{
	struct io_regs *r = ctx;

	r->vcpu->reg_syncs++;
	if (ioctl(r->vcpu->fd, KVM_GET_REGS, &r->kvm) < 0)
		return -errno;
	*regs = (struct bus_regs){ .rax = r->kvm.rax, .rbx = r->kvm.rbx, .rcx = r->kvm.rcx,
				   .rdx = r->kvm.rdx, .rsi = r->kvm.rsi, .rdi = r->kvm.rdi };
	return 0;
}

static int io_regs_set(void *ctx, const struct bus_regs *regs)
{
	struct io_regs *r = ctx;

	r->kvm.rax = regs->rax;
	r->kvm.rbx = regs->rbx;
	r->kvm.rcx = regs->rcx;
	r->kvm.rdx = regs->rdx;
	r->kvm.rsi = regs->rsi;
	r->kvm.rdi = regs->rdi;
	if (ioctl(r->vcpu->fd, KVM_SET_REGS, &r->kvm) < 0)
		return -errno;
	return 0;
}

static void handle_io(struct vcpu *vcpu)
{
	struct io_regs io_regs = { .vcpu = vcpu };
	const struct bus_vcpu_regs vregs = { .get = io_regs_get, .set = io_regs_set,
					     .ctx = &io_regs };
	struct kvm_run *run = vcpu->run;
	uint64_t bytes = (uint64_t)run->io.count * run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	vcpu->io_exits++;
	/* The buffer is the kernel's; check anyway rather than trust an offset. */
	if (run->io.data_offset > vcpu->kvm->run_mmap_bytes ||
	    bytes > vcpu->kvm->run_mmap_bytes - run->io.data_offset) {
		log_ratelimited(LOG_ERROR, vcpu->name, "port I/O exit with bad buffer"
				" offset=%" PRIu64 " bytes=%" PRIu64,
				(uint64_t)run->io.data_offset, bytes);
		return;
	}
	/* Registers only for a single access: string I/O keeps its own state
	 * in RCX/RSI/RDI, which KVM's emulator owns until the instruction ends. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		bus_access_vcpu(vcpu->bus, BUS_PIO, run->io.port, data, run->io.size,
				run->io.direction == KVM_EXIT_IO_OUT,
				run->io.count == 1 ? &vregs : NULL);
}

static void report_internal_error(struct vcpu *vcpu, const char *what)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	char detail[256];
	int n = 0;

	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		n = snprintf(detail, sizeof(detail), "%s suberror=%u", what,
			     run->internal.suberror);
		for (uint32_t i = 0; i < run->internal.ndata && i < 4 && n > 0 &&
				     (size_t)n < sizeof(detail); i++)
			n += snprintf(detail + n, sizeof(detail) - (size_t)n, " data%u=0x%llx", i,
				      (unsigned long long)run->internal.data[i]);
	} else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
		n = snprintf(detail, sizeof(detail), "%s hardware_entry_failure_reason=0x%llx",
			     what, (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	} else {
		n = snprintf(detail, sizeof(detail), "%s", what);
	}
	if (n > 0 && (size_t)n < sizeof(detail) && ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		snprintf(detail + n, sizeof(detail) - (size_t)n, " rip=0x%llx",
			 (unsigned long long)regs.rip);
	log_error(vcpu->name, "%s", detail);
	vm_request_stop(VM_STOP_INTERNAL_ERROR, EXIT_STATUS_INTERNAL, NULL);
}

/*
 * A triple fault ends the VM; the state it died in is what a kernel developer
 * needs to find why (QEMU prints the same with -d cpu_reset): where it was,
 * its stack, paging and the descriptor tables the last fault went through.
 */
static void report_triple_fault(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0 &&
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) == 0)
		log_error(vcpu->name,
			  "triple fault at rip=0x%llx rsp=0x%llx rflags=0x%llx cs=0x%x cr0=0x%llx "
			  "cr2=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx idt=0x%llx/%u gdt=0x%llx/%u%s",
			  (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
			  (unsigned long long)regs.rflags, sregs.cs.selector,
			  (unsigned long long)sregs.cr0, (unsigned long long)sregs.cr2,
			  (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4,
			  (unsigned long long)sregs.efer, (unsigned long long)sregs.idt.base,
			  sregs.idt.limit, (unsigned long long)sregs.gdt.base, sregs.gdt.limit,
			  /* KVM on AMD INITs the vCPU at a shutdown (svm.c): */
			  regs.rip == 0xfff0 && sregs.cs.selector == 0xf000
				  ? " (the INIT state: KVM reset the vCPU, the state before is lost)"
				  : "");
	vm_request_stop(VM_STOP_TRIPLE_FAULT, EXIT_STATUS_TRIPLE_FAULT, "KVM_EXIT_SHUTDOWN");
}

/* Asked by the watchdog: is this vCPU halted with interrupts disabled? */
static void check_halted_with_interrupts_off(struct vcpu *vcpu)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0 || mp.mp_state != KVM_MP_STATE_HALTED)
		return;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 || (regs.rflags & RFLAGS_IF))
		return;
	char detail[96];
	snprintf(detail, sizeof(detail), "%s executed HLT with interrupts disabled at rip=0x%llx",
		 vcpu->name, (unsigned long long)regs.rip);
	vm_request_stop(VM_STOP_HALTED, EXIT_STATUS_HALTED, detail);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(VM_STOP_POWEROFF, EXIT_STATUS_OK, "guest system event");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(VM_STOP_RESET, EXIT_STATUS_RESET, "guest system event");
		break;
	default:
		report_internal_error(vcpu, "guest crash system event");
		break;
	}
}

void *vcpu_thread_main(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm_run *run = vcpu->run;
	sigset_t kick;

	vcpu->pthread = pthread_self();
	thread_run = run;
	atomic_store(&vcpu->started, true);
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (!vm_stop_requested()) {
		/* A pause: KVM completes the last exit's I/O, then returns EINTR. */
		if (atomic_load(&vcpu->pause_requested))
			run->immediate_exit = 1;
		int r = ioctl(vcpu->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				if (atomic_exchange(&vcpu->check_halt, false))
					check_halted_with_interrupts_off(vcpu);
				if (atomic_load(&vcpu->pause_requested))
					park(vcpu);
				continue;
			}
			char detail[96];
			snprintf(detail, sizeof(detail), "KVM_RUN: %s", strerror(errno));
			vm_request_stop(VM_STOP_HOST_ERROR, EXIT_STATUS_HOST, detail);
			break;
		}
		atomic_fetch_add_explicit(&vcpu->exits, 1, memory_order_relaxed);
		/* Coalesced writes happened before this exit: devices see them first. */
		if (vcpu->coalesced)
			coalesced_io_replay(vcpu->coalesced, vcpu->bus);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(vcpu);
			break;
		case KVM_EXIT_MMIO:
			vcpu->mmio_exits++;
			bus_access(vcpu->bus, BUS_MMIO, run->mmio.phys_addr, run->mmio.data,
				   run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_SHUTDOWN:
			report_triple_fault(vcpu);
			break;
		case KVM_EXIT_HLT:
			/* Only reached without an in-kernel irqchip; treat as a dead halt. */
			vm_request_stop(VM_STOP_HALTED, EXIT_STATUS_HALTED, "KVM_EXIT_HLT");
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			handle_system_event(vcpu);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			report_internal_error(vcpu, run->internal.suberror ==
							    KVM_INTERNAL_ERROR_EMULATION
						    ? "KVM internal error (emulation failure)"
						    : "KVM internal error");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			report_internal_error(vcpu, "KVM entry failed");
			break;
		case KVM_EXIT_INTR:
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break;
		default: {
			char what[48];
			snprintf(what, sizeof(what), "unexpected exit reason %u", run->exit_reason);
			report_internal_error(vcpu, what);
			break;
		}
		}
	}
	thread_run = NULL;
	pthread_mutex_lock(&vcpu->pause_lock);
	vcpu->exited = true;
	pthread_cond_broadcast(&vcpu->pause_cond);
	pthread_mutex_unlock(&vcpu->pause_lock);
	return NULL;
}

static void kick_signal(struct vcpu *vcpu)
{
	if (atomic_load(&vcpu->started))
		pthread_kill(vcpu->pthread, VCPU_KICK_SIGNAL);
}

void vcpu_kick(struct vcpu *vcpu)
{
	kick_signal(vcpu);
	/* A parked vCPU waits on its condition, not in KVM_RUN. */
	pthread_mutex_lock(&vcpu->pause_lock);
	pthread_cond_broadcast(&vcpu->pause_cond);
	pthread_mutex_unlock(&vcpu->pause_lock);
}

void vcpu_watchdog_tick(struct vcpu *vcpu)
{
	uint64_t now = atomic_load_explicit(&vcpu->exits, memory_order_relaxed);

	if (now == vcpu->watchdog_exits) {
		atomic_store(&vcpu->check_halt, true);
		vcpu_kick(vcpu);
	}
	vcpu->watchdog_exits = now;
}
