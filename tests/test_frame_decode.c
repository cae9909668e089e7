/* Tests for stack/frame_decode.c, the x86-64 prologue decoder, on byte
 * sequences: what gcc 12 emits (with and without stack-clash probes, with
 * the stack protector, under ASan) and the cases that must end decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "stack/frame_decode.h"

struct decode_case {
	const char *what;
	uint8_t code[64];
	size_t len;
	size_t bytes;
	const char *desc;
};

static const struct decode_case decode_cases[] = {
	{ "sub imm8",
	  { 0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0xe7, 0xe8, 0, 0, 0, 0 }, 12,
	  0x18, "sub $0x18,%rsp" },
	{ "sub imm32 without probes (no -fstack-clash-protection)",
	  { 0x48, 0x81, 0xec, 0xc0, 0x03, 0x30, 0x00, 0x48, 0x89, 0xe7, 0xe8, 0, 0, 0, 0 }, 15,
	  0x3003c0, "sub $0x3003c0,%rsp" },
	{ "add $-128, gcc's spelling of sub 128",
	  { 0x53, 0x48, 0x83, 0xc4, 0x80, 0xe8, 0, 0, 0, 0 }, 10,
	  128, "add $-0x80,%rsp" },
	{ "probe loop then sub, with the stack protector",
	  { 0x4c, 0x8d, 0x9c, 0x24, 0x00, 0x00, 0xd0, 0xff,       /* lea -0x300000(%rsp),%r11 */
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00,             /* sub $0x1000,%rsp */
	    0x48, 0x83, 0x0c, 0x24, 0x00,                         /* orq $0x0,(%rsp) */
	    0x4c, 0x39, 0xdc,                                     /* cmp %r11,%rsp */
	    0x75, 0xef,                                           /* jne */
	    0x48, 0x83, 0xec, 0x18,                               /* sub $0x18,%rsp */
	    0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0,          /* mov %fs:0x28,%rax */
	    0xe8, 0, 0, 0, 0 }, 43,
	  0x300018, "probe loop lea -0x300000(%rsp),%r11; sub $0x18,%rsp" },
	{ "unrolled probes",
	  { 0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00,
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00,
	    0x48, 0x81, 0xec, 0x38, 0x03, 0x00, 0x00, 0xc3 }, 32,
	  0x2338, "sub $0x1000,%rsp; sub $0x1000,%rsp; sub $0x338,%rsp" },
	{ "ASan prologue: endbr64, frame pointer, pushes, then the loop",
	  { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x41, 0x54, 0x53,
	    0x4c, 0x8d, 0x9c, 0x24, 0x00, 0x00, 0xd0, 0xff,
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00,
	    0x4c, 0x39, 0xdc, 0x75, 0xef,
	    0x48, 0x81, 0xec, 0x20, 0x01, 0x00, 0x00,
	    0x48, 0x8d, 0x05, 0, 0, 0, 0 }, 50,
	  0x300120, "probe loop lea -0x300000(%rsp),%r11; sub $0x120,%rsp" },
	{ "a fault inside the loop, window ending before cmp",
	  { 0x4c, 0x8d, 0x9c, 0x24, 0x00, 0x00, 0xfc, 0xff,
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x0c, 0x24, 0x00 }, 20,
	  0x40000, "probe loop lea -0x40000(%rsp),%r11" },
	{ "leaf function: no frame",
	  { 0x8d, 0x47, 0x01, 0xc3 }, 4, 0, "" },
	{ "frame released before any call: the prologue is over",
	  { 0x48, 0x83, 0xec, 0x08, 0x48, 0x83, 0xc4, 0x08, 0x48, 0x83, 0xec, 0x40, 0xc3 }, 13,
	  8, "sub $0x8,%rsp" },
	{ "truncated instruction",
	  { 0x48, 0x81, 0xec, 0x00 }, 4, 0, "" },
	{ "probe loop bounded by mov %rsp,%r11; sub $N,%r11",
	  { 0x49, 0x89, 0xe3,                                     /* mov %rsp,%r11 */
	    0x49, 0x81, 0xeb, 0x00, 0x00, 0x02, 0x00,             /* sub $0x20000,%r11 */
	    0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00,             /* sub $0x1000,%rsp */
	    0x48, 0x83, 0x0c, 0x24, 0x00,                         /* orq $0x0,(%rsp) */
	    0x4c, 0x39, 0xdc,                                     /* cmp %r11,%rsp */
	    0x75, 0xef,                                           /* jne */
	    0x48, 0x83, 0xec, 0x28,                               /* sub $0x28,%rsp */
	    0xe8, 0, 0, 0, 0 }, 36,
	  0x20028, "probe loop lea -0x20000(%rsp),%r11; sub $0x28,%rsp" },
	{ "frame pointer prologue: endbr64, push %rbp, mov %rsp,%rbp, sub",
	  { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x20,
	    0x48, 0x89, 0x7d, 0xe8, 0xe8, 0, 0, 0, 0 }, 21,
	  0x20, "sub $0x20,%rsp" },
	{ "an immediate that looks like sub $0x40,%rsp is not decoded as one",
	  { 0x48, 0xb8, 0x48, 0x83, 0xec, 0x40, 0, 0, 0, 0,      /* movabs $...,%rax */
	    0xc3 }, 11, 0, "" },
	{ "a jmp ends the prologue",
	  { 0x48, 0x83, 0xec, 0x10, 0xe9, 0, 0, 0, 0, 0x48, 0x83, 0xec, 0x20 }, 13,
	  0x10, "sub $0x10,%rsp" },
	{ "an indirect call ends the prologue",
	  { 0x48, 0x83, 0xec, 0x10, 0xff, 0xd0, 0x48, 0x83, 0xec, 0x20 }, 10,
	  0x10, "sub $0x10,%rsp" },
	{ "an unknown instruction ends decoding",
	  { 0x48, 0x83, 0xec, 0x10, 0x06, 0x48, 0x83, 0xec, 0x20 }, 9,
	  0x10, "sub $0x10,%rsp" },
	{ "empty input", { 0 }, 0, 0, "" },
};

