/*
 * Probes: each access instruction is listed in .extable with the address to resume at if it
 * faults (see trap.c).  System V ABI: %rdi = address, %rsi = value or result pointer.
 */
	.text

.macro EXTABLE insn, fixup
	.pushsection .extable, "a"
	.balign 8
	.quad \insn, \fixup
	.popsection
.endm

	.global probe_read8
probe_read8:
1:	movb (%rdi), %al
	movb %al, (%rsi)
	mov $1, %eax
	ret
	EXTABLE 1b, probe_failed

	.global probe_write8
probe_write8:
1:	movb %sil, (%rdi)
	mov $1, %eax
	ret
	EXTABLE 1b, probe_failed

	.global probe_read64
probe_read64:
1:	movq (%rdi), %rax
	movq %rax, (%rsi)
	mov $1, %eax
	ret
	EXTABLE 1b, probe_failed

	.global probe_write64
probe_write64:
1:	movq %rsi, (%rdi)
	mov $1, %eax
	ret
	EXTABLE 1b, probe_failed

probe_failed:
	xor %eax, %eax
	ret

	.section .note.GNU-stack, "", @progbits
