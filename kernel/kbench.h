/*
 * In-kernel benchmarks (kbench on the command line): the cost of the memory model's operations
 * on the real machine, counted with the time-stamp counter.  Under QEMU with -icount shift=0 the
 * TSC advances one tick per guest instruction, so the figures are guest instructions per
 * operation: deterministic, and comparable with callgrind's counts on the host.  make bench boots
 * this and reads the "kbench:" lines.
 */
#ifndef FERRITE_KERNEL_KBENCH_H
#define FERRITE_KERNEL_KBENCH_H

#include <stdint.h>

_Noreturn void kbench_main(uint64_t boot_ticks);

#endif
