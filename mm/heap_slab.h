/* The slab heap design (see mm/heap.h).  Placeholder until the design lands. */
#ifndef FERRITE_MM_HEAP_SLAB_H
#define FERRITE_MM_HEAP_SLAB_H

#include <stddef.h>
#include <stdint.h>

struct slab_heap {
	uintptr_t todo;
};

extern const struct heap_ops slab_heap_ops;

#endif
