/*
 * Faults and heap misuse on purpose, chosen with crash=KIND, so the tests can check that each is
 * reported as designed: crash=null (read through NULL), write-text (write to kernel code),
 * exec-data (jump into a non-executable page), stack-overflow (recurse into the guard page),
 * double-free, invalid-free, and with heap.debug=1 redzone and use-after-free.  The faults end in
 * a panic; the heap misuse is reported and the kernel then stops with a failure.
 */
#ifndef FERRITE_KERNEL_CRASH_H
#define FERRITE_KERNEL_CRASH_H

#include <stddef.h>

_Noreturn void crash_run(const char *kind, size_t len);

#endif
