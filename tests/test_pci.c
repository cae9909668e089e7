/*
 * Tests for devices/pci.c, driven through ports 0xCF8-0xCFF the way a guest
 * drives them: Linux's pci_check_type1 + pci_sanity_check and its
 * pci_conf1_read/write accessors (arch/x86/pci/direct.c), BAR sizing as
 * Linux's __pci_read_base does it, reset control at 0xCF9, and the odd
 * accesses a guest may make.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "devices/reset_control.h"
#include "hypervisor/bus.h"
#include "hypervisor/vmstop.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Spelled out from the specs so the device is checked against them. */
#define PORT_ADDRESS 0xCF8
#define PORT_RCR     0xCF9
#define PORT_DATA    0xCFC
#define CONF1_ENABLE 0x80000000u
#define INTEL        0x8086
#define I440FX       0x1237
#define CLASS_HOST_BRIDGE 0x0600   /* Linux PCI_CLASS_BRIDGE_HOST: base << 8 | sub */
#define CLASS_DISPLAY_VGA 0x0300

/* The fake function every BAR test uses: 00:03.0. */
#define FAKE_DEV 3
#define FAKE_VRAM_BASE 0xFD000000u
#define FAKE_MMIO_BASE 0xFEBF0000u
#define FAKE_IO_BASE   0xC000u

struct fake_fn {
	int bar_move_ret;
	unsigned int bar_moves;
	unsigned int last_bar;
	uint64_t last_old, last_new;
	unsigned int command_calls;
	uint16_t last_old_command, last_new_command;
};

struct fx {
	struct bus bus;
	struct pci_host host;
	struct fake_fn fake;
};

/* ---- guest side ---------------------------------------------------------- */

static void out(struct fx *f, uint16_t port, uint32_t v, unsigned int size)
{
	bus_access(&f->bus, BUS_PIO, port, &v, size, true);
}

static uint32_t in(struct fx *f, uint16_t port, unsigned int size)
{
	uint32_t v = 0;

	bus_access(&f->bus, BUS_PIO, port, &v, size, false);
	return v;
}

/* Linux PCI_CONF1_ADDRESS (without the AMD extended-register bits). */
static uint32_t conf1_address(unsigned int bus, unsigned int devfn, unsigned int reg)
{
	return CONF1_ENABLE | bus << 16 | devfn << 8 | (reg & 0xFC);
}

/* Linux pci_conf1_read. */
static uint32_t conf_read(struct fx *f, unsigned int bus, unsigned int devfn, unsigned int reg,
			  unsigned int len)
{
	out(f, PORT_ADDRESS, conf1_address(bus, devfn, reg), 4);
	switch (len) {
	case 1:
		return in(f, (uint16_t)(PORT_DATA + (reg & 3)), 1);
	case 2:
		return in(f, (uint16_t)(PORT_DATA + (reg & 2)), 2);
	default:
		return in(f, PORT_DATA, 4);
	}
}

/* Linux pci_conf1_write. */
static void conf_write(struct fx *f, unsigned int bus, unsigned int devfn, unsigned int reg,
		       unsigned int len, uint32_t value)
{
	out(f, PORT_ADDRESS, conf1_address(bus, devfn, reg), 4);
	switch (len) {
	case 1:
		out(f, (uint16_t)(PORT_DATA + (reg & 3)), value, 1);
		break;
	case 2:
		out(f, (uint16_t)(PORT_DATA + (reg & 2)), value, 2);
		break;
	default:
		out(f, PORT_DATA, value, 4);
		break;
	}
}

static unsigned int devfn(unsigned int dev, unsigned int fn)
{
	return dev << 3 | fn;
}

/* Linux pci_sanity_check for a BIOS year before 2001 (no DMI here). */
static bool linux_sanity_check(struct fx *f)
{
	for (unsigned int d = 0; d < 0x100; d++) {
		uint32_t x = conf_read(f, 0, d, PCI_CLASS_DEVICE, 2);
		if (x == CLASS_HOST_BRIDGE || x == CLASS_DISPLAY_VGA)
			return true;
		x = conf_read(f, 0, d, PCI_VENDOR_ID, 2);
		if (x == INTEL || x == 0x0E11)
			return true;
	}
	return false;
}

