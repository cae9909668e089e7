/*
 * The serial console on a terminal: raw mode for stdin, restored on every way
 * out, and the Ctrl-A escape that lets the user quit without a signal.
 * Both follow QEMU's `-serial mon:stdio` (chardev/char-stdio.c, char-mux.c).
 */
#ifndef FBVM_TERMINAL_H
#define FBVM_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Puts the terminal on fd in raw mode as QEMU's stdio chardev with signal=off
 * does: no echo, no line editing, no signals (^C, ^Z, ^\ reach the guest), no
 * input translation, 8-bit bytes, read() returns as soon as one byte arrives;
 * output processing stays on so the guest's '\n' still prints as before.
 * The previous settings are restored by terminal_restore(), which enter_raw
 * also arranges to run at exit() and on SIGHUP, SIGINT, SIGQUIT, SIGTERM,
 * SIGPIPE and SIGABRT (each then kills fbvm as it would have), and the raw
 * settings are re-applied on SIGCONT. Handlers are only installed for signals
 * still at their default action, so a handler main.c set first wins and must
 * call terminal_restore() itself. fd's O_NONBLOCK flag is left alone: it is
 * shared with stdout when both name the same terminal.
 * Returns 0, -ENOTTY when fd is not a terminal, -EBUSY when already raw, or
 * another negative errno from tcgetattr/tcsetattr with the terminal untouched.
 */
int terminal_enter_raw(int fd);

/* Puts back the settings terminal_enter_raw saved; does nothing when not raw,
 * so any number of exit paths may call it. Async-signal-safe: the fatal-signal
 * and stack-overflow handlers call it. */
void terminal_restore(void);

/* Ctrl-A, as in QEMU. */
#define TERMINAL_ESCAPE_CHAR 0x01

struct terminal_escape {
	bool pending; /* Ctrl-A seen; the next byte is a command */
	int help_fd;  /* where Ctrl-A h writes its help; -1: nowhere */
};

void terminal_escape_init(struct terminal_escape *e, int help_fd);

/*
 * Filters bytes typed at the console, keeping state across calls:
 *   Ctrl-A x        quit: the rest of in is not for the guest
 *   Ctrl-A h or ?   writes the help to help_fd
 *   Ctrl-A Ctrl-A   one Ctrl-A for the guest
 *   Ctrl-A other    both bytes dropped (QEMU's mux ignores unknown commands)
 * Everything else, ^C included, is for the guest and is copied to out, which
 * may be in itself. Each input byte yields at most one output byte, so at most
 * out_cap input bytes are read: pass out_cap >= len to consume all of in.
 * Returns the number of bytes written to out; *quit says whether this call
 * saw Ctrl-A x.
 */
size_t terminal_escape_feed(struct terminal_escape *e, const uint8_t *in, size_t len,
			    uint8_t *out, size_t out_cap, bool *quit);

#endif
