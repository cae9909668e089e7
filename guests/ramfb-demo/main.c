/*
 * ramfb-demo: programs QEMU's ramfb through fw_cfg and draws the test
 * pattern of pattern.h in ring 3. The default guest of `make run`.
 *
 * Command line (key=value words, all optional):
 *   mode=anim|still|small  anim (default): the whole field changes every
 *                          frame; still: draw once, then idle with every
 *                          interrupt masked (no exits at all); small: one
 *                          64x64 block changes per frame.
 *   width=W height=H       320..4096 x 240..4096, default 1024x768
 *   fps=N                  frame pacing by PIT channel 0 for anim and small,
 *                          19..1000, default 60; fps=0 (anim only) draws as
 *                          fast as it can
 *   frames=N               exit with GUEST_EXIT_PASS after N frames (0, the
 *                          default, runs forever; still exits after frame 1)
 *   hold                   with frames=N: keep frame N on screen and idle
 *                          (every interrupt masked) instead of exiting, so
 *                          a test can read a known frame over VNC
 *   fb=ADDR                framebuffer address, page-aligned, default 16 MiB
 *
 * Serial: "ramfb-demo: frame 1 WxH mode=M" once the first frame is
 * complete; "ramfb-demo: done frames=N" once frame N of frames=N is
 * complete (before the exit, or the idle with hold); errors as
 * "ramfb-demo: error ..." with exit code GUEST_EXIT_NO_DEVICE (no fw_cfg,
 * no DMA, no etc/ramfb) or GUEST_EXIT_FAIL (bad arguments, no room).
 */
#include "runtime/guest.h"
#include "runtime/ramfb.h"

#include "draw.h"
#include "pattern.h"

#define DEMO_FB_DEFAULT_ADDR    0x1000000ull    /* 16 MiB */
#define DEMO_PAGE_BYTES         4096u
#define DEMO_FPS_DEFAULT        60
#define DEMO_FPS_MIN            19              /* PIT divisor limit */
#define DEMO_FPS_MAX            1000

enum demo_mode { DEMO_ANIM, DEMO_STILL, DEMO_SMALL };

struct demo_args {
	enum demo_mode mode;
	uint32_t width, height;
	uint32_t fps;
	uint64_t frames;
	int hold;
	uint64_t fb_addr;
};

static const char *const demo_mode_names[] = { "anim", "still", "small" };

__attribute__((noreturn, format(printf, 2, 3)))
static void demo_fail(int code, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_printf("ramfb-demo: error %s\n", line);
	guest_exit(code);
}

static uint64_t demo_arg_u64(const char *key, uint64_t def, uint64_t min, uint64_t max)
{
	uint64_t v;
	int ret = cmdline_get_u64(key, &v);

	if (ret == -ENOENT)
		return def;
	if (ret < 0 || v < min || v > max)
		demo_fail(GUEST_EXIT_FAIL, "bad %s (want %lu..%lu)", key, min, max);
	return v;
}

static void demo_parse_args(struct demo_args *a)
{
	char mode[16];
	int ret = cmdline_get("mode", mode, sizeof(mode));

	a->mode = DEMO_ANIM;
	if (ret >= 0) {
		if (str_eq(mode, "still"))
			a->mode = DEMO_STILL;
		else if (str_eq(mode, "small"))
			a->mode = DEMO_SMALL;
		else if (!str_eq(mode, "anim"))
			ret = -EINVAL;
	}
	if (ret < 0 && ret != -ENOENT)
		demo_fail(GUEST_EXIT_FAIL, "bad mode (want anim, still or small)");
	a->width = (uint32_t)demo_arg_u64("width", PATTERN_DEFAULT_WIDTH,
					  PATTERN_MIN_WIDTH, PATTERN_MAX_WIDTH);
	a->height = (uint32_t)demo_arg_u64("height", PATTERN_DEFAULT_HEIGHT,
					   PATTERN_MIN_HEIGHT, PATTERN_MAX_HEIGHT);
	a->fps = (uint32_t)demo_arg_u64("fps", DEMO_FPS_DEFAULT,
					a->mode == DEMO_ANIM ? 0 : DEMO_FPS_MIN, DEMO_FPS_MAX);
	if (a->fps && a->fps < DEMO_FPS_MIN)
		demo_fail(GUEST_EXIT_FAIL, "bad fps (want 0 or %u..%u)", DEMO_FPS_MIN, DEMO_FPS_MAX);
	a->frames = demo_arg_u64("frames", 0, 0, UINT32_MAX);
	a->hold = cmdline_has_flag("hold");
	a->fb_addr = demo_arg_u64("fb", DEMO_FB_DEFAULT_ADDR, 0, 0xFFFFFFFFull);
	if (a->fb_addr % DEMO_PAGE_BYTES)
		demo_fail(GUEST_EXIT_FAIL, "bad fb=0x%lx (want page-aligned)", a->fb_addr);
}

/* Checks the framebuffer lies in RAM clear of the image, then programs
 * ramfb. */
