/*
 * QEMU fw_cfg, x86 port-I/O flavour with the DMA interface. Register map and
 * semantics: QEMU docs/specs/fw_cfg.rst; where the document is silent we do
 * what QEMU's hw/nvram/fw_cfg.c does, and say so. Deviations (all on guest
 * errors only) are marked "Unlike QEMU".
 */
#include "fw_cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/bus.h"
#include "hypervisor/guest_mem.h"
#include "hypervisor/log.h"

/*
 * Port layout. The data port (0x511) overlaps the selector's high byte, so, as
 * QEMU does, one 2-byte region covers both: 1-byte reads at either port
 * return the next data byte, a 2-byte write at 0x510 selects, 1-byte writes
 * are legacy data writes (ignored since QEMU 2.4). A 2-byte read has no
 * meaning (QEMU's fw_cfg_comb_valid refuses it): it reads 0, consumes nothing
 * and counts as ignored. The bus refuses 4-byte accesses and a 2-byte access
 * at 0x511 (it would cross the region end).
 */
#define FW_CFG_COMB_LEN      2
/* DMA address register: 8 bytes, big-endian. x86 port I/O is at most 32 bits,
 * so the 64-bit write QEMU also accepts cannot happen here. */
#define FW_CFG_DMA_LEN       8
#define FW_CFG_DMA_ADDR_HIGH 0   /* 4-byte write: latch the high half */
#define FW_CFG_DMA_ADDR_LOW  4   /* 4-byte write: low half, starts the transfer */
/* Reads of the DMA register return this, big-endian ("QEMU CFG"). */
static const uint8_t fw_cfg_dma_signature[FW_CFG_DMA_LEN] = {
	'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G',
};

/* Selector bits (fw_cfg.rst "Ranges"). Bit 14 once meant "writable"; since
 * QEMU 2.9 it is ignored. Bit 15 selects the arch-specific space, where we
 * define nothing. */
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL    0x8000
#define FW_CFG_ENTRY_MASK    ((uint16_t)~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL))

/* FW_CFG_ID feature bits. */
#define FW_CFG_VERSION       0x01   /* traditional interface, always set */
#define FW_CFG_VERSION_DMA   0x02

/* DMA descriptor FWCfgDmaAccess, 16 bytes in guest RAM, every field BE. */
#define FW_CFG_DMA_DESC_BYTES   16
#define FW_CFG_DMA_DESC_CONTROL 0
#define FW_CFG_DMA_DESC_LENGTH  4
#define FW_CFG_DMA_DESC_ADDRESS 8
#define FW_CFG_DMA_CTL_ERROR    0x01
#define FW_CFG_DMA_CTL_READ     0x02
#define FW_CFG_DMA_CTL_SKIP     0x04
#define FW_CFG_DMA_CTL_SELECT   0x08   /* selector in bits 31..16 */
#define FW_CFG_DMA_CTL_WRITE    0x10
/* Bits 5..15 are undefined. QEMU ignores them, propolis fails the transfer.
 * We follow QEMU, the reference guests are tested against, so a guest that
 * works there works here; each such transfer is counted and logged. Bits
 * 31..16 without SELECT are not meaningful and not counted. */
#define FW_CFG_DMA_CTL_UNKNOWN  0xFFE0u

/* Directory entry layout (fw_cfg.rst "File Directory"). */
#define FW_CFG_DIR_SIZE   0
#define FW_CFG_DIR_SELECT 4
#define FW_CFG_DIR_NAME   8

static const uint8_t fw_cfg_signature[4] = { 'Q', 'E', 'M', 'U' };
static const uint8_t fw_cfg_id[4] = { FW_CFG_VERSION | FW_CFG_VERSION_DMA, 0, 0, 0 };   /* u32 LE */

/* The selected item as the guest sees it; file is set only for files. */
struct fw_cfg_item {
	const uint8_t *data;
	uint32_t size;
	struct fw_cfg_file *file;
};

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The DMA control word goes back to the guest as a host-side write. */
static void fw_cfg_dma_store_control(struct fw_cfg *fw, uint64_t gpa, uint32_t v)
{
	uint8_t be[4];

	store_be32(be, v);
	guest_mem_write(fw->mem, gpa, be, sizeof(be));
}

