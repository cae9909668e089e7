/*
 * The drawing helpers (draw_fill_rect, draw_number) are ramfb-demo's: one
 * copy of the code that its pixel-exact QEMU test already checks. Built
 * into this guest from here; the quoted includes inside resolve to
 * guests/ramfb-demo/ (draw.h, font.h, pattern.h).
 */
#include "ramfb-demo/draw.c"