static void test_frame_decode_reads_gcc_prologues(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];
		char desc[160];
		size_t bytes = frame_decode(c->code, c->len, desc, sizeof(desc));

		if (bytes != c->bytes || strcmp(desc, c->desc))
			print_error("case '%s': got %zu \"%s\", want %zu \"%s\"\n", c->what, bytes,
				    desc, c->bytes, c->desc);
		assert_int_equal(bytes, c->bytes);
		assert_string_equal(desc, c->desc);
	}
}

static void test_frame_decode_truncates_description_to_buffer(void **state)
{
	const struct decode_case *c = &decode_cases[3];
	char desc[8];

	(void)state;
	memset(desc, 'x', sizeof(desc));
	assert_int_equal(frame_decode(c->code, c->len, desc, sizeof(desc)), c->bytes);
	assert_int_equal(strlen(desc), sizeof(desc) - 1);
}

static void test_frame_decode_with_no_description_buffer_still_counts(void **state)
{
	const struct decode_case *c = &decode_cases[3];
	char desc[4] = "xyz";

	(void)state;
	assert_int_equal(frame_decode(c->code, c->len, desc, 0), c->bytes);
	assert_string_equal(desc, "xyz");
	assert_int_equal(frame_decode(c->code, c->len, NULL, 0), c->bytes);
}

/* Code that ends right at an unmapped page: the decoder must stop at len,
 * not read the next instruction's bytes. */
static void test_frame_decode_reads_nothing_past_len(void **state)
{
	const struct decode_case *c = &decode_cases[3];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char desc[160];
	uint8_t *map, *code;

	(void)state;
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
	/* All but the final call: the window ends inside the prologue. */
	code = map + page - (c->len - 5);
	memcpy(code, c->code, c->len - 5);
	assert_int_equal(frame_decode(code, c->len - 5, desc, sizeof(desc)), c->bytes);
	assert_string_equal(desc, c->desc);
	/* A truncated sub imm32 right at the end of the page. */
	code = map + page - 4;
	memcpy(code, (const uint8_t[]){ 0x48, 0x81, 0xec, 0x00 }, 4);
	assert_int_equal(frame_decode(code, 4, desc, sizeof(desc)), 0);
	assert_string_equal(desc, "");
	munmap(map, 2 * page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_decode_reads_gcc_prologues),
		cmocka_unit_test(test_frame_decode_truncates_description_to_buffer),
		cmocka_unit_test(test_frame_decode_with_no_description_buffer_still_counts),
		cmocka_unit_test(test_frame_decode_reads_nothing_past_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