static void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The state after reset, as QEMU's fw_cfg_reset: signature selected. */
static void fw_cfg_reset_locked(struct fw_cfg *fw)
{
	fw->selector = FW_CFG_SIGNATURE;
	fw->offset = 0;
	fw->dma_addr_high = 0;
}

void fw_cfg_reset(struct fw_cfg *fw)
{
	pthread_mutex_lock(&fw->lock);
	fw_cfg_reset_locked(fw);
	for (unsigned int i = 0; i < fw->file_count; i++)
		if (fw->files[i].initial)
			memcpy(fw->files[i].data, fw->files[i].initial, fw->files[i].size);
	pthread_mutex_unlock(&fw->lock);
}

static struct fw_cfg_item fw_cfg_selected_item(struct fw_cfg *fw)
{
	struct fw_cfg_item item = { NULL, 0, NULL };
	unsigned int key = fw->selector & FW_CFG_ENTRY_MASK;

	if (fw->selector & FW_CFG_ARCH_LOCAL)
		return item;
	if (key == FW_CFG_SIGNATURE) {
		item.data = fw_cfg_signature;
		item.size = sizeof(fw_cfg_signature);
	} else if (key == FW_CFG_ID) {
		item.data = fw_cfg_id;
		item.size = sizeof(fw_cfg_id);
	} else if (key == FW_CFG_FILE_DIR) {
		item.data = fw->dir;
		item.size = sizeof(fw->dir);
	} else if (key >= FW_CFG_FILE_FIRST && key - FW_CFG_FILE_FIRST < fw->file_count) {
		item.file = &fw->files[key - FW_CFG_FILE_FIRST];
		item.data = item.file->data;
		item.size = item.file->size;
	}
	return item;
}

/* A selector write or DMA SELECT. The offset restarts at 0, also for keys
 * with no item (fw_cfg.rst "Selector Register"). */
static void fw_cfg_select(struct fw_cfg *fw, uint16_t key)
{
	fw->selector = key;
	fw->offset = 0;
}

static uint8_t fw_cfg_read_data_byte(struct fw_cfg *fw)
{
	struct fw_cfg_item item = fw_cfg_selected_item(fw);

	/* Past the end, or no item: 0x00, and the offset stays at the end. */
	if (fw->offset >= item.size)
		return 0;
	return item.data[fw->offset++];
}

static uint64_t fw_cfg_comb_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct fw_cfg *fw = opaque;
	uint64_t value = 0;

	pthread_mutex_lock(&fw->lock);
	if (size == 1) {
		value = fw_cfg_read_data_byte(fw);
	} else {
		fw->ignored_accesses++;
		log_ratelimited(LOG_WARN, "fw_cfg", "ignored read port=0x%" PRIx64 " size=%u"
				" reads 0 (data reads are 1 byte)",
				FW_CFG_PORT_SELECTOR + offset, size);
	}
	pthread_mutex_unlock(&fw->lock);
	return value;
}

static void fw_cfg_comb_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct fw_cfg *fw = opaque;

	pthread_mutex_lock(&fw->lock);
	if (size == 2) {
		fw_cfg_select(fw, (uint16_t)value);
	} else {
		/* A data-register write: a no-op since QEMU 2.4 (writes go through DMA). */
		fw->ignored_accesses++;
		log_ratelimited(LOG_WARN, "fw_cfg", "ignored legacy data write port=0x%" PRIx64
				" value=0x%02" PRIx64, FW_CFG_PORT_SELECTOR + offset, value & 0xFF);
	}
	pthread_mutex_unlock(&fw->lock);
}

/* READ: copy the item from the offset, zero-fill what lies past its end
 * (QEMU does the same; not an error). Both are host-side writes, which KVM's
 * dirty log does not see: guest_mem_write()/guest_mem_fill() mark the pages
 * so a viewer watching a framebuffer there gets the new bytes. */
static bool fw_cfg_dma_read_item(struct fw_cfg *fw, const struct fw_cfg_item *item,
				 uint64_t address, uint32_t length)
{
	uint32_t avail = item->size - fw->offset;
	uint32_t n = length < avail ? length : avail;

	/* Checked whole and up front: a 4 GiB length against a small guest fails
	 * here at once. Unlike QEMU, which fills what it can before failing,
	 * nothing is written and the offset stays. */
	if (!guest_mem_ptr(fw->mem, address, length)) {
		log_ratelimited(LOG_WARN, "fw_cfg", "dma read buffer outside ram addr=0x%" PRIx64
				" len=0x%" PRIx32, address, length);
		return false;
	}
	if (n)
		guest_mem_write(fw->mem, address, item->data + fw->offset, n);
	/* One memset over the checked range, however large; not madvise(),
	 * which would bypass KVM's dirty log and the host-write marks. */
	if (length > n)
		guest_mem_fill(fw->mem, address + n, 0, (uint64_t)length - n);
	fw->offset += n;
	return true;
}

