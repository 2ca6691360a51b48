/* Ending the machine: under QEMU through the isa-debug-exit device, elsewhere by halting. */
#ifndef FERRITE_ARCH_MACHINE_H
#define FERRITE_ARCH_MACHINE_H

/*
 * Values for isa-debug-exit (iobase 0xf4).  QEMU exits with status (value << 1) | 1, so the run
 * scripts see 33, 35 and 37; a plain 0 from QEMU means the guest never reported (triple fault).
 */
enum machine_exit {
	MACHINE_EXIT_SUCCESS = 0x10,  /* QEMU status 33 */
	MACHINE_EXIT_FAILURE = 0x11,  /* 35: tests failed, or a clean refusal to boot */
	MACHINE_EXIT_PANIC   = 0x12,  /* 37: panic */
};

/* Asks QEMU to exit with `code`, then halts forever (on hardware the port write does nothing). */
_Noreturn void machine_exit(enum machine_exit code);

#endif
