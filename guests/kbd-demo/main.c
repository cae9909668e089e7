/*
 * kbd-demo: brings up the i8042 and the AT keyboard behind it the way
 * Linux's i8042 and atkbd drivers do (drivers/input/serio/i8042.c,
 * drivers/input/keyboard/atkbd.c; shared/specs/interfaces.md section 5),
 * checking every reply, then echoes each scancode byte that arrives by
 * IRQ 1 on serial and paints it on a ramfb screen (pattern.h), so a host
 * can check the input path and time key-to-photon latency.
 *
 * Command line (key=value words, all optional):
 *   translate=0|1   CTR.XLATE: 1 (default) the controller translates to
 *                   set 1, as a PC BIOS leaves it; 0 raw set 2
 *   exit_on=XX      a scancode byte (hex, e.g. 01 = Escape's make code in
 *                   set 1): after echoing it, exit with GUEST_EXIT_PASS
 *   mouse=0|1       1: also bring up the aux port and the PS/2 mouse,
 *                   echo its 3-byte packets (IRQ 12)
 *   vmmouse=0|1     1 (implies mouse=1): then enable VMware's absolute
 *                   pointer as Linux's vmmouse driver does (GETVERSION,
 *                   ENABLE, version check, REQUEST_ABSOLUTE) and, on each
 *                   PS/2 packet (its doorbell), echo the vmmouse packets
 *                   queued, as pixels of the current screen (libinput's
 *                   mapping: value * width / 65536)
 *   calls=N         with vmmouse=1: before ready, time N backdoor calls
 *                   (STATUS) and N i8042 status reads, for the cost of
 *                   fbvm's register exit against a plain port exit
 *   resize_on=XX    a scancode byte: after echoing it, switch the screen
 *                   (ramfb, or the std VGA with display=vga) to width2 x
 *                   height2 (default 800x600)
 *   width=W height=H  ramfb screen, 640..4096 x 480..4096, default 640x480
 *   fb=ADDR         framebuffer address, page-aligned, default 16 MiB
 *   screen=0|1      0: no screen (no fw_cfg/ramfb needed)
 *   display=ramfb|vga  where the screen is: ramfb (default) or the std VGA
 *                   (PCI 1234:1111, mode set through the dispi ports,
 *                   the framebuffer at the start of BAR0)
 *   dma=0|1         1: each key press (a set-1 make code) also fills the
 *                   band of kbd_pattern_band_y() with a fw_cfg DMA read of
 *                   the signature item ("QEMU" then zeros: the device
 *                   zero-fills past an item's end), checks the bytes, and
 *                   prints "kbd-demo: dma band ok"; each release repaints
 *                   the band with the CPU ("kbd-demo: band repainted").
 *                   A host-side write into the shown framebuffer: the test
 *                   that viewers see what the VMM itself writes.
 *
 * Serial, in order:
 *   kbd-demo: keyboard id ab41 translate=1   (id ab83 with translate=0)
 *   kbd-demo: mouse id 00                    (mouse=1 only)
 *   kbd-demo: ready
 *   kbd-demo: scancode 1e                    (one line per byte, lower-case hex)
 *   kbd-demo: mouse 08 0a 00                 (one line per packet, mouse=1)
 *   kbd-demo: mouse resync 0a                (an aux byte that cannot start a packet)
 *   kbd-demo: vmmouse version 6 absolute     (vmmouse=1, instead of mouse packets:)
 *   kbd-demo: vmmouse abs 639,479 buttons=1 wheel=0 raw=65484,65467
 *   kbd-demo: vmmouse rel 5,-7 buttons=0 wheel=0   (relative packet, y down)
 *   kbd-demo: screen 800x600                 (resize_on: after the switch)
 *   kbd-demo: 20000 vmmouse calls 410 ms, 20000 port reads 220 ms   (calls=N)
 * buttons= uses RFB's mask bits: 1 left, 2 middle, 4 right.
 * Warnings as "kbd-demo: warning ..." (keylock active; no screen when
 * ramfb is missing: keys are still echoed). Errors as "kbd-demo: error
 * <step>: <what came back>" with GUEST_EXIT_FAIL, or GUEST_EXIT_NO_DEVICE
 * when no controller answers at all.
 */
#include "runtime/fwcfg.h"
#include "runtime/guest.h"
#include "runtime/i8042.h"
#include "runtime/pci.h"
#include "runtime/ramfb.h"
#include "runtime/vbe.h"
#include "runtime/vmmouse.h"

#include "ramfb-demo/draw.h"
#include "pattern.h"

