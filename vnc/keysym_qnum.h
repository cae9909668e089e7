/*
 * X11 keysym -> QEMU qnum table for a US keyboard, generated into
 * vnc/keysym_qnum.c by tools/gen_keysym_map.py from qemu's keycodemapdb
 * (tools/keymaps/keymaps.csv). vnc_keysym_to_qnum() (vnc/input.h) searches it.
 */
#ifndef FBVM_VNC_KEYSYM_QNUM_H
#define FBVM_VNC_KEYSYM_QNUM_H

#include <stddef.h>
#include <stdint.h>

struct keysym_qnum {
	uint32_t keysym;
	uint16_t qnum;   /* XT make code; 0x80 | code for E0-prefixed keys */
};

/* Sorted by keysym, no duplicates. */
extern const struct keysym_qnum keysym_qnum_table[];
extern const size_t keysym_qnum_count;

#endif
