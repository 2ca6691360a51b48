#include "kernel/crash.h"

#include <stdint.h>

#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "lib/compiler.h"
#include "lib/mem.h"

static void read_null(void)
{
	volatile uint64_t *null = NULL;

	kprintf("crash: reading through NULL\n");
	(void)*null;
}

static void write_text(void)
{
	volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)write_text;

	kprintf("crash: writing to kernel code at %p\n", (void *)code);
	*code = 0xcc;
}

static void exec_data(void)
{
	static uint8_t not_code[16] = { 0xc3 };   /* `ret`, in a non-executable data page */
	void (*fn)(void) = (void (*)(void))(uintptr_t)not_code;

	kprintf("crash: calling into data at %p\n", (void *)not_code);
	fn();
}

/* Never reached; it only keeps the compiler from calling the recursion infinite. */
static volatile unsigned recursion_limit = UINT32_MAX;

/* Each frame keeps a page of stack, so the guard page is reached in a few dozen calls; the
 * volatile array and the use after the call keep the compiler from turning this into a loop. */
static unsigned recurse(unsigned depth)
{
	volatile uint8_t frame[4096];

	if (depth == recursion_limit)
		return 0;
	frame[0] = (uint8_t)depth;
	return recurse(depth + 1) + frame[0];
}

static void stack_overflow(void)
{
	kprintf("crash: recursing until the kernel stack overflows\n");
	kprintf("crash: depth %u\n", recurse(0));
}

static const struct {
	const char *name;
	void (*run)(void);
} crashes[] = {
	{ "null", read_null },
	{ "write-text", write_text },
	{ "exec-data", exec_data },
	{ "stack-overflow", stack_overflow },
};

void crash_run(const char *kind, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(crashes); i++) {
		if (strlen(crashes[i].name) == len && memcmp(crashes[i].name, kind, len) == 0) {
			crashes[i].run();
			kprintf("crash: %s did not fault\n", crashes[i].name);
			machine_exit(MACHINE_EXIT_FAILURE);
		}
	}
	kprintf("ferrite: cannot boot: unknown crash=%.*s (expected null, write-text, exec-data or stack-overflow)\n",
	        (int)len, kind);
	machine_exit(MACHINE_EXIT_FAILURE);
}
