#define _DEFAULT_SOURCE
#include "host/support/host_pages.h"

#include <stddef.h>
#include <sys/mman.h>

bool host_pages_reserve(struct host_pages *hp, size_t size)
{
	void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	*hp = (struct host_pages){ .base = (uintptr_t)p, .size = size, .budget = SIZE_MAX };
	return true;
}

void host_pages_release(struct host_pages *hp)
{
	munmap((void *)hp->base, hp->size);
	hp->base = 0;
}

static bool host_map(void *ctx, uintptr_t addr, size_t len)
{
	struct host_pages *hp = ctx;

	if (addr < hp->base || addr + len > hp->base + hp->size || len > hp->budget - hp->mapped)
		return false;
	if (mprotect((void *)addr, len, PROT_READ | PROT_WRITE) != 0)
		return false;
	hp->mapped += len;
	hp->map_calls++;
	return true;
}

/* Pages given back read as zero when mapped again: MADV_DONTNEED drops them. */
static void host_unmap(void *ctx, uintptr_t addr, size_t len)
{
	struct host_pages *hp = ctx;

	madvise((void *)addr, len, MADV_DONTNEED);
	mprotect((void *)addr, len, PROT_NONE);
	hp->mapped -= len;
	hp->unmap_calls++;
}

struct heap_pages host_pages_seam(struct host_pages *hp)
{
	return (struct heap_pages){ host_map, host_unmap, hp };
}
