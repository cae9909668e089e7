#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor/acpi_tables.h"
#include "hypervisor/loader.h"
#include "hypervisor/loader_linux.h"
#include "hypervisor/log.h"
#include "stack/stack_sizes.h"
#include "stack/thread.h"
#include "hypervisor/vmstop.h"
#include "control/server.h"
#include "vnc/vnc.h"

_Static_assert(CLI_VRAM_MIN_BYTES == VGA_VRAM_MIN_BYTES && CLI_VRAM_MAX_BYTES == VGA_VRAM_MAX_BYTES,
	       "--vram limits differ from the device's");
_Static_assert(CLI_DEFAULT_VRAM_BYTES == VGA_VRAM_DEFAULT_BYTES, "--vram default differs");
/* machine_vram_gpa() is lowest for the largest VRAM (every smaller size
 * lands above MEMMAP_VGA_MMIO_BASE - VGA_VRAM_MAX_BYTES); test_machine.c
 * checks each size. */
_Static_assert(MEMMAP_BOOT_FB_BASE + MACHINE_BOOT_FB_BYTES <=
	       ((MEMMAP_VGA_MMIO_BASE - VGA_VRAM_MAX_BYTES) & ~(VGA_VRAM_MAX_BYTES - 1)),
	       "the ramfb boot framebuffer reaches into the largest VRAM");
_Static_assert(MACHINE_BOOT_FB_BYTES % (64 * 1024) == 0,
	       "screen_info counts the boot framebuffer in 64 KiB units");

uint64_t machine_vram_gpa(uint64_t vram_bytes)
{
	return (MEMMAP_VGA_MMIO_BASE - vram_bytes) & ~(vram_bytes - 1);
}

int machine_boot_framebuffer(enum boot_display display, uint64_t vram_bytes,
			     struct boot_framebuffer *fb)
{
	*fb = (struct boot_framebuffer){
		.width = MACHINE_BOOT_FB_WIDTH,
		.height = MACHINE_BOOT_FB_HEIGHT,
		.stride = MACHINE_BOOT_FB_STRIDE,
		.reserved_in_ram = false,
	};
	if (display == BOOT_DISPLAY_RAMFB) {
		fb->gpa = MEMMAP_BOOT_FB_BASE;
		fb->size = MACHINE_BOOT_FB_BYTES;
		return 0;
	}
	if (vram_bytes < MACHINE_BOOT_FB_BYTES)
		return -ENOSPC;
	fb->gpa = machine_vram_gpa(vram_bytes);
	/* What a VESA BIOS reports: all of VRAM, which vesafb may map. */
	fb->size = vram_bytes;
	return 0;
}

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

/* The ACPI tables describe this board: its vCPUs and KVM's in-kernel
 * irqchip, the ACPI PM block and the reset control register. Written before
 * the image is loaded, so the loader can hand the RSDP to the kernel. */
