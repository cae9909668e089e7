/* Unit tests for devices/vmmouse.c, driven through the bus with a fake
 * vCPU register file exactly as Linux's vmmouse driver calls the backdoor,
 * with the real i8042 behind it (its doorbell packets, its PS/2 motion). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/i8042.h"
#include "devices/vmmouse.h"
#include "hypervisor/bus.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstop.h"

#define AUX_SEND        0xD4
#define AUX_ENABLE      0xF4
#define PS2_ACK         0xFA
#define PKT_ALWAYS_ONE  0x08

struct fake_cpu {
	struct bus_regs regs;
	unsigned int gets, sets;
	int fail_get;   /* -errno to return from get, 0 = works */
};

struct fixture {
	struct bus bus;
	struct i8042 i8042;
	struct vmmouse vm;
	struct fake_cpu cpu;
	struct input_sink sink;
	unsigned int aux_raises;
	bool aux_level;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fixture *f = ctx;

	if (gsi == I8042_AUX_IRQ) {
		if (level && !f->aux_level)
			f->aux_raises++;
		f->aux_level = level;
	}
}

static int cpu_get(void *ctx, struct bus_regs *regs)
{
	struct fake_cpu *c = ctx;

	c->gets++;
	if (c->fail_get)
		return c->fail_get;
	*regs = c->regs;
	return 0;
}

static int cpu_set(void *ctx, const struct bus_regs *regs)
{
	struct fake_cpu *c = ctx;

	c->sets++;
	c->regs = *regs;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	log_set_level(LOG_ERROR);
	vm_stop_reset_for_test();
	bus_init(&f->bus);
	assert_int_equal(i8042_init(&f->i8042, &f->bus,
				    (struct irq_line){ fake_set_level, f, I8042_KBD_IRQ },
				    (struct irq_line){ fake_set_level, f, I8042_AUX_IRQ }), 0);
	assert_int_equal(vmmouse_init(&f->vm, &f->bus, &f->i8042), 0);
	f->sink = vmmouse_input_sink(&f->vm);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	vm_stop_reset_for_test();
	return 0;
}

/* One `inl (%dx)` at port with the registers given; returns EAX read. */
static uint32_t backdoor_at(struct fixture *f, uint16_t port, uint32_t eax, uint32_t ebx,
			    uint32_t ecx)
{
	const struct bus_vcpu_regs vregs = { .get = cpu_get, .set = cpu_set, .ctx = &f->cpu };
	uint32_t data = 0xDEADBEEF;

	f->cpu.regs = (struct bus_regs){ .rax = eax, .rbx = ebx, .rcx = ecx, .rdx = port,
					 .rsi = 0x5151, .rdi = 0xD1D1 };
	bus_access_vcpu(&f->bus, BUS_PIO, port, &data, 4, false, &vregs);
	return data;
}

static uint32_t backdoor(struct fixture *f, uint32_t ebx, uint32_t cmd)
{
	return backdoor_at(f, VMMOUSE_PORT, VMMOUSE_MAGIC, ebx, cmd);
}

static uint32_t status(struct fixture *f)
{
	return backdoor(f, 0, VMMOUSE_CMD_ABSPOINTER_STATUS);
}

/* Linux's vmmouse_enable(): ENABLE, STATUS, DATA(1) = version, RESTRICT,
 * REQUEST_ABSOLUTE. */
static void linux_enable(struct fixture *f)
{
	backdoor(f, VMMOUSE_SUB_ENABLE, VMMOUSE_CMD_ABSPOINTER_COMMAND);
	assert_int_equal(status(f), 1);
	assert_int_equal(backdoor(f, 1, VMMOUSE_CMD_ABSPOINTER_DATA), VMMOUSE_VERSION_ID);
	backdoor(f, 1, VMMOUSE_CMD_ABSPOINTER_RESTRICT);
	backdoor(f, VMMOUSE_SUB_REQUEST_ABSOLUTE, VMMOUSE_CMD_ABSPOINTER_COMMAND);
	assert_int_equal(status(f), 0);
}

