/*
 * Tests for devices/fw_cfg.c. Every access goes through the port-I/O bus as a
 * guest's would, and DMA descriptors and buffers live in real guest RAM
 * (struct guest_mem, 16 MiB).
 *
 * Over 800 lines on purpose: one test file per unit under test (as every
 * tests/test_X.c for X.c), made of independent cases, each short.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devices/fw_cfg.h"
#include "hypervisor/bus.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/memmap.h"
#include "guest_view.h"

/* Spelled out from QEMU docs/specs/fw_cfg.rst, so the tests check the device
 * against the spec rather than against its own constants. */
#define PORT_SEL   0x510
#define PORT_DATA  0x511
#define PORT_DMA_HI 0x514
#define PORT_DMA_LO 0x518
#define KEY_SIGNATURE 0x0000
#define KEY_ID        0x0001
#define KEY_FILE_DIR  0x0019
#define DMA_ERROR  0x01u
#define DMA_READ   0x02u
#define DMA_SKIP   0x04u
#define DMA_SELECT 0x08u
#define DMA_WRITE  0x10u
#define DIR_BYTES  (4 + 64 * 32)   /* QEMU: 0x20 file slots */

#define RAM_BYTES MiB(16)
#define DESC_GPA  0x1000ull
#define BUF_GPA   0x2000ull
#define RAMFB_BYTES 28

struct fixture {
	struct bus bus;
	struct guest_mem mem;
	struct fw_cfg fw;
	/* what the write callback saw */
	unsigned int cb_calls;
	size_t cb_offset, cb_len, cb_size;
	uint8_t cb_data[64];
};

static void record_write(void *opaque, const uint8_t *data, size_t size, size_t offset,
			 size_t len)
{
	struct fixture *f = opaque;

	f->cb_calls++;
	f->cb_offset = offset;
	f->cb_len = len;
	f->cb_size = size;
	memcpy(f->cb_data, data, size < sizeof(f->cb_data) ? size : sizeof(f->cb_data));
}

static int setup_ram(void **state, uint64_t ram_bytes)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	bus_init(&f->bus);
	if (guest_mem_init(&f->mem, ram_bytes) != 0 ||
	    fw_cfg_init(&f->fw, &f->bus, &f->mem) != 0) {
		guest_mem_destroy(&f->mem);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_ram(state, RAM_BYTES);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fw_cfg_destroy(&f->fw);
	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

/* Guest-side port I/O. */
static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
	bus_access(&f->bus, BUS_PIO, port, &v, 1, true);
}

static void outw(struct fixture *f, uint16_t port, uint16_t v)
{
	bus_access(&f->bus, BUS_PIO, port, &v, 2, true);
}

static void outl(struct fixture *f, uint16_t port, uint32_t v)
{
	bus_access(&f->bus, BUS_PIO, port, &v, 4, true);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t v;

	bus_access(&f->bus, BUS_PIO, port, &v, 1, false);
	return v;
}

static uint16_t inw(struct fixture *f, uint16_t port)
{
	uint16_t v;

	bus_access(&f->bus, BUS_PIO, port, &v, 2, false);
	return v;
}

static uint32_t inl(struct fixture *f, uint16_t port)
{
	uint32_t v;

	bus_access(&f->bus, BUS_PIO, port, &v, 4, false);
	return v;
}

static void select_key(struct fixture *f, uint16_t key)
{
	outw(f, PORT_SEL, key);
}

static void read_data(struct fixture *f, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len--)
		*p++ = inb(f, PORT_DATA);
}