static int write_acpi_tables(struct machine *m, uint64_t *rsdp_gpa, char *err, size_t err_len)
{
	const struct acpi_platform platform = {
		.cpus = MACHINE_VCPUS,
		.lapic_gpa = (uint32_t)MEMMAP_LAPIC_BASE,
		.ioapic_gpa = (uint32_t)MEMMAP_IOAPIC_BASE,
		.ioapic_id = 0,
		.sci_irq = ACPI_PM_SCI_IRQ,
		.pm1a_evt_port = ACPI_PM1A_EVT_PORT,
		.pm1a_cnt_port = ACPI_PM1A_CNT_PORT,
		.pm_tmr_port = ACPI_PM_TMR_PORT,
		.reset_port = RESET_CONTROL_PORT,
		/* SYS_RST | RST_CPU, QEMU's RESET_VALUE: a hard reset, status 4. */
		.reset_value = 0x06,
		.rtc_century_index = RTC_CENTURY,
	};
	struct acpi_layout layout;
	int ret = acpi_tables_write(&m->mem, &platform, &layout);

	if (ret < 0) {
		snprintf(err, err_len, "writing the ACPI tables: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	*rsdp_gpa = layout.rsdp;
	return 0;
}

/* Something looks at the screen: VNC, the SDL window or the control socket. */
static bool machine_has_frontend(const struct run_config *cfg)
{
	return cfg->vnc_enabled || cfg->sdl || cfg->control_path;
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

static int map_slot(struct machine *m, uint32_t slot, const struct guest_mem_region *r,
		    char *err, size_t err_len)
{
	int ret = dirty_log_map_slot(&m->dirty_log, &m->kvm, slot, r->gpa, r->size, r->host_base);

	if (ret < 0) {
		snprintf(err, err_len, "KVM_SET_USER_MEMORY_REGION slot %u (%s, %" PRIu64
			 " MiB at 0x%" PRIx64 "): %s", slot, r->name, r->size >> 20, r->gpa,
			 strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	return 0;
}

/* Every RAM region and every device-memory region is its own KVM slot, with
 * dirty logging when a display frontend reads the framebuffer: ramfb lives
 * anywhere in RAM, so every RAM slot is logged (manual protect re-arms only
 * the pages the tracker fetched, so the rest of RAM costs nothing after its
 * first write); VRAM and the Linux boot framebuffer are slots of their own,
 * so logging them never touches RAM. */
static int map_guest_memory(struct machine *m, char *err, size_t err_len)
{
	int ret = 0;

	dirty_log_init(&m->dirty_log, &m->kvm, machine_has_frontend(m->cfg));
	m->dirty_log_ready = true;
	log_debug("machine", "dirty logging: %s", dirty_log_mode_name(m->dirty_log.mode));
	for (unsigned int i = 0; i < m->mem.count && ret == 0; i++)
		ret = map_slot(m, i, &m->mem.regions[i], err, err_len);
	for (unsigned int i = 0; i < m->mem.device_count && ret == 0; i++)
		ret = map_slot(m, m->mem.count + i, &m->mem.devices[i], err, err_len);
	return ret;
}

/* Device memory, before the image is loaded (the loader checks a boot
 * framebuffer against it): VRAM always; for a Linux guest with --display
 * ramfb, the boot framebuffer. Fills fb for a Linux guest. */
static int add_device_memory(struct machine *m, struct boot_framebuffer *fb, char *err,
			     size_t err_len)
{
	const struct run_config *cfg = m->cfg;
	int ret;

	m->vram_gpa = machine_vram_gpa(cfg->vram_bytes);
	ret = guest_mem_add_device(&m->mem, "vga-vram", m->vram_gpa, cfg->vram_bytes, NULL);
	if (ret < 0) {
		snprintf(err, err_len, "--vram %" PRIu64 "M at 0x%" PRIx64 ": %s",
			 cfg->vram_bytes >> 20, m->vram_gpa, strerror(-ret));
		return ret == -ENOMEM ? EXIT_STATUS_HOST : EXIT_STATUS_USAGE;
	}
	if (!m->linux_guest) {
		log_debug("machine", "PVH guest: it sets up its own display, --display ignored");
		return 0;
	}
	if (machine_boot_framebuffer(cfg->display, cfg->vram_bytes, fb) < 0) {
		snprintf(err, err_len, "--display vga: the %ux%u boot mode needs %" PRIu64
			 " KiB of VRAM; --vram %" PRIu64 "M is too small (use 4M or more)",
			 MACHINE_BOOT_FB_WIDTH, MACHINE_BOOT_FB_HEIGHT, MACHINE_BOOT_FB_BYTES >> 10,
			 cfg->vram_bytes >> 20);
		return EXIT_STATUS_USAGE;
	}
	if (cfg->display != BOOT_DISPLAY_RAMFB)
		return 0;
	ret = guest_mem_add_device(&m->mem, "boot-fb", fb->gpa, fb->size, NULL);
	if (ret < 0) {
		snprintf(err, err_len, "boot framebuffer (%" PRIu64 " KiB at 0x%" PRIx64 "): %s",
			 fb->size >> 10, fb->gpa, strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	return 0;
}

/* A Linux guest's boot display, as firmware would leave it: the mode the
 * loader described in screen_info, set through the device's own validated
 * path (a ramfb config as if the guest wrote it; the VBE registers as
 * bochs-drm programs them). */
static int set_boot_display(struct machine *m, const struct boot_framebuffer *fb, char *err,
			    size_t err_len)
{
	int ret;

	if (!m->linux_guest)
		return 0;
	if (m->cfg->display == BOOT_DISPLAY_RAMFB) {
		const struct ramfb_config rc = {
			.addr = fb->gpa,
			.fourcc = DISPLAY_FORMAT_XRGB8888,
			.width = fb->width,
			.height = fb->height,
			.stride = fb->stride,
		};
		ret = ramfb_apply_config(&m->ramfb, &rc);
	} else {
		ret = vga_set_mode(&m->vga, (uint16_t)fb->width, (uint16_t)fb->height, 32, NULL);
	}
	if (ret < 0) {
		snprintf(err, err_len, "setting up the %s boot display: %s",
			 cli_display_name(m->cfg->display), strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	log_debug("machine", "boot display=%s %ux%u at 0x%" PRIx64 " region=%" PRIu64 " KiB",
		  cli_display_name(m->cfg->display), fb->width, fb->height, fb->gpa,
		  fb->size >> 10);
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
	if (ret == 0) {
		ret = pci_host_init(&m->pci, &m->bus);
		m->pci_ready = ret == 0;
	}
	if (ret == 0) {
		ret = cmos_init(&m->cmos, &m->bus, m->mem.ram_bytes);
		m->cmos_ready = ret == 0;
	}
	if (ret == 0) {
		ret = acpi_pm_init(&m->acpi_pm, &m->bus, machine_irq(m, ACPI_PM_SCI_IRQ));
		m->acpi_pm_ready = ret == 0;
	}
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
	if (ret == 0) {
		ret = vga_init(&m->vga, &m->bus, &m->pci, &m->display, &m->mem,
			       m->cfg->vram_bytes, m->vram_gpa);
		m->vga_ready = ret == 0;
	}
	if (ret == 0)
		ret = i8042_init(&m->i8042, &m->bus, machine_irq(m, I8042_KBD_IRQ),
				 machine_irq(m, I8042_AUX_IRQ));
	if (ret == 0)
		ret = vmmouse_init(&m->vmmouse, &m->bus, &m->i8042);
	if (ret < 0) {
		snprintf(err, err_len, "device setup failed: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	return 0;
}

/* Port 0x70 (the CMOS index) as QEMU registers it: an index write costs no
 * userspace exit; the data access that follows replays it first. Without
 * the capability every access exits, as before. */
static void setup_coalesced_io(struct machine *m)
{
	int ret = coalesced_io_init(&m->coalesced, &m->kvm, m->vcpus[0].run,
				    m->kvm.run_mmap_bytes);

	if (ret == 0)
		ret = coalesced_io_add_pio(&m->coalesced, &m->kvm, CMOS_INDEX_PORT, 1);
	if (ret < 0) {
		log_debug("machine", "coalesced I/O not used: %s", strerror(-ret));
		return;
	}
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
		m->vcpus[i].coalesced = &m->coalesced;
}

/* The one change tracker the frontends share (the dirty log can be read
 * once): with --sdl the window takes its changes through the share, and the
 * control socket its pictures, from the vnc thread's refreshes or, with
 * --vnc none, from the control thread's (--control) or the window's own. */
static int create_tracker(struct machine *m, char *err, size_t err_len)
{
	struct dirty_source dirty = { .fetch = dirty_log_fetch, .ctx = &m->dirty_log };
	int ret;

	if (!machine_has_frontend(m->cfg))
		return 0;
	ret = tracker_init(&m->tracker, &m->display, &m->mem, dirty);
	if (ret < 0) {
		snprintf(err, err_len, "display tracker: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	m->tracker_ready = true;
	if (!m->cfg->sdl && !m->cfg->control_path)
		return 0;
	ret = display_share_init(&m->share, &m->tracker,
				 m->cfg->sdl && (m->cfg->vnc_enabled || m->cfg->control_path));
	if (ret < 0) {
		snprintf(err, err_len, "display share: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	m->share_ready = true;
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
		.websocket_port = m->cfg->vnc_websocket_port,
		.desktop_name = "fbvm",
		.share = m->share_ready ? &m->share : NULL,
		.password_file = m->cfg->vnc_password_file,
		.client_event = control_vnc_client_event,   /* ignores a NULL ctx */
		.client_event_ctx = m->control,
	};
	int ret;

	if (!m->cfg->vnc_enabled)
		return 0;
	ret = vnc_create(&m->vnc, &vcfg, &m->tracker, machine_input_sink(m), err, err_len);
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

static int machine_reset_cb(void *ctx)
{
	return machine_reset(ctx);
}

/* The control socket, bound before any thread runs: a PATH in the way is a
 * start-up error (EXIT_STATUS_USAGE). */
static int create_control(struct machine *m, char *err, size_t err_len)
{
	const struct control_config ccfg = {
		.path = m->cfg->control_path,
		.display = &m->display,
		.share = &m->share,
		.refresh_self = !m->cfg->vnc_enabled,
		.input = machine_input_sink(m),
		.vram_gpa = m->vram_gpa,
		.vram_bytes = m->cfg->vram_bytes,
		.start_ms = m->start_ms,
		.reset = machine_reset_cb,
		.reset_ctx = m,
	};
	int ret;

	if (!m->cfg->control_path)
		return 0;
	ret = control_create(&m->control, &ccfg, err, err_len);
	if (ret == 0)
		return 0;
	return ret == -ENOMEM ? EXIT_STATUS_HOST : EXIT_STATUS_USAGE;
}

int machine_create(struct machine *m, const struct run_config *cfg, const uint8_t *kernel,
		   size_t kernel_size, const uint8_t *initrd, size_t initrd_size, char *err,
		   size_t err_len)
{
	struct boot_request req = { .cmdline = cfg->cmdline, .initrd = initrd,
				    .initrd_size = initrd_size };
	struct boot_framebuffer fb = { 0 };
	struct boot_entry entry;
	char load_err[256];
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->kernel = kernel;
	m->kernel_size = kernel_size;
	m->initrd = initrd;
	m->initrd_size = initrd_size;
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
	/* Only bzImages get a described framebuffer: PVH guests find ramfb
	 * through fw_cfg and the VGA by PCI scan themselves. */
	m->linux_guest = linux_probe(kernel, kernel_size);
	ret = add_device_memory(m, &fb, err, err_len);
	if (ret)
		return ret;
	if (m->linux_guest)
		req.framebuffer = &fb;
	ret = write_acpi_tables(m, &req.acpi_rsdp_gpa, err, err_len);
	if (ret)
		return ret;
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
	ret = map_guest_memory(m, err, err_len);
	if (ret)
		return ret;
	ret = create_devices(m, err, err_len);
	if (ret)
		return ret;
	ret = set_boot_display(m, &fb, err, err_len);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++) {
		if (vcpu_create(&m->vcpus[i], &m->kvm, &m->bus, i, err, err_len) < 0)
			return EXIT_STATUS_HOST;
	}
	setup_coalesced_io(m);
	ret = vcpu_set_boot_state(&m->vcpus[0], &entry);
	if (ret < 0) {
		snprintf(err, err_len, "setting the boot registers: %s", strerror(-ret));
		return EXIT_STATUS_HOST;
	}
	ret = create_tracker(m, err, err_len);
	if (ret == 0)
		ret = create_control(m, err, err_len);
	if (ret == 0)
		ret = create_vnc(m, err, err_len);
	if (ret)
		return ret;
	log_debug("machine", "loaded %s entry=0x%" PRIx64 " boot_info=0x%" PRIx64
		  " mem=%" PRIu64 "M", cfg->kernel_path, entry.entry, entry.boot_info_gpa,
		  cfg->mem_bytes >> 20);
	return 0;
}

/* The images, boot structures and ACPI tables into zeroed RAM, as
 * machine_create() wrote them; the boot display set up again. */
static int reload_guest(struct machine *m, struct boot_entry *entry, char *err, size_t err_len)
{
	const struct run_config *cfg = m->cfg;
	struct boot_request req = { .cmdline = cfg->cmdline, .initrd = m->initrd,
				    .initrd_size = m->initrd_size };
	struct boot_framebuffer fb = { 0 };
	int ret;

	if (m->linux_guest) {
		if (machine_boot_framebuffer(cfg->display, cfg->vram_bytes, &fb) < 0)
			return -ENOSPC;   /* machine_create() checked this */
		req.framebuffer = &fb;
	}
	ret = write_acpi_tables(m, &req.acpi_rsdp_gpa, err, err_len);
	if (ret)
		return -EIO;
	if (loader_load(&m->mem, m->kernel, m->kernel_size, &req, entry, err, err_len) < 0)
		return -EIO;
	if (set_boot_display(m, &fb, err, err_len))
		return -EIO;
	return 0;
}

/* Every device to its power-on state; the state after reset is written
 * down in each device's _reset function. debug_exit has none: it keeps
 * nothing a guest can see. */
static void reset_devices(struct machine *m)
{
	serial_reset(&m->serial);
	pci_host_reset(&m->pci);        /* with the reset control register (0xCF9) */
	cmos_reset(&m->cmos);
	acpi_pm_reset(&m->acpi_pm);
	fw_cfg_reset(&m->fw_cfg);       /* the etc/ramfb file zeroed */
	ramfb_reset(&m->ramfb);
	vga_reset(&m->vga);
	i8042_reset(&m->i8042);         /* with the PS/2 keyboard and mouse */
	vmmouse_reset(&m->vmmouse);
	/* Last: whatever a device published above, no frame until the guest
	 * (or the Linux boot display below) sets a mode again. */
	display_reset(&m->display);
}

_Static_assert(MACHINE_VCPUS == 1, "machine_reset boots vcpu 0; APs would need their INIT state");

int machine_reset(struct machine *m)
{
	uint64_t t0 = log_now_ms();
	unsigned int paused = 0;
	struct boot_entry entry;
	char err[256] = "";
	int ret = 0;

	for (; paused < MACHINE_VCPUS && ret == 0; paused++)
		ret = vcpu_pause(&m->vcpus[paused]);
	if (ret < 0)
		goto resume;
	/* CMOS index writes still in the ring belong to the old run. */
	if (m->vcpus[0].coalesced)
		coalesced_io_replay(m->vcpus[0].coalesced, &m->bus);
	reset_devices(m);
	ret = kvm_reset_chips(&m->kvm);
	if (ret < 0) {
		snprintf(err, sizeof(err), "irqchip/PIT: %s", strerror(-ret));
		goto failed;
	}
	ret = guest_mem_clear(&m->mem);
	if (ret < 0) {
		snprintf(err, sizeof(err), "clearing guest memory: %s", strerror(-ret));
		goto failed;
	}
	ret = reload_guest(m, &entry, err, sizeof(err));
	if (ret < 0)
		goto failed;
	ret = vcpu_reset(&m->vcpus[0], &entry);
	if (ret < 0) {
		snprintf(err, sizeof(err), "vCPU registers: %s", strerror(-ret));
		goto failed;
	}
	m->resets++;
	log_info("machine", "reset in place (control socket): devices, irqchip, RAM and vCPU at"
		 " power-on, %s reloaded in %" PRIu64 " ms", m->cfg->kernel_path, log_now_ms() - t0);
	goto resume;
failed:
	vm_request_stop(VM_STOP_HOST_ERROR, EXIT_STATUS_HOST, err);
	log_error("machine", "reset failed: %s", err);
resume:
	for (unsigned int i = 0; i < paused; i++)
		vcpu_resume(&m->vcpus[i]);
	return ret;
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
	if (m->control) {
		int ret = control_start(m->control);
		if (ret < 0) {
			snprintf(err, err_len, "starting thread control: %s", strerror(-ret));
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
	/* After VNC: its last disconnects reach control clients as events. */
	control_stop(m->control);
}

struct input_sink machine_input_sink(struct machine *m)
{
	return vmmouse_input_sink(&m->vmmouse);
}

void machine_watchdog_tick(struct machine *m)
{
	for (unsigned int i = 0; i < m->vcpus_started; i++)
		vcpu_watchdog_tick(&m->vcpus[i]);
}

void machine_print_stats(struct machine *m, FILE *out)
{
	fprintf(out, "stats: kvm: %s\n", kvm_flavour_name(m->kvm.flavour));
	fprintf(out, "stats: ran %" PRIu64 " ms, guest RAM %" PRIu64 " MiB, resets=%" PRIu64 "\n",
		log_now_ms() - m->start_ms, m->mem.ram_bytes >> 20, m->resets);
	for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
		fprintf(out, "stats: %s: exits=%" PRIu64 " pio=%" PRIu64 " mmio=%" PRIu64
			" reg_syncs=%" PRIu64 "\n",
			m->vcpus[i].name, (uint64_t)atomic_load(&m->vcpus[i].exits),
			m->vcpus[i].io_exits, m->vcpus[i].mmio_exits, m->vcpus[i].reg_syncs);
	thread_print_stats(out);
	for (unsigned int i = 0; i < m->mem.device_count; i++)
		fprintf(out, "stats: device memory: %s %" PRIu64 " KiB at 0x%" PRIx64 "\n",
			m->mem.devices[i].name, m->mem.devices[i].size >> 10, m->mem.devices[i].gpa);
	bus_print_stats(&m->bus, out);
	serial_print_stats(&m->serial, out);
	pci_host_print_stats(&m->pci, out);
	cmos_print_stats(&m->cmos, out);
	if (m->acpi_pm_ready)
		acpi_pm_print_stats(&m->acpi_pm, out);
	fw_cfg_print_stats(&m->fw_cfg, out);
	ramfb_print_stats(&m->ramfb, out);
	vga_print_stats(&m->vga, out);
	i8042_print_stats(&m->i8042, out);
	vmmouse_print_stats(&m->vmmouse, out);
	dirty_log_print_stats(&m->dirty_log, out);
	coalesced_io_print_stats(&m->coalesced, out);
	if (m->tracker_ready)
		tracker_print_stats(&m->tracker, out);
	if (m->share_ready)
		display_share_print_stats(&m->share, out);
	if (m->vnc)
		vnc_print_stats(m->vnc, out);
	if (m->control)
		control_print_stats(m->control, out);
}

void machine_destroy(struct machine *m)
{
	if (vnc_thread_abandoned(m->vnc)) {
		/* A vnc thread that did not stop may still read guest memory,
		 * the tracker and the devices: leave them to the exit. */
		log_warn("machine", "not freeing the machine: the vnc thread is still running");
		return;
	}
	vnc_destroy(m->vnc);
	m->vnc = NULL;
	control_destroy(m->control);
	m->control = NULL;
	if (m->share_ready)
		display_share_destroy(&m->share);
	m->share_ready = false;
	if (m->tracker_ready)
		tracker_destroy(&m->tracker);
	if (m->vga_ready)
		vga_destroy(&m->vga);
	if (m->ramfb_ready)
		ramfb_destroy(&m->ramfb);
	if (m->fw_cfg_ready)
		fw_cfg_destroy(&m->fw_cfg);
	if (m->display_ready)
		display_destroy(&m->display);
	if (m->cmos_ready)
		cmos_destroy(&m->cmos);
	if (m->acpi_pm_ready)
		acpi_pm_destroy(&m->acpi_pm);
	if (m->pci_ready)
		pci_host_destroy(&m->pci);
	m->tracker_ready = m->ramfb_ready = m->fw_cfg_ready = m->display_ready = false;
	m->vga_ready = m->cmos_ready = m->pci_ready = m->acpi_pm_ready = false;
	coalesced_io_destroy(&m->coalesced);
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