/* Reads one packet as Linux's vmmouse_report_events does. */
static void read_packet(struct fixture *f, uint32_t *w)
{
	assert_true(status(f) >= VMMOUSE_PACKET_WORDS);
	w[0] = backdoor(f, VMMOUSE_PACKET_WORDS, VMMOUSE_CMD_ABSPOINTER_DATA);
	w[1] = (uint32_t)f->cpu.regs.rbx;
	w[2] = (uint32_t)f->cpu.regs.rcx;
	w[3] = (uint32_t)f->cpu.regs.rdx;
}

static void outb(struct fixture *f, uint16_t port, uint8_t value)
{
	bus_access(&f->bus, BUS_PIO, port, &value, 1, true);
}

static bool read_aux(struct fixture *f, uint8_t *byte)
{
	uint8_t st = 0;

	bus_access(&f->bus, BUS_PIO, I8042_COMMAND_PORT, &st, 1, false);
	if (!(st & I8042_STR_OBF))
		return false;
	bus_access(&f->bus, BUS_PIO, I8042_DATA_PORT, byte, 1, false);
	return true;
}

/* psmouse's activation: aux port on with its interrupt, reporting on. */
static void ps2_enable_reporting(struct fixture *f)
{
	uint8_t byte;

	outb(f, I8042_COMMAND_PORT, 0x60);
	outb(f, I8042_DATA_PORT, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
	outb(f, I8042_COMMAND_PORT, AUX_SEND);
	outb(f, I8042_DATA_PORT, AUX_ENABLE);
	assert_true(read_aux(f, &byte));
	assert_int_equal(byte, PS2_ACK);
	assert_false(read_aux(f, &byte));
}

/* Reads one 3-byte PS/2 packet; returns its dx, dy (PS/2: up positive). */
static void read_ps2_packet(struct fixture *f, uint8_t *b0, int *dx, int *dy)
{
	uint8_t b[3];

	for (int i = 0; i < 3; i++)
		assert_true(read_aux(f, &b[i]));
	assert_true(b[0] & PKT_ALWAYS_ONE);
	*b0 = b[0];
	*dx = b[0] & 0x10 ? (int)b[1] - 256 : b[1];
	*dy = b[0] & 0x20 ? (int)b[2] - 256 : b[2];
}

static void test_vmmouse_getversion_answers_magic_as_linux_detects_it(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(backdoor(f, 0, VMMOUSE_CMD_GETVERSION), VMMOUSE_BACKDOOR_VERSION);
	assert_int_equal(f->cpu.regs.rbx, VMMOUSE_MAGIC);
	assert_int_equal(f->cpu.gets, 1);
	assert_int_equal(f->cpu.sets, 1);
	/* Registers the command does not answer in come back unchanged. */
	assert_int_equal(f->cpu.regs.rsi, 0x5151);
	assert_int_equal(f->cpu.regs.rdi, 0xD1D1);
}

static void test_vmmouse_without_magic_reads_all_ones_and_counts(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(backdoor_at(f, VMMOUSE_PORT, 0x12345678, 0, VMMOUSE_CMD_GETVERSION),
			 0xFFFFFFFFu);
	assert_int_equal(f->cpu.regs.rbx, 0);
	assert_int_equal(f->vm.stats.bad_magic, 1);
	assert_int_equal(f->vm.stats.calls, 0);
}

static void test_vmmouse_status_says_error_until_enabled(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(status(f), VMMOUSE_STATUS_ERROR);
	/* Absolute mode cannot be requested while disabled (as QEMU). */
	backdoor(f, VMMOUSE_SUB_REQUEST_ABSOLUTE, VMMOUSE_CMD_ABSPOINTER_COMMAND);
	assert_false(f->vm.absolute);
}

static void test_vmmouse_linux_enable_sequence_then_absolute_packets(void **state)
{
	struct fixture *f = *state;
	uint32_t w[4];

	linux_enable(f);
	assert_int_equal(f->vm.stats.restricts, 1);
	f->sink.ops->pointer_abs(f->sink.opaque, 0, 0, 1024, 768, 0, INPUT_BUTTON_LEFT);
	f->sink.ops->pointer_abs(f->sink.opaque, 1023, 767, 1024, 768, 0, INPUT_BUTTON_RIGHT);
	assert_int_equal(status(f), 8);
	read_packet(f, w);
	assert_int_equal(w[0], VMMOUSE_LEFT_BUTTON);
	assert_int_equal(w[1], 32);          /* centre of pixel 0: 65536 / 2048 */
	assert_int_equal(w[2], 42);          /* 65536 / 1536 */
	assert_int_equal(w[3], 0);
	read_packet(f, w);
	assert_int_equal(w[0], VMMOUSE_RIGHT_BUTTON);
	assert_int_equal(w[1], 65504);
	assert_int_equal(w[2], 65493);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->vm.stats.abs_packets, 2);
}

