#include "kvm.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Addresses VMX needs for its real-mode TSS and identity map; inside the
 * device hole below 4 GiB, above everything else we map there. */
#define KVM_TSS_GPA          0xFFFBD000ull
#define KVM_IDENTITY_MAP_GPA 0xFFFBC000ull
#define KVM_CPUID_MAX_ENTRIES 256

struct required_cap {
	int cap;
	const char *name;
};

static const struct required_cap required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

static enum kvm_flavour detect_flavour(void)
{
	/* The PVM module registers itself under this name. */
	return access("/sys/module/kvm_pvm", F_OK) == 0 ? KVM_FLAVOUR_PVM : KVM_FLAVOUR_HARDWARE;
}

bool kvm_host_cpu_is_qemu_tcg(void)
{
	unsigned int eax, ebx, ecx, edx;
	char sig[13];

	__cpuid(1, eax, ebx, ecx, edx);
	if (!(ecx & (1u << 31)))   /* no hypervisor: no hypervisor leaves */
		return false;
	__cpuid(0x40000000, eax, ebx, ecx, edx);
	memcpy(sig, &ebx, 4);
	memcpy(sig + 4, &ecx, 4);
	memcpy(sig + 8, &edx, 4);
	sig[12] = '\0';
	return strcmp(sig, "TCGTCGTCGTCG") == 0;
}

const char *kvm_flavour_name(enum kvm_flavour flavour)
{
	return flavour == KVM_FLAVOUR_PVM ? "PVM (kvm_pvm: guest ring 0 emulated, ring 3 native)"
					  : "hardware-virtualised (VMX/SVM)";
}

/* CPUID.1:ECX bit 31 says "running under a hypervisor". KVM does not set it
 * in KVM_GET_SUPPORTED_CPUID (QEMU sets it itself); without it Linux never
 * looks at KVM's 0x40000000 leaves, so it has no kvm-clock, cannot learn
 * the TSC's rate and calibrates its delay loop on PIT ticks, which hung
 * most boots in a slow nested L1 (README, Linux). */
static void kvm_cpuid_mark_hypervisor(struct kvm_cpuid2 *cpuid)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= 1u << 31;
	}
}

struct kvm_chips_power_on {
	struct kvm_irqchip chips[3];   /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static int save_chips_power_on(struct kvm *kvm)
{
	struct kvm_chips_power_on *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (unsigned int i = 0; i < 3; i++) {
		p->chips[i].chip_id = i;   /* KVM_IRQCHIP_PIC_MASTER, _SLAVE, _IOAPIC */
		if (ioctl(kvm->vm_fd, KVM_GET_IRQCHIP, &p->chips[i]) < 0)
			goto fail;
	}
	if (ioctl(kvm->vm_fd, KVM_GET_PIT2, &p->pit) < 0)
		goto fail;
	kvm->chips_power_on = p;
	return 0;
fail:;
	int ret = -errno;
	free(p);
	return ret;
}

int kvm_reset_chips(struct kvm *kvm)
{
	struct kvm_chips_power_on *p = kvm->chips_power_on;

	if (!p)
		return -EINVAL;
	for (unsigned int gsi = 0; gsi < KVM_IRQCHIP_GSIS; gsi++) {
		int ret = kvm_set_irq_line(kvm, gsi, false);
		if (ret < 0)
			return ret;
	}
	for (unsigned int i = 0; i < 3; i++) {
		struct kvm_irqchip chip = p->chips[i];
		if (ioctl(kvm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return -errno;
	}
	struct kvm_pit_state2 pit = p->pit;
	if (ioctl(kvm->vm_fd, KVM_SET_PIT2, &pit) < 0)
		return -errno;
	return 0;
}

int kvm_create_vm(struct kvm *kvm, char *err, size_t err_len)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret, version, mmap_bytes;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, err_len, "/dev/kvm API version %d, need %d", version, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(err, err_len, "KVM lacks required capability %s",
				 required_caps[i].name);
			ret = -ENOTSUP;
			goto fail;
		}
	}
	mmap_bytes = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_bytes <= 0) {
		snprintf(err, err_len, "KVM_GET_VCPU_MMAP_SIZE failed");
		ret = -ENOTSUP;
		goto fail;
	}
	kvm->run_mmap_bytes = (size_t)mmap_bytes;
	kvm->flavour = detect_flavour();

	kvm->cpuid = calloc(1, sizeof(*kvm->cpuid) +
				       KVM_CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!kvm->cpuid) {
		ret = -ENOMEM;
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	kvm->cpuid->nent = KVM_CPUID_MAX_ENTRIES;
	if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, kvm->cpuid) < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		goto fail;
	}
	kvm_cpuid_mark_hypervisor(kvm->cpuid);

	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	/* Only VMX needs these; other flavours don't offer the capability. */
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
	    ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA) < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = KVM_IDENTITY_MAP_GPA;
		if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
			ret = -errno;
			snprintf(err, err_len, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
			goto fail;
		}
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto fail;
	}
	/* The dummy speaker port keeps port 0x61 in the kernel. */
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		snprintf(err, err_len, "KVM_CREATE_PIT2: %s", strerror(errno));
		goto fail;
	}
	ret = save_chips_power_on(kvm);
	if (ret < 0) {
		snprintf(err, err_len, "reading the irqchip and PIT state: %s", strerror(-ret));
		goto fail;
	}
	return 0;

fail:
	kvm_destroy(kvm);
	return ret;
}

void kvm_destroy(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	free(kvm->cpuid);
	kvm->cpuid = NULL;
	free(kvm->chips_power_on);
	kvm->chips_power_on = NULL;
	kvm->vm_fd = kvm->sys_fd = -1;
}

int kvm_set_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
		   uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	return ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int kvm_set_irq_line(struct kvm *kvm, unsigned int gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}
