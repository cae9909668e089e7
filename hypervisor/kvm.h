/* Thin KVM layer: the system fd, the VM, its irqchip, PIT and memory slots. */
#ifndef FBVM_KVM_H
#define FBVM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_cpuid2;
struct kvm_chips_power_on;

enum kvm_flavour {
	KVM_FLAVOUR_HARDWARE,  /* VMX/SVM: guest ring 0 runs natively */
	KVM_FLAVOUR_PVM,       /* kvm_pvm: guest ring 0 is emulated (slow), ring 3 native */
};

struct kvm {
	int sys_fd;
	int vm_fd;
	size_t run_mmap_bytes;
	enum kvm_flavour flavour;
	struct kvm_cpuid2 *cpuid;   /* KVM_GET_SUPPORTED_CPUID, given to every vCPU */
	/* The in-kernel PICs, IOAPIC and PIT as KVM created them, for kvm_reset_chips(). */
	struct kvm_chips_power_on *chips_power_on;
};

/* Opens /dev/kvm, checks the API version and every capability we use, creates
 * the VM with an in-kernel irqchip and PIT. Returns 0 or -errno with one
 * sentence in err (naming the missing capability, or what failed). */
int kvm_create_vm(struct kvm *kvm, char *err, size_t err_len);
void kvm_destroy(struct kvm *kvm);

/* Maps [gpa, gpa + size) to host memory as memory slot `slot`. */
int kvm_set_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		   uint32_t flags);

/* Sets the level of an irqchip input (GSI); ISA IRQs 0-15 are GSIs 0-15. */
int kvm_set_irq_line(struct kvm *kvm, unsigned int gsi, bool level);

/* Number of irqchip inputs (the IOAPIC's pins) userspace drives. */
#define KVM_IRQCHIP_GSIS 24

/*
 * The in-kernel interrupt controllers and PIT back to their power-on state
 * (for an in-place reset, the vCPUs stopped): every GSI userspace drives is
 * lowered (KVM keeps each source's level apart from the chip state, so a
 * line left high would hide the next raise), then the PICs, IOAPIC and PIT
 * get the state kvm_create_vm() read right after creating them — what KVM
 * itself sets on creation (kvm_pic_reset, kvm_ioapic_reset, kvm_pit_reset),
 * so a reset guest sees what its first boot saw. 0 or -errno.
 */
int kvm_reset_chips(struct kvm *kvm);

const char *kvm_flavour_name(enum kvm_flavour flavour);

/* True when this host's CPU is QEMU's TCG emulator (CPUID 0x40000000 says
 * "TCGTCGTCGTCG"): /dev/kvm is then KVM on TCG's emulated SVM or VMX. */
bool kvm_host_cpu_is_qemu_tcg(void);

#endif
