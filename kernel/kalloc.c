#include "kernel/kalloc.h"

#include "kernel/kheap.h"

static void *kalloc_alloc(void *ctx, size_t size, size_t align)
{
	(void)ctx;
	return kmalloc_aligned(size, align);
}

/* krealloc keeps only the heap's minimum alignment: blocks that need more are moved. */
static void *kalloc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size, size_t align)
{
	(void)ctx;
	if (align <= HEAP_MIN_ALIGN)
		return krealloc(ptr, new_size);
	return allocator_move(&kernel_allocator, ptr, old_size, new_size, align);
}

static void kalloc_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	kfree(ptr);
}

const struct allocator kernel_allocator = { kalloc_alloc, kalloc_realloc, kalloc_free, NULL };
