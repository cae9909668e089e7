/*
 * exits: times the VM exit round trip of each kind of device access a PC
 * guest makes, so `make bench` can put fbvm's cost beside QEMU's for the
 * same guest (tools/bench_vmm.py). Each kind is a fixed sequence of
 * `count` accesses (or access pairs) timed with rdtsc, repeated `rounds`
 * times; the median round gives ns per access. The TSC is calibrated
 * against PIT channel 0 (in-kernel on both VMMs) over `calib` ticks at
 * 100 Hz.
 *
 * Kinds, in order (the name, then what one access is):
 *   unclaimed-port  inb 0x2F8 (COM2, absent on both: the bus's miss path)
 *   serial-thr      outb to COM1's THR with MCR.LOOP set (nothing leaves
 *                   the UART; the byte loops back into the receiver)
 *   cmos-pair       outb 0x00 to 0x70, inb 0x71: the seconds register, as
 *                   Linux's RTC driver reads it
 *   i8042-status    inb 0x64
 *   i8042-cmd-pair  outb 0x20 (read CTR) to 0x64, inb 0x60 (the reply)
 *   fwcfg-data      inb 0x511 (the signature item, selected once)
 *   vga-mmio        16-bit read of the dispi ID at BAR2 + 0x500 of the std
 *                   VGA (PCI 1234:1111); skipped ("n/a") without one
 *
 * Command line: count=N (16..100000, default 2000), rounds=N (1..31,
 * default 5), calib=N (ticks, 5..500, default 20).
 *
 * Serial:
 *   exits: tsc_khz=2899876 count=2000 rounds=5
 *   exits: unclaimed-port ns=21345 min=20876 max=25012
 *   ...
 *   exits: vga-mmio n/a (no std VGA)
 *   exits: cmos check ok
 *   exits: done
 * The CMOS check reads registers A, D and B in turn, each right after
 * selecting it, and each must hold its own value (A 0x26 with UIP masked,
 * D 0x80, B with the 24-hour bit: both VMMs' reset state): a VMM that queues
 * index writes (coalesced I/O) must apply them before the data access. Then
 * the seconds, read 1.1 s apart by the PIT, must differ. A failure prints
 * "exits: error cmos ..." and exits with GUEST_EXIT_FAIL.
 */
#include "runtime/guest.h"
#include "runtime/pci.h"

#define EXITS_MAX_ROUNDS        31
#define EXITS_TICK_HZ           100
#define EXITS_UNCLAIMED_PORT    0x2F8
#define EXITS_COM1              0x3F8
#define EXITS_UART_MCR          4
#define EXITS_UART_MCR_LOOP     0x10
#define EXITS_CMOS_INDEX        0x70
#define EXITS_CMOS_DATA         0x71
#define EXITS_I8042_DATA        0x60
#define EXITS_I8042_STATUS      0x64
#define EXITS_I8042_READ_CTR    0x20
#define EXITS_VGA_VENDOR        0x1234
#define EXITS_VGA_DEVICE        0x1111
#define EXITS_VGA_BAR_MMIO      2
#define EXITS_DISPI_ID          0x500

enum exits_kind {
	EXITS_UNCLAIMED, EXITS_SERIAL_THR, EXITS_CMOS, EXITS_I8042_STATUS_READ,
	EXITS_I8042_CMD, EXITS_FWCFG, EXITS_VGA_MMIO, EXITS_KINDS,
};

static const char *const exits_names[EXITS_KINDS] = {
	"unclaimed-port", "serial-thr", "cmos-pair", "i8042-status", "i8042-cmd-pair",
	"fwcfg-data", "vga-mmio",
};

static volatile uint16_t *exits_vga_id;   /* BAR2 + 0x500, NULL without a std VGA */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static uint64_t exits_arg(const char *key, uint64_t def, uint64_t min, uint64_t max)
{
	uint64_t v;
	int ret = cmdline_get_u64(key, &v);

	if (ret == -ENOENT)
		return def;
	if (ret < 0 || v < min || v > max) {
		serial_printf("exits: error bad %s (want %lu..%lu)\n", key, min, max);
		guest_exit(GUEST_EXIT_FAIL);
	}
	return v;
}

/* TSC ticks per millisecond, over n PIT ticks starting on a tick edge. */
static uint64_t exits_tsc_khz(uint64_t n)
{
	unsigned hz = timer_start(EXITS_TICK_HZ);
	uint64_t t0, c0, c1;

	t0 = timer_wait_tick();
	c0 = rdtsc();
	timer_wait_until(t0 + n);
	c1 = rdtsc();
	timer_stop();
	return (c1 - c0) * hz / n / 1000;
}

static void exits_find_vga(void)
{
	struct pci_bar bar;
	uint32_t readback;
	uint16_t bdf;

	if (pci_probe(&readback) < 0 || pci_find_device(EXITS_VGA_VENDOR, EXITS_VGA_DEVICE, &bdf) < 0)
		return;
	if (pci_read_bar(bdf, EXITS_VGA_BAR_MMIO, &bar) < 0 || bar.io || bar.addr == 0 ||
	    bar.size < EXITS_DISPI_ID + 2 || bar.addr + bar.size > (1ull << 32))
		return;
	pci_write16(bdf, PCI_COMMAND, pci_read16(bdf, PCI_COMMAND) | PCI_COMMAND_MEMORY);
	exits_vga_id = (volatile uint16_t *)(uintptr_t)(bar.addr + EXITS_DISPI_ID);
}

