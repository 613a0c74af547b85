/* Multiboot v1 entry: QEMU's -kernel loads us in 32-bit protected mode, flat
 * segments, paging off; %ebx holds the multiboot info pointer. */
	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002            /* magic */
	.long 0x00000003            /* flags: page-align modules, want memory map */
	.long -(0x1BADB002 + 0x3)   /* checksum */

	.text
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call guest_main
1:	hlt
	jmp 1b

	.bss
	.align 16
	.space 65536
stack_top:

	.section .note.GNU-stack, "", @progbits