static uint8_t *ram(struct fixture *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_view(&f->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put_desc(struct fixture *f, uint64_t gpa, uint32_t control, uint32_t length,
		     uint64_t address)
{
	uint8_t *d = ram(f, gpa, 16);

	put_be32(d, control);
	put_be32(d + 4, length);
	put_be32(d + 8, (uint32_t)(address >> 32));
	put_be32(d + 12, (uint32_t)address);
}

/* Writes the descriptor address the way SeaBIOS and Linux do: big-endian
 * halves, high first, the low write starts the transfer. */
static void kick(struct fixture *f, uint64_t desc_gpa)
{
	outl(f, PORT_DMA_HI, __builtin_bswap32((uint32_t)(desc_gpa >> 32)));
	outl(f, PORT_DMA_LO, __builtin_bswap32((uint32_t)desc_gpa));
}

/* One DMA transfer with the descriptor at DESC_GPA; returns control afterwards. */
static uint32_t dma(struct fixture *f, uint32_t control, uint32_t length, uint64_t address)
{
	put_desc(f, DESC_GPA, control, length, address);
	kick(f, DESC_GPA);
	return be32_at(ram(f, DESC_GPA, 4));
}

static uint32_t sel(uint16_t key)
{
	return (uint32_t)key << 16 | DMA_SELECT;
}

static const uint8_t ramfb_init[RAMFB_BYTES] = { 0 };
static const char hello[] = "hello, fw_cfg";   /* 14 bytes with the NUL */

/* Adds read-only "opt/hello" (0x20) and writable "opt/ramfb" (0x21). */
static void add_test_files(struct fixture *f)
{
	assert_int_equal(fw_cfg_add_file(&f->fw, "opt/hello", hello, sizeof(hello), NULL, NULL), 0);
	assert_int_equal(fw_cfg_add_file(&f->fw, "opt/ramfb", ramfb_init, sizeof(ramfb_init),
					 record_write, f), 0);
}
#define KEY_HELLO 0x20
#define KEY_RAMFB 0x21

/* ---- traditional interface ---- */

static void test_fw_cfg_signature_reads_qemu_via_data_port(void **state)
{
	struct fixture *f = *state;
	char sig[4];

	select_key(f, KEY_SIGNATURE);
	read_data(f, sig, sizeof(sig));
	assert_memory_equal(sig, "QEMU", 4);
}

static void test_fw_cfg_signature_is_selected_after_init(void **state)
{
	struct fixture *f = *state;
	char sig[4];

	read_data(f, sig, sizeof(sig));
	assert_memory_equal(sig, "QEMU", 4);
}

static void test_fw_cfg_id_reports_traditional_and_dma_features(void **state)
{
	struct fixture *f = *state;
	uint8_t id[4];

	select_key(f, KEY_ID);
	read_data(f, id, sizeof(id));
	/* u32 little-endian: bit 0 traditional, bit 1 DMA. */
	assert_int_equal(id[0] | id[1] << 8 | id[2] << 16 | (uint32_t)id[3] << 24, 3);
}

static void test_fw_cfg_file_dir_lists_files_sorted_with_big_endian_fields(void **state)
{
	static const struct { const char *name; uint32_t size; } added[] = {
		{ "opt/b", 3 }, { "etc/ramfb", 28 }, { "opt/a", 300 },
	};
	static const struct { const char *name; uint32_t size; uint16_t select; } want[] = {
		{ "etc/ramfb", 28, 0x20 }, { "opt/a", 300, 0x21 }, { "opt/b", 3, 0x22 },
	};
	struct fixture *f = *state;
	uint8_t data[300], count[4], entry[64];

	/* Each file's bytes are its name's first letter after "opt/" or "etc/". */
	for (size_t i = 0; i < 3; i++) {
		memset(data, added[i].name[4], sizeof(data));
		assert_int_equal(fw_cfg_add_file(&f->fw, added[i].name, data, added[i].size,
						 NULL, NULL), 0);
	}
	select_key(f, KEY_FILE_DIR);
	read_data(f, count, sizeof(count));
	assert_int_equal(be32_at(count), 3);
	for (size_t i = 0; i < 3; i++) {
		char name[56] = { 0 };

		read_data(f, entry, sizeof(entry));
		assert_int_equal(be32_at(entry), want[i].size);
		assert_int_equal(entry[4] << 8 | entry[5], want[i].select);
		assert_int_equal(entry[6] | entry[7], 0);
		strcpy(name, want[i].name);
		/* NUL-terminated and NUL-padded to 56 bytes. */
		assert_memory_equal(entry + 8, name, sizeof(name));
	}
	/* Each file reads back under the select number its entry gives. */
	for (size_t i = 0; i < 3; i++) {
		select_key(f, want[i].select);
		assert_int_equal(inb(f, PORT_DATA), want[i].name[4]);
	}
}

static void test_fw_cfg_file_dir_unused_slots_read_as_zero(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, DIR_BYTES + 16);

	add_test_files(f);
	memset(buf, 0xAA, DIR_BYTES + 16);
	assert_int_equal(dma(f, sel(KEY_FILE_DIR) | DMA_READ, DIR_BYTES + 16, BUF_GPA), 0);
	assert_int_equal(be32_at(buf), 2);
	for (size_t i = 4 + 2 * 64; i < DIR_BYTES + 16; i++)
		assert_int_equal(buf[i], 0);
}

static void test_fw_cfg_data_port_reads_file_contents(void **state)
{
	struct fixture *f = *state;
	char buf[sizeof(hello)];

	add_test_files(f);
	select_key(f, KEY_HELLO);
	read_data(f, buf, sizeof(buf));
	assert_string_equal(buf, hello);
}

static void test_fw_cfg_data_port_reads_zeros_past_the_end(void **state)
{
	struct fixture *f = *state;
	char buf[sizeof(hello)];

	add_test_files(f);
	select_key(f, KEY_HELLO);
	read_data(f, buf, sizeof(buf));
	for (int i = 0; i < 100; i++)
		assert_int_equal(inb(f, PORT_DATA), 0);
	/* Reselecting starts over. */
	select_key(f, KEY_HELLO);
	assert_int_equal(inb(f, PORT_DATA), 'h');
}

static void test_fw_cfg_unknown_selectors_read_as_empty_items(void **state)
{
	/* Undefined keys, a file slot past the last file, the top of the generic
	 * range, and the arch-specific range where we define nothing. */
	static const uint16_t keys[] = { 0x0002, 0x0003, 0x0018, 0x0022, 0x003F, 0x0040,
					 0x3FFF, 0x8000, 0x8019, 0xFFFF };
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 64);

	add_test_files(f);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		select_key(f, keys[i]);
		for (int j = 0; j < 8; j++)
			assert_int_equal(inb(f, PORT_DATA), 0);
		memset(buf, 0xAA, 64);
		assert_int_equal(dma(f, sel(keys[i]) | DMA_READ, 64, BUF_GPA), 0);
		for (int j = 0; j < 64; j++)
			assert_int_equal(buf[j], 0);
	}
	assert_int_equal(f->fw.dma_errors, 0);
}

