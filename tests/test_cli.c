/* Unit tests for hypervisor/cli.c: sizes and `fbvm run` options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hypervisor/cli.h"

static enum cli_action parse(struct run_config *cfg, char *err, size_t err_len, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = "fbvm";
	va_start(ap, err_len);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_parse(argc, argv, cfg, err, err_len);
}

static void test_cli_size_accepts_suffixes_and_bare_mib(void **state)
{
	static const struct { const char *text; uint64_t bytes; } cases[] = {
		{ "256", 256ull << 20 }, { "256M", 256ull << 20 }, { "256m", 256ull << 20 },
		{ "1G", 1ull << 30 },    { "1GiB", 1ull << 30 },   { "16384K", 16ull << 20 },
		{ "64G", 64ull << 30 },  { "2T", 2ull << 40 },     { "512MB", 512ull << 20 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t b = 0;
		assert_int_equal(cli_parse_size(cases[i].text, &b), 0);
		assert_int_equal(b, cases[i].bytes);
	}
}

static void test_cli_size_rejects_garbage(void **state)
{
	static const char *const bad[] = { "", "M", "-1", "12Q", "1.5G", "1GG", "0x10M",
					   "99999999999999999999", "18446744073709551615G" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t b;
		assert_true(cli_parse_size(bad[i], &b) < 0);
	}
}

static void test_cli_run_defaults(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k.elf", NULL), CLI_RUN);
	assert_string_equal(cfg.kernel_path, "k.elf");
	assert_int_equal(cfg.mem_bytes, 256ull << 20);
	assert_int_equal(cfg.serial, SERIAL_STDIO);
	assert_string_equal(cfg.cmdline, "");
	assert_false(cfg.stats);
	assert_true(cfg.vnc_enabled);
	assert_string_equal(cfg.vnc_host, "127.0.0.1");
	assert_int_equal(cfg.vnc_port, 5900);
	assert_int_equal(cfg.display, BOOT_DISPLAY_VGA);
	assert_int_equal(cfg.vram_bytes, 16ull << 20);
}

static void test_cli_vnc_accepts_ipv4_ipv6_and_none(void **state)
{
	static const struct {
		const char *arg; const char *host; unsigned port, ws;
	} cases[] = {
		{ "127.0.0.1:5901", "127.0.0.1", 5901, 0 },
		{ "0.0.0.0:1", "0.0.0.0", 1, 0 },
		{ "192.168.1.20:65535", "192.168.1.20", 65535, 0 },
		{ "[::1]:5900", "::1", 5900, 0 },
		{ "[::]:6000", "::", 6000, 0 },
		{ "[fe80::1:2]:7000", "fe80::1:2", 7000, 0 },
		{ "127.0.0.1:5900,websocket=5700", "127.0.0.1", 5900, 5700 },
		{ "[::1]:5900,websocket=1", "::1", 5900, 1 },
	};
	struct run_config cfg;
	char err[200];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* --vnc-insecure: the addresses other hosts reach need it (or a password). */
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc",
				       cases[i].arg, "--vnc-insecure", NULL), CLI_RUN);
		assert_true(cfg.vnc_enabled);
		assert_string_equal(cfg.vnc_host, cases[i].host);
		assert_int_equal(cfg.vnc_port, cases[i].port);
		assert_int_equal(cfg.vnc_websocket_port, cases[i].ws);
	}
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc", "none",
			       NULL), CLI_RUN);
	assert_false(cfg.vnc_enabled);
}

