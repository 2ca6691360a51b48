/*
 * 32-bit entry from a Multiboot2 loader, and the switch to long mode.
 *
 * GRUB enters here in 32-bit protected mode with paging off, EAX = Multiboot2 magic and
 * EBX = physical address of the boot information.  This code:
 *   1. checks that the CPU can run ferrite (long mode and NX) and otherwise prints why on COM1
 *      and halts;
 *   2. builds early page tables: the first 4 GiB identity-mapped (GRUB puts the boot information
 *      and modules below 4 GiB) and the first 1 GiB again at KERNEL_VMA, both with 2 MiB pages;
 *   3. turns on PAE, long mode, NX and write protection, and jumps to 64-bit code, which calls
 *      boot_main() in the higher half.
 * boot_main (boot/boot.c) builds the real page tables and drops this identity map.
 */
#include "boot/boot_defs.h"

#define COM1 0x3f8

	.section .boot.text, "ax"
	.code32
	.global boot_entry32
boot_entry32:
	cli
	cld
	mov $boot_stack32_top, %esp
	mov %eax, %edi                  /* magic, first argument of boot_main */
	mov %ebx, %esi                  /* boot information, second argument */

	call serial_init32
	call check_cpu32
	rdtsc
	mov %eax, boot_entry_tsc
	mov %edx, boot_entry_tsc + 4
	call build_early_tables32
	call enter_long_mode32
	ljmp $BOOT_CODE64_SELECTOR, $boot_entry64

/* COM1 at 115200 baud, 8N1, so a failure below can be reported. */
serial_init32:
	mov $COM1 + 1, %dx
	xor %al, %al
	out %al, %dx                    /* no interrupts */
	mov $COM1 + 3, %dx
	mov $0x80, %al
	out %al, %dx                    /* DLAB on */
	mov $COM1, %dx
	mov $1, %al
	out %al, %dx                    /* divisor 1: 115200 baud */
	mov $COM1 + 1, %dx
	xor %al, %al
	out %al, %dx
	mov $COM1 + 3, %dx
	mov $0x03, %al
	out %al, %dx                    /* 8N1, DLAB off */
	ret

/* Prints the NUL-terminated string at %esi on COM1, tells QEMU the boot failed (see
 * arch/x86_64/machine.h), then halts for good. */
fail32:
	mov $COM1 + 5, %dx
1:	in %dx, %al
	test $0x20, %al                 /* transmitter holding register empty? */
	jz 1b
	lodsb
	test %al, %al
	jz 2f
	mov $COM1, %dx
	out %al, %dx
	jmp fail32
2:	mov $QEMU_EXIT_FAILURE, %al
	out %al, $QEMU_DEBUG_EXIT_PORT
3:	cli
	hlt
	jmp 3b

check_cpu32:
	cmp $BOOT_MB2_MAGIC, %edi
	jne no_multiboot2
	/* CPUID exists if EFLAGS.ID (bit 21) can be toggled. */
	pushfl
	pop %eax
	mov %eax, %ecx
	xor $(1 << 21), %eax
	push %eax
	popfl
	pushfl
	pop %eax
	push %ecx
	popfl
	cmp %eax, %ecx
	je no_long_mode
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx           /* LM */
	jz no_long_mode
	test $(1 << 20), %edx           /* NX */
	jz no_nx
	ret

no_multiboot2:
	mov $msg_no_multiboot2, %esi
	jmp fail32
no_long_mode:
	mov $msg_no_long_mode, %esi
	jmp fail32
no_nx:
	mov $msg_no_nx, %esi
	jmp fail32

/* Identity map of [0, 4 GiB) and KERNEL_VMA -> [0, 1 GiB), 2 MiB pages. */
build_early_tables32:
	push %edi
	mov $early_tables_start, %edi
	mov $(early_tables_end - early_tables_start) / 4, %ecx
	xor %eax, %eax
	rep stosl
	pop %edi

	movl $early_pdpt_low + 3, early_pml4                   /* present | writable */
	movl $early_pdpt_high + 3, early_pml4 + 511 * 8
	movl $early_pd + 3, early_pdpt_high + 510 * 8          /* KERNEL_VMA is PDPT slot 510 */

	xor %ecx, %ecx                                         /* 4 PDPT entries, one per GiB */
1:	mov %ecx, %eax
	shl $12, %eax
	add $early_pd + 3, %eax
	mov %eax, early_pdpt_low(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jb 1b

	xor %ecx, %ecx                                         /* 2048 PD entries of 2 MiB */
2:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax                                         /* present | writable | huge */
	mov %eax, early_pd(, %ecx, 8)                          /* bits 63..32 stay 0: all below 4 GiB */
	inc %ecx
	cmp $2048, %ecx
	jb 2b
	ret

enter_long_mode32:
	mov %cr4, %eax
	or $CR4_PAE_BIT, %eax
	mov %eax, %cr4
	mov $early_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER_NUM, %ecx
	rdmsr
	or $(EFER_LME_BIT | EFER_NXE_BIT), %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG_BIT | CR0_WP_BIT), %eax
	mov %eax, %cr0
	lgdt early_gdt_pointer
	ret

	.code64
boot_entry64:
	mov $BOOT_DATA64_SELECTOR, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	movabs $kernel_stack + STACK_GUARD_SIZE + KERNEL_STACK_SIZE, %rsp
	xor %ebp, %ebp
	mov %edi, %edi                  /* zero-extend magic */
	mov %esi, %esi                  /* zero-extend boot information address */
	mov boot_entry_tsc, %rdx
	movabs $boot_main, %rax
	call *%rax                      /* boot_main does not return */
1:	cli
	hlt
	jmp 1b

	.section .boot.data, "aw"
	.balign 8
early_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 64-bit code */
	.quad 0x00cf92000000ffff        /* data */
early_gdt_end:
early_gdt_pointer:
	.short early_gdt_end - early_gdt - 1
	.long early_gdt
boot_entry_tsc:
	.quad 0

msg_no_multiboot2:
	.asciz "ferrite: cannot boot: not started by a Multiboot2 bootloader (wrong magic in EAX)\r\n"
msg_no_long_mode:
	.asciz "ferrite: cannot boot: this CPU has no long mode (x86_64 is required)\r\n"
msg_no_nx:
	.asciz "ferrite: cannot boot: this CPU has no NX (no-execute) bit, which ferrite requires\r\n"

	.section .boot.bss, "aw", @nobits
	.balign 4096
early_tables_start:
early_pml4:      .skip 4096
early_pdpt_low:  .skip 4096
early_pdpt_high: .skip 4096
early_pd:        .skip 4 * 4096
early_tables_end:
boot_stack32:    .skip 1024
boot_stack32_top:

	.section .note.GNU-stack, "", @progbits