static void test_fw_cfg_write_channel_bit_selects_the_same_item(void **state)
{
	struct fixture *f = *state;
	char sig[4];

	/* Bit 14 is ignored since QEMU 2.9 (fw_cfg.rst "Ranges"). */
	select_key(f, 0x4000 | KEY_SIGNATURE);
	read_data(f, sig, sizeof(sig));
	assert_memory_equal(sig, "QEMU", 4);
}

static void test_fw_cfg_byte_read_at_selector_port_returns_data(void **state)
{
	struct fixture *f = *state;

	/* QEMU's combined region: a 1-byte read at either port is a data read. */
	select_key(f, KEY_SIGNATURE);
	assert_int_equal(inb(f, PORT_SEL), 'Q');
	assert_int_equal(inb(f, PORT_DATA), 'E');
	assert_int_equal(inb(f, PORT_SEL), 'M');
}

static void test_fw_cfg_legacy_data_writes_are_ignored_and_counted(void **state)
{
	struct fixture *f = *state;

	add_test_files(f);
	select_key(f, KEY_HELLO);
	assert_int_equal(inb(f, PORT_DATA), 'h');
	outb(f, PORT_DATA, 'X');
	outb(f, PORT_SEL, KEY_ID);   /* also a data write in QEMU, not a select */
	assert_int_equal(f->fw.ignored_accesses, 2);
	/* Neither the selection, the offset nor the item changed. */
	assert_int_equal(inb(f, PORT_DATA), 'e');
	select_key(f, KEY_HELLO);
	assert_int_equal(inb(f, PORT_DATA), 'h');
}

static void test_fw_cfg_word_read_of_selector_reads_zero_and_consumes_nothing(void **state)
{
	struct fixture *f = *state;

	select_key(f, KEY_SIGNATURE);
	assert_int_equal(inw(f, PORT_SEL), 0);
	assert_int_equal(f->fw.ignored_accesses, 1);
	assert_int_equal(inb(f, PORT_DATA), 'Q');
}

static void test_fw_cfg_bus_refuses_wide_and_straddling_port_accesses(void **state)
{
	struct fixture *f = *state;
	const struct bus_region *comb = bus_find(&f->bus, BUS_PIO, PORT_SEL);
	const struct bus_region *dmar = bus_find(&f->bus, BUS_PIO, PORT_DMA_HI);

	select_key(f, KEY_SIGNATURE);
	assert_int_equal(inl(f, PORT_SEL), 0xFFFFFFFF);
	outl(f, PORT_SEL, KEY_ID);          /* not a select */
	outw(f, PORT_DATA, KEY_ID);         /* would cross 0x512 */
	assert_int_equal(inl(f, 0x519), 0xFFFFFFFF);   /* crosses 0x51C */
	assert_int_equal(comb->rejected, 3);
	assert_int_equal(dmar->rejected, 1);
	assert_int_equal(inb(f, PORT_DATA), 'Q');
}

/* ---- DMA interface ---- */

static void test_fw_cfg_dma_register_reads_signature_qemu_cfg(void **state)
{
	static const char sig[] = "QEMU CFG";
	struct fixture *f = *state;
	uint32_t hi = inl(f, PORT_DMA_HI), lo = inl(f, PORT_DMA_LO);
	uint16_t w = inw(f, 0x517);   /* unaligned, as QEMU allows */

	assert_memory_equal(&hi, "QEMU", 4);
	assert_memory_equal(&lo, " CFG", 4);
	assert_memory_equal(&w, "U ", 2);
	for (int i = 0; i < 8; i++)
		assert_int_equal(inb(f, (uint16_t)(PORT_DMA_HI + i)), sig[i]);
	assert_int_equal(f->fw.dma_transfers, 0);
}

static void test_fw_cfg_dma_read_with_select_copies_the_item(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, sizeof(hello));

	add_test_files(f);
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_READ, sizeof(hello), BUF_GPA), 0);
	assert_memory_equal(buf, hello, sizeof(hello));
	assert_int_equal(f->fw.dma_transfers, 1);
	assert_int_equal(f->fw.dma_errors, 0);
}

static void test_fw_cfg_dma_read_continues_at_the_data_port_offset(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 4);

	add_test_files(f);
	select_key(f, KEY_HELLO);
	assert_int_equal(inb(f, PORT_DATA), 'h');
	assert_int_equal(dma(f, DMA_READ, 4, BUF_GPA), 0);
	assert_memory_equal(buf, "ello", 4);
	assert_int_equal(inb(f, PORT_DATA), ',');
}

static void test_fw_cfg_dma_skip_then_read(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 6);

	add_test_files(f);
	/* The address of a SKIP is never used, so even an invalid one is fine. */
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_SKIP, 7, UINT64_MAX), 0);
	assert_int_equal(dma(f, DMA_READ, 6, BUF_GPA), 0);
	assert_memory_equal(buf, "fw_cfg", 6);
}

