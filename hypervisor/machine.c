#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor/boot.h"
#include "hypervisor/loader.h"
#include "hypervisor/log.h"
#include "hypervisor/stack_sizes.h"
#include "hypervisor/thread.h"
#include "hypervisor/vmstop.h"
#include "vnc/vnc.h"

static void machine_set_irq(void *ctx, unsigned int gsi, bool level)
{
	struct machine *m = ctx;
	int ret = kvm_set_irq_line(&m->kvm, gsi, level);

	if (ret < 0)
		log_ratelimited(LOG_ERROR, "machine", "KVM_IRQ_LINE gsi=%u: %s", gsi,
				strerror(-ret));
}

static struct irq_line machine_irq(struct machine *m, unsigned int gsi)
{
	return (struct irq_line){ .set_level = machine_set_irq, .ctx = m, .gsi = gsi };
}

static void serial_out_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct machine *m = ctx;

	while (len && m->serial_out_fd >= 0) {
		ssize_t w = write(m->serial_out_fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_ratelimited(LOG_WARN, "serial", "output write failed: %s",
					w < 0 ? strerror(errno) : "short write");
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

static void serial_rx_space(void *ctx)
{
	struct machine *m = ctx;
	uint64_t one = 1;

	if (write(m->serial_rx_efd, &one, sizeof(one)) < 0) {
		/* The eventfd counter cannot overflow here; EAGAIN means already set. */
	}
}

static int open_serial_output(struct machine *m, char *err, size_t err_len)
{
	switch (m->cfg->serial) {
	case SERIAL_STDIO:
		m->serial_out_fd = STDOUT_FILENO;
		return 0;
	case SERIAL_NONE:
		m->serial_out_fd = -1;
		return 0;
	case SERIAL_FILE:
		m->serial_out_fd = open(m->cfg->serial_path,
					O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (m->serial_out_fd < 0) {
			snprintf(err, err_len, "--serial file:%s: %s", m->cfg->serial_path,
				 strerror(errno));
			return EXIT_STATUS_USAGE;
		}
		return 0;
	}
	return EXIT_STATUS_USAGE;
}

/* With dirty logging when a display frontend reads the framebuffer: ramfb
 * lives anywhere in RAM, so every RAM slot is logged (manual protect re-arms
 * only the pages the tracker fetched, so the rest of RAM costs nothing after
 * its first write). */
static int map_guest_ram(struct machine *m, char *err, size_t err_len)
{
	dirty_log_init(&m->dirty_log, &m->kvm, m->cfg->vnc_enabled);
	m->dirty_log_ready = true;
	log_debug("machine", "dirty logging: %s", dirty_log_mode_name(m->dirty_log.mode));
	for (unsigned int i = 0; i < m->mem.count; i++) {
		const struct guest_mem_region *r = &m->mem.regions[i];
		int ret = dirty_log_map_slot(&m->dirty_log, &m->kvm, i, r->gpa, r->size, r->host);
		if (ret < 0) {
			snprintf(err, err_len, "KVM_SET_USER_MEMORY_REGION slot %u (%" PRIu64
				 " MiB at 0x%" PRIx64 "): %s", i, r->size >> 20, r->gpa,
				 strerror(-ret));
			return EXIT_STATUS_HOST;
		}
	}
	return 0;
}

static int create_devices(struct machine *m, char *err, size_t err_len)
{
	const struct serial_backend backend = {
		.write = m->serial_out_fd >= 0 ? serial_out_write : NULL,
		.rx_space = serial_rx_space,
		.ctx = m,
	};
	int ret;

	bus_init(&m->bus);
	ret = serial_init(&m->serial, &m->bus, SERIAL_COM1_BASE, machine_irq(m, SERIAL_COM1_GSI),
			  &backend);
	if (ret == 0)
		ret = debug_exit_init(&m->debug_exit, &m->bus, DEBUG_EXIT_PORT);
	if (ret == 0)
		ret = reset_control_init(&m->reset_control, &m->bus);
	if (ret == 0) {
		ret = fw_cfg_init(&m->fw_cfg, &m->bus, &m->mem);
		m->fw_cfg_ready = ret == 0;
	}
	if (ret == 0) {
		display_init(&m->display);
		m->display_ready = true;
		ret = ramfb_init(&m->ramfb, &m->fw_cfg, &m->display, &m->mem);
		m->ramfb_ready = ret == 0;
	}
	if (ret == 0)
		ret = i8042_init(&m->i8042, &m->bus, machine_irq(m, I8042_KBD_IRQ),
				 machine_irq(m, I8042_AUX_IRQ));
	if (ret < 0) {
		snprintf(err, err_len, "device setup failed: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	return 0;
}

/* The VNC server on the tracker's shadow, listening before any thread runs so
 * a busy port is a start-up error (EXIT_STATUS_USAGE: the fix is another
 * --vnc value). */
static int create_vnc(struct machine *m, char *err, size_t err_len)
{
	const struct vnc_config vcfg = {
		.host = m->cfg->vnc_host,
		.port = m->cfg->vnc_port,
		.desktop_name = "fbvm",
	};
	struct dirty_source dirty = { .fetch = dirty_log_fetch, .ctx = &m->dirty_log };
	int ret;

	if (!m->cfg->vnc_enabled)
		return 0;
	ret = tracker_init(&m->tracker, &m->display, &m->mem, dirty);
	if (ret < 0) {
		snprintf(err, err_len, "display tracker: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	m->tracker_ready = true;
	ret = vnc_create(&m->vnc, &vcfg, &m->tracker, i8042_input_sink(&m->i8042), err,
			 err_len);
	switch (ret) {
	case 0:
		return 0;
	case -EADDRINUSE:
	case -EADDRNOTAVAIL:
	case -EACCES:
	case -EINVAL:
		return EXIT_STATUS_USAGE;
	default:
		return EXIT_STATUS_HOST;
	}
}

int machine_create(struct machine *m, const struct run_config *cfg, const uint8_t *kernel,
		   size_t kernel_size, const uint8_t *initrd, size_t initrd_size, char *err,
		   size_t err_len)
{
	struct boot_request req = { .cmdline = cfg->cmdline, .initrd = initrd,
				    .initrd_size = initrd_size };
	struct boot_entry entry;
	char load_err[256];
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->kvm.sys_fd = m->kvm.vm_fd = -1;
	m->serial_out_fd = -1;
	m->start_ms = log_now_ms();
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
		m->vcpus[i].fd = -1;
	m->serial_rx_efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->serial_rx_efd < 0) {
		snprintf(err, err_len, "eventfd: %s", strerror(errno));
		return EXIT_STATUS_HOST;
	}

	ret = guest_mem_init(&m->mem, cfg->mem_bytes);
	if (ret < 0) {
		snprintf(err, err_len, "--mem %" PRIu64 "M: %s", cfg->mem_bytes >> 20,
			 ret == -ENOMEM ? "the host cannot map that much guest RAM"
					: "must be between 16M and 64G, a multiple of 4K");
		return EXIT_STATUS_USAGE;
	}
	ret = loader_load(&m->mem, kernel, kernel_size, &req, &entry, load_err, sizeof(load_err));
	if (ret < 0) {
		snprintf(err, err_len, "--kernel %s: %s", cfg->kernel_path, load_err);
		return EXIT_STATUS_USAGE;
	}
	ret = open_serial_output(m, err, err_len);
	if (ret)
		return ret;

	if (kvm_create_vm(&m->kvm, load_err, sizeof(load_err)) < 0) {
		snprintf(err, err_len, "%s", load_err);
		return EXIT_STATUS_HOST;
	}
	log_debug("kvm", "found %s", kvm_flavour_name(m->kvm.flavour));
	ret = map_guest_ram(m, err, err_len);
	if (ret)
		return ret;
	ret = create_devices(m, err, err_len);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++) {
		if (vcpu_create(&m->vcpus[i], &m->kvm, &m->bus, i, err, err_len) < 0)
			return EXIT_STATUS_HOST;
	}
	ret = vcpu_set_boot_state(&m->vcpus[0], &entry);
	if (ret < 0) {
		snprintf(err, err_len, "setting the boot registers: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	ret = create_vnc(m, err, err_len);
	if (ret)
		return ret;
	log_debug("machine", "loaded %s entry=0x%" PRIx64 " boot_info=0x%" PRIx64
		  " mem=%" PRIu64 "M", cfg->kernel_path, entry.entry, entry.boot_info_gpa,
		  cfg->mem_bytes >> 20);
	return 0;
}

int machine_start(struct machine *m, char *err, size_t err_len)
{
	if (m->vnc) {
		int ret = vnc_start(m->vnc);
		if (ret < 0) {
			snprintf(err, err_len, "starting thread vnc: %s", strerror(-ret));
			return EXIT_STATUS_HOST;
		}
	}
	vcpu_install_kick_handler();
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++) {
		int ret = thread_start(&m->vcpu_threads[i], m->vcpus[i].name, STACK_VCPU_BYTES,
				       vcpu_thread_main, &m->vcpus[i]);
		if (ret < 0) {
			snprintf(err, err_len, "starting thread %s: %s", m->vcpus[i].name,
				 strerror(-ret));
			return EXIT_STATUS_HOST;
		}
		m->vcpus_started++;
	}
	return 0;
}

void machine_join(struct machine *m)
{
	for (unsigned int i = 0; i < m->vcpus_started; i++) {
		/* Kick until the thread has left KVM_RUN; a kick can race with
		 * the thread starting, so repeat until it is gone. */
		while (!atomic_load(&m->vcpus[i].started))
			usleep(1000);
		vcpu_kick(&m->vcpus[i]);
		thread_join(m->vcpu_threads[i], NULL);
		m->vcpu_threads[i] = NULL;
	}
	m->vcpus_started = 0;
	vnc_stop(m->vnc);
}

void machine_watchdog_tick(struct machine *m)
{
	for (unsigned int i = 0; i < m->vcpus_started; i++)
		vcpu_watchdog_tick(&m->vcpus[i]);
}

void machine_print_stats(struct machine *m, FILE *out)
{
	fprintf(out, "stats: kvm: %s\n", kvm_flavour_name(m->kvm.flavour));
	fprintf(out, "stats: ran %" PRIu64 " ms, guest RAM %" PRIu64 " MiB\n",
		log_now_ms() - m->start_ms, m->mem.ram_bytes >> 20);
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
		fprintf(out, "stats: %s: exits=%" PRIu64 " pio=%" PRIu64 " mmio=%" PRIu64 "\n",
			m->vcpus[i].name, (uint64_t)atomic_load(&m->vcpus[i].exits),
			m->vcpus[i].io_exits, m->vcpus[i].mmio_exits);
	thread_print_stats(out);
	bus_print_stats(&m->bus, out);
	serial_print_stats(&m->serial, out);
	fw_cfg_print_stats(&m->fw_cfg, out);
	ramfb_print_stats(&m->ramfb, out);
	i8042_print_stats(&m->i8042, out);
	dirty_log_print_stats(&m->dirty_log, out);
	if (m->vnc) {
		tracker_print_stats(&m->tracker, out);
		vnc_print_stats(m->vnc, out);
	}
}

void machine_destroy(struct machine *m)
{
	vnc_destroy(m->vnc);
	m->vnc = NULL;
	if (m->tracker_ready)
		tracker_destroy(&m->tracker);
	if (m->ramfb_ready)
		ramfb_destroy(&m->ramfb);
	if (m->fw_cfg_ready)
		fw_cfg_destroy(&m->fw_cfg);
	if (m->display_ready)
		display_destroy(&m->display);
	m->tracker_ready = m->ramfb_ready = m->fw_cfg_ready = m->display_ready = false;
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
		if (m->vcpus[i].fd >= 0)
			vcpu_destroy(&m->vcpus[i]);
	if (m->dirty_log_ready)
		dirty_log_destroy(&m->dirty_log);
	m->dirty_log_ready = false;
	if (m->kvm.sys_fd >= 0)
		kvm_destroy(&m->kvm);
	guest_mem_destroy(&m->mem);
	if (m->serial_out_fd > STDERR_FILENO)
		close(m->serial_out_fd);
	if (m->serial_rx_efd >= 0)
		close(m->serial_rx_efd);
	m->serial_out_fd = m->serial_rx_efd = -1;
}