static void test_vmmouse_scale_round_trips_through_libinputs_mapping(void **state)
{
	static const uint32_t widths[] = { 1, 2, 3, 320, 640, 720, 768, 800, 1023, 1024, 1080,
					   1280, 1920, 2560, 4096, 7680, 32768 };
	(void)state;

	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		uint32_t w = widths[i];

		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = vmmouse_scale(x, w);

			assert_true(v <= VMMOUSE_ABS_MAX);
			if ((uint64_t)v * w / 65536 != x)
				fail_msg("width %u pixel %u: value %u maps back to %u", w, x, v,
					 (uint32_t)((uint64_t)v * w / 65536));
		}
	}
	assert_int_equal(vmmouse_scale(5000, 640), vmmouse_scale(639, 640));
	assert_int_equal(vmmouse_scale(0, 0), 0);
}

static void test_vmmouse_packets_ring_the_ps2_doorbell(void **state)
{
	struct fixture *f = *state;
	uint8_t b0;
	int dx, dy;

	ps2_enable_reporting(f);
	linux_enable(f);
	f->aux_raises = 0;
	f->sink.ops->pointer_abs(f->sink.opaque, 100, 100, 640, 480, 0, INPUT_BUTTON_LEFT);
	assert_int_equal(f->aux_raises, 1);
	read_ps2_packet(f, &b0, &dx, &dy);
	assert_int_equal(dx, 0);
	assert_int_equal(dy, 0);
	assert_int_equal(f->i8042.mouse.stats.doorbells, 1);
	assert_int_equal(status(f), 4);
}

static void test_vmmouse_buttons_wheel_and_relative_packets(void **state)
{
	struct fixture *f = *state;
	uint32_t w[4];

	linux_enable(f);
	f->sink.ops->pointer_abs(f->sink.opaque, 320, 240, 640, 480, 1, INPUT_BUTTON_MIDDLE);
	read_packet(f, w);
	assert_int_equal(w[0], VMMOUSE_MIDDLE_BUTTON);
	assert_int_equal((int8_t)(uint8_t)w[3], -1);    /* Linux: REL_WHEEL = -(s8)Z = +1 */
	/* A click without motion lands where the pointer is. */
	f->sink.ops->pointer(f->sink.opaque, 0, 0, 0, INPUT_BUTTON_LEFT);
	read_packet(f, w);
	assert_int_equal(w[0], VMMOUSE_LEFT_BUTTON);
	assert_int_equal(w[1], vmmouse_scale(320, 640));
	assert_int_equal(w[2], vmmouse_scale(240, 480));
	/* Relative motion (the SDL window grabbed) goes as a relative packet, Y up. */
	f->sink.ops->pointer(f->sink.opaque, 5, 7, -2, 0);
	read_packet(f, w);
	assert_int_equal(w[0], VMMOUSE_RELATIVE_PACKET);
	assert_int_equal((int32_t)w[1], 5);
	assert_int_equal((int32_t)w[2], -7);
	assert_int_equal((int8_t)(uint8_t)w[3], 2);
	assert_int_equal(f->vm.stats.rel_packets, 1);
}

