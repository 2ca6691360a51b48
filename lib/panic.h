/*
 * panic(): for broken invariants only.  Anything a caller, the bootloader or the monitor can get
 * wrong is an error value instead.  The kernel prints file:line and the message and halts (or ends
 * QEMU under test); the host build prints them and aborts.
 */
#ifndef FERRITE_LIB_PANIC_H
#define FERRITE_LIB_PANIC_H

#include "lib/compiler.h"

_Noreturn void panic_at(const char *file, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#endif