#define KBD_TICK_HZ             100     /* PIT rate for timeouts during setup */
#define KBD_CTL_TIMEOUT_MS      500     /* Linux: I8042_CTL_TIMEOUT 10000 x 50 us */
#define KBD_DEV_TIMEOUT_MS      500     /* libps2: ps2_command() */
#define KBD_BAT_TIMEOUT_MS      4000    /* libps2: reset waits up to 4 s for BAT */
#define KBD_AUX_IRQ_TIMEOUT_MS  250     /* i8042_check_aux(): IRQ 12 test */
#define KBD_CTR_READ_TRIES      10      /* i8042_controller_init() */
#define KBD_SELFTEST_TRIES      5       /* i8042_controller_selftest() */
#define KBD_MUX_PROBE_0         0xF0    /* i8042_set_mux_mode(): the loop knock */
#define KBD_MUX_PROBE_1         0x56
#define KBD_MUX_PROBE_2         0xA4
#define KBD_AUX_LOOP_TEST       0x5A    /* i8042_check_aux(): loopback */
#define KBD_AUX_IRQ_TEST        0xA5    /* i8042_check_aux(): IRQ delivery */
#define KBD_LEDS                0x00    /* atkbd_set_leds(): all off */
#define KBD_TYPEMATIC           0x00    /* atkbd_set_repeat_rate(): 250 ms, 30 cps */

#define KBD_FB_DEFAULT_ADDR     0x1000000ull    /* 16 MiB */
#define KBD_RESIZE_DEFAULT_WIDTH  800u
#define KBD_RESIZE_DEFAULT_HEIGHT 600u
#define KBD_PAGE_BYTES          4096u

#define KBD_VGA_PCI_VENDOR      0x1234
#define KBD_VGA_PCI_DEVICE      0x1111
#define KBD_VGA_BAR_VRAM        0

struct kbd_args {
	int translate;
	int exit_on;            /* -1: none */
	int resize_on;          /* -1: none */
	int mouse;
	int vmmouse;
	uint32_t calls;
	uint32_t width2, height2;
	int screen;
	int vga;                /* display=vga */
	int dma;
	uint32_t width, height;
	uint64_t fb_addr;
};

/* CTR as last written. */
static uint8_t kbd_ctr;

__attribute__((noreturn, format(printf, 2, 3)))
static void kbd_fail(int code, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_printf("kbd-demo: error %s\n", line);
	guest_exit(code);
}

static uint64_t kbd_arg_u64(const char *key, uint64_t def, uint64_t min, uint64_t max)
{
	uint64_t v;
	int ret = cmdline_get_u64(key, &v);

	if (ret == -ENOENT)
		return def;
	if (ret < 0 || v < min || v > max)
		kbd_fail(GUEST_EXIT_FAIL, "bad %s (want %lu..%lu)", key, min, max);
	return v;
}

static int kbd_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* exit_on=XX, resize_on=XX: one or two hex digits, "0x" optional. */
static int kbd_parse_scancode(const char *key)
{
	char buf[8];
	const char *p = buf;
	int ret = cmdline_get(key, buf, sizeof(buf)), v = 0, digits = 0;

	if (ret == -ENOENT)
		return -1;
	if (ret >= 0 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; ret >= 0 && *p; p++, digits++) {
		int d = kbd_hex_digit(*p);

		if (d < 0) {
			digits = 0;
			break;
		}
		v = v * 16 + d;
	}
	if (ret < 0 || digits < 1 || digits > 2)
		kbd_fail(GUEST_EXIT_FAIL, "bad %s (want a scancode byte in hex, e.g. %s=01)", key, key);
	return v;
}

static void kbd_parse_args(struct kbd_args *a)
{
	a->translate = (int)kbd_arg_u64("translate", 1, 0, 1);
	a->exit_on = kbd_parse_scancode("exit_on");
	a->resize_on = kbd_parse_scancode("resize_on");
	a->mouse = (int)kbd_arg_u64("mouse", 0, 0, 1);
	a->vmmouse = (int)kbd_arg_u64("vmmouse", 0, 0, 1);
	if (a->vmmouse)
		a->mouse = 1;
	a->calls = (uint32_t)kbd_arg_u64("calls", 0, 0, 10000000);
	a->screen = (int)kbd_arg_u64("screen", 1, 0, 1);
	a->dma = (int)kbd_arg_u64("dma", 0, 0, 1);
	{
		char d[8];
		int ret = cmdline_get("display", d, sizeof(d));

		a->vga = ret >= 0 && str_eq(d, "vga");
		if (ret >= 0 && !a->vga && !str_eq(d, "ramfb"))
			kbd_fail(GUEST_EXIT_FAIL, "bad display (want ramfb or vga)");
	}
	a->width = (uint32_t)kbd_arg_u64("width", KBD_PATTERN_DEFAULT_WIDTH,
					 KBD_PATTERN_MIN_WIDTH, KBD_PATTERN_MAX_WIDTH);
	a->height = (uint32_t)kbd_arg_u64("height", KBD_PATTERN_DEFAULT_HEIGHT,
					  KBD_PATTERN_MIN_HEIGHT, KBD_PATTERN_MAX_HEIGHT);
	a->width2 = (uint32_t)kbd_arg_u64("width2", KBD_RESIZE_DEFAULT_WIDTH, KBD_PATTERN_MIN_WIDTH,
					  KBD_PATTERN_MAX_WIDTH);
	a->height2 = (uint32_t)kbd_arg_u64("height2", KBD_RESIZE_DEFAULT_HEIGHT,
					   KBD_PATTERN_MIN_HEIGHT, KBD_PATTERN_MAX_HEIGHT);
	a->fb_addr = kbd_arg_u64("fb", KBD_FB_DEFAULT_ADDR, 0, 0xFFFFFFFFull);
	if (a->fb_addr % KBD_PAGE_BYTES)
		kbd_fail(GUEST_EXIT_FAIL, "bad fb=0x%lx (want page-aligned)", a->fb_addr);
}