/* ---- fake function ------------------------------------------------------- */

static int fake_bar_move(void *opaque, unsigned int bar, uint64_t old_addr, uint64_t new_addr)
{
	struct fake_fn *fn = opaque;

	fn->bar_moves++;
	fn->last_bar = bar;
	fn->last_old = old_addr;
	fn->last_new = new_addr;
	return fn->bar_move_ret;
}

static void fake_command_changed(void *opaque, uint16_t old_command, uint16_t new_command)
{
	struct fake_fn *fn = opaque;

	fn->command_calls++;
	fn->last_old_command = old_command;
	fn->last_new_command = new_command;
}

static const struct pci_function_ops fake_ops = {
	.bar_move = fake_bar_move,
	.command_changed = fake_command_changed,
};

static struct pci_function_info fake_info(void)
{
	struct pci_function_info info = {
		.vendor_id = 0x1234, .device_id = 0x1111, .revision = 2,
		.class_code = 0x030000, .subsystem_vendor_id = 0x1AF4, .subsystem_id = 0x1100,
		.command = PCI_COMMAND_IO | PCI_COMMAND_MEMORY,
	};
	info.bars[0] = (struct pci_bar_info){ .size = 16u << 20, .prefetchable = true,
					      .addr = FAKE_VRAM_BASE };
	info.bars[2] = (struct pci_bar_info){ .size = 4096, .addr = FAKE_MMIO_BASE };
	info.bars[4] = (struct pci_bar_info){ .size = 32, .io = true, .addr = FAKE_IO_BASE };
	return info;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pci_function_info info = fake_info();

