#include "cli.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"

int cli_parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long value;
	unsigned int shift = 20; /* a bare number is MiB, as with QEMU's -m */
	char *end;

	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default: return -EINVAL;
		}
		end++;
		if (strcasecmp(end, "") && strcasecmp(end, "B") && strcasecmp(end, "iB"))
			return -EINVAL;
	}
	if (value > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = (uint64_t)value << shift;
	return 0;
}

static int parse_serial(const char *arg, struct run_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->serial = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		cfg->serial = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->serial = SERIAL_FILE;
		cfg->serial_path = arg + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

int cli_parse_vnc(const char *text, struct run_config *cfg)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *host_text, *port_text;
	char host[CLI_VNC_HOST_BYTES];
	unsigned long port;
	size_t host_len;
	char *end;
	int family;

	unsigned long ws_port = 0;
	char main_part[CLI_VNC_HOST_BYTES + 16];
	const char *comma;

	if (!strcmp(text, "none")) {
		cfg->vnc_enabled = false;
		return 0;
	}
	/* ADDR:PORT,websocket=PORT (QEMU's spelling): the WebSocket port. */
	comma = strchr(text, ',');
	if (comma) {
		const char *w = comma + 1;
		if (strncmp(w, "websocket=", 10) != 0 || !isdigit((unsigned char)w[10]))
			return -EINVAL;
		errno = 0;
		ws_port = strtoul(w + 10, &end, 10);
		if (errno || *end || ws_port == 0 || ws_port > 65535 ||
		    (size_t)(comma - text) >= sizeof(main_part))
			return -EINVAL;
		memcpy(main_part, text, (size_t)(comma - text));
		main_part[comma - text] = '\0';
		text = main_part;
	}
	if (text[0] == '[') {
		/* IPv6 addresses contain colons: brackets say where the port is. */
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		host_text = text + 1;
		host_len = (size_t)(close - host_text);
		port_text = close + 2;
		family = AF_INET6;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		host_text = text;
		host_len = (size_t)(colon - text);
		port_text = colon + 1;
		family = AF_INET;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, host_text, host_len);
	host[host_len] = '\0';
	if (inet_pton(family, host, addr) != 1 || !isdigit((unsigned char)port_text[0]))
		return -EINVAL;
	errno = 0;
	port = strtoul(port_text, &end, 10);
	if (errno || *end || port == 0 || port > 65535 || port == ws_port)
		return -EINVAL;
	cfg->vnc_enabled = true;
	memcpy(cfg->vnc_host, host, host_len + 1);
	cfg->vnc_port = (uint16_t)port;
	cfg->vnc_websocket_port = (uint16_t)ws_port;
	return 0;
}

int cli_parse_display(const char *text, enum boot_display *display)
{
	if (!strcmp(text, "vga"))
		*display = BOOT_DISPLAY_VGA;
	else if (!strcmp(text, "ramfb"))
		*display = BOOT_DISPLAY_RAMFB;
	else
		return -EINVAL;
	return 0;
}

const char *cli_display_name(enum boot_display d)
{
	return d == BOOT_DISPLAY_RAMFB ? "ramfb" : "vga";
}

bool cli_vnc_host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int cli_check_vnc_access(const struct run_config *cfg, char *err, size_t err_len)
{
	if (!cfg->vnc_enabled) {
		if (cfg->vnc_password_file || cfg->vnc_insecure) {
			snprintf(err, err_len, "%s: needs a VNC server (not --vnc none)",
				 cfg->vnc_password_file ? "--vnc-password-file" : "--vnc-insecure");
			return -EINVAL;
		}
		return 0;
	}
	if (!cfg->vnc_password_file && !cfg->vnc_insecure &&
	    !cli_vnc_host_is_loopback(cfg->vnc_host)) {
		bool v6 = strchr(cfg->vnc_host, ':') != NULL;
		snprintf(err, err_len, "--vnc %s%s%s:%u: listening beyond this host needs"
			 " --vnc-password-file PATH, or --vnc-insecure to allow anyone on the"
			 " network without a password", v6 ? "[" : "", cfg->vnc_host, v6 ? "]" : "",
			 cfg->vnc_port);
		return -EINVAL;
	}
	return 0;
}

static bool vram_size_ok(uint64_t bytes)
{
	return bytes >= CLI_VRAM_MIN_BYTES && bytes <= CLI_VRAM_MAX_BYTES &&
	       (bytes & (bytes - 1)) == 0;
}