/* DMA writes guest RAM from the host, which KVM's dirty log never sees: the
 * buffer's pages (and the descriptor's control word) are marked for the
 * display tracker, and nothing else. */
static void test_fw_cfg_dma_read_marks_the_written_pages(void **state)
{
	struct fixture *f = *state;
	uint64_t bm[4] = { 0 };
	uint64_t base = BUF_GPA & ~0xFFFull;

	add_test_files(f);
	guest_mem_take_written(&f->mem, base, 256 * 4096, bm);   /* forget setup writes */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_READ, 3 * 4096, base + 8 * 4096), 0);
	assert_int_equal(guest_mem_take_written(&f->mem, base + 8 * 4096, 3 * 4096, bm), 3);
	assert_int_equal(bm[0], 0x7);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(guest_mem_take_written(&f->mem, DESC_GPA, 4096, bm), 1);   /* control */
	assert_int_equal(guest_mem_take_written(&f->mem, base + 16 * 4096, 64 * 4096, bm), 0);
}

static void test_fw_cfg_dma_read_past_the_end_zero_fills(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 128);

	add_test_files(f);
	memset(buf, 0xAA, 128);
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_SKIP, 10, 0), 0);
	assert_int_equal(dma(f, DMA_READ, 100, BUF_GPA), 0);
	assert_memory_equal(buf, hello + 10, sizeof(hello) - 10);
	for (size_t i = sizeof(hello) - 10; i < 100; i++)
		assert_int_equal(buf[i], 0);
	for (size_t i = 100; i < 128; i++)
		assert_int_equal(buf[i], 0xAA);
}

static void test_fw_cfg_dma_write_stores_bytes_and_calls_back(void **state)
{
	static const uint8_t cfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct fixture *f = *state;
	uint8_t back[RAMFB_BYTES];

	add_test_files(f);
	memcpy(ram(f, BUF_GPA, sizeof(cfg)), cfg, sizeof(cfg));
	assert_int_equal(dma(f, sel(KEY_RAMFB) | DMA_SKIP, 4, 0), 0);
	assert_int_equal(dma(f, DMA_WRITE, sizeof(cfg), BUF_GPA), 0);
	assert_int_equal(f->cb_calls, 1);
	assert_int_equal(f->cb_offset, 4);
	assert_int_equal(f->cb_len, sizeof(cfg));
	assert_int_equal(f->cb_size, RAMFB_BYTES);
	assert_memory_equal(f->cb_data, "\0\0\0\0", 4);
	assert_memory_equal(f->cb_data + 4, cfg, sizeof(cfg));
	/* The guest reads back what it wrote. */
	select_key(f, KEY_RAMFB);
	read_data(f, back, sizeof(back));
	assert_memory_equal(back + 4, cfg, sizeof(cfg));
}

static void test_fw_cfg_dma_whole_item_write_like_seabios(void **state)
{
	struct fixture *f = *state;
	uint8_t *cfg = ram(f, BUF_GPA, RAMFB_BYTES);

	add_test_files(f);
	for (int i = 0; i < RAMFB_BYTES; i++)
		cfg[i] = (uint8_t)(0x40 + i);
	assert_int_equal(dma(f, sel(KEY_RAMFB) | DMA_WRITE, RAMFB_BYTES, BUF_GPA), 0);
	assert_int_equal(f->cb_calls, 1);
	assert_int_equal(f->cb_offset, 0);
	assert_int_equal(f->cb_len, RAMFB_BYTES);
	assert_memory_equal(f->cb_data, cfg, RAMFB_BYTES);
}

/* Reset: the signature selected again, a writable file back to what it was
 * added with (the guest's config gone), read-only files untouched. */
static void test_fw_cfg_reset_selects_signature_and_restores_writable_files(void **state)
{
	struct fixture *f = *state;
	uint8_t *cfg = ram(f, BUF_GPA, RAMFB_BYTES);
	uint8_t back[RAMFB_BYTES];
	char text[sizeof(hello)], sig[4];

	add_test_files(f);
	for (int i = 0; i < RAMFB_BYTES; i++)
		cfg[i] = (uint8_t)(0x40 + i);
	assert_int_equal(dma(f, sel(KEY_RAMFB) | DMA_WRITE, RAMFB_BYTES, BUF_GPA), 0);
	select_key(f, KEY_HELLO);
	read_data(f, text, 3);
	fw_cfg_reset(&f->fw);
	read_data(f, sig, sizeof(sig));
	assert_memory_equal(sig, "QEMU", 4);
	select_key(f, KEY_RAMFB);
	read_data(f, back, sizeof(back));
	assert_memory_equal(back, ramfb_init, RAMFB_BYTES);
	select_key(f, KEY_HELLO);
	read_data(f, text, sizeof(text));
	assert_memory_equal(text, hello, sizeof(hello));
	assert_int_equal(f->cb_calls, 1);   /* a reset is no guest write */
}