static void test_cli_vnc_beyond_loopback_needs_password_or_insecure(void **state)
{
	static const char *const open_addrs[] = {
		"0.0.0.0:5900", "192.168.1.20:5900", "[::]:5900", "[fe80::1:2]:5900",
		"[::ffff:127.0.0.1]:5900",
	};
	struct run_config cfg;
	char err[300], want[300];
	(void)state;
	for (size_t i = 0; i < sizeof(open_addrs) / sizeof(open_addrs[0]); i++) {
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc",
				       open_addrs[i], NULL), CLI_ERROR);
		snprintf(want, sizeof(want), "--vnc %s: listening beyond this host needs"
			 " --vnc-password-file PATH, or --vnc-insecure to allow anyone on the"
			 " network without a password", open_addrs[i]);
		assert_string_equal(err, want);
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc",
				       open_addrs[i], "--vnc-password-file", "pw", NULL), CLI_RUN);
		assert_string_equal(cfg.vnc_password_file, "pw");
		assert_false(cfg.vnc_insecure);
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k",
				       "--vnc-insecure", "--vnc", open_addrs[i], NULL), CLI_RUN);
		assert_true(cfg.vnc_insecure);
		assert_null(cfg.vnc_password_file);
	}
}

static void test_cli_vnc_loopback_needs_no_password(void **state)
{
	static const char *const loopback[] = { "127.0.0.1:5900", "127.1.2.3:5900", "[::1]:5900" };
	struct run_config cfg;
	char err[300];
	(void)state;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc",
				       loopback[i], NULL), CLI_RUN);
		assert_null(cfg.vnc_password_file);
		assert_false(cfg.vnc_insecure);
	}
	assert_true(cli_vnc_host_is_loopback("127.255.255.254"));
	assert_false(cli_vnc_host_is_loopback("128.0.0.1"));
	assert_false(cli_vnc_host_is_loopback("::2"));
}

static void test_cli_vnc_password_options_need_a_server(void **state)
{
	struct run_config cfg;
	char err[300];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc", "none",
			       "--vnc-password-file", "pw", NULL), CLI_ERROR);
	assert_string_equal(err, "--vnc-password-file: needs a VNC server (not --vnc none)");
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc-insecure",
			       "--vnc", "none", NULL), CLI_ERROR);
	assert_string_equal(err, "--vnc-insecure: needs a VNC server (not --vnc none)");
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k",
			       "--vnc-password-file", NULL), CLI_ERROR);
	assert_string_equal(err, "--vnc-password-file: needs a value");
}

static void test_cli_vnc_rejects_malformed_addresses(void **state)
{
	static const char *const bad[] = {
		"5900", ":5900", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:59x",
		"127.0.0.1:-1", "127.0.0.1: 5900", "::1:5900", "[::1]5900", "[::1]:", "[]:5900",
		"[127.0.0.1]:5900", "localhost:5900", "256.0.0.1:5900", "[::1:5900", "NONE", "",
		"127.0.0.1:99999999999999999999",
		"127.0.0.1:5900,websocket=",            /* no port */
		"127.0.0.1:5900,websocket=5900",        /* the RFB port itself */
		"127.0.0.1:5900,websocket=70000",
		"127.0.0.1:5900,http=5901",             /* not an option we have */
		"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]:5900",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_config cfg;
		char err[200], want[200];
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vnc",
				       bad[i], NULL), CLI_ERROR);
		snprintf(want, sizeof(want), "--vnc %s: must be ADDR:PORT with a numeric address"
			 " ([ADDR]:PORT for IPv6), PORT 1..65535, optionally ,websocket=PORT"
			 " (another port), or none", bad[i]);
		assert_string_equal(err, want);
	}
}

static void test_cli_run_all_options(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--initrd", "i",
			       "--cmdline", "a=b c", "--mem", "1G", "--serial", "file:/tmp/x",
			       "--stats", "--verbose", NULL),
			 CLI_RUN);
	assert_string_equal(cfg.initrd_path, "i");
	assert_string_equal(cfg.cmdline, "a=b c");
	assert_int_equal(cfg.mem_bytes, 1ull << 30);
	assert_int_equal(cfg.serial, SERIAL_FILE);
	assert_string_equal(cfg.serial_path, "/tmp/x");
	assert_true(cfg.stats);
	assert_true(cfg.verbose);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel=k", "--serial=none", NULL),
			 CLI_RUN);
	assert_int_equal(cfg.serial, SERIAL_NONE);
}

