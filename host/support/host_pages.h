/*
 * The heap's page seam on Linux: a range of address space reserved with no access, made
 * read/write when the heap maps pages and given back to the OS (MADV_DONTNEED, no access) when it
 * unmaps them.  So a heap bug that touches a page it does not hold faults at once, and memory the
 * heap gives back really leaves the process.  Used by the host tests and libferrite_malloc.so.
 */
#ifndef FERRITE_HOST_HOST_PAGES_H
#define FERRITE_HOST_HOST_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/heap_region.h"

struct host_pages {
	uintptr_t base;
	size_t size;
	size_t mapped;       /* bytes mapped now */
	size_t budget;       /* bytes that may be mapped at once; SIZE_MAX for no limit */
	size_t map_calls;
	size_t unmap_calls;
};

/* Reserves `size` bytes of address space (page-aligned).  False if the OS refuses. */
bool host_pages_reserve(struct host_pages *hp, size_t size);
void host_pages_release(struct host_pages *hp);

/* The seam for a heap region over the reserved range. */
struct heap_pages host_pages_seam(struct host_pages *hp);

#endif
