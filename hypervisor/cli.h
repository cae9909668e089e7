/* Command-line parsing for `fbvm run`: every bad value is one clear line. */
#ifndef FBVM_CLI_H
#define FBVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest numeric IPv6 address plus NUL (INET6_ADDRSTRLEN). */
#define CLI_VNC_HOST_BYTES 46

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

/* --display: the device fbvm sets up as a Linux guest's boot display (PVH
 * guests program ramfb or the VGA themselves; both devices always exist). */
enum boot_display { BOOT_DISPLAY_VGA, BOOT_DISPLAY_RAMFB };

/* --sdl=MODE: how the SDL window scales the guest's picture (sdl/scale.h). */
enum window_scale { WINDOW_SCALE_FIT, WINDOW_SCALE_INTEGER };

struct run_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t mem_bytes;
	enum serial_mode serial;
	const char *serial_path;   /* for SERIAL_FILE */
	bool stats;
	bool verbose;
	bool vnc_enabled;              /* false for --vnc none */
	char vnc_host[CLI_VNC_HOST_BYTES];  /* numeric IPv4 or IPv6 address */
	uint16_t vnc_port;
	uint16_t vnc_websocket_port;        /* ,websocket=PORT; 0: none */
	const char *vnc_password_file; /* --vnc-password-file: NULL for none */
	bool vnc_insecure;             /* --vnc-insecure: non-loopback without one */
	enum boot_display display;     /* --display */
	uint64_t vram_bytes;           /* --vram: std VGA VRAM */
	bool sdl;                      /* --sdl: a local window beside VNC */
	enum window_scale sdl_scale;   /* --sdl=fit (default) or --sdl=integer */
	const char *control_path;      /* --control: the control socket, or NULL */
	bool log_json;                 /* --log-format json */
};

/* CLI_CTL: `fbvm ctl ...`, the control socket's client (control/client.h),
 * which parses its own arguments from argv[2]. */
enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_ERROR, CLI_CTL };

#define CLI_DEFAULT_MEM_BYTES (256ull << 20)
#define CLI_DEFAULT_VNC_HOST  "127.0.0.1"
#define CLI_DEFAULT_VNC_PORT  5900
#define CLI_DEFAULT_DISPLAY   BOOT_DISPLAY_VGA
/* --vram limits: a power of two (a PCI BAR), QEMU's 1 MiB minimum, at most
 * 256 MiB so BAR0 fits the hole below 4 GiB (devices/vga.h VGA_VRAM_*). */
#define CLI_DEFAULT_VRAM_BYTES (16ull << 20)
#define CLI_VRAM_MIN_BYTES     (1ull << 20)
#define CLI_VRAM_MAX_BYTES     (256ull << 20)

/* Parses argv. On CLI_ERROR, err holds one line like
 * "--mem 1K: must be between 16M and 64G". */
enum cli_action cli_parse(int argc, char **argv, struct run_config *cfg, char *err,
			  size_t err_len);

/* "256M", "1G", "4096K", "512" (MiB, as QEMU's -m); K/M/G/T suffixes,
 * optionally followed by "B" or "iB". 0 or -EINVAL / -ERANGE. */
int cli_parse_size(const char *text, uint64_t *bytes);

/* "ADDR:PORT" with a numeric IPv4 address, "[ADDR]:PORT" with a numeric
 * IPv6 one, or "none"; PORT 1..65535. 0 or -EINVAL. */
int cli_parse_vnc(const char *text, struct run_config *cfg);

/* True for 127.0.0.0/8 and ::1: only this host can connect. */
bool cli_vnc_host_is_loopback(const char *host);

/* The listening rule: a --vnc address other hosts can reach needs
 * --vnc-password-file or an explicit --vnc-insecure; neither option goes
 * with --vnc none. 0, or -EINVAL with one line in err. */
int cli_check_vnc_access(const struct run_config *cfg, char *err, size_t err_len);

/* "ramfb" or "vga". 0 or -EINVAL. */
int cli_parse_display(const char *text, enum boot_display *display);

/* The name --display takes for d. */
const char *cli_display_name(enum boot_display d);

void cli_print_help(const char *prog);

#endif
