/*
 * vncprobe: a scriptable VNC client (libvncclient) for fbvm's integration
 * tests and `make bench`. Connects (retrying until the timeout), receives
 * updates, checks pixels, sends keys, saves a PNG, and prints what happened as
 * key=value lines on stdout.
 *
 *   vncprobe [options] HOST:PORT | [IPV6]:PORT
 *     --encodings LIST   libvncclient encodings string, e.g. raw, tight,
 *                        "hextile zlib" (default raw)
 *     --quality N        allow lossy JPEG in tight at quality 0..9 (default: lossless)
 *     --bpp 8|16|32      pixel format to ask for (default 32; --expect, --png
 *                        and --count-changes need 32)
 *     --updates N        wait for at least N framebuffer updates
 *     --seconds T        keep receiving for T seconds (throughput runs)
 *     --wait-size WxH    wait until the desktop is W x H
 *     --expect X,Y,RRGGBB  wait until pixel (X,Y) has this colour (repeatable)
 *     --count-changes    count updates after which the picture differs
 *     --key KEYSYM       after the first update send KEYSYM down and up
 *                        (hex or decimal; +KEYSYM only down, -KEYSYM only up;
 *                        repeatable, sent in order)
 *     --ext-key KEYSYM,QNUM  the same as a QEMU Extended Key Event (+/- too);
 *                        fails if the server did not offer the extension
 *     --pointer X,Y,MASK after the keys, a PointerEvent (repeatable, in order)
 *     --png FILE         save the final picture as an RGB PNG
 *     --timeout S        give up after S seconds, connecting included (default 10)
 *     --verbose          libvncclient's own log on stderr
 *
 * Besides counts and rates the output has max_gap_ms, the longest time
 * between two updates (or since the last one, at the end): how long the
 * server stalled this client.
 *
 * Exit status: 0 every goal met, 1 a goal not met in time (the output says
 * which), 2 usage, 3 could not connect, 4 connection lost.
 *
 * The requested pixel format is 32 bpp, depth 24, little-endian, red at bit
 * 16, green 8, blue 0: a pixel in frameBuffer is the word 0x00RRGGBB, so
 * checks are exact whatever the server's own format.
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <png.h>
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX_EXPECT 32
#define PROBE_MAX_KEYS   32
#define PROBE_MAX_POINTER 32
#define PROBE_RETRY_MS   100
#define PROBE_WAIT_USEC  50000

enum { EXIT_PASS = 0, EXIT_GOAL = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_LOST = 4 };

struct probe_expect {
	int x, y;
	uint32_t rgb;
	uint32_t got;
	bool ok;
};

struct probe_key {
	uint32_t keysym;
	uint32_t qnum;     /* 0: plain KeyEvent */
	bool press, release;
};

struct probe {
	/* options */
	char host[64];
	int port;
	const char *encodings;
	int quality;              /* -1: lossless */
	int bpp;
	long updates_wanted;
	double seconds;
	int want_w, want_h;
	struct probe_expect expect[PROBE_MAX_EXPECT];
	int n_expect;
	struct probe_key keys[PROBE_MAX_KEYS];
	int n_keys;
	struct { int x, y, mask; } pointer[PROBE_MAX_POINTER];
	int n_pointer;
	bool count_changes;
	const char *png_path;
	double timeout;
	bool verbose;
	/* results */
	double t_start, t_connected, t_first_update, t_receive_start, t_last_update;
	double max_gap;           /* longest wait between two updates */
	long updates, rects, resizes, changed_updates;
	uint64_t last_hash;
	bool have_hash;
	bool keys_sent;
	double t_keys_sent;
};

static struct probe P = { .encodings = "raw", .quality = -1, .bpp = 32, .timeout = 10.0 };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

static void __attribute__((noreturn)) usage(const char *why)
{
	fprintf(stderr, "vncprobe: %s (see the comment at the top of tools/vncprobe.c)\n", why);
	exit(EXIT_USAGE);
}