static void test_fw_cfg_dma_write_to_read_only_items_fails(void **state)
{
	static const uint16_t keys[] = { KEY_HELLO, KEY_SIGNATURE, KEY_ID, KEY_FILE_DIR, 0x0002,
					 0x0030, 0x8000 };
	struct fixture *f = *state;
	char back[sizeof(hello)];

	add_test_files(f);
	memset(ram(f, BUF_GPA, 4), 'X', 4);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(dma(f, sel(keys[i]) | DMA_WRITE, 4, BUF_GPA), DMA_ERROR);
	assert_int_equal(f->fw.dma_errors, sizeof(keys) / sizeof(keys[0]));
	select_key(f, KEY_HELLO);
	read_data(f, back, sizeof(back));
	assert_string_equal(back, hello);
	select_key(f, KEY_SIGNATURE);
	read_data(f, back, 4);
	assert_memory_equal(back, "QEMU", 4);
}

static void test_fw_cfg_dma_write_past_the_end_fails_without_callback(void **state)
{
	static const struct { uint32_t skip, len; } cases[] = {
		{ 0, RAMFB_BYTES + 1 }, { 20, 9 }, { 27, 2 }, { RAMFB_BYTES, 1 },
		{ 1, UINT32_MAX }, { 0, UINT32_MAX },
	};
	struct fixture *f = *state;
	uint8_t back[RAMFB_BYTES];

	add_test_files(f);
	memset(ram(f, BUF_GPA, 64), 0x77, 64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dma(f, sel(KEY_RAMFB) | DMA_SKIP, cases[i].skip, 0), 0);
		assert_int_equal(dma(f, DMA_WRITE, cases[i].len, BUF_GPA), DMA_ERROR);
	}
	assert_int_equal(f->cb_calls, 0);
	/* No partial write. */
	select_key(f, KEY_RAMFB);
	read_data(f, back, sizeof(back));
	assert_memory_equal(back, ramfb_init, sizeof(back));
}

static void test_fw_cfg_dma_descriptor_outside_ram_is_ignored(void **state)
{
	static const uint64_t descs[] = {
		RAM_BYTES, RAM_BYTES + 0x1000, GiB(3), 0xFFFFFFF0ull, GiB(4),
		UINT64_MAX - 15, UINT64_MAX - 3,
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		kick(f, descs[i]);
	assert_int_equal(f->fw.dma_transfers, sizeof(descs) / sizeof(descs[0]));
	assert_int_equal(f->fw.dma_errors, sizeof(descs) / sizeof(descs[0]));
}

static void test_fw_cfg_dma_descriptor_straddling_ram_end_gets_error(void **state)
{
	struct fixture *f = *state;
	uint8_t *ctl = ram(f, RAM_BYTES - 8, 8);

	/* Control and length are in RAM, the address is not: like QEMU, the
	 * control word still reports the failure. */
	put_be32(ctl, sel(KEY_SIGNATURE) | DMA_READ);
	put_be32(ctl + 4, 4);
	kick(f, RAM_BYTES - 8);
	assert_int_equal(be32_at(ctl), DMA_ERROR);
	assert_int_equal(f->fw.dma_errors, 1);
}

static void test_fw_cfg_dma_buffer_outside_ram_sets_error(void **state)
{
	static const struct { uint64_t address; uint32_t len; } cases[] = {
		{ RAM_BYTES, 1 },                   /* just past the end */
		{ RAM_BYTES - 4, 8 },               /* runs over the end */
		{ RAM_BYTES - 1, UINT32_MAX },
		{ GiB(3), 4 },                      /* the PCI hole */
		{ GiB(4), 4 },                      /* no high RAM with 16 MiB */
		{ UINT64_MAX - 7, 16 },             /* wraps around 2^64 */
		{ UINT64_MAX, 1 },
	};
	static const uint32_t ops[] = { DMA_READ, DMA_WRITE };
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 4);
	size_t n = 0;

	add_test_files(f);
	for (size_t o = 0; o < 2; o++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++, n++)
			assert_int_equal(dma(f, sel(KEY_RAMFB) | ops[o], cases[i].len,
					     cases[i].address), DMA_ERROR);
	assert_int_equal(f->fw.dma_errors, n);
	assert_int_equal(f->cb_calls, 0);
	/* A failed transfer leaves the offset where it was. */
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_READ, 1, RAM_BYTES), DMA_ERROR);
	assert_int_equal(dma(f, DMA_READ, 4, BUF_GPA), 0);
	assert_memory_equal(buf, "hell", 4);
}

static void test_fw_cfg_dma_buffer_ending_exactly_at_ram_end_works(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, RAM_BYTES - 4, 4);

	assert_int_equal(dma(f, sel(KEY_SIGNATURE) | DMA_READ, 4, RAM_BYTES - 4), 0);
	assert_memory_equal(buf, "QEMU", 4);
}