static void test_cli_bad_values_give_one_clear_line(void **state)
{
	static const struct { const char *args[4]; const char *message; } cases[] = {
		{ { "run", "--kernel", "k", "--mem" }, "--mem: needs a value" },
		{ { "run", "--mem", "1K", "--kernel" }, "--mem 1K: must be between 16M and 64G" },
		{ { "run", "--kernel", "k", "--bogus" }, "unknown option '--bogus' (try --help)" },
		{ { "run", "--serial", "tcp:1", NULL }, "--serial tcp:1: must be stdio, file:PATH or none" },
		{ { "run", "--serial", "file:", NULL }, "--serial file:: must be stdio, file:PATH or none" },
		{ { "run", NULL }, "run: --kernel FILE is required" },
		{ { "boot", NULL }, "unknown command 'boot' (try --help)" },
		{ { "run", "--kernel", "k", "extra" }, "unexpected argument 'extra' (try --help)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_config cfg;
		char err[160] = "";
		char *argv[6] = { "fbvm" };
		int argc = 1;
		for (int j = 0; j < 4 && cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		argv[argc] = NULL;
		assert_int_equal(cli_parse(argc, argv, &cfg, err, sizeof(err)), CLI_ERROR);
		assert_string_equal(err, cases[i].message);
	}
}

static void test_cli_mem_limits(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--mem", "16M", NULL), CLI_RUN);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--mem", "64G", NULL), CLI_RUN);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--mem", "15M", NULL), CLI_ERROR);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--mem", "65G", NULL), CLI_ERROR);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--mem", "16385K", NULL), CLI_ERROR);
	assert_string_equal(err, "--mem 16385K: must be a multiple of 4K");
}

static void test_cli_display_accepts_vga_and_ramfb(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--display", "ramfb",
			       NULL), CLI_RUN);
	assert_int_equal(cfg.display, BOOT_DISPLAY_RAMFB);
	assert_string_equal(cli_display_name(cfg.display), "ramfb");
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--display=vga",
			       NULL), CLI_RUN);
	assert_int_equal(cfg.display, BOOT_DISPLAY_VGA);
	assert_string_equal(cli_display_name(cfg.display), "vga");
}

static void test_cli_display_rejects_other_names(void **state)
{
	static const char *const bad[] = { "", "VGA", "Ramfb", "std", "none", "vga ", "sdl" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_config cfg;
		char err[160], want[160];
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--display",
				       bad[i], NULL), CLI_ERROR);
		snprintf(want, sizeof(want), "--display %s: must be vga or ramfb", bad[i]);
		assert_string_equal(err, want);
	}
}

static void test_cli_vram_accepts_powers_of_two_1m_to_256m(void **state)
{
	static const struct { const char *arg; uint64_t bytes; } cases[] = {
		{ "1M", 1ull << 20 }, { "1024K", 1ull << 20 }, { "4", 4ull << 20 },
		{ "16M", 16ull << 20 }, { "64MiB", 64ull << 20 }, { "256M", 256ull << 20 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_config cfg;
		char err[160];
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vram",
				       cases[i].arg, NULL), CLI_RUN);
		assert_int_equal(cfg.vram_bytes, cases[i].bytes);
	}
}

static void test_cli_vram_rejects_other_sizes(void **state)
{
	static const char *const bad[] = { "0", "512K", "3M", "24M", "257M", "512M", "1G",
					   "lots", "", "16MX", "-16M" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_config cfg;
		char err[160], want[160];
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--vram",
				       bad[i], NULL), CLI_ERROR);
		snprintf(want, sizeof(want), "--vram %s: must be a power of two between 1M and 256M",
			 bad[i]);
		assert_string_equal(err, want);
	}
}

static void test_cli_sdl_is_off_by_default_and_fits_when_given(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", NULL), CLI_RUN);
	assert_false(cfg.sdl);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--sdl", NULL),
			 CLI_RUN);
	assert_true(cfg.sdl);
	assert_int_equal(cfg.sdl_scale, WINDOW_SCALE_FIT);
	/* Beside VNC or alone. */
	assert_true(cfg.vnc_enabled);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--sdl", "--vnc", "none", "--kernel",
			       "k", NULL), CLI_RUN);
	assert_true(cfg.sdl);
	assert_false(cfg.vnc_enabled);
}

