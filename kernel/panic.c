#include <stdarg.h>
#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "lib/panic.h"

static bool panicking;

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	irq_save();
	if (panicking) {   /* a panic while printing a panic: stop before recursing again */
		kputs("\nPANIC (nested)\n");
		machine_exit(MACHINE_EXIT_PANIC);
	}
	panicking = true;
	kprintf("\nPANIC at %s:%d: ", file, line);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kputs("\n");
	machine_exit(MACHINE_EXIT_PANIC);
}
