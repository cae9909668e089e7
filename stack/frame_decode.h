/*
 * The x86-64 prologue decoder: how much stack a function's machine code
 * reserves before its first call. The fault report (fault_report.c) uses it
 * to say which frame did not fit; it reads only the bytes it is given and
 * is usable on any code buffer, e.g. in tests.
 *
 * Promise: async-signal-safe (no allocation, no locks, no stdio, no errno),
 * reads code[0..len) only, writes desc[0..desc_len) only, always
 * NUL-terminates desc when desc_len > 0.
 */
#ifndef FBVM_STACK_FRAME_DECODE_H
#define FBVM_STACK_FRAME_DECODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The stack a function's prologue reserves, decoded from its x86-64 machine
 * code as gcc and clang emit it: `sub $N,%rsp` (or `add $-N,%rsp`),
 * unrolled stack-clash probes, and probe loops bounded by
 * `lea -N(%rsp),%r11` (or `mov %rsp,%r11; sub $N,%r11`). Decoding stops at
 * the first call, return, unconditional jump, release of the frame or
 * unknown instruction. Returns the bytes reserved (0: none found) and writes
 * what was decoded to desc (truncated to desc_len), e.g.
 * "probe loop lea -0x300000(%rsp),%r11; sub $0x18,%rsp". Async-signal-safe.
 */
size_t frame_decode(const uint8_t *code, size_t len, char *desc, size_t desc_len);

#endif
