/*
 * `fbvm ctl SOCKET COMMAND [ARGS]`: one control-socket command from a shell
 * (`fbvm --help` lists the commands). It connects, skips the greeting and
 * any events, sends the command as JSON with an id, and waits for the reply
 * with that id: the result goes to stdout (exit 0), an error's text to
 * stderr (exit 1); bad arguments exit 2, a socket that cannot be reached or
 * closes before the reply exits 3.
 */
#ifndef FBVM_CONTROL_CLIENT_H
#define FBVM_CONTROL_CLIENT_H

#include <stddef.h>

#define CTL_EXIT_OK       0
#define CTL_EXIT_ERROR    1   /* the command's error reply */
#define CTL_EXIT_USAGE    2
#define CTL_EXIT_CONNECT  3

/* argv[0] is the socket path, argv[1] the command. */
int ctl_main(int argc, char **argv);

/* `type`'s text with backslash escapes (\n \t \b \e \\ \xHH, HH 01..7f: JSON text is UTF-8) decoded into
 * out (at most strlen(in) bytes + 1, NUL-terminated; *out_len excludes the
 * NUL). -EINVAL on an unknown or incomplete escape. */
int ctl_unescape(const char *in, char *out, size_t *out_len);

#endif
