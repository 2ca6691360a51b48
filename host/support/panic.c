/* Host build of panic(): print where and why, then abort so a test harness sees the crash. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/panic.h"

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "panic at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
