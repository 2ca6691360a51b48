/* The bump heap design (see mm/heap.h).  Placeholder until the design lands. */
#ifndef FERRITE_MM_HEAP_BUMP_H
#define FERRITE_MM_HEAP_BUMP_H

#include <stddef.h>
#include <stdint.h>

struct bump_heap {
	uintptr_t todo;
};

extern const struct heap_ops bump_heap_ops;

#endif
