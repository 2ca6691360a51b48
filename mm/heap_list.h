/*
 * The list heap design (see mm/heap.h and docs/heap.md): the tutorial's linked-list allocator
 * done properly.  Blocks lie end to end in the brk-style region; free ones are on one list in
 * address order, allocation takes the first that fits, and a free merges with both neighbours.
 *
 * The fixed design runs over a list heap of its own (struct fixed_heap embeds one), so the list
 * also offers, below its heap_ops, the few calls that design needs: look an object up, and
 * set an object's size and tag (a small number the list keeps for the design above it).
 */
#ifndef FERRITE_MM_HEAP_LIST_H
#define FERRITE_MM_HEAP_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct heap;

struct list_heap {
	uintptr_t first_free;     /* lowest free block, 0 if none */
	uintptr_t last_free;      /* highest free block, 0 if none */
	size_t free_blocks;
	size_t objects;           /* allocated blocks */
	size_t bytes_requested;
	size_t bytes_in_use;
};

extern const struct heap_ops list_heap_ops;

/* Tags are 0 .. LIST_TAG_MAX; objects the list hands out have tag 0. */
#define LIST_TAG_MAX 3u

/* A live object as the list sees it. */
struct list_object {
	size_t requested;   /* the size asked for, or set by list_set_object */
	size_t payload;     /* bytes from the pointer to the end of its block: at least `requested` */
	unsigned tag;
};

/*
 * HEAP_OK and *out if ptr is a live object of the list heap in h.  Otherwise the status that
 * freeing it must give (HEAP_ERR_INVALID_FREE or HEAP_ERR_DOUBLE_FREE) and, in *what, a phrase
 * for the report.  Reports nothing, changes nothing, and never reads outside the heap.
 */
enum heap_status list_find(struct heap *h, const void *ptr, struct list_object *out, const char **what);

/* True unless debug mode is on and the redzone of `o` (found by list_find at ptr) was written. */
bool list_redzone_intact(struct heap *h, const void *ptr, const struct list_object *o);

/* Gives the live object at ptr a new requested size (at most its payload) and tag.  In debug mode
 * the bytes past the new size become its redzone. */
void list_set_object(struct heap *h, void *ptr, size_t requested, unsigned tag);

#endif
