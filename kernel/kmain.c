#include "kernel/kmain.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_features.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"
#include "kernel/crash.h"
#include "kernel/kbench.h"
#include "kernel/kheap.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/monitor.h"
#include "kernel/options.h"
#include "kernel/report.h"
#include "mm/layout.h"

const struct boot_info *boot_info;

/* Half the usable RAM, in whole pages, at most the heap region's size. */
static size_t default_heap_limit(const struct boot_info *bi)
{
	uint64_t half = align_down(memmap_total(&bi->memmap, MEM_USABLE) / 2, PAGE_SIZE);

	return half < HEAP_MAX_SIZE ? half : HEAP_MAX_SIZE;
}

void kmain(const struct boot_info *bi)
{
	uint64_t kmain_tsc = rdtsc();

	boot_info = bi;
	gdt_init();
	idt_init();
	cpu_enable_protections();
	options_parse(bi->cmdline);
	memory_init(bi, options.paging);
	kheap_init(options.heap, options.heap_debug, options.heap_max ? options.heap_max : default_heap_limit(bi));

	if (options.crash)
		crash_run(options.crash, options.crash_len);
	if (options.ktest)
		ktest_main(options.ktest, options.ktest_len);
	if (options.kbench)
		kbench_main(kmain_tsc - bi->entry_tsc);
	report_boot(bi, kmain_tsc);
	monitor_run();
}