static void test_fw_cfg_dma_zero_length_succeeds_without_touching_memory(void **state)
{
	static const uint32_t ops[] = { DMA_READ, DMA_WRITE, DMA_SKIP };
	struct fixture *f = *state;

	add_test_files(f);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(dma(f, sel(KEY_HELLO) | ops[i], 0, UINT64_MAX), 0);
	/* QEMU: nothing to transfer is success, even for a read-only item. */
	assert_int_equal(f->fw.dma_errors, 0);
	assert_int_equal(inb(f, PORT_DATA), 'h');
}

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void test_fw_cfg_dma_max_length_fails_fast(void **state)
{
	static const uint32_t ops[] = { DMA_READ, DMA_WRITE };
	struct fixture *f = *state;
	uint8_t *first = ram(f, 0, 1), *last = ram(f, RAM_BYTES - 1, 1);
	struct timespec t0, t1;

	add_test_files(f);
	*first = 0xAB;
	*last = 0xCD;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(dma(f, sel(KEY_RAMFB) | ops[i], UINT32_MAX, 0), DMA_ERROR);
		assert_int_equal(dma(f, sel(KEY_RAMFB) | ops[i], UINT32_MAX, BUF_GPA), DMA_ERROR);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Rejected from the range check, without touching RAM: generous for ASan. */
	assert_true(elapsed_ms(&t0, &t1) < 100.0);
	assert_int_equal(*first, 0xAB);
	assert_int_equal(*last, 0xCD);
	assert_int_equal(f->cb_calls, 0);
}

static void test_fw_cfg_dma_read_of_all_ram_zero_fills_it(void **state)
{
	struct fixture *f = *state;
	uint8_t *all = ram(f, 0, RAM_BYTES);

	add_test_files(f);
	memset(all, 0xEE, RAM_BYTES);
	/* The descriptor is inside the buffer, so only its control word is
	 * meaningful afterwards. */
	put_desc(f, DESC_GPA, sel(KEY_HELLO) | DMA_READ, (uint32_t)RAM_BYTES, 0);
	kick(f, DESC_GPA);
	assert_int_equal(be32_at(ram(f, DESC_GPA, 4)), 0);
	assert_memory_equal(all, hello, sizeof(hello));
	assert_int_equal(all[sizeof(hello)], 0);
	assert_int_equal(all[RAM_BYTES - 1], 0);
}

static void test_fw_cfg_dma_skip_of_4gib_does_not_wrap_the_offset(void **state)
{
	static const uint32_t starts[] = { 0, 1, 5 };
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 8);

	add_test_files(f);
	for (size_t i = 0; i < 3; i++) {
		select_key(f, KEY_HELLO);
		for (uint32_t j = 0; j < starts[i]; j++)
			(void)inb(f, PORT_DATA);
		/* A 32-bit offset + 0xFFFFFFFF would land back at starts[i] - 1. */
		assert_int_equal(dma(f, DMA_SKIP, UINT32_MAX, 0), 0);
		memset(buf, 0xAA, 8);
		assert_int_equal(dma(f, DMA_READ, 8, BUF_GPA), 0);
		assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
		assert_int_equal(inb(f, PORT_DATA), 0);
	}
}

static void test_fw_cfg_dma_control_without_operation_only_selects(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 16);

	add_test_files(f);
	memset(buf, 0xAA, 16);
	select_key(f, KEY_SIGNATURE);
	(void)inb(f, PORT_DATA);
	/* No READ/WRITE/SKIP: the length is ignored, nothing moves. */
	assert_int_equal(dma(f, 0, 16, BUF_GPA), 0);
	assert_int_equal(inb(f, PORT_DATA), 'E');
	assert_int_equal(dma(f, sel(KEY_HELLO), 16, BUF_GPA), 0);
	assert_int_equal(inb(f, PORT_DATA), 'h');
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0xAA);
	assert_int_equal(f->fw.dma_errors, 0);
}

static void test_fw_cfg_dma_read_wins_over_write_and_skip(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 4);

	add_test_files(f);
	assert_int_equal(dma(f, sel(KEY_RAMFB) | DMA_READ | DMA_WRITE | DMA_SKIP, 4, BUF_GPA), 0);
	assert_int_equal(f->cb_calls, 0);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	/* WRITE wins over SKIP. */
	assert_int_equal(dma(f, sel(KEY_RAMFB) | DMA_WRITE | DMA_SKIP, 4, BUF_GPA), 0);
	assert_int_equal(f->cb_calls, 1);
}

static void test_fw_cfg_dma_unknown_control_bits_are_ignored_like_qemu(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 4);

	/* Bits 5..15, and an ERROR bit left set by the guest, as QEMU: ignored. */
	assert_int_equal(dma(f, sel(KEY_SIGNATURE) | DMA_READ | 0x20 | 0x8000 | DMA_ERROR, 4,
			     BUF_GPA), 0);
	assert_memory_equal(buf, "QEMU", 4);
	assert_int_equal(f->fw.ignored_accesses, 1);
	assert_int_equal(f->fw.dma_errors, 0);
}