static uint32_t parse_u32(const char *text, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || *end || end == text || v > UINT32_MAX)
		usage(what);
	return (uint32_t)v;
}

static void parse_target(const char *text)
{
	const char *colon;
	size_t len;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			usage("target must be HOST:PORT or [IPV6]:PORT");
		len = (size_t)(close - text - 1);
		if (len == 0 || len >= sizeof(P.host))
			usage("bad host");
		memcpy(P.host, text + 1, len);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			usage("target must be HOST:PORT or [IPV6]:PORT");
		len = (size_t)(colon - text);
		if (len == 0 || len >= sizeof(P.host))
			usage("bad host");
		memcpy(P.host, text, len);
	}
	P.host[len] = '\0';
	P.port = (int)parse_u32(colon + 1, "bad port");
	if (P.port <= 0 || P.port > 65535)
		usage("bad port");
}

static void parse_args(int argc, char **argv)
{
	bool have_target = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define NEED_VALUE() do { if (!v) usage("option needs a value"); i++; } while (0)
		if (!strcmp(a, "--encodings")) {
			NEED_VALUE();
			P.encodings = v;
		} else if (!strcmp(a, "--quality")) {
			NEED_VALUE();
			P.quality = (int)parse_u32(v, "bad --quality");
			if (P.quality > 9)
				usage("--quality must be 0..9");
		} else if (!strcmp(a, "--bpp")) {
			NEED_VALUE();
			P.bpp = (int)parse_u32(v, "bad --bpp");
			if (P.bpp != 8 && P.bpp != 16 && P.bpp != 32)
				usage("--bpp must be 8, 16 or 32");
		} else if (!strcmp(a, "--updates")) {
			NEED_VALUE();
			P.updates_wanted = (long)parse_u32(v, "bad --updates");
		} else if (!strcmp(a, "--seconds")) {
			NEED_VALUE();
			P.seconds = atof(v);
			if (P.seconds <= 0)
				usage("bad --seconds");
		} else if (!strcmp(a, "--wait-size")) {
			NEED_VALUE();
			if (sscanf(v, "%dx%d", &P.want_w, &P.want_h) != 2 || P.want_w <= 0 ||
			    P.want_h <= 0)
				usage("--wait-size must be WxH");
		} else if (!strcmp(a, "--expect")) {
			struct probe_expect *e;
			unsigned int rgb;
			NEED_VALUE();
			if (P.n_expect == PROBE_MAX_EXPECT)
				usage("too many --expect");
			e = &P.expect[P.n_expect++];
			if (sscanf(v, "%d,%d,%x", &e->x, &e->y, &rgb) != 3 || e->x < 0 || e->y < 0)
				usage("--expect must be X,Y,RRGGBB");
			e->rgb = rgb & 0xFFFFFF;
		} else if (!strcmp(a, "--key") || !strcmp(a, "--ext-key")) {
			struct probe_key *k;
			NEED_VALUE();
			if (P.n_keys == PROBE_MAX_KEYS)
				usage("too many keys");
			k = &P.keys[P.n_keys++];
			k->press = k->release = true;
			if (v[0] == '+' || v[0] == '-') {
				k->press = v[0] == '+';
				k->release = v[0] == '-';
				v++;
			}
			if (!strcmp(a, "--key")) {
				k->keysym = parse_u32(v, "bad --key");
			} else {
				char sym[32];
				const char *comma = strchr(v, ',');
				if (!comma || (size_t)(comma - v) >= sizeof(sym))
					usage("--ext-key must be KEYSYM,QNUM");
				memcpy(sym, v, (size_t)(comma - v));
				sym[comma - v] = '\0';
				k->keysym = parse_u32(sym, "bad --ext-key keysym");
				k->qnum = parse_u32(comma + 1, "bad --ext-key qnum");
				if (k->qnum == 0)
					usage("--ext-key qnum must not be 0");
			}
		} else if (!strcmp(a, "--pointer")) {
			NEED_VALUE();
			if (P.n_pointer == PROBE_MAX_POINTER)
				usage("too many --pointer");
			if (sscanf(v, "%d,%d,%d", &P.pointer[P.n_pointer].x, &P.pointer[P.n_pointer].y,
				   &P.pointer[P.n_pointer].mask) != 3)
				usage("--pointer must be X,Y,MASK");
			P.n_pointer++;
		} else if (!strcmp(a, "--count-changes")) {
			P.count_changes = true;
		} else if (!strcmp(a, "--png")) {
			NEED_VALUE();
			P.png_path = v;
		} else if (!strcmp(a, "--timeout")) {
			NEED_VALUE();
			P.timeout = atof(v);
			if (P.timeout <= 0)
				usage("bad --timeout");
		} else if (!strcmp(a, "--verbose")) {
			P.verbose = true;
		} else if (a[0] == '-') {
			usage("unknown option");
		} else if (!have_target) {
			parse_target(a);
			have_target = true;
		} else {
			usage("one target only");
		}
#undef NEED_VALUE
	}
	if (!have_target)
		usage("no HOST:PORT given");
	if (P.bpp != 32 && (P.n_expect || P.png_path || P.count_changes))
		usage("--expect, --png and --count-changes need --bpp 32");
}