/* One round: count accesses of kind; TSC ticks taken. */
static uint64_t exits_round(enum exits_kind kind, uint64_t count)
{
	uint64_t t0 = rdtsc();
	volatile uint16_t sink = 0;

	for (uint64_t i = 0; i < count; i++) {
		switch (kind) {
		case EXITS_UNCLAIMED:
			sink = inb(EXITS_UNCLAIMED_PORT);
			break;
		case EXITS_SERIAL_THR:
			outb('x', EXITS_COM1);
			break;
		case EXITS_CMOS:
			outb(0x00, EXITS_CMOS_INDEX);
			sink = inb(EXITS_CMOS_DATA);
			break;
		case EXITS_I8042_STATUS_READ:
			sink = inb(EXITS_I8042_STATUS);
			break;
		case EXITS_I8042_CMD:
			outb(EXITS_I8042_READ_CTR, EXITS_I8042_STATUS);
			sink = inb(EXITS_I8042_DATA);
			break;
		case EXITS_FWCFG:
			sink = inb(FWCFG_PORT_DATA);
			break;
		case EXITS_VGA_MMIO:
			sink = *exits_vga_id;
			break;
		default:
			break;
		}
	}
	(void)sink;
	return rdtsc() - t0;
}

static int exits_cmos_read(uint8_t index)
{
	outb(index, EXITS_CMOS_INDEX);
	return inb(EXITS_CMOS_DATA);
}

static void exits_cmos_check(void)
{
	int s0, s1;

	for (int i = 0; i < 64; i++) {
		int a = exits_cmos_read(0x0A), d = exits_cmos_read(0x0D), b = exits_cmos_read(0x0B);

		if (d != 0x80 || !(b & 0x02) || (a & 0x7F) != 0x26) {
			serial_printf("exits: error cmos A=%02x D=%02x B=%02x: an index write was not"
				      " applied before the data read\n", a, d, b);
			guest_exit(GUEST_EXIT_FAIL);
		}
	}
	timer_start(EXITS_TICK_HZ);
	s0 = exits_cmos_read(0x00);
	timer_wait_until(timer_ticks() + EXITS_TICK_HZ + EXITS_TICK_HZ / 10);
	s1 = exits_cmos_read(0x00);
	timer_stop();
	if (s0 == s1) {
		serial_printf("exits: error cmos seconds %02x did not advance in 1.1 s\n", s0);
		guest_exit(GUEST_EXIT_FAIL);
	}
	serial_puts("exits: cmos check ok\n");
}

static void exits_sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

int main(void)
{
	uint64_t count = exits_arg("count", 2000, 16, 100000);
	unsigned rounds = (unsigned)exits_arg("rounds", 5, 1, EXITS_MAX_ROUNDS);
	uint64_t khz = exits_tsc_khz(exits_arg("calib", 20, 5, 500));
	uint64_t t[EXITS_MAX_ROUNDS];
	uint8_t mcr = 0;

	if (khz == 0) {
		serial_puts("exits: error the TSC does not advance\n");
		return GUEST_EXIT_FAIL;
	}
	exits_find_vga();
	fwcfg_select(FWCFG_KEY_SIGNATURE);
	serial_printf("exits: tsc_khz=%lu count=%lu rounds=%u\n", khz, count, rounds);
	for (unsigned k = 0; k < EXITS_KINDS; k++) {
		if (k == EXITS_VGA_MMIO && !exits_vga_id) {
			serial_printf("exits: %s n/a (no std VGA)\n", exits_names[k]);
			continue;
		}
		if (k == EXITS_SERIAL_THR) {
			mcr = inb(EXITS_COM1 + EXITS_UART_MCR);
			outb(mcr | EXITS_UART_MCR_LOOP, EXITS_COM1 + EXITS_UART_MCR);
		}
		for (unsigned r = 0; r < rounds; r++)
			t[r] = exits_round((enum exits_kind)k, count);
		if (k == EXITS_SERIAL_THR) {
			outb(mcr, EXITS_COM1 + EXITS_UART_MCR);
			/* Drop what looped back, so nothing reaches a reader later. */
			for (int i = 0; i < 64 && (inb(EXITS_COM1 + 5) & 1); i++)
				(void)inb(EXITS_COM1);
		}
		exits_sort(t, rounds);
		serial_printf("exits: %s ns=%lu min=%lu max=%lu\n", exits_names[k],
			      t[rounds / 2] * 1000000 / khz / count, t[0] * 1000000 / khz / count,
			      t[rounds - 1] * 1000000 / khz / count);
	}
	exits_cmos_check();
	serial_puts("exits: done\n");
	return GUEST_EXIT_PASS;
}
