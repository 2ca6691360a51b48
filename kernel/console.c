#include "kernel/console.h"

#include "arch/x86_64/serial.h"
#include "lib/format.h"
#include "lib/mem.h"

static void serial_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	serial_write(s, n);
}

void kvprintf(const char *fmt, va_list ap)
{
	format(serial_sink, NULL, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void kputs(const char *s)
{
	serial_write(s, strlen(s));
}
