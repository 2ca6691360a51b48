#include "kernel/kmain.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_features.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"
#include "kernel/crash.h"
#include "kernel/ktest.h"
#include "kernel/memory.h"
#include "kernel/monitor.h"
#include "kernel/options.h"
#include "kernel/report.h"

const struct boot_info *boot_info;

void kmain(const struct boot_info *bi)
{
	uint64_t kmain_tsc = rdtsc();

	boot_info = bi;
	gdt_init();
	idt_init();
	cpu_enable_protections();
	options_parse(bi->cmdline);
	memory_init(bi, options.paging);

	if (options.crash)
		crash_run(options.crash, options.crash_len);
	if (options.ktest)
		ktest_main(options.ktest, options.ktest_len);
	report_boot(bi, kmain_tsc);
	monitor_run();
}