static void demo_setup_ramfb(const struct demo_args *a, struct fb *fb)
{
	struct ramfb_mode m = {
		.addr = a->fb_addr,
		.width = a->width,
		.height = a->height,
		.stride = a->width * PATTERN_BYTES_PER_PIXEL,
	};
	uint64_t size = (uint64_t)m.stride * m.height;
	int ret;

	if (m.addr < (uintptr_t)__image_end && m.addr + size > (uintptr_t)__image_start)
		demo_fail(GUEST_EXIT_FAIL, "framebuffer 0x%lx+0x%lx overlaps the guest image",
			  m.addr, size);
	ret = boot_ram_covers(m.addr, size);
	if (ret == -ENOENT)
		demo_fail(GUEST_EXIT_FAIL, "no memory map in hvm_start_info (version %u)",
			  boot_start_info()->version);
	if (ret == 0)
		demo_fail(GUEST_EXIT_FAIL, "framebuffer 0x%lx+0x%lx is not in RAM (boot memory map)",
			  m.addr, size);

	ret = ramfb_configure(&m);
	switch (ret) {
	case 0:
		break;
	case -ENODEV:
		demo_fail(GUEST_EXIT_NO_DEVICE, "fw_cfg not found (no \"QEMU\" signature at port 0x%x)",
			  FWCFG_PORT_SELECTOR);
	case -ENOTSUP:
		demo_fail(GUEST_EXIT_NO_DEVICE, "fw_cfg has no DMA interface (feature bits 0x%x)",
			  fwcfg_features());
	case -ENOENT:
		demo_fail(GUEST_EXIT_NO_DEVICE, "no %s in the fw_cfg directory (no ramfb device)",
			  RAMFB_FILE_NAME);
	case -EINVAL:
		demo_fail(GUEST_EXIT_NO_DEVICE, "%s is not %u bytes", RAMFB_FILE_NAME,
			  RAMFB_CONFIG_BYTES);
	default:
		demo_fail(GUEST_EXIT_NO_DEVICE, "fw_cfg DMA write of %s failed (%d)",
			  RAMFB_FILE_NAME, ret);
	}
	fb->base = (uint32_t *)(uintptr_t)m.addr;
	fb->width = m.width;
	fb->height = m.height;
	fb->stride_px = m.width;
}

static void demo_draw_bars(const struct fb *fb)
{
	uint32_t h = pattern_bars_height(fb->height);

	for (unsigned i = 0; i < PATTERN_BAR_COUNT; i++) {
		uint32_t x0 = pattern_bar_x0(i, fb->width);

		draw_fill_rect(fb, x0, 0, pattern_bar_x0(i + 1, fb->width) - x0, h,
			       pattern_bar_rgb(i));
	}
}

static void demo_draw_counter(const struct fb *fb, uint32_t frame)
{
	uint32_t y = pattern_counter_y(fb->height);

	draw_fill_rect(fb, PATTERN_COUNTER_X, y, PATTERN_COUNTER_BOX_W, PATTERN_COUNTER_BOX_H,
		       PATTERN_COUNTER_BG_RGB);
	draw_number(fb, PATTERN_COUNTER_X + PATTERN_COUNTER_PAD, y + PATTERN_COUNTER_PAD, frame,
		    PATTERN_COUNTER_DIGITS, PATTERN_COUNTER_SCALE, PATTERN_COUNTER_FG_RGB,
		    PATTERN_COUNTER_BG_RGB);
}

static void demo_draw_square(const struct fb *fb, uint32_t frame)
{
	draw_fill_rect(fb, pattern_square_x(frame, fb->width), pattern_square_y(fb->height),
		       PATTERN_SQUARE_SIZE, PATTERN_SQUARE_SIZE, PATTERN_SQUARE_RGB);
}

static void demo_draw_block(const struct fb *fb, uint32_t frame)
{
	uint32_t x = pattern_block_x(fb->width), y = pattern_block_y(fb->height);
	uint32_t rgb = pattern_block_rgb(frame);

	draw_fill_rect(fb, x, y, PATTERN_BLOCK_SIZE, PATTERN_BLOCK_SIZE, rgb);
	draw_number(fb, x, y + PATTERN_BLOCK_DIGITS_DY, frame, PATTERN_BLOCK_DIGITS,
		    PATTERN_BLOCK_SCALE, pattern_block_fg_rgb(frame), rgb);
}

static void demo_draw_frame(const struct demo_args *a, const struct fb *fb, uint32_t frame)
{
	uint32_t top = pattern_bars_height(fb->height);

	switch (a->mode) {
	case DEMO_STILL:
		demo_draw_bars(fb);
		draw_fill_rect(fb, 0, top, fb->width, fb->height - top, PATTERN_FIELD_RGB);
		demo_draw_square(fb, frame);
		demo_draw_counter(fb, frame);
		break;
	case DEMO_ANIM:
		if (frame == 1)
			demo_draw_bars(fb);
		draw_anim_field(fb, top, frame);
		demo_draw_square(fb, frame);
		demo_draw_counter(fb, frame);
		break;
	case DEMO_SMALL:
		if (frame == 1) {
			demo_draw_bars(fb);
			draw_fill_rect(fb, 0, top, fb->width, fb->height - top, PATTERN_FIELD_RGB);
		}
		demo_draw_block(fb, frame);
		break;
	}
}

int main(void)
{
	struct demo_args a;
	struct fb fb;

	demo_parse_args(&a);
	demo_setup_ramfb(&a, &fb);
	if (a.mode != DEMO_STILL && a.fps)
		timer_start(a.fps);
	for (uint32_t frame = 1;; frame++) {
		demo_draw_frame(&a, &fb, frame);
		if (frame == 1)
			serial_printf("ramfb-demo: frame 1 %ux%u mode=%s\n", fb.width, fb.height,
				      demo_mode_names[a.mode]);
		/* Still has only one frame to show, whatever frames says. */
		if (a.frames && (frame >= a.frames || a.mode == DEMO_STILL)) {
			serial_printf("ramfb-demo: done frames=%u\n", frame);
			if (!a.hold)
				return GUEST_EXIT_PASS;
			timer_stop();
			break;
		}
		if (a.mode == DEMO_STILL)
			break;
		if (a.fps)
			timer_wait_tick();
	}
	/* Still or hold: nothing is unmasked, so this sleeps until the VM stops. */
	for (;;)
		irq_wait(irq_seq);
}
