/*
 * vncprobe: a scriptable VNC client (libvncclient) for fbvm's integration
 * tests and `make bench`. Connects (retrying until the timeout), receives
 * updates, checks pixels, sends keys, saves a PNG, and prints what happened as
 * key=value lines on stdout.
 *
 * Over 800 lines on purpose: one client that the tests drive through its
 * options; splitting it would spread one connection's state over files.
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
 *     --retry-ms N       wait N ms between connection attempts (default 100)
 *     --t0 SECONDS       a CLOCK_REALTIME instant (bash's $EPOCHREALTIME,
 *                        Python's time.time()) taken just before the server
 *                        was started: connect_ms, first_update_ms,
 *                        first_picture_ms and met_ms are then measured from
 *                        it instead of from the probe's own start (time
 *                        from start to first frame)
 *     --latency N        key-to-photon latency: after the first picture (and
 *                        once every --expect holds), N times: send one key
 *                        event (press and release alternate), time until an
 *                        update arrives after which the picture differs
 *                        from the picture at the moment of sending, then
 *                        pause; every event is one sample
 *     --latency-key KEYSYM  the key for --latency (default 0x61, 'a')
 *     --latency-pause MS pause after each sample, plus a pseudo-random
 *                        0..MS/2 (fixed seed) so the events do not lock to
 *                        the server's refresh phase (default 60)
 *     --latency-timeout S  a sample that sees no change within S seconds is
 *                        counted as missed (default 2)
 *     --reconnect        when the server drops the connection before the
 *                        goals are met, connect again (within --timeout)
 *                        and start over; reconnects= says how often. (QEMU
 *                        sends its Extended Key Event ack with the new
 *                        size before the DesktopSize of a resize that
 *                        happens while a client connects; libvncclient
 *                        then drops the connection: "Rect too large".)
 *     --password-file F  answer VNC authentication with the password on F's
 *                        first line (plain text, as fbvm's --vnc-password-file;
 *                        libvncclient uses its first 8 characters); without
 *                        it a server that asks for a password fails with 5
 *     --verbose          libvncclient's own log on stderr
 *
 * Besides counts and rates the output has max_gap_ms, the longest time
 * between two updates (or since the last one, at the end): how long the
 * server stalled this client; met_ms, when every goal was met (-1: never);
 * first_picture_ms, when the first update that carried pixels ended (the
 * first update may be pseudo-rectangles only, e.g. QEMU's Extended Key
 * Event ack; -1: none);
 * and steady_seconds, steady_updates, steady_bytes, steady_pixels: the
 * time, updates, bytes received and rectangle pixels after the end of the
 * first update that carried pixels (the whole screen), counting only
 * updates with pixels (not e.g. an Extended Key Event ack): per-update
 * sizes and rates without the connection and the first full screen.
 * --latency adds latency_samples, latency_missed, latency_min_ms,
 * latency_p50_ms, latency_p90_ms, latency_p99_ms, latency_max_ms,
 * latency_mean_ms (nearest-rank percentiles) and latency_ms, every sample
 * in order.
 *
 * Exit status: 0 every goal met, 1 a goal not met in time (the output says
 * which), 2 usage, 3 could not connect, 4 connection lost, 5 the server
 * asked for a password and the connection failed after it (wrong password,
 * or none given): not retried, a retry would be another failed guess.
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
#include <stddef.h>
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
#define PROBE_MAX_LATENCY 10000
#define PROBE_LATENCY_KEY 0x61      /* 'a' */
#define PROBE_LATENCY_PAUSE_MS 60

enum { EXIT_PASS = 0, EXIT_GOAL = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_LOST = 4,
       EXIT_AUTH = 5 };