	bus_init(&f->bus);
	vm_stop_reset_for_test();
	assert_int_equal(pci_host_init(&f->host, &f->bus), 0);
	assert_int_equal(pci_register_function(&f->host, FAKE_DEV, 0, &info, &fake_ops, &f->fake), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pci_host_destroy(&f->host);
	free(f);
	vm_stop_reset_for_test();
	return 0;
}

/* ---- mechanism #1 -------------------------------------------------------- */

static void test_pci_linux_check_type1_passes_and_restores_address(void **state)
{
	struct fx *f = *state;
	uint32_t tmp;
	bool works = false;

	/* arch/x86/pci/direct.c pci_check_type1, verbatim in effect. */
	out(f, 0xCFB, 0x01, 1);
	tmp = in(f, PORT_ADDRESS, 4);
	out(f, PORT_ADDRESS, CONF1_ENABLE, 4);
	if (in(f, PORT_ADDRESS, 4) == CONF1_ENABLE && linux_sanity_check(f))
		works = true;
	out(f, PORT_ADDRESS, tmp, 4);

	assert_true(works);
	assert_int_equal(tmp, 0);
	assert_int_equal(in(f, PORT_ADDRESS, 4), 0);
}

static void test_pci_config_address_reserved_bits_read_zero(void **state)
{
	struct fx *f = *state;

	out(f, PORT_ADDRESS, 0xFFFFFFFF, 4);
	assert_int_equal(in(f, PORT_ADDRESS, 4), 0x80FFFFFC);
	out(f, PORT_ADDRESS, 0x12345678, 4);
	assert_int_equal(in(f, PORT_ADDRESS, 4), 0x00345678);
}

static void test_pci_host_bridge_identity(void **state)
{
	static const struct { unsigned int reg, len; uint32_t value; } rows[] = {
		{ PCI_VENDOR_ID, 2, INTEL },
		{ PCI_DEVICE_ID, 2, I440FX },
		{ PCI_VENDOR_ID, 4, (uint32_t)I440FX << 16 | INTEL },
		{ PCI_REVISION_ID, 1, 0x02 },
		{ PCI_CLASS_PROG, 1, 0x00 },
		{ PCI_CLASS_DEVICE, 2, CLASS_HOST_BRIDGE },
		{ PCI_REVISION_ID, 4, 0x06000002 },
		{ PCI_HEADER_TYPE, 1, 0x00 },
		{ PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER },
		{ PCI_BASE_ADDRESS_0, 4, 0 },
		{ PCI_INTERRUPT_PIN, 1, 0 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		assert_int_equal(conf_read(f, 0, devfn(0, 0), rows[i].reg, rows[i].len),
				 rows[i].value);
}

static void test_pci_byte_and_word_reads_use_the_port_offset(void **state)
{
	struct fx *f = *state;

	out(f, PORT_ADDRESS, conf1_address(0, devfn(0, 0), PCI_VENDOR_ID), 4);
	assert_int_equal(in(f, PORT_DATA + 0, 1), 0x86);
	assert_int_equal(in(f, PORT_DATA + 1, 1), 0x80);
	assert_int_equal(in(f, PORT_DATA + 2, 1), 0x37);
	assert_int_equal(in(f, PORT_DATA + 3, 1), 0x12);
	assert_int_equal(in(f, PORT_DATA + 2, 2), I440FX);
	assert_int_equal(in(f, PORT_DATA + 1, 2), 0x3780);   /* bytes 1..2 */
}

static void test_pci_absent_functions_read_all_ones(void **state)
{
	static const struct { uint32_t address; const char *what; } rows[] = {
		{ CONF1_ENABLE | 1u << 11, "device 1" },
		{ CONF1_ENABLE | 31u << 11 | 7u << 8, "device 31 function 7" },
		{ CONF1_ENABLE | 1u << 8, "function 1 of the host bridge" },
		{ CONF1_ENABLE | 1u << 16, "bus 1" },
		{ CONF1_ENABLE | 0xFFu << 16 | FAKE_DEV << 11, "bus 255, device 3" },
		{ 0, "enable bit clear" },
		{ FAKE_DEV << 11, "enable bit clear, device 3" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		out(f, PORT_ADDRESS, rows[i].address, 4);
		assert_int_equal(in(f, PORT_DATA, 4), 0xFFFFFFFF);
		assert_int_equal(in(f, PORT_DATA + 2, 2), 0xFFFF);
		assert_int_equal(in(f, PORT_DATA + 3, 1), 0xFF);
	}
	assert_int_equal(f->host.stats.absent_reads, 3 * ARRAY_LEN(rows));
}

static void test_pci_writes_with_enable_clear_are_dropped(void **state)
{
	struct fx *f = *state;

	out(f, PORT_ADDRESS, FAKE_DEV << 11 | PCI_COMMAND, 4);
	out(f, PORT_DATA, 0, 2);
	assert_int_equal(pci_host_command(&f->host, FAKE_DEV, 0),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(f->fake.command_calls, 0);
}

/* ---- header fields ------------------------------------------------------- */

static void test_pci_command_register_keeps_writable_bits_and_notifies(void **state)
{
	struct fx *f = *state;

	conf_write(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 2, 0xFFFF);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 2), 0x0547);
	assert_int_equal(f->fake.command_calls, 1);
	assert_int_equal(f->fake.last_old_command, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(f->fake.last_new_command, 0x0547);

	conf_write(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(pci_host_command(&f->host, FAKE_DEV, 0), PCI_COMMAND_IO);
	assert_int_equal(f->fake.last_new_command, PCI_COMMAND_IO);
	/* Same value again: nothing changed, no callback. */
	conf_write(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(f->fake.command_calls, 2);
}

static void test_pci_command_byte_write_leaves_status_alone(void **state)
{
	struct fx *f = *state;

	/* A dword write to COMMAND/STATUS, as some guests do: STATUS is read-only here. */
	conf_write(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 4, 0xFFFF0006);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 4), 0x00000006);
	conf_write(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND + 1, 1, 0x04);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), PCI_COMMAND, 2), 0x0406);
}

static void test_pci_read_only_registers_ignore_writes(void **state)
{
	static const struct { unsigned int reg, len; uint32_t value; } rows[] = {
		{ PCI_VENDOR_ID, 2, 0x1234 },
		{ PCI_DEVICE_ID, 2, 0x1111 },
		{ PCI_STATUS, 2, 0x0000 },
		{ PCI_REVISION_ID, 1, 0x02 },
		{ PCI_CLASS_PROG, 1, 0x00 },
		{ PCI_CLASS_DEVICE, 2, 0x0300 },
		{ PCI_HEADER_TYPE, 1, 0x00 },
		{ 0x0F, 1, 0x00 },                 /* BIST */
		{ PCI_SUBSYSTEM_VENDOR_ID, 2, 0x1AF4 },
		{ PCI_SUBSYSTEM_ID, 2, 0x1100 },
		{ PCI_ROM_ADDRESS, 4, 0 },         /* no ROM: sizing reads 0 */
		{ 0x34, 1, 0 },                    /* no capability list */
		{ PCI_INTERRUPT_PIN, 1, 0 },       /* no INTx */
		{ 0x40, 4, 0 },                    /* device-specific space */
		{ 0xFC, 4, 0 },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		uint64_t ignored = f->host.stats.ignored_writes;
		uint32_t all_ones = rows[i].len == 4 ? 0xFFFFFFFF : (1u << (8 * rows[i].len)) - 1;

		conf_write(f, 0, devfn(FAKE_DEV, 0), rows[i].reg, rows[i].len, all_ones);
		assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), rows[i].reg, rows[i].len),
				 rows[i].value);
		assert_int_equal(f->host.stats.ignored_writes, ignored + 1);
	}
}

