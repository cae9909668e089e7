/*
 * The board: creates the VM, guest memory and every device, and wires them
 * together. The only place in hypervisor/ that names devices.
 */
#ifndef FBVM_MACHINE_H
#define FBVM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/acpi_pm.h"
#include "devices/cmos.h"
#include "hypervisor/coalesced_io.h"
#include "devices/debug_exit.h"
#include "devices/display.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/ramfb.h"
#include "devices/serial.h"
#include "devices/vga.h"
#include "devices/vmmouse.h"
#include "display/share.h"
#include "display/tracker.h"
#include "hypervisor/boot.h"
#include "hypervisor/bus.h"
#include "hypervisor/cli.h"
#include "hypervisor/dirty_log.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/kvm.h"
#include "hypervisor/vcpu.h"

#define MACHINE_VCPUS 1

/* The mode fbvm sets up as a Linux guest's boot display, with either
 * --display: 1024x768 XRGB8888, bochs-drm's preferred mode (its defx/defy),
 * so the screen keeps its size when that driver takes over; 3 MiB, so it
 * fits the smallest VRAM bochs-drm accepts (4 MiB). */
#define MACHINE_BOOT_FB_WIDTH  1024u
#define MACHINE_BOOT_FB_HEIGHT 768u
#define MACHINE_BOOT_FB_STRIDE (MACHINE_BOOT_FB_WIDTH * 4u)
/* The --display ramfb region at MEMMAP_BOOT_FB_BASE: exactly the boot mode
 * (a multiple of 64 KiB, the unit screen_info counts in). */
#define MACHINE_BOOT_FB_BYTES  ((uint64_t)MACHINE_BOOT_FB_STRIDE * MACHINE_BOOT_FB_HEIGHT)

struct control_server;
struct thread;
struct vnc_server;

struct machine {
	const struct run_config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct bus bus;
	struct serial serial;
	struct debug_exit debug_exit;
	struct pci_host pci;             /* 0xCF8-0xCFF: config mechanism #1 and reset (0xCF9) */
	struct cmos cmos;
	struct acpi_pm acpi_pm;          /* 0x600: PM1a and the PM timer; S5 powers off */
	struct coalesced_io coalesced;   /* the RTC index port, as QEMU coalesces it */
	struct vga vga;                  /* PCI 00:02.0, VRAM in guest_mem's device memory */
	uint64_t vram_gpa;               /* BAR0 */
	bool linux_guest;                /* a bzImage: fbvm sets up the boot display */
	struct dirty_log dirty_log;      /* on every memory slot, when a display frontend runs */
	struct fw_cfg fw_cfg;
	struct display display;
	struct ramfb ramfb;
	struct i8042 i8042;
	struct vmmouse vmmouse;          /* port 0x5658, in front of the i8042's mouse */
	struct tracker tracker;          /* when a display frontend runs (--vnc, --sdl) */
	struct display_share share;      /* --sdl: the tracker's changes for the window */
	struct vnc_server *vnc;          /* NULL with --vnc none */
	struct control_server *control;  /* NULL without --control */
	bool dirty_log_ready, fw_cfg_ready, display_ready, ramfb_ready, tracker_ready;
	bool share_ready;
	bool pci_ready, cmos_ready, vga_ready, acpi_pm_ready;
	struct vcpu vcpus[MACHINE_VCPUS];
	struct thread *vcpu_threads[MACHINE_VCPUS];
	unsigned int vcpus_started;
	/* The images machine_create() loaded, kept (the caller's buffers) for
	 * machine_reset() to load again. */
	const uint8_t *kernel, *initrd;
	size_t kernel_size, initrd_size;
	uint64_t resets;       /* in-place resets done */
	int serial_out_fd;     /* where COM1 output goes; -1 for none */
	int serial_rx_efd;     /* readable when COM1 can take more input */
	uint64_t start_ms;
};

/* Guest-physical base of std VGA VRAM of vram_bytes (a power of two, at
 * most VGA_VRAM_MAX_BYTES): the highest base aligned to the size that ends at
 * or below BAR2 (memmap.h). 0xFD000000 for 16 MiB. */
uint64_t machine_vram_gpa(uint64_t vram_bytes);

/*
 * The framebuffer fbvm sets up before a Linux guest starts, as the loader
 * describes it in screen_info: the boot mode (MACHINE_BOOT_FB_*) in VRAM at
 * machine_vram_gpa() with the whole VRAM as its region (BOOT_DISPLAY_VGA),
 * or in MACHINE_BOOT_FB_BYTES of device memory at MEMMAP_BOOT_FB_BASE
 * (BOOT_DISPLAY_RAMFB). Neither is RAM: both lie in the hole below 4 GiB
 * that e820 marks reserved. 0, or -ENOSPC when the boot mode does not fit
 * vram_bytes (vga with less than 4 MiB).
 */
int machine_boot_framebuffer(enum boot_display display, uint64_t vram_bytes,
			     struct boot_framebuffer *fb);

/*
 * Builds the machine for cfg from the kernel (and initrd) bytes: guest RAM,
 * device memory (VRAM; for a Linux guest with --display ramfb its boot
 * framebuffer), the ACPI tables, the image loaded (told where the RSDP is), KVM VM (every RAM and device-memory slot
 * dirty-logged when the VNC server runs), vCPUs, devices (serial,
 * debug-exit, PCI host with reset control, CMOS, ACPI PM, fw_cfg, ramfb, std VGA,
 * i8042), a Linux guest's boot display programmed, and the VNC server, bound
 * and listening. Starts no thread. Returns 0, or an exit status
 * (EXIT_STATUS_USAGE for a bad image or value, or a --vnc address that
 * cannot be bound; EXIT_STATUS_HOST for a host failure) with one line in err.
 * machine_destroy() is safe after either.
 */
int machine_create(struct machine *m, const struct run_config *cfg, const uint8_t *kernel,
		   size_t kernel_size, const uint8_t *initrd, size_t initrd_size, char *err,
		   size_t err_len);

/*
 * The control socket's system_reset: reboots the guest in place and keeps
 * fbvm running. Pauses every vCPU outside KVM_RUN; puts each device back to
 * its power-on state (its _reset function), the display to "no frame yet",
 * the in-kernel PICs/IOAPIC/PIT to what KVM created; zeroes all guest RAM
 * and device memory (fbvm has no firmware to re-run: the kernel, initrd,
 * boot structures and ACPI tables are loaded again by the same loaders, so
 * the guest finds exactly what its first boot found, and nothing of the
 * old run); sets the vCPU's power-on and boot registers; resumes. Any
 * thread but a vCPU's. 0; -ECANCELED when a VM stop came first; another
 * -errno when the reset failed half-way (then a host-error stop is
 * requested: the guest would run on a half-reset machine).
 */
int machine_reset(struct machine *m);

/* Starts the vnc thread (when configured), then the vCPU threads. 0 or an
 * exit status with err set. */
int machine_start(struct machine *m, char *err, size_t err_len);

/* Asks every vCPU to leave KVM_RUN (after vm_request_stop) and joins them,
 * then stops the VNC server (its clients are disconnected). */
void machine_join(struct machine *m);

/* Where a frontend's keyboard and pointer go: the vmmouse, which passes
 * keys to the i8042 and pointer events to whichever mouse the guest uses. */
struct input_sink machine_input_sink(struct machine *m);

/* About once a second from the main loop: the halt-with-interrupts-off check. */
void machine_watchdog_tick(struct machine *m);

/* The --stats report: KVM flavour, threads' stacks, exits, device counters. */
void machine_print_stats(struct machine *m, FILE *out);

void machine_destroy(struct machine *m);

#endif
