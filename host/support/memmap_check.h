/*
 * An integrity check for normalized memory maps, for tests and fuzzers to run after every
 * operation.  It states the promises of mm/memmap.h as code.
 */
#ifndef FERRITE_HOST_MEMMAP_CHECK_H
#define FERRITE_HOST_MEMMAP_CHECK_H

#include <stddef.h>

#include "mm/memmap.h"

/*
 * NULL when `map` is normalized: at most MEMMAP_MAX ranges, each non-empty, of a valid kind and
 * below PHYS_ADDR_LIMIT; sorted and disjoint; no two touching ranges of one kind; usable ranges
 * page-aligned.  Otherwise what is wrong, with *index set to the range where it was found.
 */
const char *memmap_check_normalized(const struct memmap *map, size_t *index);

#endif
