#include "guest.h"
#include "kernel.h"
#include "layout.h"

/* 8259 initialisation (Intel 8259A datasheet: ICW1-ICW4, then OCW1). */
#define PIC_MASTER_CMD  0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD   0xA0
#define PIC_SLAVE_DATA  0xA1
#define PIC_ICW1_INIT_ICW4 0x11
#define PIC_ICW3_MASTER_SLAVE_ON_IRQ2 0x04
#define PIC_ICW3_SLAVE_ID 0x02
#define PIC_ICW4_8086   0x01

/* Local APIC (Intel SDM vol. 3 ch. 11): only used to pass 8259 interrupts
 * through ("virtual wire"). */
#define CPUID_1_EDX_APIC (1u << 9)
#define MSR_APIC_BASE   0x1B
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_ADDR_MASK 0xFFFFF000ull
#define LAPIC_SVR       0xF0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_EXTINT 0x700          /* delivery mode ExtINT, edge, unmasked */
#define LAPIC_LVT_NMI   0x400

#define IDT_GATE_INTERRUPT 0x8E         /* present, DPL 0, 64-bit interrupt gate */
#define IDT_GATE_BYTES  16
#define IST_DOUBLE_FAULT 1
#define VECTOR_DOUBLE_FAULT 8
#define TSS_TYPE_AVAILABLE 0x89         /* present, 64-bit TSS (available) */

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void tss_install(void)
{
	uint64_t base = (uintptr_t)tss;

	gdt[GDT_TSS / 8] = (TSS_LIMIT & 0xFFFFull) |
			   (base & 0xFFFFFFull) << 16 |
			   (uint64_t)TSS_TYPE_AVAILABLE << 40 |
			   ((TSS_LIMIT >> 16) & 0xFull) << 48 |
			   ((base >> 24) & 0xFFull) << 56;
	gdt[GDT_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
}

static void idt_set(unsigned vector, uint64_t handler, unsigned ist)
{
	uint8_t *g = idt + vector * IDT_GATE_BYTES;
	uint32_t *w = (uint32_t *)g;

	w[0] = (uint32_t)(handler & 0xFFFF) | (uint32_t)GDT_KERNEL_CS << 16;
	w[1] = ist | (uint32_t)IDT_GATE_INTERRUPT << 8 | (uint32_t)(handler & 0xFFFF0000);
	w[2] = (uint32_t)(handler >> 32);
	w[3] = 0;
}

static void idt_install(void)
{
	struct descriptor_pointer p = { IDT_VECTORS * IDT_GATE_BYTES - 1, (uintptr_t)idt };

	for (unsigned v = 0; v < EXCEPTION_VECTORS; v++)
		idt_set(v, exception_stubs[v], v == VECTOR_DOUBLE_FAULT ? IST_DOUBLE_FAULT : 0);
	for (unsigned i = 0; i < IRQ_LINES; i++)
		idt_set(IRQ_VECTOR_BASE + i, irq_stubs[i], 0);
	idt_set(LAPIC_SPURIOUS_VECTOR, (uintptr_t)lapic_spurious_stub, 0);
	__asm__ volatile("lidt %0" : : "m"(p));
}

/* Remaps the PICs to 0x20-0x2F and masks every line: firmware (SeaBIOS,
 * qboot) leaves them at 0x08/0x70 with the PIT running, which would land
 * IRQ 0 on the #DF vector once ring 3 runs with IF set. */
static void pic_init(void)
{
	outb(PIC_ICW1_INIT_ICW4, PIC_MASTER_CMD);
	outb(PIC_ICW1_INIT_ICW4, PIC_SLAVE_CMD);
	outb(IRQ_VECTOR_BASE, PIC_MASTER_DATA);
	outb(IRQ_VECTOR_BASE + 8, PIC_SLAVE_DATA);
	outb(PIC_ICW3_MASTER_SLAVE_ON_IRQ2, PIC_MASTER_DATA);
	outb(PIC_ICW3_SLAVE_ID, PIC_SLAVE_DATA);
	outb(PIC_ICW4_8086, PIC_MASTER_DATA);
	outb(PIC_ICW4_8086, PIC_SLAVE_DATA);
	outb(0xFF, PIC_MASTER_DATA);
	outb(0xFF, PIC_SLAVE_DATA);
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

/*
 * Routes 8259 interrupts through the local APIC as ExtINT (LINT0), the
 * "virtual wire" mode a PC BIOS sets up. KVM's reset state already has it,
 * but QEMU microvm's firmware (qboot) leaves LINT0 masked, and while the
 * APIC is enabled a masked LINT0 drops every PIC interrupt. Skipped when
 * there is no enabled APIC: then the PIC drives the CPU directly.
 */
static void lapic_virtual_wire(void)
{
	uint32_t eax = 1, ebx, ecx = 0, edx;
	volatile uint32_t *lapic;
	uint64_t base;

	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	if (!(edx & CPUID_1_EDX_APIC))
		return;
	base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		return;
	lapic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	lapic[LAPIC_SVR / 4] = LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR;
	lapic[LAPIC_LVT_LINT0 / 4] = LAPIC_LVT_EXTINT;
	lapic[LAPIC_LVT_LINT1 / 4] = LAPIC_LVT_NMI;
}

void kernel_main(uint32_t start_info_paddr)
{
	tss_install();
	idt_install();
	pic_init();
	lapic_virtual_wire();
	/* Enter user_start as if called: RSP = 8 mod 16. */
	enter_user((uintptr_t)user_start, (uintptr_t)user_stack_top - 8, start_info_paddr);
}

static const char *const exception_names[EXCEPTION_VECTORS] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "RSV",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "RSV", "RSV",
	"RSV", "RSV", "RSV", "RSV", "#HV", "#VC", "#SX", "RSV",
};

void kernel_trap(const struct trap_frame *f)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	serial_printf("fatal: cpu exception vector=%lu name=%s error=0x%lx rip=0x%lx"
		      " cs=0x%lx rflags=0x%lx rsp=0x%lx cr2=0x%lx\n",
		      f->vector, f->vector < EXCEPTION_VECTORS ? exception_names[f->vector] : "?",
		      f->error, f->rip, f->cs, f->rflags, f->rsp, cr2);
	outb(GUEST_EXIT_EXCEPTION, GUEST_EXIT_PORT);
	for (;;)
		__asm__ volatile("cli; hlt");
}
