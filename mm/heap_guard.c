#include "mm/heap_guard.h"

enum heap_status heap_report(struct heap *h, enum heap_status status, uintptr_t addr, size_t size_class,
                             const char *what)
{
	struct heap_error e = { status, addr, size_class, what };

	if (h->cfg.report)
		h->cfg.report(h->cfg.report_ctx, &e);
	return status;
}

size_t heap_find_mismatch(const void *p, size_t n, uint8_t expected)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != expected)
			return i;
	return n;
}