/* WRITE: only into a writable item, only wholly inside it (fw_cfg.rst:
 * "Truncated writes are dropped entirely"). Unlike QEMU, which moves the
 * offset over the remaining bytes of a refused write, a failure leaves it. */
static bool fw_cfg_dma_write_item(struct fw_cfg *fw, const struct fw_cfg_item *item,
				  uint64_t address, uint32_t length)
{
	struct fw_cfg_file *file = item->file;
	const uint8_t *buf;
	uint32_t start = fw->offset;

	if (!file || !file->write_cb) {
		log_ratelimited(LOG_WARN, "fw_cfg", "dma write to read-only or missing item select=0x%04x"
				" len=0x%" PRIx32, fw->selector, length);
		return false;
	}
	if (length > file->size - start) {
		log_ratelimited(LOG_WARN, "fw_cfg", "dma write past end of %s offset=%" PRIu32
				" len=0x%" PRIx32 " size=%" PRIu32, file->name, start, length,
				file->size);
		return false;
	}
	buf = guest_mem_ptr(fw->mem, address, length);
	if (!buf) {
		log_ratelimited(LOG_WARN, "fw_cfg", "dma write buffer outside ram addr=0x%" PRIx64
				" len=0x%" PRIx32, address, length);
		return false;
	}
	/* The item is a host copy: the callback validates bytes another vCPU can
	 * no longer change under it. */
	memcpy(file->data + start, buf, length);
	fw->offset = start + length;
	file->write_cb(file->opaque, file->data, file->size, start, length);
	return true;
}

/* Runs the transfer whose descriptor is at desc_gpa and writes the result
 * (0 or ERROR, BE) to its control field, as QEMU's fw_cfg_dma_transfer. */
static void fw_cfg_dma_transfer(struct fw_cfg *fw, uint64_t desc_gpa)
{
	uint8_t desc[FW_CFG_DMA_DESC_BYTES];
	const uint8_t *guest_desc = guest_mem_ptr(fw->mem, desc_gpa, sizeof(desc));
	uint32_t control, length;
	uint64_t address;
	struct fw_cfg_item item;
	bool ok = true;

	fw->dma_transfers++;
	if (!guest_desc) {
		/* QEMU writes ERROR to the control word when it can, even if the
		 * rest of the descriptor runs past the end of RAM. */
		bool ctl = guest_mem_ptr(fw->mem, desc_gpa, 4) != NULL;

		fw->dma_errors++;
		if (ctl)
			fw_cfg_dma_store_control(fw, desc_gpa, FW_CFG_DMA_CTL_ERROR);
		log_ratelimited(LOG_WARN, "fw_cfg", "dma descriptor outside ram addr=0x%" PRIx64
				" %s", desc_gpa, ctl ? "error written" : "ignored");
		return;
	}
	/* One snapshot: another vCPU may rewrite the descriptor meanwhile. */
	memcpy(desc, guest_desc, sizeof(desc));
	control = load_be32(desc + FW_CFG_DMA_DESC_CONTROL);
	length = load_be32(desc + FW_CFG_DMA_DESC_LENGTH);
	address = load_be64(desc + FW_CFG_DMA_DESC_ADDRESS);

	if (control & FW_CFG_DMA_CTL_UNKNOWN) {
		fw->ignored_accesses++;
		log_ratelimited(LOG_WARN, "fw_cfg", "dma control=0x%08" PRIx32
				" has unknown bits 0x%" PRIx32 " ignored", control,
				control & FW_CFG_DMA_CTL_UNKNOWN);
	}
	if (control & FW_CFG_DMA_CTL_SELECT)
		fw_cfg_select(fw, (uint16_t)(control >> 16));
	item = fw_cfg_selected_item(fw);

	/* QEMU's precedence: READ, else WRITE, else SKIP, else nothing. A zero
	 * length touches no memory and succeeds, as in QEMU. */
	if (length == 0) {
		/* nothing to move */
	} else if (control & FW_CFG_DMA_CTL_READ) {
		ok = fw_cfg_dma_read_item(fw, &item, address, length);
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		ok = fw_cfg_dma_write_item(fw, &item, address, length);
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		/* Clamped at the end of the item: a 4 GiB skip cannot wrap the
		 * 32-bit offset back into the data. */
		uint32_t avail = item.size - fw->offset;
		fw->offset += length < avail ? length : avail;
	}

	if (!ok)
		fw->dma_errors++;
	/* The guest polls control from RAM: every data store must be visible
	 * before the result. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	fw_cfg_dma_store_control(fw, desc_gpa + FW_CFG_DMA_DESC_CONTROL,
				 ok ? 0 : FW_CFG_DMA_CTL_ERROR);
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t offset, unsigned int size)
{
	uint64_t value = 0;

	(void)opaque;
	/* Little-endian value whose bytes are the signature's, so inl(0x514)
	 * yields "QEMU" and inl(0x518) " CFG". The bus keeps offset + size <= 8. */
	for (unsigned int i = 0; i < size; i++)
		value |= (uint64_t)fw_cfg_dma_signature[offset + i] << (8 * i);
	return value;
}

