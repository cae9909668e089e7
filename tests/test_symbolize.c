/* Tests for stack/symbolize.c: our own functions (static ones too) are
 * named from the executable's symbol table, library functions through the
 * dynamic loader with their exact bounds from .eh_frame_hdr. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "stack/symbolize.h"

/* A static function of this test: in .symtab only, never exported. */
static __attribute__((noinline)) int symbolize_static_target(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

/* Kept in a volatile so the call is not folded away and the address taken. */
static int (*volatile static_target)(int) = symbolize_static_target;

static int setup(void **state)
{
	(void)state;
	symbolize_init();
	symbolize_init(); /* idempotent */
	return 0;
}

static void test_symbolize_own_names_static_function_and_its_bounds(void **state)
{
	uintptr_t fn = (uintptr_t)static_target;
	struct function_at f;

	(void)state;
	assert_int_equal(static_target(2), 7);
	assert_true(symbolize_own(fn, &f));
	assert_string_equal(f.name, "symbolize_static_target");
	assert_int_equal(f.start, fn);
	assert_int_equal(f.name_addr, fn);
	assert_true(f.end > f.start);
	assert_null(f.object);

	/* Its last byte is still the function; one past it is not. */
	assert_true(symbolize_own(f.end - 1, &f));
	assert_string_equal(f.name, "symbolize_static_target");
	if (symbolize_own(f.end, &f))
		assert_string_not_equal(f.name, "symbolize_static_target");
}

static void test_symbolize_own_names_a_function_of_the_fbvm_library(void **state)
{
	struct function_at f;

	(void)state;
	/* Linked in from libfbvm.a like any fbvm function. */
	assert_true(symbolize_own((uintptr_t)symbolize_loaded + 1, &f));
	assert_string_equal(f.name, "symbolize_loaded");
	assert_int_equal(f.start, (uintptr_t)symbolize_loaded);
}

static void test_symbolize_own_finds_nothing_outside_our_code(void **state)
{
	void *heap = malloc(16);
	struct function_at f;

	(void)state;
	assert_false(symbolize_own((uintptr_t)heap, &f));
	assert_false(symbolize_own((uintptr_t)&f, &f));
	assert_false(symbolize_own(0, &f));
	free(heap);
}

static void test_symbolize_loaded_names_libc_function_object_and_bounds(void **state)
{
	/* dlsym, not &getpid: the address of the function itself, not a PLT
	 * stub or canonical PLT entry in the executable. */
	uintptr_t fn = (uintptr_t)dlsym(RTLD_DEFAULT, "getpid");
	struct function_at f;

	(void)state;
	assert_true(fn != 0);
	assert_false(symbolize_own(fn, &f));
	assert_true(symbolize_loaded(fn + 1, &f));
	assert_non_null(f.object);
	assert_string_equal(f.object, "libc.so.6");
	assert_non_null(f.name);
	assert_int_equal(f.start, fn);
	assert_true(f.end > fn + 1);
	assert_true(f.base != 0 && f.base < fn);
	/* dladdr names the nearest exported symbol: getpid or an alias of it. */
	assert_int_equal(f.name_addr, fn);
}

static void test_symbolize_loaded_finds_nothing_for_data(void **state)
{
	void *heap = malloc(16);
	struct function_at f;

	(void)state;
	assert_false(symbolize_loaded((uintptr_t)heap, &f));
	free(heap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbolize_own_names_static_function_and_its_bounds),
		cmocka_unit_test(test_symbolize_own_names_a_function_of_the_fbvm_library),
		cmocka_unit_test(test_symbolize_own_finds_nothing_outside_our_code),
		cmocka_unit_test(test_symbolize_loaded_names_libc_function_object_and_bounds),
		cmocka_unit_test(test_symbolize_loaded_finds_nothing_for_data),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