static void test_pci_writable_byte_registers_read_back(void **state)
{
	static const unsigned int regs[] = {
		PCI_CACHE_LINE_SIZE, PCI_LATENCY_TIMER, PCI_INTERRUPT_LINE,
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(regs); i++) {
		conf_write(f, 0, devfn(FAKE_DEV, 0), regs[i], 1, 0xA5);
		assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), regs[i], 1), 0xA5);
	}
	assert_int_equal(f->host.stats.ignored_writes, 0);
}

/* ---- BARs ---------------------------------------------------------------- */

static const struct {
	unsigned int bar;
	uint32_t assigned;   /* as read: base | type bits */
	uint32_t size_mask;  /* read after writing all-ones */
} bar_rows[] = {
	{ 0, FAKE_VRAM_BASE | PCI_BASE_ADDRESS_MEM_PREFETCH, 0xFF000008 },
	{ 1, 0, 0 },
	{ 2, FAKE_MMIO_BASE, 0xFFFFF000 },
	{ 3, 0, 0 },
	{ 4, FAKE_IO_BASE | PCI_BASE_ADDRESS_SPACE_IO, 0xFFFFFFE1 },
	{ 5, 0, 0 },
};

static void test_pci_bars_read_assigned_base_with_type_bits(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(bar_rows); i++)
		assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0),
					   PCI_BASE_ADDRESS_0 + 4 * bar_rows[i].bar, 4),
				 bar_rows[i].assigned);
}

