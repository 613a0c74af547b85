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

/* rate=N only: every PIC interrupt is the RTC's (the rest are masked):
 * read register C (or the RTC raises no more) and end it on both PICs. */
	.globl irq_entry
irq_entry:
	pushl %eax
	movb $0x0c, %al
	outb %al, $0x70
	inb $0x71, %al
	movb $0x20, %al
	outb %al, $0xa0
	outb %al, $0x20
	popl %eax
	iret

/* A CPU exception is a bug in this program: say so and exit with status 7. */
	.globl fault_entry
fault_entry:
	movl $fault_msg, %esi
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, $0xe9
	jmp 1b
2:	movb $3, %al
	outb %al, $0xf4
3:	cli
	hlt
	jmp 3b

	.section .rodata
fault_msg:
	.asciz "vmtier-guest: error: CPU exception\n"

	.bss
	.align 16
	.space 65536
stack_top:

	.section .note.GNU-stack, "", @progbits