static void test_fw_cfg_dma_address_register_resets_after_a_transfer(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = ram(f, BUF_GPA, 4);

	put_desc(f, DESC_GPA, sel(KEY_SIGNATURE) | DMA_READ, 4, BUF_GPA);
	/* High half 1: the descriptor is at 4 GiB + DESC_GPA, outside RAM. */
	outl(f, PORT_DMA_HI, __builtin_bswap32(1));
	outl(f, PORT_DMA_LO, __builtin_bswap32((uint32_t)DESC_GPA));
	assert_int_equal(be32_at(ram(f, DESC_GPA, 4)), sel(KEY_SIGNATURE) | DMA_READ);
	assert_int_equal(f->fw.dma_errors, 1);
	/* Low half alone now reaches the low descriptor, as SeaBIOS relies on. */
	outl(f, PORT_DMA_LO, __builtin_bswap32((uint32_t)DESC_GPA));
	assert_int_equal(be32_at(ram(f, DESC_GPA, 4)), 0);
	assert_memory_equal(buf, "QEMU", 4);
}

static void test_fw_cfg_dma_register_ignores_narrow_and_misaligned_writes(void **state)
{
	struct fixture *f = *state;

	put_desc(f, DESC_GPA, sel(KEY_SIGNATURE) | DMA_READ, 4, BUF_GPA);
	outb(f, PORT_DMA_LO, 0);
	outw(f, PORT_DMA_LO, 0);
	outl(f, 0x516, __builtin_bswap32((uint32_t)DESC_GPA));
	outb(f, 0x51B, (uint8_t)DESC_GPA);
	assert_int_equal(f->fw.dma_transfers, 0);
	assert_int_equal(f->fw.ignored_accesses, 4);
	assert_int_equal(be32_at(ram(f, DESC_GPA, 4)), sel(KEY_SIGNATURE) | DMA_READ);
}

static int setup_high_ram(void **state)
{
	/* 3 GiB + 16 MiB: the last 16 MiB sit at 4 GiB. MAP_NORESERVE keeps it
	 * virtual; a host that refuses the mapping skips the test. */
	if (setup_ram(state, GiB(3) + MiB(16)) != 0)
		*state = NULL;
	return 0;
}

static int teardown_high_ram(void **state)
{
	return *state ? teardown(state) : 0;
}

static void test_fw_cfg_dma_high_half_reaches_ram_above_4gib(void **state)
{
	struct fixture *f = *state;
	uint64_t desc = GiB(4) + 0x1000, buf = GiB(4) + 0x2000;

	if (!f)
		skip();
	put_desc(f, desc, sel(KEY_SIGNATURE) | DMA_READ, 4, buf);
	kick(f, desc);
	assert_int_equal(be32_at(ram(f, desc, 4)), 0);
	assert_memory_equal(ram(f, buf, 4), "QEMU", 4);
	/* A buffer crossing from low RAM into the hole fails. */
	put_desc(f, desc, sel(KEY_SIGNATURE) | DMA_READ, 8, GiB(3) - 4);
	kick(f, desc);
	assert_int_equal(be32_at(ram(f, desc, 4)), DMA_ERROR);
}

/* ---- fw_cfg_add_file and lifecycle ---- */

static void test_fw_cfg_add_file_rejects_duplicate_name(void **state)
{
	struct fixture *f = *state;

	add_test_files(f);
	assert_int_equal(fw_cfg_add_file(&f->fw, "opt/hello", "x", 1, NULL, NULL), -EEXIST);
	assert_int_equal(f->fw.file_count, 2);
	assert_int_equal(f->fw.files[0].size, sizeof(hello));
}

static void test_fw_cfg_add_file_rejects_bad_names_and_data(void **state)
{
	static const struct { size_t name_len; const void *data; uint32_t size; int err; } cases[] = {
		{ 56, "x", 1, -ENAMETOOLONG },   /* no room for the NUL in 56 bytes */
		{ 200, "x", 1, -ENAMETOOLONG },
		{ 0, "x", 1, -EINVAL },
		{ 10, NULL, 1, -EINVAL },
		{ 55, "x", 1, 0 },                /* the longest that fits */
		{ 10, NULL, 0, 0 },               /* an empty item */
	};
	struct fixture *f = *state;
	char name[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(name, 'a' + (int)i, cases[i].name_len);
		name[cases[i].name_len] = '\0';
		assert_int_equal(fw_cfg_add_file(&f->fw, name, cases[i].data, cases[i].size,
						 NULL, NULL), cases[i].err);
	}
	assert_int_equal(f->fw.file_count, 2);
}

static void test_fw_cfg_add_file_rejects_more_than_max_files(void **state)
{
	struct fixture *f = *state;
	char name[16];
	uint8_t count[4];

	for (int i = 0; i < FW_CFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "opt/f%02d", i);
		assert_int_equal(fw_cfg_add_file(&f->fw, name, "x", 1, NULL, NULL), 0);
	}
	assert_int_equal(fw_cfg_add_file(&f->fw, "opt/more", "x", 1, NULL, NULL), -ENOSPC);
	select_key(f, KEY_FILE_DIR);
	read_data(f, count, sizeof(count));
	assert_int_equal(be32_at(count), FW_CFG_MAX_FILES);
	/* The last file sits at 0x3F, QEMU's highest default key. */
	select_key(f, 0x3F);
	assert_int_equal(inb(f, PORT_DATA), 'x');
}

