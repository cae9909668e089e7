/*
 * The VNC network side: keeps libvncserver away from untrusted sockets.
 *
 * libvncserver runs every client on one loop and blocks on a client's
 * socket in several places (the 100 ms WebSocket peek in rfbNewClient, which
 * a client can also turn into an endless spin; the rest of a message it has
 * started; an update a client does not read). So fbvm accepts connections
 * itself, on its own thread "vnc-io" (epoll, non-blocking sockets, O(1) per
 * accept), and gives libvncserver one end of a socketpair per client, fed
 * only with complete messages:
 *
 *  - WebSocket clients (their own port, vnc/websocket.h) first get their
 *    HTTP upgrade answered; from then on everything below happens on the
 *    RFB stream inside their binary frames.
 *  - Hello: the I/O thread sends the server's ProtocolVersion at once and
 *    waits (at most VNC_MAX_CLIENT_WAIT_MS) for the client's 12 bytes. A
 *    client that is not RFB, or is over VNC_MAX_CLIENTS, is told why in RFB
 *    terms where it can be and closed, with a log line.
 *  - Handoff: a socketpair; the client's version is written into it first,
 *    so libvncserver's WebSocket peek finds "RFB " at once; the other end
 *    goes to the vnc thread (vnc_io_take, woken by vnc_io_handoff_fd),
 *    which alone calls libvncserver (rfbNewClient). libvncserver's own
 *    ProtocolVersion (the client has it already) is dropped from its output.
 *  - Client to server: bytes are buffered until a whole message is there
 *    (vnc/gate.h), then written into the pair. A message left incomplete for
 *    VNC_MAX_CLIENT_WAIT_MS, an unknown message type, or one longer than
 *    VNC_GATE_MAX_BYTES closes that client, with a log line.
 *  - Server to client: everything libvncserver writes is drained from the
 *    pair at once into a per-client queue, sent on as the client reads. A
 *    client whose queue passes VNC_IO_QUEUE_MAX_BYTES (it does not read its
 *    updates) is closed, with a log line. libvncserver's writes therefore
 *    never wait for a client.
 *
 * Threads: vnc_io_create and vnc_io_start/stop/destroy on the thread that
 * owns the server; vnc_io_take and vnc_io_handoff_fd on the vnc thread;
 * everything else happens on "vnc-io".
 */
#ifndef FBVM_VNC_IO_H
#define FBVM_VNC_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnc_io;

/* Connections that have not sent their ProtocolVersion yet. When another
 * arrives, the oldest is closed: a flood of silent connections cannot keep
 * a real viewer (which answers within a round trip) from getting in. */
#define VNC_IO_MAX_HELLO 64

/* Updates queued for a client that does not read them. Two full raw frames
 * of a 1920x1080 screen (8.3 MB each) with room to spare; each client also
 * has the kernel's socket buffer. Over this the client is closed. */
#define VNC_IO_QUEUE_MAX_BYTES (24u << 20)

/* Asked for both ends of each socketpair (the kernel caps it at
 * net.core.wmem_max/rmem_max, 208 KiB by default): libvncserver writes a
 * whole update into it, and the I/O thread drains it as it fills. */
#define VNC_IO_PAIR_BUFFER_BYTES (4u << 20)

/* "[" + IPv6 address + "]:" + port + NUL. */
#define VNC_IO_ADDR_BYTES 56

struct vnc_io_stats {
	uint64_t accepted;          /* TCP connections accepted */
	uint64_t handed_off;        /* RFB clients given to libvncserver */
	uint64_t refused_full;      /* over VNC_MAX_CLIENTS */
	uint64_t dropped_hello;     /* no or a wrong ProtocolVersion in time */
	uint64_t dropped_message;   /* a message refused or left incomplete */
	uint64_t dropped_slow;      /* did not read its updates */
};

/*
 * Opens a listening TCP socket on a numeric host:port (IPv6: IPv6-only),
 * non-blocking. Returns the fd or a negative errno (-EADDRINUSE ...).
 */
int vnc_io_listen(int family, const char *host, uint16_t port);

/* Creates the I/O side for listen_fd and ws_listen_fd (WebSocket clients;
 * -1: none), which it then owns, also on failure. auth: the server asks
 * for VNC authentication (RFB 3.3 clients then send a response without
 * choosing a type). 0 or a negative errno. */
int vnc_io_create(struct vnc_io **out, int listen_fd, int ws_listen_fd, bool auth);

/* Changes what vnc_io_create's auth said; before vnc_io_start only. */
void vnc_io_set_auth(struct vnc_io *io, bool auth);

/* Starts "vnc-io". 0 or a negative errno. */
int vnc_io_start(struct vnc_io *io);

/* Stops and joins "vnc-io", closing every client connection. Idempotent. */
void vnc_io_stop(struct vnc_io *io);

/* Stops if needed, closes what is left (also pairs never taken), frees. */
void vnc_io_destroy(struct vnc_io *io);

/* Readable (an eventfd) while clients wait in vnc_io_take. */
int vnc_io_handoff_fd(const struct vnc_io *io);

/* The next client for libvncserver: its end of the pair (the caller owns
 * it) and the client's address. False when none waits. */
bool vnc_io_take(struct vnc_io *io, int *fd, char *addr, size_t addr_len);

/* A snapshot of the counters (racy while running). */
void vnc_io_get_stats(const struct vnc_io *io, struct vnc_io_stats *out);

#endif
