#include "arch/x86_64/machine.h"

#include "arch/x86_64/cpu.h"
#include "boot/boot_defs.h"

_Static_assert(QEMU_EXIT_FAILURE == MACHINE_EXIT_FAILURE, "entry.S and the kernel disagree");

void machine_exit(enum machine_exit code)
{
	__asm__ volatile("cli");
	outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)code);
	for (;;)
		halt();
}