static void test_fw_cfg_add_file_keeps_its_own_copy(void **state)
{
	struct fixture *f = *state;
	char data[4] = "abc";

	assert_int_equal(fw_cfg_add_file(&f->fw, "opt/copy", data, sizeof(data), NULL, NULL), 0);
	data[0] = 'X';
	select_key(f, FW_CFG_FILE_FIRST);
	assert_int_equal(inb(f, PORT_DATA), 'a');
}

static void test_fw_cfg_init_refuses_taken_ports_and_registers_nothing(void **state)
{
	static const struct bus_ops none = { 0 };
	struct bus *bus = calloc(1, sizeof(*bus));
	struct fw_cfg *fw = calloc(1, sizeof(*fw));
	struct bus_region other = {
		.name = "other", .base = 0x51B, .len = 1, .min_access = 1, .max_access = 1,
		.ops = &none,
	};
	struct fixture *f = *state;

	bus_init(bus);
	assert_int_equal(bus_register(bus, BUS_PIO, &other), 0);
	assert_int_equal(fw_cfg_init(fw, bus, &f->mem), -EEXIST);
	assert_int_equal(bus->count[BUS_PIO], 1);
	fw_cfg_destroy(fw);   /* safe after a failed init */
	free(fw);
	free(bus);
}

static void test_fw_cfg_stats_report_the_counters(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	add_test_files(f);
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_READ, 4, BUF_GPA), 0);
	assert_int_equal(dma(f, sel(KEY_HELLO) | DMA_WRITE, 4, BUF_GPA), DMA_ERROR);
	outb(f, PORT_DATA, 1);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	fw_cfg_print_stats(&f->fw, out);
	fclose(out);
	assert_string_equal(text, "fw_cfg: files=2 dma_transfers=2 dma_errors=1 ignored_accesses=1\n");
	free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fw_cfg_signature_reads_qemu_via_data_port),
		T(test_fw_cfg_signature_is_selected_after_init),
		T(test_fw_cfg_reset_selects_signature_and_restores_writable_files),
		T(test_fw_cfg_id_reports_traditional_and_dma_features),
		T(test_fw_cfg_file_dir_lists_files_sorted_with_big_endian_fields),
		T(test_fw_cfg_file_dir_unused_slots_read_as_zero),
		T(test_fw_cfg_data_port_reads_file_contents),
		T(test_fw_cfg_data_port_reads_zeros_past_the_end),
		T(test_fw_cfg_unknown_selectors_read_as_empty_items),
		T(test_fw_cfg_write_channel_bit_selects_the_same_item),
		T(test_fw_cfg_byte_read_at_selector_port_returns_data),
		T(test_fw_cfg_legacy_data_writes_are_ignored_and_counted),
		T(test_fw_cfg_word_read_of_selector_reads_zero_and_consumes_nothing),
		T(test_fw_cfg_bus_refuses_wide_and_straddling_port_accesses),
		T(test_fw_cfg_dma_register_reads_signature_qemu_cfg),
		T(test_fw_cfg_dma_read_with_select_copies_the_item),
		T(test_fw_cfg_dma_read_continues_at_the_data_port_offset),
		T(test_fw_cfg_dma_skip_then_read),
		T(test_fw_cfg_dma_read_past_the_end_zero_fills),
		T(test_fw_cfg_dma_read_marks_the_written_pages),
		T(test_fw_cfg_dma_write_stores_bytes_and_calls_back),
		T(test_fw_cfg_dma_whole_item_write_like_seabios),
		T(test_fw_cfg_dma_write_to_read_only_items_fails),
		T(test_fw_cfg_dma_write_past_the_end_fails_without_callback),
		T(test_fw_cfg_dma_descriptor_outside_ram_is_ignored),
		T(test_fw_cfg_dma_descriptor_straddling_ram_end_gets_error),
		T(test_fw_cfg_dma_buffer_outside_ram_sets_error),
		T(test_fw_cfg_dma_buffer_ending_exactly_at_ram_end_works),
		T(test_fw_cfg_dma_zero_length_succeeds_without_touching_memory),
		T(test_fw_cfg_dma_max_length_fails_fast),
		T(test_fw_cfg_dma_read_of_all_ram_zero_fills_it),
		T(test_fw_cfg_dma_skip_of_4gib_does_not_wrap_the_offset),
		T(test_fw_cfg_dma_control_without_operation_only_selects),
		T(test_fw_cfg_dma_read_wins_over_write_and_skip),
		T(test_fw_cfg_dma_unknown_control_bits_are_ignored_like_qemu),
		T(test_fw_cfg_dma_address_register_resets_after_a_transfer),
		T(test_fw_cfg_dma_register_ignores_narrow_and_misaligned_writes),
		cmocka_unit_test_setup_teardown(test_fw_cfg_dma_high_half_reaches_ram_above_4gib,
						setup_high_ram, teardown_high_ram),
		T(test_fw_cfg_add_file_rejects_duplicate_name),
		T(test_fw_cfg_add_file_rejects_bad_names_and_data),
		T(test_fw_cfg_add_file_rejects_more_than_max_files),
		T(test_fw_cfg_add_file_keeps_its_own_copy),
		T(test_fw_cfg_init_refuses_taken_ports_and_registers_nothing),
		T(test_fw_cfg_stats_report_the_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
