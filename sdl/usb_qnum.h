/*
 * USB HID keyboard usage -> QEMU qnum, generated into sdl/usb_qnum.c by
 * tools/gen_keymap.py (table usb-qnum) from qemu's keycodemapdb
 * (tools/keymaps/keymaps.csv, its "USB Keycodes" column). SDL_Scancode
 * values below 256 are these usages (SDL_scancode.h: "based on the USB usage
 * page standard"), so a key maps by its position on the keyboard, whatever
 * layout the host uses.
 */
#ifndef FBVM_SDL_USB_QNUM_H
#define FBVM_SDL_USB_QNUM_H

#include <stdint.h>

/* Usages of the keyboard page are bytes. SDL's own codes from 257 up (media
 * keys) are not USB usages and have no entry. */
#define USB_QNUM_COUNT 256

/* qnum per usage: the XT make code, 0x80 | code for E0-prefixed keys; 0 for
 * a usage keycodemapdb gives no PC key. */
extern const uint8_t sdl_usb_to_qnum[USB_QNUM_COUNT];

#endif
