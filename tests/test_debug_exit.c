/* Unit tests for devices/debug_exit.c and devices/reset_control.c: the ports
 * that end the VM, with the exit statuses the README documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "devices/debug_exit.h"
#include "devices/reset_control.h"
#include "hypervisor/bus.h"
#include "hypervisor/vmstop.h"

static int setup(void **state)
{
	struct bus *bus = calloc(1, sizeof(*bus));
	bus_init(bus);
	vm_stop_reset_for_test();
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	vm_stop_reset_for_test();
	return 0;
}

static void test_debug_exit_write_gives_qemu_status(void **state)
{
	static const struct { uint32_t value; unsigned int size; int status; } cases[] = {
		{ 0, 1, 1 }, { 1, 1, 3 }, { 0x10, 1, 0x21 }, { 0x7F, 1, 0xFF }, { 0x80, 1, 1 },
		{ 0xFF, 1, 0xFF },
	};
	struct debug_exit dev;
	struct bus *bus = *state;

	assert_int_equal(debug_exit_init(&dev, bus, DEBUG_EXIT_PORT), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = cases[i].value;
		vm_stop_reset_for_test();
		bus_access(bus, BUS_PIO, DEBUG_EXIT_PORT, &v, cases[i].size, true);
		assert_true(vm_stop_requested());
		assert_int_equal(vm_stop_reason(), VM_STOP_TEST_EXIT);
		assert_int_equal(vm_stop_exit_status(), cases[i].status);
	}
}

static void test_debug_exit_ignores_wider_writes(void **state)
{
	struct debug_exit dev;
	struct bus *bus = *state;
	uint32_t v = 0x31;

	assert_int_equal(debug_exit_init(&dev, bus, DEBUG_EXIT_PORT), 0);
	bus_access(bus, BUS_PIO, DEBUG_EXIT_PORT, &v, 2, true);
	bus_access(bus, BUS_PIO, DEBUG_EXIT_PORT, &v, 4, true);
	assert_false(vm_stop_requested());
	assert_int_equal(bus_find(bus, BUS_PIO, DEBUG_EXIT_PORT)->rejected, 2);
}

static void test_debug_exit_first_stop_wins(void **state)
{
	struct debug_exit dev;
	struct bus *bus = *state;
	uint8_t v = 5;

	assert_int_equal(debug_exit_init(&dev, bus, DEBUG_EXIT_PORT), 0);
	vm_request_stop(VM_STOP_RESET, EXIT_STATUS_RESET, NULL);
	bus_access(bus, BUS_PIO, DEBUG_EXIT_PORT, &v, 1, true);
	assert_int_equal(vm_stop_reason(), VM_STOP_RESET);
	assert_int_equal(vm_stop_exit_status(), EXIT_STATUS_RESET);
}

static void test_reset_control_rst_cpu_requests_reset(void **state)
{
	struct reset_control dev;
	struct bus *bus = *state;
	uint8_t v = 0x06;

	assert_int_equal(reset_control_init(&dev, bus), 0);
	bus_access(bus, BUS_PIO, RESET_CONTROL_PORT, &v, 1, true);
	assert_int_equal(vm_stop_reason(), VM_STOP_RESET);
	assert_int_equal(vm_stop_exit_status(), EXIT_STATUS_RESET);
}

static void test_reset_control_without_rst_cpu_only_stores_sys_rst(void **state)
{
	struct reset_control dev;
	struct bus *bus = *state;
	uint8_t v = 0x02 | 0x08;

	assert_int_equal(reset_control_init(&dev, bus), 0);
	bus_access(bus, BUS_PIO, RESET_CONTROL_PORT, &v, 1, true);
	assert_false(vm_stop_requested());
	v = 0;
	bus_access(bus, BUS_PIO, RESET_CONTROL_PORT, &v, 1, false);
	assert_int_equal(v, 0x02);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_debug_exit_write_gives_qemu_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_exit_ignores_wider_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_exit_first_stop_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_control_rst_cpu_requests_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_control_without_rst_cpu_only_stores_sys_rst, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