static uint32_t pixel_at(rfbClient *cl, int x, int y)
{
	uint32_t px;

	memcpy(&px, cl->frameBuffer + ((size_t)y * (size_t)cl->width + (size_t)x) * 4, 4);
	return px & 0xFFFFFF;
}

static bool expectations_hold(rfbClient *cl)
{
	bool all = true;

	for (int i = 0; i < P.n_expect; i++) {
		struct probe_expect *e = &P.expect[i];
		if (e->x >= cl->width || e->y >= cl->height) {
			e->ok = false;
			e->got = 0xFFFFFFFF;
		} else {
			e->got = pixel_at(cl, e->x, e->y);
			e->ok = e->got == e->rgb;
		}
		all &= e->ok;
	}
	return all;
}

/* FNV-1a over the picture: cheap enough at a few MB per update. */
static uint64_t picture_hash(rfbClient *cl)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n = (size_t)cl->width * (size_t)cl->height;
	const uint32_t *p = (const uint32_t *)cl->frameBuffer;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i] & 0xFFFFFF;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void on_update_rect(rfbClient *cl, int x, int y, int w, int h)
{
	(void)cl; (void)x; (void)y; (void)w; (void)h;
	P.rects++;
}

static void on_update_done(rfbClient *cl)
{
	double t = now_s();

	if (!P.updates++)
		P.t_first_update = t;
	else if (t - P.t_last_update > P.max_gap)
		P.max_gap = t - P.t_last_update;
	P.t_last_update = t;
	if (P.count_changes) {
		uint64_t h = picture_hash(cl);
		if (P.have_hash && h != P.last_hash)
			P.changed_updates++;
		P.last_hash = h;
		P.have_hash = true;
	}
}

static rfbBool on_resize(rfbClient *cl)
{
	size_t bytes = (size_t)cl->width * (size_t)cl->height * 4;   /* enough for any --bpp */
	uint8_t *fb = calloc(1, bytes ? bytes : 4);

	if (!fb)
		return FALSE;
	if (cl->frameBuffer)
		P.resizes++;
	free(cl->frameBuffer);
	cl->frameBuffer = fb;
	printf("desktop_size=%dx%d\n", cl->width, cl->height);
	fflush(stdout);
	return TRUE;
}