static void fw_cfg_dma_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct fw_cfg *fw = opaque;
	/* The register is big-endian; KVM hands us the port bytes little-endian. */
	uint32_t half = __builtin_bswap32((uint32_t)value);

	pthread_mutex_lock(&fw->lock);
	if (size == 4 && offset == FW_CFG_DMA_ADDR_HIGH) {
		fw->dma_addr_high = half;
	} else if (size == 4 && offset == FW_CFG_DMA_ADDR_LOW) {
		uint64_t desc_gpa = (uint64_t)fw->dma_addr_high << 32 | half;

		/* "The value for the register is 0 at startup and after an operation." */
		fw->dma_addr_high = 0;
		fw_cfg_dma_transfer(fw, desc_gpa);
	} else {
		/* QEMU's fw_cfg_dma_mem_valid accepts only aligned 4- and 8-byte writes. */
		fw->ignored_accesses++;
		log_ratelimited(LOG_WARN, "fw_cfg", "ignored dma register write port=0x%" PRIx64
				" size=%u (4-byte writes at 0x514 and 0x518 only)",
				FW_CFG_PORT_DMA + offset, size);
	}
	pthread_mutex_unlock(&fw->lock);
}

static const struct bus_ops fw_cfg_comb_ops = {
	.read = fw_cfg_comb_read,
	.write = fw_cfg_comb_write,
};

static const struct bus_ops fw_cfg_dma_ops = {
	.read = fw_cfg_dma_read,
	.write = fw_cfg_dma_write,
};

/* Rewrites FILE_DIR from files[]: entries in name order, the rest zero. */
static void fw_cfg_build_dir(struct fw_cfg *fw)
{
	memset(fw->dir, 0, sizeof(fw->dir));
	store_be32(fw->dir, fw->file_count);
	for (unsigned int i = 0; i < fw->file_count; i++) {
		const struct fw_cfg_file *f = &fw->files[i];
		uint8_t *e = fw->dir + 4 + (size_t)i * FW_CFG_DIR_ENTRY_BYTES;

		store_be32(e + FW_CFG_DIR_SIZE, f->size);
		store_be16(e + FW_CFG_DIR_SELECT, f->select);
		memcpy(e + FW_CFG_DIR_NAME, f->name, sizeof(f->name));
	}
}

/* Nothing is registered unless everything can be: the bus cannot unregister. */
static int fw_cfg_check_ports_free(const struct bus *bus)
{
	if (bus->count[BUS_PIO] + 2 > BUS_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned int i = 0; i < FW_CFG_COMB_LEN; i++)
		if (bus_find(bus, BUS_PIO, FW_CFG_PORT_SELECTOR + i))
			return -EEXIST;
	for (unsigned int i = 0; i < FW_CFG_DMA_LEN; i++)
		if (bus_find(bus, BUS_PIO, FW_CFG_PORT_DMA + i))
			return -EEXIST;
	return 0;
}

