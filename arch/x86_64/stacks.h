/*
 * Kernel stacks.  Each sits right above a guard page that the boot path leaves unmapped, so
 * running off the bottom faults.  The double-fault handler has its own stack (IST1), so it can
 * still run, and report, when the kernel stack is gone.
 */
#ifndef FERRITE_ARCH_STACKS_H
#define FERRITE_ARCH_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot_defs.h"

struct guarded_stack {
	uint8_t guard[STACK_GUARD_SIZE];
	uint8_t stack[KERNEL_STACK_SIZE];
};

struct guarded_ist_stack {
	uint8_t guard[STACK_GUARD_SIZE];
	uint8_t stack[IST_STACK_SIZE];
};

extern struct guarded_stack kernel_stack;
extern struct guarded_ist_stack double_fault_stack;

/* Virtual addresses of every guard page, for the boot path to unmap and the tests to check. */
extern const uint64_t kernel_guard_pages[];
extern const size_t kernel_guard_page_count;

/* The name of the stack whose guard page contains `addr`, or NULL. */
const char *stack_guard_owner(uint64_t addr);

#endif