static rfbClient *probe_connect(void)
{
	for (;;) {
		rfbClient *cl = P.bpp == 32 ? rfbGetClient(8, 3, 4) : P.bpp == 16 ?
				rfbGetClient(5, 3, 2) : rfbGetClient(2, 3, 1);

		if (!cl) {
			fprintf(stderr, "vncprobe: out of memory\n");
			exit(EXIT_CONNECT);
		}
		if (P.bpp == 32) {
			cl->format.bitsPerPixel = 32;
			cl->format.depth = 24;
			cl->format.bigEndian = FALSE;
			cl->format.trueColour = TRUE;
			cl->format.redMax = cl->format.greenMax = cl->format.blueMax = 255;
			cl->format.redShift = 16;
			cl->format.greenShift = 8;
			cl->format.blueShift = 0;
		}
		cl->appData.encodingsString = P.encodings;
		cl->appData.enableJPEG = P.quality >= 0;
		if (P.quality >= 0)
			cl->appData.qualityLevel = P.quality;
		cl->appData.useRemoteCursor = FALSE;
		cl->canHandleNewFBSize = TRUE;
		cl->MallocFrameBuffer = on_resize;
		cl->GotFrameBufferUpdate = on_update_rect;
		cl->FinishedFrameBufferUpdate = on_update_done;
		cl->serverHost = strdup(P.host);
		cl->serverPort = P.port;
		cl->connectTimeout = 2;
		if (rfbInitClient(cl, NULL, NULL))
			return cl;   /* on failure rfbInitClient freed cl */
		if (now_s() - P.t_start > P.timeout) {
			fprintf(stderr, "vncprobe: cannot connect to %s:%d within %.1f s\n", P.host,
				P.port, P.timeout);
			exit(EXIT_CONNECT);
		}
		usleep(PROBE_RETRY_MS * 1000);
	}
}

static void send_keys(rfbClient *cl)
{
	for (int i = 0; i < P.n_keys; i++) {
		const struct probe_key *k = &P.keys[i];
		rfbBool ok;

		if (k->qnum) {
			ok = (!k->press || SendExtendedKeyEvent(cl, k->keysym, k->qnum, TRUE)) &&
			     (!k->release || SendExtendedKeyEvent(cl, k->keysym, k->qnum, FALSE));
			printf("ext_key 0x%x,0x%x %s\n", k->keysym, k->qnum, ok ? "sent" : "unsupported");
		} else {
			ok = (!k->press || SendKeyEvent(cl, k->keysym, TRUE)) &&
			     (!k->release || SendKeyEvent(cl, k->keysym, FALSE));
			printf("key 0x%x %s\n", k->keysym, ok ? "sent" : "failed");
		}
		if (!ok) {
			fflush(stdout);
			exit(EXIT_GOAL);
		}
	}
	for (int i = 0; i < P.n_pointer; i++) {
		if (!SendPointerEvent(cl, P.pointer[i].x, P.pointer[i].y, P.pointer[i].mask)) {
			printf("pointer failed\n");
			exit(EXIT_GOAL);
		}
		printf("pointer %d,%d,%d sent\n", P.pointer[i].x, P.pointer[i].y, P.pointer[i].mask);
	}
	P.keys_sent = true;
	P.t_keys_sent = now_s();
}

