/*
 * The kernel heap: kmalloc and friends over the heap design chosen at boot (heap=, default slab),
 * in the region at HEAP_BASE, with pages mapped from the frame allocator as it grows.
 *
 * - kmalloc(0) returns a unique pointer, which kfree takes like any other; kfree(NULL) does
 *   nothing.
 * - Objects come zeroed, and krealloc zeroes what it adds: no object shows an earlier user's data.
 * - Every object is aligned to 16 bytes; kmalloc_aligned takes any power of two up to 4 KiB.
 * - A bad kfree (a pointer that is not a live object, a double free) prints one line
 *   "heap: ..." and changes nothing.  With heap.debug=1, an object whose redzone was overwritten
 *   is reported the same way, repaired and freed; a freed object that was written to is
 *   reported when it is handed out again.
 * - Interrupts are masked while the heap's lock is held, so a handler may allocate.
 */
#ifndef FERRITE_KERNEL_KHEAP_H
#define FERRITE_KERNEL_KHEAP_H

#include <stddef.h>

#include "mm/heap.h"

void *kmalloc(size_t size);
void *kmalloc_aligned(size_t size, size_t align);
void *kcalloc(size_t n, size_t size);
void *krealloc(void *ptr, size_t size);
void kfree(void *ptr);
size_t ksize(const void *ptr);

/* Sets up the heap: design, debug mode and the region's limit in bytes. */
void kheap_init(enum heap_design design, bool debug, size_t limit);

/* kfree, returning what happened (the tests use it to see refusals). */
enum heap_status kfree_status(void *ptr);

/* The heap region's limit in bytes, as set at boot. */
size_t kheap_limit(void);

enum heap_status kheap_check(void);
void kheap_stats(struct heap_stats *out);

/* Where heap problems go: by default a "heap: ..." line on the console.  The tests install
 * their own to count reports; NULL restores the default. */
void kheap_set_reporter(void (*report)(void *ctx, const struct heap_error *e), void *ctx);

#endif
