	.text
	.global jump_save
jump_save:                          /* %rdi = struct jump_point * */
	mov %rbx, 0(%rdi)
	mov %rbp, 8(%rdi)
	mov %r12, 16(%rdi)
	mov %r13, 24(%rdi)
	mov %r14, 32(%rdi)
	mov %r15, 40(%rdi)
	lea 8(%rsp), %rax               /* the caller's stack pointer after our return */
	mov %rax, 48(%rdi)
	mov (%rsp), %rax                /* our return address */
	mov %rax, 56(%rdi)
	xor %eax, %eax
	ret

	.global jump_back
jump_back:
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %rsp
	mov $1, %eax
	jmp *56(%rdi)

	.section .note.GNU-stack, "", @progbits