static void test_vmmouse_relative_mode_sends_differences(void **state)
{
	struct fixture *f = *state;
	uint32_t w[4];

	linux_enable(f);
	backdoor(f, VMMOUSE_SUB_REQUEST_RELATIVE, VMMOUSE_CMD_ABSPOINTER_COMMAND);
	f->sink.ops->pointer_abs(f->sink.opaque, 100, 100, 640, 480, 0, 0);
	f->sink.ops->pointer_abs(f->sink.opaque, 110, 90, 640, 480, 0, 0);
	read_packet(f, w);
	assert_int_equal(w[0], VMMOUSE_RELATIVE_PACKET);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 0);
	read_packet(f, w);
	assert_int_equal((int32_t)w[1], 10);
	assert_int_equal((int32_t)w[2], 10);           /* 10 up */
}

static void test_vmmouse_disabled_falls_back_to_ps2_motion(void **state)
{
	struct fixture *f = *state;
	uint8_t b0, byte;
	int dx, dy;

	ps2_enable_reporting(f);
	/* The first position only sets the origin; then the distance moves. */
	f->sink.ops->pointer_abs(f->sink.opaque, 300, 200, 640, 480, 0, 0);
	assert_false(read_aux(f, &byte));
	f->sink.ops->pointer_abs(f->sink.opaque, 310, 250, 640, 480, 0, INPUT_BUTTON_LEFT);
	read_ps2_packet(f, &b0, &dx, &dy);
	assert_int_equal(b0 & 0x07, 0x01);
	assert_int_equal(dx, 10);
	assert_int_equal(dy, -50);                     /* PS/2: down is negative */
	/* Beyond the screen: clamped to the last pixel. */
	f->sink.ops->pointer_abs(f->sink.opaque, 600, 250, 640, 480, 0, 0);
	f->sink.ops->pointer_abs(f->sink.opaque, 9999, 250, 640, 480, 0, 0);
	for (int i = 0; i < 3; i++)   /* 290 counts: 127 + 127 + 36 */
		read_ps2_packet(f, &b0, &dx, &dy);
	read_ps2_packet(f, &b0, &dx, &dy);
	assert_int_equal(dx, 639 - 600);
	assert_int_equal(status(f), VMMOUSE_STATUS_ERROR);
	assert_int_equal(f->vm.stats.ps2_events, 4);
	assert_int_equal(f->vm.stats.abs_packets, 0);
}

static void test_vmmouse_relative_motion_forgets_the_origin(void **state)
{
	struct fixture *f = *state;
	uint8_t b0, byte;
	int dx, dy;

	ps2_enable_reporting(f);
	f->sink.ops->pointer_abs(f->sink.opaque, 300, 200, 640, 480, 0, 0);
	f->sink.ops->pointer(f->sink.opaque, 4, 4, 0, 0);
	read_ps2_packet(f, &b0, &dx, &dy);
	assert_int_equal(dx, 4);
	/* The guest's pointer moved by itself: the next position is a new origin. */
	f->sink.ops->pointer_abs(f->sink.opaque, 0, 0, 640, 480, 0, 0);
	assert_false(read_aux(f, &byte));
}

static void test_vmmouse_queue_is_bounded_and_counts_drops(void **state)
{
	struct fixture *f = *state;

	linux_enable(f);
	for (uint32_t i = 0; i < 300; i++)
		f->sink.ops->pointer_abs(f->sink.opaque, i, i, 640, 480, 0, 0);
	assert_int_equal(status(f), VMMOUSE_QUEUE_WORDS);
	assert_int_equal(f->vm.stats.abs_packets, VMMOUSE_QUEUE_WORDS / VMMOUSE_PACKET_WORDS);
	assert_int_equal(f->vm.stats.packets_dropped, 300 - VMMOUSE_QUEUE_WORDS / VMMOUSE_PACKET_WORDS);
}

static void test_vmmouse_bad_reads_disable_the_device(void **state)
{
	static const uint32_t bad[] = { 0, 7, 5 /* more than the 4 queued */, 0xFFFFFFFF };
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		linux_enable(f);
		f->sink.ops->pointer_abs(f->sink.opaque, 1, 1, 640, 480, 0, 0);
		backdoor(f, bad[i], VMMOUSE_CMD_ABSPOINTER_DATA);
		assert_int_equal(status(f), VMMOUSE_STATUS_ERROR);
		assert_int_equal(f->vm.stats.bad_reads, i + 1);
	}
}

