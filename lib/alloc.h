/*
 * The allocator seam of the lib/ collections (vec, hashmap): three function pointers and a
 * context.  The kernel passes one over its heap; host tests pass ones that count calls, check
 * every free and fail on demand.
 *
 * Sizes go both ways: free and realloc are told the size the block was allocated with, so an
 * allocator without per-block headers (an arena, a frame-backed pool) can serve the collections,
 * and a checking allocator can prove that a collection knows the size of what it holds.
 */
#ifndef FERRITE_LIB_ALLOC_H
#define FERRITE_LIB_ALLOC_H

#include <stddef.h>

#include "lib/mem.h"

struct allocator {
	/* A block of `size` bytes (> 0) aligned to `align` (a power of two), or NULL. */
	void *(*alloc)(void *ctx, size_t size, size_t align);

	/* Optional (NULL: allocator_realloc allocates, copies and frees).  Moves or resizes a live
	 * block of old_size bytes to new_size bytes (both > 0), keeping its contents up to the
	 * smaller size and its alignment.  On failure returns NULL and the block is untouched. */
	void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size, size_t align);

	/* Gives back a live block; `size` is the size it was allocated or last reallocated with. */
	void (*free)(void *ctx, void *ptr, size_t size);

	void *ctx;
};

static inline void *allocator_alloc(const struct allocator *a, size_t size, size_t align)
{
	return a->alloc(a->ctx, size, align);
}

static inline void allocator_free(const struct allocator *a, void *ptr, size_t size)
{
	a->free(a->ctx, ptr, size);
}

/* Moves a block to a new one of new_size bytes: allocate, copy, free.  NULL leaves ptr
 * untouched.  What realloc comes down to when nothing smarter is possible. */
static inline void *allocator_move(const struct allocator *a, void *ptr, size_t old_size, size_t new_size,
                                   size_t align)
{
	void *moved = allocator_alloc(a, new_size, align);

	if (moved != NULL) {
		memcpy(moved, ptr, old_size < new_size ? old_size : new_size);
		allocator_free(a, ptr, old_size);
	}
	return moved;
}

/* The allocator's realloc, or allocator_move when it has none.  NULL leaves ptr untouched. */
static inline void *allocator_realloc(const struct allocator *a, void *ptr, size_t old_size,
                                      size_t new_size, size_t align)
{
	if (a->realloc != NULL)
		return a->realloc(a->ctx, ptr, old_size, new_size, align);
	return allocator_move(a, ptr, old_size, new_size, align);
}

#endif
