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

#include "devices/debug_exit.h"
#include "devices/display.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/ramfb.h"
#include "devices/reset_control.h"
#include "devices/serial.h"
#include "display/tracker.h"
#include "hypervisor/bus.h"
#include "hypervisor/cli.h"
#include "hypervisor/dirty_log.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/kvm.h"
#include "hypervisor/vcpu.h"

#define MACHINE_VCPUS 1

struct thread;
struct vnc_server;

struct machine {
	const struct run_config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct bus bus;
	struct serial serial;
	struct debug_exit debug_exit;
	struct reset_control reset_control;
	struct dirty_log dirty_log;      /* on the RAM slots, when a display frontend runs */
	struct fw_cfg fw_cfg;
	struct display display;
	struct ramfb ramfb;
	struct i8042 i8042;
	struct tracker tracker;          /* the VNC frontend's, when --vnc is not none */
	struct vnc_server *vnc;          /* NULL with --vnc none */
	bool dirty_log_ready, fw_cfg_ready, display_ready, ramfb_ready, tracker_ready;
	struct vcpu vcpus[MACHINE_VCPUS];
	struct thread *vcpu_threads[MACHINE_VCPUS];
	unsigned int vcpus_started;
	int serial_out_fd;     /* where COM1 output goes; -1 for none */
	int serial_rx_efd;     /* readable when COM1 can take more input */
	uint64_t start_ms;
};

/*
 * Builds the machine for cfg from the kernel (and initrd) bytes: guest RAM,
 * the image loaded, KVM VM (dirty logging on the RAM slots when the VNC server
 * runs), vCPUs, devices (serial, debug-exit, reset, fw_cfg, ramfb, i8042) and
 * the VNC server, bound and listening. Starts no thread. Returns 0, or an exit
 * status (EXIT_STATUS_USAGE for a bad image or value, or a --vnc address that
 * cannot be bound; EXIT_STATUS_HOST for a host failure) with one line in err.
 * machine_destroy() is safe after either.
 */
int machine_create(struct machine *m, const struct run_config *cfg, const uint8_t *kernel,
		   size_t kernel_size, const uint8_t *initrd, size_t initrd_size, char *err,
		   size_t err_len);

/* Starts the vnc thread (when configured), then the vCPU threads. 0 or an
 * exit status with err set. */
int machine_start(struct machine *m, char *err, size_t err_len);

/* Asks every vCPU to leave KVM_RUN (after vm_request_stop) and joins them,
 * then stops the VNC server (its clients are disconnected). */
void machine_join(struct machine *m);

/* About once a second from the main loop: the halt-with-interrupts-off check. */
void machine_watchdog_tick(struct machine *m);

/* The --stats report: KVM flavour, threads' stacks, exits, device counters. */
void machine_print_stats(struct machine *m, FILE *out);

void machine_destroy(struct machine *m);

#endif
