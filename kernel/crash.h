/*
 * Faults on purpose, chosen with crash=KIND, so the tests can check that each is reported as
 * designed: crash=null (read through NULL), write-text (write to kernel code), exec-data
 * (jump into a non-executable page), stack-overflow (recurse into the guard page).
 */
#ifndef FERRITE_KERNEL_CRASH_H
#define FERRITE_KERNEL_CRASH_H

#include <stddef.h>

_Noreturn void crash_run(const char *kind, size_t len);

#endif
