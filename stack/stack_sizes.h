/*
 * Every thread's stack size, stated once, with the reason beside it; see
 * README.md "Threads and stacks". thread_start() maps each stack with a
 * PROT_NONE guard of STACK_GUARD_BYTES below it, so exceeding a size here is
 * reported as "fatal: stack overflow in thread 'NAME' (stack N KiB)" instead
 * of a bare SIGSEGV. Tune from measurement: `fbvm run --stats` prints each
 * thread's high-water mark.
 *
 * glibc carves its thread descriptor and static TLS (a few KiB) from the top
 * of a stack it is handed, so the usable depth is slightly less than stated;
 * the high-water mark includes it.
 */
#ifndef FBVM_STACK_SIZES_H
#define FBVM_STACK_SIZES_H

#include <stdint.h>

#include "hypervisor/memmap.h"

/* vcpuN: the KVM_RUN loop and the device handlers it calls on each exit. All
 * fbvm frames are capped at 8 KiB (-Wframe-larger-than=8192); the deepest
 * exit path is a few of them plus libc, so 256 KiB leaves a wide margin. */
#define STACK_VCPU_BYTES   ((size_t)KiB(256))

/* vnc: libvncserver's event loop for all clients, refresh and encoders.
 * Measured with `fbvm run --stats` (painted high-water mark) serving
 * guests/ramfb-demo mode=anim to tools/vncprobe in every encoding the Debian
 * libvncserver 0.9.14 offers (raw, copyrect, rre, corre, hextile, zlib,
 * zrle, zywrle, ultra, ultrazip, tight with and without JPEG at quality 0-9)
 * at 32, 16 and 8 bpp, plus Extended Key Events, resizes, hostile clients:
 * 22.7 KiB at most (12.5 KiB for zrle alone), glibc's descriptor and TLS
 * included. The static worst path through rfbProcessEvents is >= 28 KB.
 * 512 KiB is a wide margin over both (zlib/jpeg state lives on the heap). */
#define STACK_VNC_BYTES    ((size_t)KiB(512))

/* vnc-io: vnc/io.c's epoll loop, which accepts VNC connections and moves
 * client bytes between sockets and libvncserver's socketpairs. It calls no
 * library but libc (its deepest path is a rate-limited log line, printf);
 * its own frames are small (the epoll batch, 768 bytes, is the largest).
 * `make check-stack` bounds it statically; 256 KiB: the console thread's
 * reasoning (a few small frames plus libc) with the same wide margin. */
#define STACK_VNC_IO_BYTES ((size_t)KiB(256))

/* console (--sdl only): the serial console, signals and the halt watchdog
 * (hypervisor/main.c's loop, which is the main thread's without --sdl),
 * moved off the main thread because SDL's event wait holds it; it also
 * wakes the window with SDL_PushEvent (SDL's queue, then Xlib's
 * XSendEvent/XFlush on a second display connection). Its deepest path is a
 * log line (libc's printf): `make check-stack` bounds the thread at 70 KiB
 * with signal frames and lazy binding; `fbvm run --sdl --stats` measured
 * 6.7-7.6 KiB. 256 KiB: the vCPU's reasoning (a few small frames of ours
 * plus libc and one library) with the same wide margin. */
#define STACK_CONSOLE_BYTES ((size_t)KiB(256))

/* control (--control only): the control socket's clients, JSON (json-c),
 * screendump's PNG encoding (libpng + zlib's deflate, whose state is on the
 * heap) and key pacing. A few small frames of ours over those libraries:
 * the vCPU's reasoning and size; `make check-stack` bounds the thread's
 * worst path and fails above half of it. */
#define STACK_CONTROL_BYTES ((size_t)KiB(256))

/* PROT_NONE region below every stack we map. It must be larger than the
 * largest single frame of any library we call: a frame that skips over the
 * guard lands in whatever is mapped below. glibc adds no guard to a stack it
 * is handed (pthread_attr_setstack), so this is the only one. With
 * -fstack-clash-protection our own frames probe page by page and cannot skip
 * it; 64 KiB covers libraries built without it. Costs address space only. */
#define STACK_GUARD_BYTES  ((size_t)KiB(64))

/* Per-thread alternate signal stack for the SIGSEGV/SIGBUS handler, which
 * must run after the thread's own stack is exhausted. The kernel's signal
 * frame alone takes up to ~11 KiB with AVX-512/AMX state (glibc's
 * sysconf(_SC_MINSIGSTKSZ)); the handler's frame is ~1 KiB, grows several
 * times under AddressSanitizer, and then calls abort(). 64 KiB is never
 * fragile; thread_start() also checks it against sysconf(_SC_SIGSTKSZ). It is
 * mapped but only touched when a signal arrives, so it costs no memory. */
#define STACK_SIGALT_BYTES ((size_t)KiB(64))

/* The top STACK_PAINT_BYTES of each stack are painted before the thread
 * starts; the high-water mark is the lowest word no longer holding the
 * pattern, exact to 8 bytes. Painting commits the pages, so the rest of the
 * stack is left untouched (address space only, zero RSS) and its usage is read
 * at page granularity from which pages are resident (mincore). 64 KiB covers
 * every thread's measured use (vnc 23-27 KB, an idle thread ~2 KiB), so the
 * mark is exact in practice and each thread costs 64 KiB of RSS, not its
 * full stack (a fully painted 512 KiB vnc stack would cost 512 KiB). */
#define STACK_PAINT_BYTES  ((size_t)KiB(64))

/* Repeated byte, so the mark reads the same at any alignment; as a pointer it
 * is non-canonical on x86-64, so a painted word used by mistake faults at
 * once; and it is an unlikely value for real data. */
#define STACK_PAINT_PATTERN 0xFBFBFBFBFBFBFBFBull

#endif