/* --password-file: bytes of the first line kept (libvncclient uses 8). */
#define PROBE_PASSWORD_BYTES 256

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
	int retry_ms;
	double t0;                /* CLOCK_MONOTONIC origin of the *_ms times */
	int latency_n;            /* --latency: samples wanted (0: off) */
	uint32_t latency_key;
	int latency_pause_ms;
	double latency_timeout;
	bool reconnect;
	int reconnects;           /* connections lost and made again (--reconnect) */
	bool verbose;
	const char *password_file;
	bool password_asked;      /* the server asked for VNC authentication */
	/* results (from t_start on; --reconnect clears all but t_start) */
	double t_start, t_connected, t_first_update, t_receive_start, t_last_update;
	double max_gap;           /* longest wait between two updates */
	long updates, rects, resizes, changed_updates;
	uint64_t last_hash;
	bool have_hash;
	bool keys_sent;
	double t_keys_sent;
	double t_met;
	/* "Picture" updates carry pixels: a server may also send updates with
	 * pseudo-rectangles only (the Extended Key Event ack) */
	uint64_t update_pixels;   /* pixels of the update being received */
	uint64_t consumed;        /* bytes libvncclient had read at the last rect */
	bool in_update;           /* a rect of the current update was seen */
	double t_first_picture;   /* end of the first picture update (0: none yet) */
	uint64_t bytes_first;     /* received by then */
	long steady_updates;      /* picture updates after the first one */
	uint64_t steady_pixels;   /* and their pixels */
	/* --latency */
	bool lat_waiting;         /* an event was sent, its change not yet seen */
	bool lat_key_down;        /* the latency key is held */
	uint64_t lat_baseline;    /* picture hash when the event was sent */
	double lat_t_sent, lat_next;
	int lat_events, lat_missed, lat_n;
	double *lat_ms;
	uint32_t lat_rand;
};

static struct probe P = { .encodings = "raw", .quality = -1, .bpp = 32, .timeout = 10.0,
			  .retry_ms = PROBE_RETRY_MS, .latency_key = PROBE_LATENCY_KEY,
			  .latency_pause_ms = PROBE_LATENCY_PAUSE_MS, .latency_timeout = 2.0,
			  .lat_rand = 12345 };

static void __attribute__((noreturn)) usage(const char *why);

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* --t0 takes "SECONDS.FRACTION"; bash prints $EPOCHREALTIME with the
 * locale's decimal separator. Returns the instant on CLOCK_MONOTONIC. */