static void test_pci_bar_sizing_reads_size_mask_then_restores(void **state)
{
	struct fx *f = *state;
	unsigned int d = devfn(FAKE_DEV, 0);

	for (size_t i = 0; i < ARRAY_LEN(bar_rows); i++) {
		unsigned int reg = PCI_BASE_ADDRESS_0 + 4 * bar_rows[i].bar;
		/* Linux __pci_read_base: decode off, save, all-ones, read, restore, decode on. */
		uint32_t cmd = conf_read(f, 0, d, PCI_COMMAND, 2);
		conf_write(f, 0, d, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
		uint32_t orig = conf_read(f, 0, d, reg, 4);
		conf_write(f, 0, d, reg, 4, 0xFFFFFFFF);
		uint32_t mask = conf_read(f, 0, d, reg, 4);
		conf_write(f, 0, d, reg, 4, orig);
		conf_write(f, 0, d, PCI_COMMAND, 2, cmd);

		assert_int_equal(orig, bar_rows[i].assigned);
		assert_int_equal(mask, bar_rows[i].size_mask);
		assert_int_equal(conf_read(f, 0, d, reg, 4), bar_rows[i].assigned);
	}
	assert_int_equal(f->fake.bar_moves, 0);
	assert_int_equal(f->host.stats.bar_sizings, 3);
}

static void test_pci_bar_move_refused_reads_old_base(void **state)
{
	struct fx *f = *state;
	unsigned int reg = PCI_BASE_ADDRESS_0;

	f->fake.bar_move_ret = -EPERM;
	conf_write(f, 0, devfn(FAKE_DEV, 0), reg, 4, 0xE0000000);
	assert_int_equal(f->fake.bar_moves, 1);
	assert_int_equal(f->fake.last_bar, 0);
	assert_int_equal(f->fake.last_old, FAKE_VRAM_BASE);
	assert_int_equal(f->fake.last_new, 0xE0000000);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), reg, 4),
			 FAKE_VRAM_BASE | PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(f->host.stats.bar_moves_refused, 1);
}

static void test_pci_bar_move_accepted_reads_new_base(void **state)
{
	struct fx *f = *state;
	unsigned int reg = PCI_BASE_ADDRESS_0 + 8;

	/* Low bits written are not address bits: the base is 4 KiB aligned. */
	conf_write(f, 0, devfn(FAKE_DEV, 0), reg, 4, 0xFEB00FFF);
	assert_int_equal(f->fake.bar_moves, 1);
	assert_int_equal(f->fake.last_bar, 2);
	assert_int_equal(f->fake.last_new, 0xFEB00000);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), reg, 4), 0xFEB00000);
	/* Writing the same base again is no move. */
	conf_write(f, 0, devfn(FAKE_DEV, 0), reg, 4, 0xFEB00000);
	assert_int_equal(f->fake.bar_moves, 1);
}

static void test_pci_bar_word_write_merges_into_the_dword(void **state)
{
	struct fx *f = *state;
	unsigned int reg = PCI_BASE_ADDRESS_0 + 8;

	/* Upper half only: 0xFEBF0000 -> 0xFEAF0000. */
	conf_write(f, 0, devfn(FAKE_DEV, 0), reg + 2, 2, 0xFEAF);
	assert_int_equal(f->fake.last_new, 0xFEAF0000);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), reg, 4), 0xFEAF0000);
}

/* ---- registry ------------------------------------------------------------ */

