#include "arch/x86_64/stacks.h"

#include "lib/compiler.h"

struct guarded_stack kernel_stack __attribute__((aligned(STACK_GUARD_SIZE)));
struct guarded_ist_stack double_fault_stack __attribute__((aligned(STACK_GUARD_SIZE)));

const uint64_t kernel_guard_pages[] = {
	(uint64_t)kernel_stack.guard,
	(uint64_t)double_fault_stack.guard,
};
const size_t kernel_guard_page_count = ARRAY_SIZE(kernel_guard_pages);

static const char *const guard_owner_names[] = { "kernel stack", "double-fault stack" };
_Static_assert(ARRAY_SIZE(guard_owner_names) == ARRAY_SIZE(kernel_guard_pages), "one name per guard page");

const char *stack_guard_owner(uint64_t addr)
{
	for (size_t i = 0; i < kernel_guard_page_count; i++)
		if (addr - kernel_guard_pages[i] < STACK_GUARD_SIZE)
			return guard_owner_names[i];
	return NULL;
}
