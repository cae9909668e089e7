/*
 * QEMU qnum -> PS/2 scan code set 2, generated into keymap_qnum_set2.c by
 * tools/gen_keymap.py from qemu's keycodemapdb (tools/keymaps/keymaps.csv).
 */
#ifndef FBVM_KEYMAP_QNUM_SET2_H
#define FBVM_KEYMAP_QNUM_SET2_H

#include <stdint.h>

/* qnums are bytes: the XT make code, 0x80 | code for E0-prefixed keys. */
#define KEYMAP_QNUM_COUNT 256

/* Set-2 make code per qnum: 0x00XX for one byte, 0xE0XX for an E0-prefixed
 * key, 0 when keycodemapdb gives the key no set-2 code. Print Screen (0x54)
 * and Pause (0xC6) have multi-byte sequences the keyboard model builds itself. */
extern const uint16_t keymap_qnum_to_set2[KEYMAP_QNUM_COUNT];

#endif
