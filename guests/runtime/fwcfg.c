#include "guest.h"

/* QEMU caps the directory well below this; a larger count means garbage. */
#define FWCFG_DIR_MAX_ENTRIES   4096
#define FWCFG_DIR_CHUNK         16      /* entries per DMA read (1 KiB on the stack) */
/* QEMU completes DMA synchronously inside the port write; the spin bound only
 * keeps a broken device from hanging the guest. */
#define FWCFG_DMA_SPIN_LIMIT    (1u << 24)

struct fwcfg_dma_access {
	uint32_t control;               /* BE */
	uint32_t length;                /* BE */
	uint64_t address;               /* BE */
} __attribute__((packed));

struct fwcfg_file {
	uint32_t size;                  /* BE */
	uint16_t select;                /* BE */
	uint16_t reserved;
	char name[FWCFG_FILE_NAME_BYTES];
} __attribute__((packed));

_Static_assert(sizeof(struct fwcfg_dma_access) == 16, "fw_cfg.rst layout");
_Static_assert(sizeof(struct fwcfg_file) == 64, "fw_cfg.rst layout");

static uint32_t fwcfg_feature_bits;
static int fwcfg_present;
static volatile struct fwcfg_dma_access fwcfg_dma_desc __attribute__((aligned(16)));

void fwcfg_select(uint16_t key)
{
	outw(key, FWCFG_PORT_SELECTOR);
}

void fwcfg_read(void *buf, uint32_t len)
{
	uint8_t *p = buf;

	while (len--)
		*p++ = inb(FWCFG_PORT_DATA);
}

int fwcfg_probe(void)
{
	char sig[4];
	uint8_t id[4];

	fwcfg_select(FWCFG_KEY_SIGNATURE);
	fwcfg_read(sig, sizeof(sig));
	if (memcmp(sig, "QEMU", 4) != 0)
		return -ENODEV;
	fwcfg_select(FWCFG_KEY_ID);
	fwcfg_read(id, sizeof(id));
	fwcfg_feature_bits = (uint32_t)id[0] | (uint32_t)id[1] << 8 |
			     (uint32_t)id[2] << 16 | (uint32_t)id[3] << 24;
	fwcfg_present = 1;
	return 0;
}

uint32_t fwcfg_features(void)
{
	return fwcfg_feature_bits;
}

/* One DMA transfer described by control (which may SELECT). */
static int fwcfg_dma(uint32_t control, void *buf, uint32_t len)
{
	uint64_t addr = (uintptr_t)&fwcfg_dma_desc;
	uint32_t status = 0;

	if (!(fwcfg_feature_bits & FWCFG_FEATURE_DMA))
		return -ENOTSUP;
	fwcfg_dma_desc.control = __builtin_bswap32(control);
	fwcfg_dma_desc.length = __builtin_bswap32(len);
	fwcfg_dma_desc.address = __builtin_bswap64((uintptr_t)buf);
	/* outl's "memory" clobber orders the descriptor stores before it. */
	outl(__builtin_bswap32((uint32_t)(addr >> 32)), FWCFG_PORT_DMA_HIGH);
	outl(__builtin_bswap32((uint32_t)addr), FWCFG_PORT_DMA_LOW);
	for (uint32_t i = 0; i < FWCFG_DMA_SPIN_LIMIT; i++) {
		status = __builtin_bswap32(fwcfg_dma_desc.control);
		if (!(status & ~FWCFG_DMA_ERROR))
			return status & FWCFG_DMA_ERROR ? -EIO : 0;
	}
	return -ETIMEDOUT;
}

int fwcfg_dma_read(uint16_t key, void *buf, uint32_t len)
{
	return fwcfg_dma((uint32_t)key << 16 | FWCFG_DMA_SELECT | FWCFG_DMA_READ, buf, len);
}

int fwcfg_dma_write(uint16_t key, const void *buf, uint32_t len)
{
	/* The device only reads guest memory for a WRITE. */
	return fwcfg_dma((uint32_t)key << 16 | FWCFG_DMA_SELECT | FWCFG_DMA_WRITE,
			 (void *)(uintptr_t)buf, len);
}

/* Reads the next n directory entries of the selected FILE_DIR item. */
static int fwcfg_read_entries(struct fwcfg_file *e, uint32_t n)
{
	uint32_t bytes = n * (uint32_t)sizeof(*e);

	if (fwcfg_feature_bits & FWCFG_FEATURE_DMA)
		return fwcfg_dma(FWCFG_DMA_READ, e, bytes);     /* continues at the current offset */
	fwcfg_read(e, bytes);
	return 0;
}

int fwcfg_find_file(const char *name, uint16_t *select, uint32_t *size)
{
	struct fwcfg_file entries[FWCFG_DIR_CHUNK];
	uint32_t count_be, count;
	int ret;

	if (!fwcfg_present && fwcfg_probe() < 0)
		return -ENODEV;
	if (fwcfg_feature_bits & FWCFG_FEATURE_DMA) {
		ret = fwcfg_dma_read(FWCFG_KEY_FILE_DIR, &count_be, sizeof(count_be));
		if (ret < 0)
			return ret;
	} else {
		fwcfg_select(FWCFG_KEY_FILE_DIR);
		fwcfg_read(&count_be, sizeof(count_be));
	}
	count = __builtin_bswap32(count_be);
	if (count > FWCFG_DIR_MAX_ENTRIES)
		return -EIO;
	for (uint32_t done = 0; done < count;) {
		uint32_t n = count - done < FWCFG_DIR_CHUNK ? count - done : FWCFG_DIR_CHUNK;

		ret = fwcfg_read_entries(entries, n);
		if (ret < 0)
			return ret;
		for (uint32_t i = 0; i < n; i++) {
			/* Names are NUL-terminated within 56 bytes; compare bounded. */
			if (str_nlen(entries[i].name, FWCFG_FILE_NAME_BYTES) < FWCFG_FILE_NAME_BYTES &&
			    str_eq(entries[i].name, name)) {
				*select = __builtin_bswap16(entries[i].select);
				*size = __builtin_bswap32(entries[i].size);
				return 0;
			}
		}
		done += n;
	}
	return -ENOENT;
}
