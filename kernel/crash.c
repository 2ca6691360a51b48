#include "kernel/crash.h"

#include <stdint.h>

#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "kernel/kheap.h"
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

/* Heap misuse is reported, not fatal: the line "heap: ..." is what the tests look for. */
static void *volatile heap_sink;

static void double_free(void)
{
	void *p = kmalloc(64), *keep = kmalloc(64);

	kprintf("crash: freeing %p twice\n", p);
	kfree(p);
	kfree(p);
	heap_sink = keep;
}

static void invalid_free(void)
{
	uint8_t *p = kmalloc(64);

	kprintf("crash: freeing %p, inside the object at %p\n", (void *)(p + 8), (void *)p);
	kfree(p + 8);
	heap_sink = p;
}

static void redzone_overflow(void)
{
	uint8_t *p = kmalloc(24);

	kprintf("crash: writing one byte past the 24-byte object at %p, then freeing it\n", (void *)p);
	p[24] = 1;
	kfree(p);
}

static void use_after_free(void)
{
	uint8_t *p = kmalloc(48), *keep = kmalloc(48);

	kprintf("crash: writing to the freed object at %p, then allocating again\n", (void *)p);
	kfree(p);
	p[16] = 1;
	heap_sink = kmalloc(48);
	heap_sink = keep;
}

static const struct {
	const char *name;
	void (*run)(void);
} crashes[] = {
	{ "null", read_null },
	{ "write-text", write_text },
	{ "exec-data", exec_data },
	{ "stack-overflow", stack_overflow },
	{ "double-free", double_free },
	{ "invalid-free", invalid_free },
	{ "redzone", redzone_overflow },
	{ "use-after-free", use_after_free },
};

void crash_run(const char *kind, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(crashes); i++) {
		if (strlen(crashes[i].name) == len && memcmp(crashes[i].name, kind, len) == 0) {
			crashes[i].run();
			kprintf("crash: %s did not stop the kernel\n", crashes[i].name);
			machine_exit(MACHINE_EXIT_FAILURE);
		}
	}
	kprintf("ferrite: cannot boot: unknown crash=%.*s (expected null, write-text, exec-data, stack-overflow, "
	        "double-free, invalid-free, redzone or use-after-free)\n", (int)len, kind);
	machine_exit(MACHINE_EXIT_FAILURE);
}