static void test_cli_sdl_takes_fit_or_integer(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--sdl=integer",
			       NULL), CLI_RUN);
	assert_true(cfg.sdl);
	assert_int_equal(cfg.sdl_scale, WINDOW_SCALE_INTEGER);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--sdl=fit", NULL),
			 CLI_RUN);
	assert_int_equal(cfg.sdl_scale, WINDOW_SCALE_FIT);
}

static void test_cli_sdl_rejects_other_modes(void **state)
{
	static const char *const bad[] = { "--sdl=", "--sdl=Integer", "--sdl=2", "--sdl=none",
					   "--sdl=fit,integer" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_config cfg;
		char err[160], want[160];
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", bad[i], NULL),
				 CLI_ERROR);
		snprintf(want, sizeof(want), "%s: must be --sdl, --sdl=fit or --sdl=integer", bad[i]);
		assert_string_equal(err, want);
	}
	/* The mode is attached with '=': a separate word is not taken as one. */
	{
		struct run_config cfg;
		char err[160];
		assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--sdl",
				       "integer", NULL), CLI_ERROR);
		assert_string_equal(err, "unexpected argument 'integer' (try --help)");
	}
}

static void test_cli_control_and_log_format(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", NULL), CLI_RUN);
	assert_null(cfg.control_path);
	assert_false(cfg.log_json);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--control",
			       "/run/vm.sock", "--log-format", "json", NULL), CLI_RUN);
	assert_string_equal(cfg.control_path, "/run/vm.sock");
	assert_true(cfg.log_json);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--log-format",
			       "text", NULL), CLI_RUN);
	assert_false(cfg.log_json);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--log-format",
			       "JSON", NULL), CLI_ERROR);
	assert_string_equal(err, "--log-format JSON: must be text or json");
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--control", "",
			       NULL), CLI_ERROR);
	assert_string_equal(err, "--control: needs a socket path");
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--kernel", "k", "--control", NULL),
			 CLI_ERROR);
	/* `fbvm ctl ...` parses its own arguments (control/client.c). */
	assert_int_equal(parse(&cfg, err, sizeof(err), "ctl", "/run/vm.sock", "quit", NULL),
			 CLI_CTL);
}

static void test_cli_help_and_version(void **state)
{
	struct run_config cfg;
	char err[160];
	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--help", NULL), CLI_HELP);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--version", NULL), CLI_VERSION);
	assert_int_equal(parse(&cfg, err, sizeof(err), "run", "--help", NULL), CLI_HELP);
	assert_int_equal(parse(&cfg, err, sizeof(err), NULL), CLI_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_size_accepts_suffixes_and_bare_mib),
		cmocka_unit_test(test_cli_size_rejects_garbage),
		cmocka_unit_test(test_cli_run_defaults),
		cmocka_unit_test(test_cli_vnc_accepts_ipv4_ipv6_and_none),
		cmocka_unit_test(test_cli_vnc_rejects_malformed_addresses),
		cmocka_unit_test(test_cli_vnc_beyond_loopback_needs_password_or_insecure),
		cmocka_unit_test(test_cli_vnc_loopback_needs_no_password),
		cmocka_unit_test(test_cli_vnc_password_options_need_a_server),
		cmocka_unit_test(test_cli_run_all_options),
		cmocka_unit_test(test_cli_bad_values_give_one_clear_line),
		cmocka_unit_test(test_cli_mem_limits),
		cmocka_unit_test(test_cli_display_accepts_vga_and_ramfb),
		cmocka_unit_test(test_cli_display_rejects_other_names),
		cmocka_unit_test(test_cli_vram_accepts_powers_of_two_1m_to_256m),
		cmocka_unit_test(test_cli_vram_rejects_other_sizes),
		cmocka_unit_test(test_cli_sdl_is_off_by_default_and_fits_when_given),
		cmocka_unit_test(test_cli_sdl_takes_fit_or_integer),
		cmocka_unit_test(test_cli_sdl_rejects_other_modes),
		cmocka_unit_test(test_cli_control_and_log_format),
		cmocka_unit_test(test_cli_help_and_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