static void test_pci_register_function_rejects_bad_input(void **state)
{
	static const struct {
		unsigned int dev, fn;
		struct pci_bar_info bar0;
		int ret;
		const char *why;
	} rows[] = {
		{ 32, 0, { 0 }, -EINVAL, "device 32" },
		{ 4, 8, { 0 }, -EINVAL, "function 8" },
		{ 4, 1, { 0 }, -EINVAL, "function 1 before function 0" },
		{ 4, 0, { .size = 3 << 20, .addr = 0xE0000000 }, -EINVAL, "size not a power of two" },
		{ 4, 0, { .size = 1 << 20, .addr = 0xE0080000 }, -EINVAL, "base not aligned" },
		{ 4, 0, { .size = 8, .addr = 0xE0000000 }, -EINVAL, "memory BAR below 16 bytes" },
		{ 4, 0, { .size = 1u << 30, .addr = 0x100000000ull }, -EINVAL, "above 4 GiB" },
		{ 4, 0, { .size = 512, .io = true, .addr = 0x1000 }, -EINVAL, "I/O BAR above 256 bytes" },
		{ 4, 0, { .size = 16, .io = true, .addr = 0x10000 }, -EINVAL, "I/O beyond 64 KiB" },
		{ 4, 0, { .size = 16, .io = true, .prefetchable = true, .addr = 0x1000 }, -EINVAL,
		  "prefetchable I/O" },
		{ 0, 0, { 0 }, -EEXIST, "the host bridge's slot" },
		{ FAKE_DEV, 0, { 0 }, -EEXIST, "taken" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct pci_function_info info = { .vendor_id = 0x1B36, .device_id = 0x0001 };
		info.bars[0] = rows[i].bar0;
		assert_int_equal(pci_register_function(&f->host, rows[i].dev, rows[i].fn, &info,
						       NULL, NULL), rows[i].ret);
	}
	assert_int_equal(f->host.function_count, 2);
}

static void test_pci_register_function_table_full_is_enospc(void **state)
{
	struct fx *f = *state;
	struct pci_function_info info = { .vendor_id = 0x1B36 };
	unsigned int dev = 8;

	while (f->host.function_count < PCI_HOST_MAX_FUNCTIONS)
		assert_int_equal(pci_register_function(&f->host, dev++, 0, &info, NULL, NULL), 0);
	assert_int_equal(pci_register_function(&f->host, dev, 0, &info, NULL, NULL), -ENOSPC);
}

static void test_pci_second_function_sets_multifunction_bit(void **state)
{
	struct fx *f = *state;
	struct pci_function_info info = { .vendor_id = 0x1B36, .device_id = 0x0002 };

	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(pci_register_function(&f->host, FAKE_DEV, 1, &info, NULL, NULL), 0);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), PCI_HEADER_TYPE, 1), 0x80);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 1), PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 1), PCI_DEVICE_ID, 2), 0x0002);
	pci_host_reset(&f->host);
	assert_int_equal(conf_read(f, 0, devfn(FAKE_DEV, 0), PCI_HEADER_TYPE, 1), 0x80);
}