static void test_vmmouse_disable_empties_and_enable_starts_with_the_version(void **state)
{
	struct fixture *f = *state;

	linux_enable(f);
	f->sink.ops->pointer_abs(f->sink.opaque, 1, 1, 640, 480, 0, 0);
	backdoor(f, VMMOUSE_SUB_DISABLE, VMMOUSE_CMD_ABSPOINTER_COMMAND);
	assert_int_equal(status(f), VMMOUSE_STATUS_ERROR);
	/* Linux's reconnect: disable, then enable; the version comes first. */
	linux_enable(f);
}

static void test_vmmouse_unknown_commands_are_counted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(backdoor(f, 0, 0x14 /* GETRAMSIZE */), 0xFFFFFFFFu);
	backdoor(f, 0x1234, VMMOUSE_CMD_ABSPOINTER_COMMAND);
	assert_int_equal(f->vm.stats.unknown_commands, 2);
}

static void test_vmmouse_refuses_accesses_without_registers_or_of_other_sizes(void **state)
{
	struct fixture *f = *state;
	uint32_t data = 0;
	uint8_t byte = 0;

	/* String I/O reaches the bus without registers: refused, reads all ones. */
	bus_access(&f->bus, BUS_PIO, VMMOUSE_PORT, &data, 4, false);
	assert_int_equal(data, 0xFFFFFFFFu);
	bus_access(&f->bus, BUS_PIO, VMMOUSE_PORT, &byte, 1, false);
	assert_int_equal(byte, 0xFF);
	assert_int_equal(bus_find(&f->bus, BUS_PIO, VMMOUSE_PORT)->rejected, 2);
	/* A vCPU whose registers cannot be read: refused too. */
	f->cpu.fail_get = -EIO;
	assert_int_equal(backdoor(f, 0, VMMOUSE_CMD_GETVERSION), 0xFFFFFFFFu);
	assert_int_equal(f->cpu.sets, 0);
	assert_int_equal(f->vm.stats.calls, 0);
}

static void test_vmmouse_keys_pass_to_the_keyboard(void **state)
{
	struct fixture *f = *state;
	uint8_t byte = 0;

	f->sink.ops->key(f->sink.opaque, 0x1E, true);   /* A */
	bus_access(&f->bus, BUS_PIO, I8042_DATA_PORT, &byte, 1, false);
	assert_int_equal(byte, 0x1E);
}

static void test_vmmouse_print_stats_reports_counters(void **state)
{
	struct fixture *f = *state;
	char text[512] = { 0 };
	FILE *out = fmemopen(text, sizeof(text) - 1, "w");

	linux_enable(f);
	f->sink.ops->pointer_abs(f->sink.opaque, 1, 1, 640, 480, 0, 0);
	vmmouse_print_stats(&f->vm, out);
	fclose(out);
	assert_non_null(strstr(text, "vmmouse: mode=absolute calls=6 abs_packets=1 "));
	assert_non_null(strstr(text, " restricts=1\n"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_vmmouse_getversion_answers_magic_as_linux_detects_it),
		T(test_vmmouse_without_magic_reads_all_ones_and_counts),
		T(test_vmmouse_status_says_error_until_enabled),
		T(test_vmmouse_linux_enable_sequence_then_absolute_packets),
		T(test_vmmouse_scale_round_trips_through_libinputs_mapping),
		T(test_vmmouse_packets_ring_the_ps2_doorbell),
		T(test_vmmouse_buttons_wheel_and_relative_packets),
		T(test_vmmouse_relative_mode_sends_differences),
		T(test_vmmouse_disabled_falls_back_to_ps2_motion),
		T(test_vmmouse_relative_motion_forgets_the_origin),
		T(test_vmmouse_queue_is_bounded_and_counts_drops),
		T(test_vmmouse_bad_reads_disable_the_device),
		T(test_vmmouse_disable_empties_and_enable_starts_with_the_version),
		T(test_vmmouse_unknown_commands_are_counted),
		T(test_vmmouse_refuses_accesses_without_registers_or_of_other_sizes),
		T(test_vmmouse_keys_pass_to_the_keyboard),
		T(test_vmmouse_print_stats_reports_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