/* ---- i8042 steps, each with a clear error ---- */

static void kbd_ctl_command(uint8_t cmd, const char *name)
{
	if (i8042_write_command(cmd, KBD_CTL_TIMEOUT_MS) < 0)
		kbd_fail(GUEST_EXIT_FAIL, "controller command 0x%02x (%s): input buffer still full after %u ms",
			 cmd, name, KBD_CTL_TIMEOUT_MS);
}

static void kbd_data(uint8_t byte, const char *what)
{
	if (i8042_write_data(byte, KBD_CTL_TIMEOUT_MS) < 0)
		kbd_fail(GUEST_EXIT_FAIL, "%s: input buffer still full after %u ms before writing 0x%02x",
			 what, KBD_CTL_TIMEOUT_MS, byte);
}

/* Reads one reply byte, which must come from the keyboard (aux 0) or the
 * aux port (aux 1) according to the AUXDATA status bit. */
static uint8_t kbd_reply(const char *what, int aux, unsigned timeout_ms)
{
	uint8_t b, st;

	if (i8042_read(&b, &st, timeout_ms) < 0)
		kbd_fail(GUEST_EXIT_FAIL, "%s: no reply within %u ms", what, timeout_ms);
	if (!(st & I8042_STR_AUXDATA) != !aux)
		kbd_fail(GUEST_EXIT_FAIL, "%s: reply 0x%02x came from the %s port (status 0x%02x), want the %s port",
			 what, b, aux ? "keyboard" : "aux", st, aux ? "aux" : "keyboard");
	return b;
}

static void kbd_expect(const char *what, int aux, uint8_t want, unsigned timeout_ms)
{
	uint8_t b = kbd_reply(what, aux, timeout_ms);

	if (b != want)
		kbd_fail(GUEST_EXIT_FAIL, "%s: reply 0x%02x, want 0x%02x", what, b, want);
}

static uint8_t kbd_read_ctr(void)
{
	kbd_ctl_command(I8042_CMD_CTL_RCTR, "read CTR");
	return kbd_reply("controller command 0x20 (read CTR)", 0, KBD_CTL_TIMEOUT_MS);
}

static void kbd_write_ctr(uint8_t ctr)
{
	kbd_ctl_command(I8042_CMD_CTL_WCTR, "write CTR");
	kbd_data(ctr, "controller command 0x60 (write CTR)");
	kbd_ctr = ctr;
}

/* AUX_LOOP: the byte must come back as aux data. */
static uint8_t kbd_aux_loop(uint8_t byte)
{
	char what[64];

	fmt_snprintf(what, sizeof(what), "controller command 0xd3 (aux loop) 0x%02x", byte);
	kbd_ctl_command(I8042_CMD_AUX_LOOP, "aux loop");
	kbd_data(byte, what);
	return kbd_reply(what, 1, KBD_CTL_TIMEOUT_MS);
}

/* A keyboard (aux 0) or mouse (aux 1, through 0xD4) command byte, which
 * must be acknowledged with 0xFA. */
static void kbd_device_send(int aux, uint8_t byte, const char *name)
{
	char what[80];

	fmt_snprintf(what, sizeof(what), "%s command 0x%02x (%s)", aux ? "mouse" : "keyboard", byte, name);
	if (aux)
		kbd_ctl_command(I8042_CMD_AUX_SEND, "aux send");
	kbd_data(byte, what);
	kbd_expect(what, aux, PS2_RET_ACK, KBD_DEV_TIMEOUT_MS);
}

static void kbd_device_expect(int aux, uint8_t cmd, const char *name, uint8_t want,
			      unsigned timeout_ms)
{
	char what[80];

	fmt_snprintf(what, sizeof(what), "%s command 0x%02x (%s)", aux ? "mouse" : "keyboard", cmd, name);
	kbd_expect(what, aux, want, timeout_ms);
}