static void test_pci_reset_restores_power_on_header(void **state)
{
	struct fx *f = *state;
	unsigned int d = devfn(FAKE_DEV, 0);

	conf_write(f, 0, d, PCI_COMMAND, 2, 0);
	conf_write(f, 0, d, PCI_BASE_ADDRESS_0 + 8, 4, 0xFEB00000);   /* accepted move */
	conf_write(f, 0, d, PCI_INTERRUPT_LINE, 1, 11);
	conf_write(f, 0, d, PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF);       /* left mid-sizing */
	pci_host_reset(&f->host);

	assert_int_equal(in(f, PORT_ADDRESS, 4), 0);
	assert_int_equal(conf_read(f, 0, d, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(f->fake.last_new_command, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(conf_read(f, 0, d, PCI_BASE_ADDRESS_0 + 8, 4), FAKE_MMIO_BASE);
	assert_int_equal(f->fake.last_new, FAKE_MMIO_BASE);
	assert_int_equal(conf_read(f, 0, d, PCI_BASE_ADDRESS_0, 4),
			 FAKE_VRAM_BASE | PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(conf_read(f, 0, d, PCI_INTERRUPT_LINE, 1), 0);
}

/* ---- 0xCF8-0xCFB odd accesses and reset control --------------------------- */

static void test_pci_odd_accesses_leave_config_address_alone(void **state)
{
	static const struct { uint16_t port; unsigned int size; } rows[] = {
		{ 0xCF8, 1 }, { 0xCFA, 1 }, { 0xCFB, 1 },   /* Linux writes 0x01 to 0xCFB */
		{ 0xCF8, 2 }, { 0xCFA, 2 }, { 0xCF9, 2 },
		{ 0xCFB, 2 }, { 0xCF9, 4 }, { 0xCFA, 4 },   /* straddling into CONFIG_DATA */
	};
	struct fx *f = *state;

	out(f, PORT_ADDRESS, 0x80001804, 4);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		out(f, rows[i].port, 0xFFFFFFFF, rows[i].size);
		assert_int_equal(in(f, PORT_ADDRESS, 4), 0x80001804);
		uint32_t all_ones = rows[i].size == 4 ? 0xFFFFFFFF : (1u << (8 * rows[i].size)) - 1;
		assert_int_equal(in(f, rows[i].port, rows[i].size), all_ones);
	}
	assert_int_equal(f->host.stats.odd_port_accesses, 2 * ARRAY_LEN(rows));
	assert_false(vm_stop_requested());
}

static void test_pci_cf9_rst_cpu_requests_reset(void **state)
{
	struct fx *f = *state;

	out(f, PORT_ADDRESS, 0x80000000, 4);
	out(f, PORT_RCR, 0x06, 1);
	assert_true(vm_stop_requested());
	assert_int_equal(vm_stop_reason(), VM_STOP_RESET);
	assert_int_equal(vm_stop_exit_status(), EXIT_STATUS_RESET);
	assert_int_equal(in(f, PORT_ADDRESS, 4), 0x80000000);
}

static void test_pci_cf9_without_rst_cpu_only_stores_sys_rst(void **state)
{
	struct fx *f = *state;

	out(f, PORT_RCR, 0x02 | 0x08, 1);
	assert_false(vm_stop_requested());
	assert_int_equal(in(f, PORT_RCR, 1), 0x02);
	pci_host_reset(&f->host);
	assert_int_equal(in(f, PORT_RCR, 1), 0x00);
}

static void test_pci_host_and_standalone_reset_control_cannot_both_claim_cf9(void **state)
{
	struct bus *bus = calloc(1, sizeof(*bus));
	struct reset_control rc;
	struct pci_host host;

	(void)state;
	bus_init(bus);
	assert_int_equal(reset_control_init(&rc, bus), 0);
	assert_int_equal(pci_host_init(&host, bus), -EEXIST);
	assert_null(bus_find(bus, BUS_PIO, PORT_ADDRESS));
	free(bus);
}

static void test_pci_wide_accesses_are_rejected_by_the_bus(void **state)
{
	struct fx *f = *state;
	uint64_t v = 0;

	out(f, PORT_ADDRESS, 0x80000000, 4);
	bus_access(&f->bus, BUS_PIO, PORT_DATA, &v, 8, false);
	assert_int_equal(v, UINT64_MAX);
	/* A dword at 0xCFD would run past 0xCFF. */
	assert_int_equal(in(f, PORT_DATA + 1, 4), 0xFFFFFFFF);
	assert_int_equal(bus_find(&f->bus, BUS_PIO, PORT_ADDRESS)->rejected, 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pci_linux_check_type1_passes_and_restores_address),
		T(test_pci_config_address_reserved_bits_read_zero),
		T(test_pci_host_bridge_identity),
		T(test_pci_byte_and_word_reads_use_the_port_offset),
		T(test_pci_absent_functions_read_all_ones),
		T(test_pci_writes_with_enable_clear_are_dropped),
		T(test_pci_command_register_keeps_writable_bits_and_notifies),
		T(test_pci_command_byte_write_leaves_status_alone),
		T(test_pci_read_only_registers_ignore_writes),
		T(test_pci_writable_byte_registers_read_back),
		T(test_pci_bars_read_assigned_base_with_type_bits),
		T(test_pci_bar_sizing_reads_size_mask_then_restores),
		T(test_pci_bar_move_refused_reads_old_base),
		T(test_pci_bar_move_accepted_reads_new_base),
		T(test_pci_bar_word_write_merges_into_the_dword),
		T(test_pci_register_function_rejects_bad_input),
		T(test_pci_register_function_table_full_is_enospc),
		T(test_pci_second_function_sets_multifunction_bit),
		T(test_pci_reset_restores_power_on_header),
		T(test_pci_odd_accesses_leave_config_address_alone),
		T(test_pci_cf9_rst_cpu_requests_reset),
		T(test_pci_cf9_without_rst_cpu_only_stores_sys_rst),
		T(test_pci_host_and_standalone_reset_control_cannot_both_claim_cf9),
		T(test_pci_wide_accesses_are_rejected_by_the_bus),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
