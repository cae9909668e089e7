/*
 * hello: the smallest guest. Prints two lines on COM1 and exits through the
 * test-exit port with GUEST_EXIT_PASS (VMM exit status 1):
 *
 *     hello from fbvm guest
 *     cmdline: "<command line>"
 *
 * The output depends only on the command line, so host tests can compare it
 * byte for byte (lines end in "\n").
 */
#include "runtime/guest.h"

int main(void)
{
	serial_printf("hello from fbvm guest\n");
	serial_printf("cmdline: \"%s\"\n", cmdline_text());
	return GUEST_EXIT_PASS;
}