void cli_print_help(const char *prog)
{
	printf("usage: %s run --kernel FILE [options]\n"
	       "       %s ctl SOCKET COMMAND [ARGS]   (see below)\n"
	       "       %s --help | --version\n"
	       "\n"
	       "Boots a guest on KVM: a PVH ELF image (the kind QEMU boots with -kernel)\n"
	       "or a Linux bzImage.\n"
	       "\n"
	       "run options:\n"
	       "  --kernel FILE        guest image to boot (required)\n"
	       "  --initrd FILE        initial ramdisk, passed as a PVH module\n"
	       "  --cmdline STR        kernel command line (at most 4095 bytes)\n"
	       "  --mem SIZE           guest RAM, 16M..64G (default 256M; bare number = MiB)\n"
	       "  --serial MODE        COM1 goes to stdio (default), file:PATH or none\n"
	       "  --vnc ADDR:PORT      VNC server address (default 127.0.0.1:5900);\n"
	       "                       [ADDR]:PORT for IPv6, e.g. [::1]:5900; none for no server;\n"
	       "                       ADDR:PORT,websocket=WSPORT also serves WebSocket (noVNC)\n"
	       "                       clients on WSPORT\n"
	       "  --vnc-password-file PATH  viewers must give the password on PATH's first\n"
	       "                       line (VNC authentication: only its first 8 characters\n"
	       "                       count); the file must be mode 0600 or 0400\n"
	       "  --vnc-insecure       allow --vnc on a non-loopback address without a password\n"
	       "  --display vga|ramfb  a Linux guest's boot display (default vga): the std\n"
	       "                       VGA's VRAM, or a ramfb framebuffer fbvm programs\n"
	       "  --vram SIZE          std VGA video memory, a power of two 1M..256M (default 16M)\n"
	       "  --sdl[=fit|integer]  also show the screen in a window on this desktop (SDL2);\n"
	       "                       fit (default) scales to the window, integer by whole\n"
	       "                       factors; Ctrl-Alt-G grabs and releases input\n"
	       "  --control PATH       a control socket (UNIX, mode 0600) for programs: JSON\n"
	       "                       commands one per line, as QEMU's QMP (README \"Control\n"
	       "                       socket\"); PATH may exist only as a stale socket\n"
	       "  --log-format text|json  log lines as text (default) or one JSON object each\n"
	       "  --stats              print a report at exit: threads' stacks, devices, exits\n"
	       "  --verbose            debug logging; says which kind of KVM was found\n"
	       "\n"
	       "fbvm ctl SOCKET COMMAND [ARGS]: one command to a running fbvm's --control\n"
	       "socket; prints the result, exit 0, or the error on stderr, exit 1:\n"
	       "  query-status                      state, display, viewers (JSON)\n"
	       "  screendump FILE.png | -           the screen as a PNG (- : to stdout)\n"
	       "  send-key [--hold MS] KEY...       QEMU key names: ctrl alt delete, ret, a\n"
	       "  type TEXT                         US-layout text; \\n \\t \\b \\e \\\\ escapes\n"
	       "  pointer X Y [left,middle,right]   move the pointer, buttons held\n"
	       "  wait-screen --change | --region X,Y,W,H --color '#rrggbb'  [--timeout MS]\n"
	       "  system_reset | quit\n"
	       "  raw JSON                          send one command object as it is\n"
	       "\n"
	       "With --serial stdio on a terminal: Ctrl-A x quits, Ctrl-A h shows help.\n"
	       "Exit status: the guest's test-exit port value v gives (v << 1) | 1;\n"
	       "0 power off or quit (Ctrl-A x, closing the --sdl window), 2 bad command\n"
	       "line (a --vnc address that cannot be bound or --sdl without a usable\n"
	       "display, too), 4 guest reset, 6 triple fault, 8 halted with interrupts off,\n"
	       "10 KVM internal error, 12 host error.\n",
	       prog, prog, prog);
}