static uint64_t socket_bytes_received(rfbClient *cl)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (getsockopt(cl->sock, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return 0;
	return info.tcpi_bytes_received;
}

static int save_png(rfbClient *cl, const char *path)
{
	FILE *f = fopen(path, "wb");
	png_structp png;
	png_infop info;
	uint8_t *row;

	if (!f)
		return -1;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	row = malloc((size_t)cl->width * 3);
	if (!png || !info || !row || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		fclose(f);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)cl->width, (png_uint_32)cl->height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < cl->height; y++) {
		for (int x = 0; x < cl->width; x++) {
			uint32_t px = pixel_at(cl, x, y);
			row[x * 3] = (uint8_t)(px >> 16);
			row[x * 3 + 1] = (uint8_t)(px >> 8);
			row[x * 3 + 2] = (uint8_t)px;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	return fclose(f);
}

/* After sending input, keep reading a while: closing a socket with unread
 * data makes the kernel send a reset, and the server may lose the events
 * still queued on its side. */
#define PROBE_LINGER_S 0.3

static bool goals_met(rfbClient *cl, double now)
{
	if ((P.n_keys || P.n_pointer) && (!P.keys_sent || now - P.t_keys_sent < PROBE_LINGER_S))
		return false;
	if (P.updates < 1 || P.updates < P.updates_wanted)
		return false;
	if (P.want_w && (cl->width != P.want_w || cl->height != P.want_h))
		return false;
	if (P.n_expect && !expectations_hold(cl))
		return false;
	if (P.seconds > 0 && now - P.t_receive_start < P.seconds)
		return false;
	return true;
}

int main(int argc, char **argv)
{
	rfbClient *cl;
	bool met = false, lost = false;
	double end, t;
	uint64_t bytes;
	int status;

	parse_args(argc, argv);
	if (!P.verbose) {
		rfbClientLog = quiet_log;
		rfbClientErr = quiet_log;
	}
	P.t_start = now_s();
	cl = probe_connect();
	P.t_connected = now_s();
	P.t_receive_start = P.t_connected;
	end = P.t_start + P.timeout + P.seconds;

	while ((t = now_s()) < end) {
		/* libvncclient reads ahead: a message already in its buffer does not
		 * make the socket readable, so WaitForMessage would sit on it. */
		int n = cl->buffered ? 1 : WaitForMessage(cl, PROBE_WAIT_USEC);

		if (n < 0) {
			lost = true;
			break;
		}
		if (n > 0 && !HandleRFBServerMessage(cl)) {
			lost = true;
			break;
		}
		if (P.updates > 0 && !P.keys_sent && (P.n_keys || P.n_pointer))
			send_keys(cl);
		if (goals_met(cl, now_s())) {
			met = true;
			break;
		}
	}
	t = now_s();
	/* A stall still going on at the end counts too. */
	if (P.updates && t - P.t_last_update > P.max_gap)
		P.max_gap = t - P.t_last_update;
	bytes = socket_bytes_received(cl);
	if (P.n_expect)
		expectations_hold(cl);

	printf("connect_ms=%.0f\n", (P.t_connected - P.t_start) * 1000);
	printf("first_update_ms=%.0f\n", P.updates ? (P.t_first_update - P.t_start) * 1000 : -1.0);
	printf("width=%d\nheight=%d\nresizes=%ld\n", cl->width, cl->height, P.resizes);
	printf("updates=%ld\nrects=%ld\nbytes=%llu\n", P.updates, P.rects,
	       (unsigned long long)bytes);
	printf("seconds=%.3f\n", t - P.t_receive_start);
	printf("max_gap_ms=%.0f\n", P.max_gap * 1000);
	printf("updates_per_s=%.1f\n", P.updates / (t - P.t_receive_start));
	printf("mbytes_per_s=%.2f\n", (double)bytes / 1e6 / (t - P.t_receive_start));
	if (P.count_changes)
		printf("changed_updates=%ld\n", P.changed_updates);
	for (int i = 0; i < P.n_expect; i++) {
		const struct probe_expect *e = &P.expect[i];
		printf("expect %d,%d want=%06X got=%06X %s\n", e->x, e->y, e->rgb,
		       e->got == 0xFFFFFFFF ? 0 : e->got, e->ok ? "ok" : "FAIL");
	}
	if (P.png_path && P.updates && save_png(cl, P.png_path) < 0) {
		fprintf(stderr, "vncprobe: cannot write %s\n", P.png_path);
		met = false;
	}
	if (lost)
		printf("result=lost\n");
	else
		printf("result=%s\n", met ? "pass" : "timeout");
	status = lost ? EXIT_LOST : met ? EXIT_PASS : EXIT_GOAL;
	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	rfbClientCleanup(cl);
	return status;
}
