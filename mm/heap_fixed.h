/* The fixed heap design (see mm/heap.h).  Placeholder until the design lands. */
#ifndef FERRITE_MM_HEAP_FIXED_H
#define FERRITE_MM_HEAP_FIXED_H

#include <stddef.h>
#include <stdint.h>

struct fixed_heap {
	uintptr_t todo;
};

extern const struct heap_ops fixed_heap_ops;

#endif