enum cli_action cli_parse(int argc, char **argv, struct run_config *cfg, char *err,
			  size_t err_len)
{
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_SERIAL, OPT_STATS,
	       OPT_VERBOSE, OPT_HELP, OPT_VERSION, OPT_VNC, OPT_DISPLAY, OPT_VRAM,
	       OPT_SDL, OPT_VNC_PASSWORD_FILE, OPT_VNC_INSECURE, OPT_CONTROL, OPT_LOG_FORMAT };
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "vnc", required_argument, NULL, OPT_VNC },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "vram", required_argument, NULL, OPT_VRAM },
		{ "sdl", optional_argument, NULL, OPT_SDL },
		{ "vnc-password-file", required_argument, NULL, OPT_VNC_PASSWORD_FILE },
		{ "vnc-insecure", no_argument, NULL, OPT_VNC_INSECURE },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = CLI_DEFAULT_MEM_BYTES;
	cfg->serial = SERIAL_STDIO;
	cfg->cmdline = "";
	cfg->vnc_enabled = true;
	snprintf(cfg->vnc_host, sizeof(cfg->vnc_host), "%s", CLI_DEFAULT_VNC_HOST);
	cfg->vnc_port = CLI_DEFAULT_VNC_PORT;
	cfg->display = CLI_DEFAULT_DISPLAY;
	cfg->vram_bytes = CLI_DEFAULT_VRAM_BYTES;

	if (argc < 2) {
		snprintf(err, err_len, "no command given (try --help)");
		return CLI_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return CLI_HELP;
	if (!strcmp(argv[1], "--version"))
		return CLI_VERSION;
	if (!strcmp(argv[1], "ctl"))
		return CLI_CTL;
	if (strcmp(argv[1], "run")) {
		snprintf(err, err_len, "unknown command '%s' (try --help)", argv[1]);
		return CLI_ERROR;
	}

	optind = 1;
	opterr = 0;
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		const char *arg = optarg;
		switch (opt) {
		case OPT_KERNEL: cfg->kernel_path = arg; break;
		case OPT_INITRD: cfg->initrd_path = arg; break;
		case OPT_CMDLINE: cfg->cmdline = arg; break;
		case OPT_MEM:
			if (cli_parse_size(arg, &cfg->mem_bytes) < 0 ||
			    cfg->mem_bytes < MEMMAP_RAM_MIN || cfg->mem_bytes > MEMMAP_RAM_MAX) {
				snprintf(err, err_len, "--mem %s: must be between 16M and 64G", arg);
				return CLI_ERROR;
			}
			if (cfg->mem_bytes & 0xFFF) {
				snprintf(err, err_len, "--mem %s: must be a multiple of 4K", arg);
				return CLI_ERROR;
			}
			break;
		case OPT_SERIAL:
			if (parse_serial(arg, cfg) < 0) {
				snprintf(err, err_len,
					 "--serial %s: must be stdio, file:PATH or none", arg);
				return CLI_ERROR;
			}
			break;
		case OPT_VNC:
			if (cli_parse_vnc(arg, cfg) < 0) {
				snprintf(err, err_len, "--vnc %s: must be ADDR:PORT with a numeric"
					 " address ([ADDR]:PORT for IPv6), PORT 1..65535, optionally"
					 " ,websocket=PORT (another port), or none",
					 arg);
				return CLI_ERROR;
			}
			break;
		case OPT_DISPLAY:
			if (cli_parse_display(arg, &cfg->display) < 0) {
				snprintf(err, err_len, "--display %s: must be vga or ramfb", arg);
				return CLI_ERROR;
			}
			break;
		case OPT_VRAM:
			if (cli_parse_size(arg, &cfg->vram_bytes) < 0 ||
			    !vram_size_ok(cfg->vram_bytes)) {
				snprintf(err, err_len, "--vram %s: must be a power of two between"
					 " 1M and 256M", arg);
				return CLI_ERROR;
			}
			break;
		case OPT_SDL:
			cfg->sdl = true;
			if (!arg || !strcmp(arg, "fit")) {
				cfg->sdl_scale = WINDOW_SCALE_FIT;
			} else if (!strcmp(arg, "integer")) {
				cfg->sdl_scale = WINDOW_SCALE_INTEGER;
			} else {
				snprintf(err, err_len, "--sdl=%s: must be --sdl, --sdl=fit or"
					 " --sdl=integer", arg);
				return CLI_ERROR;
			}
			break;
		case OPT_VNC_PASSWORD_FILE: cfg->vnc_password_file = arg; break;
		case OPT_VNC_INSECURE: cfg->vnc_insecure = true; break;
		case OPT_CONTROL:
			if (!arg[0]) {
				snprintf(err, err_len, "--control: needs a socket path");
				return CLI_ERROR;
			}
			cfg->control_path = arg;
			break;
		case OPT_LOG_FORMAT:
			if (!strcmp(arg, "json") || !strcmp(arg, "text")) {
				cfg->log_json = !strcmp(arg, "json");
			} else {
				snprintf(err, err_len, "--log-format %s: must be text or json", arg);
				return CLI_ERROR;
			}
			break;
		case OPT_STATS: cfg->stats = true; break;
		case OPT_VERBOSE: cfg->verbose = true; break;
		case OPT_HELP: return CLI_HELP;
		case OPT_VERSION: return CLI_VERSION;
		case ':':
			snprintf(err, err_len, "%s: needs a value", argv[optind - 1]);
			return CLI_ERROR;
		default:
			snprintf(err, err_len, "unknown option '%s' (try --help)", argv[optind - 1]);
			return CLI_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s' (try --help)", argv[optind]);
		return CLI_ERROR;
	}
	if (!cfg->kernel_path) {
		snprintf(err, err_len, "run: --kernel FILE is required");
		return CLI_ERROR;
	}
	if (cli_check_vnc_access(cfg, err, err_len) < 0)
		return CLI_ERROR;
	return CLI_RUN;
}
