/*
 * The bump heap design (see mm/heap.h and docs/heap.md): the tutorial's first allocator.  Objects
 * go one after the other at the top of the brk-style region; nothing is reused until every object
 * is freed, and then the whole region goes back at once.  Unlike the tutorial's, every free is
 * proved: each object sits behind a sealed record that says whether it is live or freed.
 */
#ifndef FERRITE_MM_HEAP_BUMP_H
#define FERRITE_MM_HEAP_BUMP_H

#include <stddef.h>
#include <stdint.h>

struct bump_heap {
	size_t objects;          /* live objects; when the last one is freed the heap starts over */
	size_t bytes_requested;
	size_t bytes_in_use;
};

extern const struct heap_ops bump_heap_ops;

#endif