/* i8042_controller_check/selftest/init, i8042_check_aux, i8042_check_mux
 * (no MUX wanted), i8042_setup_kbd. */
static void kbd_controller_init(const struct kbd_args *a)
{
	uint8_t st, ctr[2], b;
	unsigned n = 0;

	if (i8042_flush(&st) < 0)
		kbd_fail(GUEST_EXIT_NO_DEVICE, "no i8042 controller: the output buffer never empties (status 0x%02x)",
			 st);

	/* CTR: read until two reads agree. */
	do {
		if (n >= KBD_CTR_READ_TRIES)
			kbd_fail(GUEST_EXIT_FAIL, "controller command 0x20 (read CTR): no stable value in %u reads (0x%02x, 0x%02x)",
				 KBD_CTR_READ_TRIES, ctr[0], ctr[1]);
		ctr[n++ % 2] = kbd_read_ctr();
	} while (n < 2 || ctr[0] != ctr[1]);

	for (unsigned i = 1;; i++) {
		kbd_ctl_command(I8042_CMD_CTL_TEST, "self-test");
		b = kbd_reply("controller command 0xaa (self-test)", 0, KBD_CTL_TIMEOUT_MS);
		if (b == I8042_CTL_TEST_OK)
			break;
		if (i == KBD_SELFTEST_TRIES)
			kbd_fail(GUEST_EXIT_FAIL, "controller command 0xaa (self-test): reply 0x%02x, want 0x55 (%u tries)",
				 b, KBD_SELFTEST_TRIES);
	}

	/* Keyboard interface off while setting up; translation as asked. */
	kbd_ctr = ctr[0];
	kbd_ctr |= I8042_CTR_KBDDIS;
	kbd_ctr &= (uint8_t)~I8042_CTR_KBDINT;
	st = inb(I8042_STATUS_PORT);
	if (!(st & I8042_STR_KEYLOCK))
		serial_printf("kbd-demo: warning keylock active (status 0x%02x)\n", st);
	if (a->translate)
		kbd_ctr |= I8042_CTR_XLATE;
	else
		kbd_ctr &= (uint8_t)~I8042_CTR_XLATE;
	kbd_write_ctr(kbd_ctr);
	b = kbd_read_ctr();
	if (b != kbd_ctr)
		kbd_fail(GUEST_EXIT_FAIL, "controller command 0x20 (read CTR): 0x%02x after writing 0x%02x", b,
			 kbd_ctr);
	i8042_flush(NULL);

	kbd_ctl_command(I8042_CMD_KBD_TEST, "keyboard interface test");
	kbd_expect("controller command 0xab (keyboard interface test)", 0, I8042_KBD_TEST_OK,
		   KBD_CTL_TIMEOUT_MS);

	/* Aux port: loopback, then the MUX knock (a faithful echo = no MUX). */
	i8042_flush(NULL);
	b = kbd_aux_loop(KBD_AUX_LOOP_TEST);
	if (b != KBD_AUX_LOOP_TEST)
		kbd_fail(GUEST_EXIT_FAIL, "controller command 0xd3 (aux loop) 0x%02x: reply 0x%02x", KBD_AUX_LOOP_TEST,
			 b);
	i8042_flush(NULL);
	for (unsigned i = 0; i < 3; i++) {
		static const uint8_t knock[3] = { KBD_MUX_PROBE_0, KBD_MUX_PROBE_1, KBD_MUX_PROBE_2 };

		b = kbd_aux_loop(knock[i]);
		if (b != knock[i])
			kbd_fail(GUEST_EXIT_FAIL, "controller command 0xd3 (aux loop) 0x%02x, MUX probe byte %u: reply 0x%02x (%s)",
				 knock[i], i + 1, b,
				 i == 2 ? "an active multiplexer answers its version; want a faithful echo" :
					  "want a faithful echo");
	}

	/* i8042_toggle_aux(): the AUXDIS bit must follow 0xA7 / 0xA8. */
	kbd_ctl_command(I8042_CMD_AUX_DISABLE, "aux disable");
	b = kbd_read_ctr();
	if (!(b & I8042_CTR_AUXDIS))
		kbd_fail(GUEST_EXIT_FAIL, "controller command 0xa7 (aux disable): CTR 0x%02x has AUXDIS clear", b);
	kbd_ctl_command(I8042_CMD_AUX_ENABLE, "aux enable");
	b = kbd_read_ctr();
	if (b & I8042_CTR_AUXDIS)
		kbd_fail(GUEST_EXIT_FAIL, "controller command 0xa8 (aux enable): CTR 0x%02x has AUXDIS set", b);
	kbd_ctr = b;

	if (a->mouse) {
		/* IRQ 12 delivery: an aux loop byte must raise it within 250 ms. */
		uint64_t seen, until;

		kbd_write_ctr((uint8_t)((kbd_ctr & ~I8042_CTR_AUXDIS) | I8042_CTR_AUXINT));
		irq_unmask(IRQ_MOUSE);
		seen = irq_count(IRQ_MOUSE);
		kbd_ctl_command(I8042_CMD_AUX_LOOP, "aux loop");
		kbd_data(KBD_AUX_IRQ_TEST, "controller command 0xd3 (aux loop) 0xa5");
		until = timer_ticks() + KBD_AUX_IRQ_TIMEOUT_MS * KBD_TICK_HZ / 1000 + 1;
		for (;;) {
			uint64_t s = irq_seq;

			if (irq_count(IRQ_MOUSE) != seen)
				break;
			if (timer_ticks() >= until)
				kbd_fail(GUEST_EXIT_FAIL, "aux loop 0xa5 raised no IRQ 12 within %u ms",
					 KBD_AUX_IRQ_TIMEOUT_MS);
			irq_wait(s);
		}
		kbd_expect("controller command 0xd3 (aux loop) 0xa5", 1, KBD_AUX_IRQ_TEST,
			   KBD_CTL_TIMEOUT_MS);
	} else {
		/* No mouse driver: leave the aux port off and quiet. */
		kbd_ctl_command(I8042_CMD_AUX_DISABLE, "aux disable");
		kbd_write_ctr((uint8_t)((kbd_ctr | I8042_CTR_AUXDIS) & ~I8042_CTR_AUXINT));
	}

	/* i8042_setup_kbd(): keyboard interface and its interrupt on. */
	kbd_write_ctr((uint8_t)((kbd_ctr & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT));
	i8042_flush(NULL);
}

/* atkbd: reset (atkbd.reset), probe (GETID), deactivate, LEDs, typematic
 * rate, activate. Returns the ID. */
static uint16_t kbd_keyboard_init(const struct kbd_args *a)
{
	uint8_t id0, id1, want1 = a->translate ? ATKBD_ID_XLATE : ATKBD_ID_RAW;

	kbd_device_send(0, ATKBD_CMD_RESET_BAT, "reset");
	kbd_device_expect(0, ATKBD_CMD_RESET_BAT, "reset", PS2_RET_BAT, KBD_BAT_TIMEOUT_MS);

	kbd_device_send(0, ATKBD_CMD_GETID, "get ID");
	id0 = kbd_reply("keyboard command 0xf2 (get ID)", 0, KBD_DEV_TIMEOUT_MS);
	id1 = kbd_reply("keyboard command 0xf2 (get ID)", 0, KBD_DEV_TIMEOUT_MS);
	if (id0 != PS2_RET_ID_KBD || id1 != want1)
		kbd_fail(GUEST_EXIT_FAIL, "keyboard command 0xf2 (get ID): id %02x %02x, want %02x %02x (translate=%d)",
			 id0, id1, PS2_RET_ID_KBD, want1, a->translate);

	kbd_device_send(0, ATKBD_CMD_RESET_DIS, "reset and disable");
	kbd_device_send(0, ATKBD_CMD_SETLEDS, "set LEDs");
	kbd_device_send(0, KBD_LEDS, "LED state");
	kbd_device_send(0, ATKBD_CMD_SETREP, "set typematic rate");
	kbd_device_send(0, KBD_TYPEMATIC, "typematic value");
	kbd_device_send(0, ATKBD_CMD_ENABLE, "enable");
	return (uint16_t)(id0 << 8 | id1);
}

/* psmouse: reset (FA AA 00), get ID (FA 00), enable streaming. */
static uint8_t kbd_mouse_init(void)
{
	uint8_t id;

	kbd_ctl_command(I8042_CMD_AUX_ENABLE, "aux enable");
	kbd_device_send(1, PSMOUSE_CMD_RESET_BAT, "reset");
	kbd_device_expect(1, PSMOUSE_CMD_RESET_BAT, "reset", PS2_RET_BAT, KBD_BAT_TIMEOUT_MS);
	kbd_device_expect(1, PSMOUSE_CMD_RESET_BAT, "reset", PSMOUSE_ID_PS2, KBD_DEV_TIMEOUT_MS);
	kbd_device_send(1, PSMOUSE_CMD_GETID, "get ID");
	id = kbd_reply("mouse command 0xf2 (get ID)", 1, KBD_DEV_TIMEOUT_MS);
	if (id != PSMOUSE_ID_PS2)
		kbd_fail(GUEST_EXIT_FAIL, "mouse command 0xf2 (get ID): id 0x%02x, want 0x00", id);
	kbd_device_send(1, PSMOUSE_CMD_ENABLE, "enable");
	return id;
}

/* vmmouse_detect() + vmmouse_enable(), after psmouse's reset and enable. */
static void kbd_vmmouse_init(void)
{
	uint32_t version, detail;
	int ret;

	if (vmmouse_detect(&version) < 0)
		kbd_fail(GUEST_EXIT_NO_DEVICE, "vmmouse GETVERSION: no magic in EBX (eax 0x%08x)", version);
	ret = vmmouse_enable(&detail);
	if (ret == -ENODEV)
		kbd_fail(GUEST_EXIT_NO_DEVICE, "vmmouse enable: status 0x%08x counts no version", detail);
	if (ret < 0)
		kbd_fail(GUEST_EXIT_FAIL, "vmmouse enable: version 0x%08x, want 0x%08x", detail,
			 VMMOUSE_VERSION_ID);
	serial_printf("kbd-demo: vmmouse version %u absolute\n", version);
}

/* Wall time of n calls of fn, in timer ticks, from a tick edge. */
static uint64_t kbd_time_ticks(uint32_t n, int backdoor)
{
	uint64_t start = timer_wait_tick();

	for (uint32_t i = 0; i < n; i++) {
		if (backdoor)
			(void)vmmouse_status();
		else
			(void)inb(I8042_STATUS_PORT);
	}
	return timer_ticks() - start;
}

static void kbd_vmmouse_time_calls(uint32_t n)
{
	uint64_t vm = kbd_time_ticks(n, 1), port = kbd_time_ticks(n, 0);

	serial_printf("kbd-demo: %u vmmouse calls %lu ms, %u port reads %lu ms\n", n,
		      vm * 1000 / KBD_TICK_HZ, n, port * 1000 / KBD_TICK_HZ);
}

static unsigned kbd_vmmouse_buttons(uint32_t status)
{
	return (status & VMMOUSE_LEFT_BUTTON ? 1u : 0) | (status & VMMOUSE_MIDDLE_BUTTON ? 2u : 0) |
	       (status & VMMOUSE_RIGHT_BUTTON ? 4u : 0);
}

/* A PS/2 packet rang: echo every vmmouse packet queued, in pixels of a
 * width x height screen. */
static void kbd_vmmouse_drain(uint32_t width, uint32_t height)
{
	struct vmmouse_packet p;
	uint32_t status;
	int ret;

	while ((ret = vmmouse_read(&p, &status)) > 0) {
		int wheel = -(int)(int8_t)(uint8_t)p.z;
		unsigned buttons = kbd_vmmouse_buttons(p.status);

		if (p.status & VMMOUSE_RELATIVE_PACKET)
			serial_printf("kbd-demo: vmmouse rel %d,%d buttons=%u wheel=%d\n", (int32_t)p.x,
				      -(int32_t)p.y, buttons, wheel);
		else
			serial_printf("kbd-demo: vmmouse abs %u,%u buttons=%u wheel=%d raw=%u,%u\n",
				      (uint32_t)((uint64_t)p.x * width >> 16),
				      (uint32_t)((uint64_t)p.y * height >> 16), buttons, wheel, p.x, p.y);
	}
	if (ret < 0)
		kbd_fail(GUEST_EXIT_FAIL, "vmmouse read: status 0x%08x (%s)", status,
			 ret == -EIO ? "device reports an error" : "queue not whole packets");
}

/* ---- the screen ---- */

/* The std VGA as bochs-drm drives it, the framebuffer at the start of BAR0. */
static int kbd_setup_vga(uint32_t width, uint32_t height, struct fb *fb)
{
	const struct vbe ports = { .mmio = NULL };
	struct pci_bar bar;
	uint32_t readback;
	uint16_t bdf, cmd;

	if (pci_probe(&readback) < 0 ||
	    pci_find_device(KBD_VGA_PCI_VENDOR, KBD_VGA_PCI_DEVICE, &bdf) < 0)
		kbd_fail(GUEST_EXIT_NO_DEVICE, "display=vga: no std VGA (PCI 1234:1111)");
	if (pci_read_bar(bdf, KBD_VGA_BAR_VRAM, &bar) < 0 || bar.io || bar.addr == 0 ||
	    (uint64_t)width * height * KBD_PATTERN_BYTES_PER_PIXEL > bar.size)
		kbd_fail(GUEST_EXIT_FAIL, "display=vga: BAR0 0x%lx+0x%lx cannot hold the screen",
			 bar.addr, bar.size);
	cmd = pci_read16(bdf, PCI_COMMAND);
	pci_write16(bdf, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	vbe_set_mode(&ports, (uint16_t)width, (uint16_t)height, bar.size);
	fb->base = (uint32_t *)(uintptr_t)bar.addr;
	fb->width = width;
	fb->height = height;
	fb->stride_px = width;
	return 1;
}

static int kbd_setup_ramfb(const struct kbd_args *a, uint32_t width, uint32_t height,
			   struct fb *fb)
{
	struct ramfb_mode m = {
		.addr = a->fb_addr,
		.width = width,
		.height = height,
		.stride = width * KBD_PATTERN_BYTES_PER_PIXEL,
	};
	uint64_t size = (uint64_t)m.stride * m.height;
	int ret;

	if (m.addr < (uintptr_t)__image_end && m.addr + size > (uintptr_t)__image_start)
		kbd_fail(GUEST_EXIT_FAIL, "framebuffer 0x%lx+0x%lx overlaps the guest image", m.addr, size);
	ret = boot_ram_covers(m.addr, size);
	if (ret == -ENOENT)
		kbd_fail(GUEST_EXIT_FAIL, "no memory map in hvm_start_info (version %u)",
			 boot_start_info()->version);
	if (ret == 0)
		kbd_fail(GUEST_EXIT_FAIL, "framebuffer 0x%lx+0x%lx is not in RAM (boot memory map)", m.addr,
			 size);
	ret = ramfb_configure(&m);
	if (ret < 0) {
		serial_printf("kbd-demo: warning no screen (%s), echoing on serial only\n",
			      ret == -ENODEV ? "no fw_cfg" :
			      ret == -ENOTSUP ? "fw_cfg has no DMA" :
			      ret == -ENOENT ? "no etc/ramfb in fw_cfg" :
			      ret == -EINVAL ? "etc/ramfb has the wrong size" : "ramfb config write failed");
		return 0;
	}
	fb->base = (uint32_t *)(uintptr_t)m.addr;
	fb->width = m.width;
	fb->height = m.height;
	fb->stride_px = m.width;
	return 1;
}

/* The screen display= asks for, at width x height: 1, or 0 without one. */
static int kbd_setup_screen(const struct kbd_args *a, uint32_t width, uint32_t height,
			    struct fb *fb)
{
	return a->vga ? kbd_setup_vga(width, height, fb) : kbd_setup_ramfb(a, width, height, fb);
}

static void kbd_draw_boxes(const struct fb *fb, uint64_t n, uint8_t last)
{
	draw_number(fb, KBD_PATTERN_COUNT_X + KBD_PATTERN_BOX_PAD, KBD_PATTERN_BOX_Y + KBD_PATTERN_BOX_PAD,
		    (uint32_t)(n % 1000000), KBD_PATTERN_COUNT_DIGITS, KBD_PATTERN_DIGIT_SCALE,
		    KBD_PATTERN_BOX_FG_RGB, KBD_PATTERN_BOX_BG_RGB);
	draw_number(fb, kbd_pattern_byte_x() + KBD_PATTERN_BOX_PAD, KBD_PATTERN_BOX_Y + KBD_PATTERN_BOX_PAD,
		    last, KBD_PATTERN_BYTE_DIGITS, KBD_PATTERN_DIGIT_SCALE, KBD_PATTERN_BOX_FG_RGB,
		    KBD_PATTERN_BOX_BG_RGB);
}

static void kbd_draw_initial(const struct fb *fb)
{
	draw_fill_rect(fb, 0, 0, fb->width, fb->height, KBD_PATTERN_BG_RGB);
	draw_fill_rect(fb, KBD_PATTERN_COUNT_X, KBD_PATTERN_BOX_Y, KBD_PATTERN_BOX_W(KBD_PATTERN_COUNT_DIGITS),
		       KBD_PATTERN_BOX_H, KBD_PATTERN_BOX_BG_RGB);
	draw_fill_rect(fb, kbd_pattern_byte_x(), KBD_PATTERN_BOX_Y, KBD_PATTERN_BOX_W(KBD_PATTERN_BYTE_DIGITS),
		       KBD_PATTERN_BOX_H, KBD_PATTERN_BOX_BG_RGB);
	kbd_draw_boxes(fb, 0, 0);
}

/* A key press with dma=1: the VMM writes the band (fw_cfg DMA). */
static void kbd_dma_band(const struct fb *fb)
{
	uint32_t y = kbd_pattern_band_y(fb->height);
	uint8_t *band = (uint8_t *)(fb->base + (uint64_t)y * fb->stride_px);
	uint32_t bytes = KBD_PATTERN_BAND_LINES * fb->stride_px * 4;
	int ret = fwcfg_dma_read(FWCFG_KEY_SIGNATURE, band, bytes);

	if (ret < 0)
		kbd_fail(GUEST_EXIT_FAIL, "dma band: fw_cfg DMA read failed (%d)", ret);
	/* Read back what the device wrote, first and last bytes included. */
	if (band[0] != 'Q' || band[1] != 'E' || band[2] != 'M' || band[3] != 'U' || band[4] != 0 ||
	    band[bytes / 2] != 0 || band[bytes - 1] != 0)
		kbd_fail(GUEST_EXIT_FAIL, "dma band: read back %02x %02x %02x %02x %02x, want QEMU then zeros",
			 band[0], band[1], band[2], band[3], band[4]);
	serial_puts("kbd-demo: dma band ok\n");
}

static void kbd_repaint_band(const struct fb *fb)
{
	draw_fill_rect(fb, 0, kbd_pattern_band_y(fb->height), fb->width, KBD_PATTERN_BAND_LINES,
		       KBD_PATTERN_BG_RGB);
	serial_puts("kbd-demo: band repainted\n");
}

/* The n-th byte (n >= 1) arrived: block first (the photon), then boxes. */
static void kbd_draw_key(const struct fb *fb, uint64_t n, uint8_t byte)
{
	draw_fill_rect(fb, kbd_pattern_slot_x(kbd_pattern_slot(n)), KBD_PATTERN_SLOT_Y,
		       KBD_PATTERN_SLOT_SIZE, KBD_PATTERN_SLOT_SIZE, kbd_pattern_key_rgb(n));
	if (n > 1)
		draw_fill_rect(fb, kbd_pattern_slot_x(kbd_pattern_slot(n - 1)), KBD_PATTERN_SLOT_Y,
			       KBD_PATTERN_SLOT_SIZE, KBD_PATTERN_SLOT_SIZE, KBD_PATTERN_BG_RGB);
	kbd_draw_boxes(fb, n, byte);
}

int main(void)
{
	struct kbd_args a;
	struct fb fb;
	int screen = 0;
	uint16_t id;
	uint64_t n = 0;
	uint8_t packet[3];
	unsigned npacket = 0;
	uint32_t width, height;

	kbd_parse_args(&a);
	if (a.dma && (fwcfg_probe() < 0 || !(fwcfg_features() & FWCFG_FEATURE_DMA)))
		kbd_fail(GUEST_EXIT_NO_DEVICE, "dma=1 needs fw_cfg with DMA");
	width = a.width;
	height = a.height;
	if (a.screen) {
		screen = kbd_setup_screen(&a, width, height, &fb);
		if (screen)
			kbd_draw_initial(&fb);
	}

	i8042_set_tick_hz(timer_start(KBD_TICK_HZ));
	kbd_controller_init(&a);
	id = kbd_keyboard_init(&a);
	serial_printf("kbd-demo: keyboard id %04x translate=%d\n", id, a.translate);
	if (a.mouse)
		serial_printf("kbd-demo: mouse id %02x\n", kbd_mouse_init());
	if (a.vmmouse)
		kbd_vmmouse_init();
	if (a.vmmouse && a.calls)
		kbd_vmmouse_time_calls(a.calls);
	timer_stop();
	i8042_set_tick_hz(0);

	serial_puts("kbd-demo: ready\n");
	irq_unmask(IRQ_KEYBOARD);
	if (a.mouse)
		irq_unmask(IRQ_MOUSE);
	for (;;) {
		uint64_t seen = irq_seq;
		uint8_t st;

		while ((st = inb(I8042_STATUS_PORT)) & I8042_STR_OBF) {
			uint8_t b = inb(I8042_DATA_PORT);

			if (st & I8042_STR_AUXDATA) {
				/* Packets start with bit 3 set; resynchronise on anything else. */
				if (npacket == 0 && !(b & PSMOUSE_PACKET_SYNC)) {
					serial_printf("kbd-demo: mouse resync %02x\n", b);
					continue;
				}
				packet[npacket++] = b;
				if (npacket < 3)
					continue;
				npacket = 0;
				if (a.vmmouse)
					kbd_vmmouse_drain(screen ? fb.width : width,
							  screen ? fb.height : height);
				else
					serial_printf("kbd-demo: mouse %02x %02x %02x\n", packet[0], packet[1],
						      packet[2]);
				continue;
			}
			n++;
			/* Set 1: bit 7 marks a release; 0xE0/0xE1 are prefixes. */
			if (screen && a.dma && b != 0xE0 && b != 0xE1) {
				if (b & 0x80)
					kbd_repaint_band(&fb);
				else
					kbd_dma_band(&fb);
			}
			if (screen)
				kbd_draw_key(&fb, n, b);
			serial_printf("kbd-demo: scancode %02x\n", b);
			if (a.exit_on >= 0 && b == a.exit_on)
				return GUEST_EXIT_PASS;
			if (a.resize_on >= 0 && b == a.resize_on) {
				width = a.width2;
				height = a.height2;
				if (screen && kbd_setup_screen(&a, width, height, &fb))
					kbd_draw_initial(&fb);
				serial_printf("kbd-demo: screen %ux%u\n", width, height);
			}
		}
		irq_wait(seen);
	}
}