int fw_cfg_init(struct fw_cfg *fw, struct bus *bus, struct guest_mem *mem)
{
	const struct bus_region comb = {
		.name = "fw_cfg", .base = FW_CFG_PORT_SELECTOR, .len = FW_CFG_COMB_LEN,
		/* QEMU's fw_cfg_comb_valid: 1-byte reads and writes, 2-byte writes. */
		.min_access = 1, .max_access = 2,
		.ops = &fw_cfg_comb_ops, .opaque = fw,
	};
	const struct bus_region dma = {
		.name = "fw_cfg-dma", .base = FW_CFG_PORT_DMA, .len = FW_CFG_DMA_LEN,
		/* Signature reads of any width; writes other than aligned 4-byte
		 * ones are counted by the handler. */
		.min_access = 1, .max_access = 4,
		.ops = &fw_cfg_dma_ops, .opaque = fw,
	};
	int err;

	memset(fw, 0, sizeof(*fw));
	err = fw_cfg_check_ports_free(bus);
	if (err)
		return err;
	err = -pthread_mutex_init(&fw->lock, NULL);
	if (err)
		return err;
	fw_cfg_build_dir(fw);
	fw_cfg_reset_locked(fw);
	err = bus_register(bus, BUS_PIO, &comb);
	if (!err)
		err = bus_register(bus, BUS_PIO, &dma);
	if (err) {
		/* Unreachable after the check above, short of a bus bug. */
		pthread_mutex_destroy(&fw->lock);
		memset(fw, 0, sizeof(*fw));
		return err;
	}
	fw->mem = mem;
	return 0;
}

void fw_cfg_destroy(struct fw_cfg *fw)
{
	if (!fw->mem)
		return;
	for (unsigned int i = 0; i < fw->file_count; i++) {
		free(fw->files[i].data);
		free(fw->files[i].initial);
	}
	pthread_mutex_destroy(&fw->lock);
	memset(fw, 0, sizeof(*fw));
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t size,
		    fw_cfg_write_cb write_cb, void *opaque)
{
	size_t name_len = strnlen(name, FW_CFG_FILE_NAME_BYTES);
	uint8_t *copy = NULL, *initial = NULL;
	unsigned int pos;
	int err = 0;

	if (name_len == 0 || (size && !data))
		return -EINVAL;
	if (name_len >= FW_CFG_FILE_NAME_BYTES)
		return -ENAMETOOLONG;

	pthread_mutex_lock(&fw->lock);
	/* Sorted by name as QEMU does for current machine types. */
	for (pos = 0; pos < fw->file_count; pos++) {
		int cmp = strcmp(name, fw->files[pos].name);

		if (cmp == 0) {
			err = -EEXIST;
			goto out;
		}
		if (cmp < 0)
			break;
	}
	if (fw->file_count == FW_CFG_MAX_FILES) {
		err = -ENOSPC;
		goto out;
	}
	if (size) {
		copy = malloc(size);
		if (!copy) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(copy, data, size);
	}
	if (size && write_cb) {
		initial = malloc(size);
		if (!initial) {
			free(copy);
			err = -ENOMEM;
			goto out;
		}
		memcpy(initial, data, size);
	}

	memmove(&fw->files[pos + 1], &fw->files[pos],
		(fw->file_count - pos) * sizeof(fw->files[0]));
	fw->file_count++;
	fw->files[pos] = (struct fw_cfg_file){
		.data = copy, .initial = initial, .size = size, .write_cb = write_cb,
		.opaque = opaque,
	};
	memcpy(fw->files[pos].name, name, name_len + 1);
	/* Files after the new one move up a key, as in QEMU. */
	for (unsigned int i = pos; i < fw->file_count; i++)
		fw->files[i].select = (uint16_t)(FW_CFG_FILE_FIRST + i);
	fw_cfg_build_dir(fw);
out:
	pthread_mutex_unlock(&fw->lock);
	return err;
}

void fw_cfg_print_stats(struct fw_cfg *fw, FILE *out)
{
	uint64_t transfers, errors, ignored;
	unsigned int files;

	pthread_mutex_lock(&fw->lock);
	transfers = fw->dma_transfers;
	errors = fw->dma_errors;
	ignored = fw->ignored_accesses;
	files = fw->file_count;
	pthread_mutex_unlock(&fw->lock);
	fprintf(out, "fw_cfg: files=%u dma_transfers=%" PRIu64 " dma_errors=%" PRIu64
		" ignored_accesses=%" PRIu64 "\n", files, transfers, errors, ignored);
}
