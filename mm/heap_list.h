/* The list heap design (see mm/heap.h).  Placeholder until the design lands. */
#ifndef FERRITE_MM_HEAP_LIST_H
#define FERRITE_MM_HEAP_LIST_H

#include <stddef.h>
#include <stdint.h>

struct list_heap {
	uintptr_t todo;
};

extern const struct heap_ops list_heap_ops;

#endif
