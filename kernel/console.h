/* The kernel console: formatted output to COM1. */
#ifndef FERRITE_KERNEL_CONSOLE_H
#define FERRITE_KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/compiler.h"

void kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void kvprintf(const char *fmt, va_list ap);
void kputs(const char *s);

#endif
