/* Ring-3 start: the first code after kernel_main()'s iretq. */
#include "guest.h"
#include "kernel.h"

extern char __bss_start[], __bss_end[];

void user_start(uint64_t start_info_paddr)
{
	/* PVH loaders zero .bss (ELF p_memsz), but a reset or a sloppy loader
	 * may not; this costs nothing natively. Nothing is masked-in yet, so no
	 * interrupt handler touches .bss meanwhile. */
	memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
	serial_init();
	if (boot_init(start_info_paddr) < 0) {
		serial_printf("runtime: no hvm_start_info at ebx=0x%lx (want magic 0x%x)\n",
			      start_info_paddr, HVM_START_MAGIC);
		guest_exit(GUEST_EXIT_BAD_BOOT);
	}
	cmdline_init(boot_start_info()->cmdline_paddr);
	guest_exit(main());
}

void guest_exit(int code)
{
	outb((uint8_t)code, GUEST_EXIT_PORT);
	serial_printf("runtime: exit code=%d ignored (no test-exit device at port 0x%x), idling\n",
		      code, GUEST_EXIT_PORT);
	for (;;)
		irq_wait(irq_seq);
}
