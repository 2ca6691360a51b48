/* A non-local jump, for ending an in-kernel test from inside a failed assertion. */
#ifndef FERRITE_ARCH_JUMP_H
#define FERRITE_ARCH_JUMP_H

#include <stdint.h>

struct jump_point {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

/* Saves the caller's context; returns 0, or 1 when jump_back() returns here. */
int jump_save(struct jump_point *p) __attribute__((returns_twice));

/* Resumes at the jump_save() that filled `p`, which then returns 1. */
_Noreturn void jump_back(struct jump_point *p);

#endif
