/*
 * The guest runtime: what a test guest's main() can use. A guest provides
 *
 *     int main(void);
 *
 * which runs in ring 3 (IOPL 3, IF set, every I/O port allowed) on a 64 KiB
 * stack, after .bss is cleared, COM1 is initialised and the command line is
 * parsed. Returning from main() calls guest_exit() with its value.
 *
 * Memory is identity-mapped (virtual = physical) for the first 4 GiB, all
 * user-accessible; RAM above the image is the guest's to use, within the
 * boot memory map (boot_ram_covers()).
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "acpi.h"
#include "boot.h"
#include "cmdline.h"
#include "fmt.h"
#include "fwcfg.h"
#include "io.h"
#include "irq.h"
#include "serial.h"
#include "str.h"

/*
 * Test exit (QEMU isa-debug-exit semantics, port 0x501): writing code makes
 * the VMM exit with status (code << 1) | 1. The codes the runtime and the
 * bundled guests use:
 */
#define GUEST_EXIT_PORT         0x501
#define GUEST_EXIT_PASS         0       /* exit status 1 */
#define GUEST_EXIT_FAIL         1       /* exit status 3: a check failed, bad arguments */
#define GUEST_EXIT_NO_DEVICE    2       /* exit status 5: a device the guest needs is missing */
#define GUEST_EXIT_EXCEPTION    3       /* exit status 7: CPU exception (reported on serial) */
#define GUEST_EXIT_BAD_BOOT     4       /* exit status 9: no valid hvm_start_info */

/* Negative errno values returned by runtime functions (Linux numbering). */
#define ENOENT          2
#define EIO             5
#define E2BIG           7
#define ENODEV          19
#define EINVAL          22
#define ENOSPC          28
#define ERANGE          34
#define ENOTSUP         95
#define ETIMEDOUT       110

int main(void);

/* Writes code to the test-exit port. If the VMM has no such port the guest
 * says so on serial and idles forever. */
void guest_exit(int code) __attribute__((noreturn));

/* Start and end of the loaded image (guest.ld), page-aligned. */
extern char __image_start[], __image_end[];

#endif
