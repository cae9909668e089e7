/*
 * stops: ends the VM in the way its command line names, to test how fbvm
 * reports each kind of stop. It runs entirely in 32-bit ring 0 straight from
 * the PVH entry (no runtime: the runtime's ring-3 world cannot execute cli).
 *   reset    write RST_CPU to port 0xCF9            -> fbvm exit status 4
 *   kbdreset i8042 command 0xFE (pulse reset line)  -> 4
 *   triple   #UD with an empty IDT: a triple fault  -> 6
 *   halt     cli; hlt: nothing can ever wake it     -> 8
 *   anything else: test-exit 0x10                   -> 33
 * The first word of the command line selects; the rest is ignored.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define START_INFO_MAGIC 0x336ec578
#define START_INFO_CMDLINE 24   /* offset of cmdline_paddr in hvm_start_info */

	.section .note.stops, "a"
	.balign 4
	.long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long stops_entry

	.text
	.code32
	.globl stops_entry
stops_entry:
	cli
	mov $stack_top, %esp    /* PVH provides no stack */
	cmpl $START_INFO_MAGIC, (%ebx)
	jne exit_default
	mov START_INFO_CMDLINE(%ebx), %esi
	lea word_reset, %edi
	call word_is
	je do_reset
	lea word_kbdreset, %edi
	call word_is
	je do_kbdreset
	lea word_triple, %edi
	call word_is
	je do_triple
	lea word_halt, %edi
	call word_is
	je do_halt
exit_default:
	mov $0x10, %al
	mov $0x501, %dx
	out %al, %dx
	jmp do_halt

do_reset:
	mov $0x06, %al
	mov $0xcf9, %dx
	out %al, %dx
	jmp do_halt

do_kbdreset:
	mov $0xfe, %al
	out %al, $0x64
	jmp do_halt

do_triple:
	lidt empty_idt
	ud2

do_halt:
	cli
	hlt
	jmp do_halt

/* ZF set when the command line at %esi starts with the NUL-terminated word at
 * %edi followed by a NUL or a space. Clobbers %eax, %ecx; keeps %esi. */
word_is:
	push %esi
1:	movb (%edi), %al
	test %al, %al
	jz 2f
	cmpb (%esi), %al
	jne 3f
	inc %esi
	inc %edi
	jmp 1b
2:	movb (%esi), %al
	test %al, %al
	jz 4f
	cmp $' ', %al
	jmp 4f
3:	or $1, %eax       /* clears ZF (eax is non-zero after or 1) */
4:	pop %esi
	ret

	.section .rodata
word_reset:	.asciz "reset"
word_kbdreset:	.asciz "kbdreset"
word_triple:	.asciz "triple"
word_halt:	.asciz "halt"
	.balign 8
empty_idt:
	.word 0
	.long 0

	.section .data
	.balign 16
	.skip 256
stack_top:
