/*
 * What happens on a CPU exception: a probe's fault is fixed up and execution resumes; anything
 * else is a kernel bug, reported as one decoded line and a register dump, then panic.
 */
#include "arch/x86_64/trap.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/probe.h"
#include "arch/x86_64/stacks.h"
#include "kernel/console.h"
#include "lib/compiler.h"
#include "lib/panic.h"

static const char *const exception_names[VEC_EXCEPTION_COUNT] = {
	[VEC_DIVIDE] = "divide error",
	[VEC_DEBUG] = "debug",
	[VEC_NMI] = "non-maskable interrupt",
	[VEC_BREAKPOINT] = "breakpoint",
	[VEC_OVERFLOW] = "overflow",
	[VEC_BOUND] = "bound range exceeded",
	[VEC_INVALID_OPCODE] = "invalid opcode",
	[VEC_DEVICE_NA] = "device not available",
	[VEC_DOUBLE_FAULT] = "double fault",
	[VEC_COPROC_OVERRUN] = "coprocessor segment overrun",
	[VEC_INVALID_TSS] = "invalid TSS",
	[VEC_SEGMENT_NP] = "segment not present",
	[VEC_STACK_FAULT] = "stack-segment fault",
	[VEC_GP] = "general protection fault",
	[VEC_PAGE_FAULT] = "page fault",
	[VEC_X87] = "x87 floating-point error",
	[VEC_ALIGNMENT] = "alignment check",
	[VEC_MACHINE_CHECK] = "machine check",
	[VEC_SIMD] = "SIMD floating-point error",
	[VEC_VIRTUALIZATION] = "virtualization exception",
	[VEC_CONTROL_PROTECTION] = "control-protection exception",
};

static const char *exception_name(uint64_t vector)
{
	if (vector < VEC_EXCEPTION_COUNT && exception_names[vector])
		return exception_names[vector];
	return "reserved exception";
}

struct extable_entry {
	uint64_t insn;
	uint64_t fixup;
};

extern const struct extable_entry __extable_start[], __extable_end[];

static struct probe_fault last_probe_fault;

struct probe_fault probe_last_fault(void)
{
	return last_probe_fault;
}

/* A fault inside a probe resumes at the probe's fix-up. */
static bool fixup_probe(struct trap_frame *f)
{
	if (f->vector != VEC_PAGE_FAULT && f->vector != VEC_GP)
		return false;
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if (e->insn != f->rip)
			continue;
		last_probe_fault = (struct probe_fault){
			.vector = (unsigned)f->vector,
			.addr = f->vector == VEC_PAGE_FAULT ? read_cr2() : 0,
			.error = f->error,
		};
		f->rip = e->fixup;
		return true;
	}
	return false;
}

static void dump_registers(const struct trap_frame *f)
{
	kprintf("  rip %016lx  rsp %016lx  rflags %016lx  cs %lx  ss %lx\n", f->rip, f->rsp, f->rflags, f->cs, f->ss);
	kprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	kprintf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
	kprintf("  r13 %016lx  r14 %016lx  r15 %016lx  cr3 %016lx\n", f->r13, f->r14, f->r15, read_cr3());
}

/* Stack overflows reach here as a page fault on a guard page, or, when the CPU could not even
 * push the page fault's frame, as a double fault with CR2 still pointing into the guard page. */
static void check_stack_overflow(const struct trap_frame *f, uint64_t cr2)
{
	const char *owner = stack_guard_owner(cr2);

	if (owner) {
		dump_registers(f);
		panic("kernel stack overflow: the %s ran into its guard page at %p (RIP %p)",
		      owner, (void *)cr2, (void *)f->rip);
	}
}

static _Noreturn void page_fault(const struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	uint64_t e = f->error;

	check_stack_overflow(f, cr2);
	dump_registers(f);
	panic("page fault at RIP %p: %s %s of %p (%s%s), error 0x%lx",
	      (void *)f->rip,
	      e & PF_USER ? "user-mode" : "kernel-mode",
	      e & PF_FETCH ? "instruction fetch" : e & PF_WRITE ? "write" : "read",
	      (void *)cr2,
	      e & PF_PRESENT ? "protection violation" : "page not present",
	      e & PF_RESERVED ? ", reserved bit set" : "",
	      e);
}

static _Noreturn void double_fault(const struct trap_frame *f)
{
	check_stack_overflow(f, read_cr2());
	dump_registers(f);
	panic("double fault at RIP %p (CR2 %p)", (void *)f->rip, (void *)read_cr2());
}

void trap_dispatch(struct trap_frame *f)
{
	if (fixup_probe(f))
		return;
	if (f->vector == VEC_PAGE_FAULT)
		page_fault(f);
	if (f->vector == VEC_DOUBLE_FAULT)
		double_fault(f);
	dump_registers(f);
	panic("%s (vector %lu) at RIP %p, error 0x%lx", exception_name(f->vector), f->vector,
	      (void *)f->rip, f->error);
}
