#include "guest.h"
#include "ramfb.h"

struct ramfb_config {
	uint64_t addr;
	uint32_t fourcc;
	uint32_t flags;
	uint32_t width;
	uint32_t height;
	uint32_t stride;
} __attribute__((packed));

_Static_assert(sizeof(struct ramfb_config) == RAMFB_CONFIG_BYTES, "ramfb config layout");

int ramfb_configure(const struct ramfb_mode *mode)
{
	static struct ramfb_config cfg __attribute__((aligned(16)));
	uint16_t select;
	uint32_t size;
	int ret;

	ret = fwcfg_probe();
	if (ret < 0)
		return ret;
	if (!(fwcfg_features() & FWCFG_FEATURE_DMA))
		return -ENOTSUP;
	ret = fwcfg_find_file(RAMFB_FILE_NAME, &select, &size);
	if (ret < 0)
		return ret;
	if (size != RAMFB_CONFIG_BYTES)
		return -EINVAL;
	cfg.addr = __builtin_bswap64(mode->addr);
	cfg.fourcc = __builtin_bswap32(RAMFB_FOURCC_XRGB8888);
	cfg.flags = 0;
	cfg.width = __builtin_bswap32(mode->width);
	cfg.height = __builtin_bswap32(mode->height);
	cfg.stride = __builtin_bswap32(mode->stride);
	return fwcfg_dma_write(select, &cfg, sizeof(cfg));
}
