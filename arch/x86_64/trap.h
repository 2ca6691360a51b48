/* CPU exceptions: the IDT, the saved register frame, and what each exception reports. */
#ifndef FERRITE_ARCH_TRAP_H
#define FERRITE_ARCH_TRAP_H

#include <stdint.h>

enum {
	VEC_DIVIDE = 0, VEC_DEBUG, VEC_NMI, VEC_BREAKPOINT, VEC_OVERFLOW, VEC_BOUND, VEC_INVALID_OPCODE,
	VEC_DEVICE_NA, VEC_DOUBLE_FAULT, VEC_COPROC_OVERRUN, VEC_INVALID_TSS, VEC_SEGMENT_NP,
	VEC_STACK_FAULT, VEC_GP, VEC_PAGE_FAULT, VEC_RESERVED15, VEC_X87, VEC_ALIGNMENT, VEC_MACHINE_CHECK,
	VEC_SIMD, VEC_VIRTUALIZATION, VEC_CONTROL_PROTECTION,
	VEC_EXCEPTION_COUNT = 32,
};

/* Page-fault error code bits. */
#define PF_PRESENT  (1u << 0)
#define PF_WRITE    (1u << 1)
#define PF_USER     (1u << 2)
#define PF_RESERVED (1u << 3)
#define PF_FETCH    (1u << 4)

/* Registers as isr.S saves them, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

void idt_init(void);

/* Called by isr.S for every exception. */
void trap_dispatch(struct trap_frame *frame);

#endif
