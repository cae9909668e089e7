/*
 * What the control socket's send-key and type turn into: a list of key
 * events (qnum, press or release) each followed by a pause, which the
 * control thread plays into the input sink (devices/input.h) at that pace.
 *
 * Pacing: a guest reads the keyboard one byte per interrupt, and the PS/2
 * keyboard queues at most PS2_QUEUE_BYTES (minus a reserve kept for
 * releases); a program can hand us thousands of characters at once. Each
 * typed character is a press and a release CONTROL_KEY_GAP_MS apart, one
 * character every 2 * CONTROL_KEY_GAP_MS, so at most about one scan code
 * byte per millisecond reaches the queue (two for a Shift combination,
 * which presses Shift and the key together): 100 characters take 200 ms,
 * and a guest that takes its interrupt within a millisecond never sees the
 * queue grow. A slower guest (kbd-demo prints a serial line per byte) is
 * waited for: while more than CONTROL_KEY_BACKLOG_BYTES are unread
 * (input_ops.key_backlog), the next press is held.
 */
#ifndef FBVM_CONTROL_KEYS_H
#define FBVM_CONTROL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTROL_KEY_GAP_MS 1
/* Unread scan code bytes above which presses wait: a few keys' worth, far
 * below the PS/2 queue's 256 bytes and its 32-byte reserve for releases. */
#define CONTROL_KEY_BACKLOG_BYTES 16

/* QMP's send-key default hold time, and our upper bound (a key held longer
 * would start the guest's autorepeat; QMP has no limit, 10 s is plenty). */
#define CONTROL_HOLD_DEFAULT_MS 100
#define CONTROL_HOLD_MAX_MS     10000

/* At most this many keys in one send-key (QMP takes any number; a chord of
 * more than a few keys is not one a keyboard can make). */
#define CONTROL_SEND_KEY_MAX 16

/* Longest text one `type` takes: 64 KiB lines bound it anyway; at 2 ms a
 * character this is 8 s of typing. */
#define CONTROL_TYPE_MAX_CHARS 4096

struct key_event {
	uint16_t qnum;
	bool down;
	uint32_t pause_ms;   /* before the next event */
};

/* qnum of a QKeyCode name ("ctrl", "alt", "delete", "a", "ret"), 0 if unknown. */
uint16_t control_qcode_qnum(const char *name);

/* qnum | ASCII_QNUM_SHIFT of a character on a US keyboard, 0 if it has none. */
uint16_t control_char_qnum(unsigned char c);

/*
 * The events of send-key: press each key in order, CONTROL_KEY_GAP_MS apart,
 * hold the last hold_ms, release in reverse order. out must have room for
 * 2 * n events. Returns the count.
 */
size_t control_keys_chord(const uint16_t *qnums, size_t n, uint32_t hold_ms,
			  struct key_event *out);

/*
 * The events of `type` for text[0..len): -EINVAL with *bad set to the first
 * character no US key types (then nothing is produced). out must have room
 * for control_keys_text_max(len) events. Returns the count.
 */
#define control_keys_text_max(len) ((len) * 4)
long control_keys_text(const char *text, size_t len, struct key_event *out, unsigned char *bad);

#endif
