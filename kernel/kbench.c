#include "kernel/kbench.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "kernel/kheap.h"
#include "kernel/memory.h"
#include "kernel/options.h"
#include "mm/layout.h"

#define ROUNDS 20000

/* One line per measurement: "kbench: NAME TICKS_PER_OP ticks/op over N ops". */
static void print_result(const char *name, uint64_t ticks, uint64_t ops)
{
	kprintf("kbench: %s %lu.%02lu ticks/op over %lu ops\n", name, ticks / ops, ticks % ops * 100 / ops, ops);
}

/* Ticks of `ROUNDS` calls of fn(), minus the loop itself (an empty round). */
static uint64_t measure(void (*fn)(void))
{
	uint64_t start = rdtsc();

	for (unsigned i = 0; i < ROUNDS; i++)
		fn();
	return rdtsc() - start;
}

static void nothing(void)
{
	__asm__ volatile("" ::: "memory");
}

static void kmalloc_kfree_64(void)
{
	void *volatile p = kmalloc(64);

	kfree(p);
}

static void frame_alloc_free(void)
{
	uint64_t pa;

	frame_alloc(&kernel_frames, 0, FRAME_UNINIT, &pa);
	frame_free(&kernel_frames, pa, 0);
}

static void frame_alloc_zeroed_free(void)
{
	uint64_t pa;

	frame_alloc(&kernel_frames, 0, 0, &pa);
	frame_free(&kernel_frames, pa, 0);
}

static uint64_t bench_frame;

static void map_unmap_4k(void)
{
	paging_map(&kernel_space, SCRATCH_BASE, bench_frame, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC);
	paging_unmap(&kernel_space, SCRATCH_BASE, NULL, NULL);
}

static void translate_direct_map(void)
{
	volatile struct translation t = paging_translate(&kernel_space, PHYS_OFFSET + 0x123456);

	(void)t;
}

static const struct {
	const char *name;
	void (*fn)(void);
} benchmarks[] = {
	{ "kmalloc+kfree(64)", kmalloc_kfree_64 },
	{ "frame_alloc+free", frame_alloc_free },
	{ "frame_alloc(zeroed)+free", frame_alloc_zeroed_free },
	{ "map+unmap_4k", map_unmap_4k },
	{ "translate", translate_direct_map },
};

void kbench_main(uint64_t boot_ticks)
{
	uint64_t loop = measure(nothing);

	kprintf("kbench: heap=%s paging=%s\n", heap_design_names[options.heap], pt_technique_names[options.paging]);
	print_result("boot_to_kmain", boot_ticks, 1);
	/* The mapping's page table stays between rounds: measure the steady state, not table churn. */
	frame_alloc(&kernel_frames, 0, 0, &bench_frame);
	paging_map(&kernel_space, SCRATCH_BASE + PAGE_SIZE, bench_frame, PAGE_SIZE, PAGE_NOEXEC);
	for (size_t i = 0; i < sizeof(benchmarks) / sizeof(benchmarks[0]); i++) {
		benchmarks[i].fn();   /* warm up: first-use paths out of the way */
		uint64_t ticks = measure(benchmarks[i].fn);
		print_result(benchmarks[i].name, ticks > loop ? ticks - loop : 0, ROUNDS);
	}
	kprintf("kbench: done\n");
	machine_exit(MACHINE_EXIT_SUCCESS);
}