static double parse_t0(const char *text)
{
	char buf[64], *end, *comma;
	double real;

	if (strlen(text) >= sizeof(buf))
		usage("bad --t0");
	strcpy(buf, text);
	comma = strchr(buf, ',');
	if (comma)
		*comma = '.';
	errno = 0;
	real = strtod(buf, &end);
	if (errno || *end || end == buf || real <= 0)
		usage("bad --t0 (want CLOCK_REALTIME seconds, e.g. $EPOCHREALTIME)");
	return real - (clock_s(CLOCK_REALTIME) - now_s());
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
		} else if (!strcmp(a, "--retry-ms")) {
			NEED_VALUE();
			P.retry_ms = (int)parse_u32(v, "bad --retry-ms");
			if (P.retry_ms < 1 || P.retry_ms > 10000)
				usage("--retry-ms must be 1..10000");
		} else if (!strcmp(a, "--t0")) {
			NEED_VALUE();
			P.t0 = parse_t0(v);
		} else if (!strcmp(a, "--latency")) {
			NEED_VALUE();
			P.latency_n = (int)parse_u32(v, "bad --latency");
			if (P.latency_n < 1 || P.latency_n > PROBE_MAX_LATENCY)
				usage("--latency must be 1..10000");
		} else if (!strcmp(a, "--latency-key")) {
			NEED_VALUE();
			P.latency_key = parse_u32(v, "bad --latency-key");
		} else if (!strcmp(a, "--latency-pause")) {
			NEED_VALUE();
			P.latency_pause_ms = (int)parse_u32(v, "bad --latency-pause");
			if (P.latency_pause_ms > 60000)
				usage("--latency-pause must be 0..60000");
		} else if (!strcmp(a, "--latency-timeout")) {
			NEED_VALUE();
			P.latency_timeout = atof(v);
			if (P.latency_timeout <= 0)
				usage("bad --latency-timeout");
		} else if (!strcmp(a, "--reconnect")) {
			P.reconnect = true;
		} else if (!strcmp(a, "--password-file")) {
			NEED_VALUE();
			P.password_file = v;
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
	if (P.bpp != 32 && (P.n_expect || P.png_path || P.count_changes || P.latency_n))
		usage("--expect, --png, --count-changes and --latency need --bpp 32");
	if (P.latency_n && (P.n_keys || P.n_pointer))
		usage("--latency sends its own keys: no --key, --ext-key or --pointer with it");
	if (P.reconnect && (P.latency_n || P.n_keys || P.n_pointer))
		usage("--reconnect cannot be combined with input (--latency, --key, --ext-key, --pointer)");
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

static uint64_t socket_bytes_received(rfbClient *cl);

static void on_update_rect(rfbClient *cl, int x, int y, int w, int h)
{
	uint64_t consumed = socket_bytes_received(cl) - (uint64_t)cl->buffered;
	/* Since the previous rect: a rect header (12 bytes), before the first
	 * rect of an update the update header (4), then the payload. Pseudo
	 * rects (the Extended Key Event ack, DesktopSize) have none, though
	 * libvncclient reports them here with the screen's size. */
	uint64_t overhead = P.in_update ? 12 : 16;

	(void)x; (void)y;
	P.rects++;
	if (w > 0 && h > 0 && consumed > P.consumed + overhead)
		P.update_pixels += (uint64_t)w * (uint64_t)h;
	P.consumed = consumed;
	P.in_update = true;
}

/* --latency: an update arrived at t while an event waits for its change. */
static void latency_update(rfbClient *cl, double t)
{
	if (!P.lat_waiting || picture_hash(cl) == P.lat_baseline)
		return;
	P.lat_ms[P.lat_n++] = (t - P.lat_t_sent) * 1000;
	P.lat_waiting = false;
	P.lat_rand = P.lat_rand * 1103515245u + 12345u;
	P.lat_next = t + (P.latency_pause_ms + (double)((P.lat_rand >> 8) %
			  (unsigned)(P.latency_pause_ms / 2 + 1))) / 1000;
}

static void on_update_done(rfbClient *cl)
{
	double t = now_s();

	P.in_update = false;
	if (!P.updates++)
		P.t_first_update = t;
	else if (t - P.t_last_update > P.max_gap)
		P.max_gap = t - P.t_last_update;
	P.t_last_update = t;
	if (P.update_pixels) {
		if (!P.t_first_picture) {
			P.t_first_picture = t;
			P.bytes_first = socket_bytes_received(cl);
		} else {
			P.steady_updates++;
			P.steady_pixels += P.update_pixels;
		}
		P.update_pixels = 0;
	}
	if (P.count_changes) {
		uint64_t h = picture_hash(cl);
		if (P.have_hash && h != P.last_hash)
			P.changed_updates++;
		P.last_hash = h;
		P.have_hash = true;
	}
	if (P.latency_n)
		latency_update(cl, t);
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

/* libvncclient's GetPassword: the first line of --password-file, malloc'd
 * (libvncclient frees it); NULL fails the handshake. Never the terminal. */
static char *on_password(rfbClient *cl)
{
	char *pw;
	FILE *f;

	(void)cl;
	P.password_asked = true;
	if (!P.password_file) {
		fprintf(stderr, "vncprobe: the server asks for a password; give --password-file\n");
		return NULL;
	}
	f = fopen(P.password_file, "re");
	pw = calloc(1, PROBE_PASSWORD_BYTES);
	if (!f || !pw || !fgets(pw, PROBE_PASSWORD_BYTES, f)) {
		fprintf(stderr, "vncprobe: cannot read --password-file %s\n", P.password_file);
		if (f)
			fclose(f);
		free(pw);
		return NULL;
	}
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	return pw;
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
		cl->GetPassword = on_password;
		P.password_asked = false;
		if (rfbInitClient(cl, NULL, NULL))
			return cl;   /* on failure rfbInitClient freed cl */
		if (P.password_asked) {
			fprintf(stderr, "vncprobe: VNC authentication with %s:%d failed\n", P.host,
				P.port);
			printf("auth=failed\n");
			exit(EXIT_AUTH);
		}
		if (now_s() - P.t_start > P.timeout) {
			fprintf(stderr, "vncprobe: cannot connect to %s:%d within %.1f s\n", P.host,
				P.port, P.timeout);
			exit(EXIT_CONNECT);
		}
		usleep((useconds_t)P.retry_ms * 1000);
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

/* --latency: sends the next event when it is due, gives up on one that saw
 * no change in time, releases the key when done. */
static void latency_step(rfbClient *cl, double now)
{
	bool down;

	if (P.lat_waiting) {
		if (now - P.lat_t_sent < P.latency_timeout)
			return;
		P.lat_missed++;
		P.lat_waiting = false;
		P.lat_next = now;
	}
	if (P.lat_n + P.lat_missed >= P.latency_n) {
		if (P.lat_key_down) {
			if (!SendKeyEvent(cl, P.latency_key, FALSE))
				return;
			P.lat_key_down = false;
		}
		if (!P.keys_sent) {
			P.keys_sent = true;
			P.t_keys_sent = now;
		}
		return;
	}
	if (now < P.lat_next)
		return;
	down = !P.lat_key_down;
	P.lat_baseline = picture_hash(cl);
	P.lat_t_sent = now_s();
	if (!SendKeyEvent(cl, P.latency_key, down ? TRUE : FALSE)) {
		printf("latency key 0x%x failed\n", P.latency_key);
		fflush(stdout);
		exit(EXIT_LOST);
	}
	P.lat_key_down = down;
	P.lat_waiting = true;
	P.lat_events++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least pct% of them at or below. */
static double percentile(const double *sorted, int n, double pct)
{
	int rank = (int)(pct / 100.0 * n + 0.999999);

	if (rank < 1)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

static void latency_report(void)
{
	double *sorted, sum = 0;

	printf("latency_samples=%d\nlatency_missed=%d\n", P.lat_n, P.lat_missed);
	if (!P.lat_n)
		return;
	sorted = malloc(sizeof(double) * (size_t)P.lat_n);
	if (!sorted)
		return;
	memcpy(sorted, P.lat_ms, sizeof(double) * (size_t)P.lat_n);
	qsort(sorted, (size_t)P.lat_n, sizeof(double), cmp_double);
	for (int i = 0; i < P.lat_n; i++)
		sum += sorted[i];
	printf("latency_min_ms=%.1f\nlatency_p50_ms=%.1f\nlatency_p90_ms=%.1f\n"
	       "latency_p99_ms=%.1f\nlatency_max_ms=%.1f\nlatency_mean_ms=%.1f\n", sorted[0],
	       percentile(sorted, P.lat_n, 50), percentile(sorted, P.lat_n, 90),
	       percentile(sorted, P.lat_n, 99), sorted[P.lat_n - 1], sum / P.lat_n);
	printf("latency_ms=");
	for (int i = 0; i < P.lat_n; i++)
		printf("%s%.1f", i ? "," : "", P.lat_ms[i]);
	printf("\n");
	free(sorted);
}

static bool goals_met(rfbClient *cl, double now)
{
	if ((P.n_keys || P.n_pointer || P.latency_n) &&
	    (!P.keys_sent || now - P.t_keys_sent < PROBE_LINGER_S))
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

	P.t_start = now_s();
	parse_args(argc, argv);
	if (!P.t0)
		P.t0 = P.t_start;
	if (P.latency_n) {
		P.lat_ms = calloc((size_t)P.latency_n, sizeof(double));
		if (!P.lat_ms) {
			fprintf(stderr, "vncprobe: out of memory\n");
			return EXIT_USAGE;
		}
	}
	if (!P.verbose) {
		rfbClientLog = quiet_log;
		rfbClientErr = quiet_log;
	}
	cl = probe_connect();
	P.t_connected = now_s();
	P.consumed = socket_bytes_received(cl) - (uint64_t)cl->buffered;
	P.t_receive_start = P.t_connected;
	end = P.t_start + P.timeout + P.seconds;
	if (P.latency_n) {
		int one = 1;

		/* A key event must not wait behind Nagle for an ACK of the last
		 * update request: viewers send input at once. */
		setsockopt(cl->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		end += P.latency_n * (P.latency_timeout + 1.5 * P.latency_pause_ms / 1000.0);
	}

	while ((t = now_s()) < end) {
		long wait_us = PROBE_WAIT_USEC;
		int n;

		/* Wake up in time for the next latency event. */
		if (P.latency_n && P.t_first_picture && !P.lat_waiting && (P.lat_events || !P.n_expect) &&
		    P.lat_n + P.lat_missed < P.latency_n) {
			double due = P.lat_next - t;
			if (due <= 0)
				wait_us = 0;
			else if (due * 1e6 < wait_us)
				wait_us = (long)(due * 1e6) + 1;
		}
		/* libvncclient reads ahead: a message already in its buffer does not
		 * make the socket readable, so WaitForMessage would sit on it. */
		n = cl->buffered ? 1 : WaitForMessage(cl, (unsigned int)wait_us);

		if (n < 0) {
			lost = true;
			break;
		}
		if (n > 0 && !HandleRFBServerMessage(cl)) {
			if (P.reconnect && now_s() < P.t_start + P.timeout) {
				double t_start = P.t_start;

				free(cl->frameBuffer);
				cl->frameBuffer = NULL;
				rfbClientCleanup(cl);
				memset(&P.t_start, 0, sizeof(P) - offsetof(struct probe, t_start));
				P.t_start = t_start;
				P.reconnects++;
				cl = probe_connect();
				P.t_connected = now_s();
				P.t_receive_start = P.t_connected;
				P.consumed = socket_bytes_received(cl) - (uint64_t)cl->buffered;
				continue;
			}
			lost = true;
			break;
		}
		if (P.updates > 0 && !P.keys_sent && (P.n_keys || P.n_pointer))
			send_keys(cl);
		if (P.latency_n && P.t_first_picture && (!P.n_expect || P.lat_events ||
							 expectations_hold(cl)))
			latency_step(cl, now_s());
		if (goals_met(cl, now_s())) {
			met = true;
			P.t_met = now_s();
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

	printf("connect_ms=%.0f\n", (P.t_connected - P.t0) * 1000);
	printf("first_update_ms=%.0f\n", P.updates ? (P.t_first_update - P.t0) * 1000 : -1.0);
	printf("first_picture_ms=%.1f\n",
	       P.t_first_picture ? (P.t_first_picture - P.t0) * 1000 : -1.0);
	printf("width=%d\nheight=%d\nresizes=%ld\n", cl->width, cl->height, P.resizes);
	printf("updates=%ld\nrects=%ld\nbytes=%llu\n", P.updates, P.rects,
	       (unsigned long long)bytes);
	printf("seconds=%.3f\n", t - P.t_receive_start);
	printf("max_gap_ms=%.0f\n", P.max_gap * 1000);
	printf("updates_per_s=%.1f\n", P.updates / (t - P.t_receive_start));
	printf("mbytes_per_s=%.2f\n", (double)bytes / 1e6 / (t - P.t_receive_start));
	if (P.count_changes)
		printf("changed_updates=%ld\n", P.changed_updates);
	printf("met_ms=%.1f\n", met ? (P.t_met - P.t0) * 1000 : -1.0);
	if (P.reconnect)
		printf("reconnects=%d\n", P.reconnects);
	printf("steady_seconds=%.3f\nsteady_updates=%ld\nsteady_bytes=%llu\nsteady_pixels=%llu\n",
	       P.t_first_picture ? t - P.t_first_picture : 0.0, P.steady_updates,
	       (unsigned long long)(P.t_first_picture && bytes > P.bytes_first ?
				    bytes - P.bytes_first : 0),
	       (unsigned long long)P.steady_pixels);
	if (P.latency_n) {
		latency_report();
		if (P.lat_missed)
			met = false;
	}
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
	free(P.lat_ms);
	return status;
}
