/*
 * fault: raises a CPU exception in ring 3 so tests can check the runtime's
 * report. Command line fault=ud (default) | gp | pf | de. Output:
 *
 *     fault: raising #UD
 *     fatal: cpu exception vector=6 name=#UD error=0x0 rip=0x... cs=0x...
 *
 * and exit code GUEST_EXIT_EXCEPTION (VMM exit status 7). The rest of the
 * fatal line (addresses, CS, which under PVM reads back as the host's user
 * selector) varies; match the prefix up to the error code. #PF reports
 * error=0x6 (user write, not present) and cr2=0x100000000.
 */
#include "runtime/guest.h"

/* Just above the 4 GiB the runtime maps. */
#define FAULT_UNMAPPED_ADDR 0x100000000ull

int main(void)
{
	char kind[8] = "ud";

	if (cmdline_get("fault", kind, sizeof(kind)) == -ENOSPC)
		kind[0] = '\0';
	if (str_eq(kind, "ud")) {
		serial_printf("fault: raising #UD\n");
		__asm__ volatile("ud2");
	} else if (str_eq(kind, "gp")) {
		uint64_t cr0;

		serial_printf("fault: raising #GP\n");
		__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));     /* privileged at CPL 3 */
		(void)cr0;
	} else if (str_eq(kind, "pf")) {
		serial_printf("fault: raising #PF\n");
		*(volatile uint32_t *)(uintptr_t)FAULT_UNMAPPED_ADDR = 1;
	} else if (str_eq(kind, "de")) {
		uint32_t eax = 1, edx = 0, divisor = 0;

		serial_printf("fault: raising #DE\n");
		/* In asm: gcc folds 1 / x into a comparison. */
		__asm__ volatile("divl %2" : "+a"(eax), "+d"(edx) : "r"(divisor));
	} else {
		serial_printf("fault: error bad fault (want ud, gp, pf or de)\n");
		return GUEST_EXIT_FAIL;
	}
	serial_printf("fault: no exception\n");
	return GUEST_EXIT_FAIL;
}
