/*
 * The fixed-size block heap design (see mm/heap.h and docs/heap.md): the tutorial's size classes
 * in front of a list heap.  An object of up to 2048 bytes gets a block of its class, 16 .. 2048
 * bytes (a power of two; the tutorial's 8-byte class is merged with 16, since every object is
 * 16-byte aligned anyway).  A freed block waits on its class's list for the next object of that
 * class, up to FIXED_CLASS_KEEP_BYTES per class; beyond that, and whenever the heap holds no
 * object at all, blocks go back to the list heap, where they merge.  Larger objects, and objects
 * that ask for more than 16-byte alignment, come from the list heap directly.
 */
#ifndef FERRITE_MM_HEAP_FIXED_H
#define FERRITE_MM_HEAP_FIXED_H

#include <stddef.h>
#include <stdint.h>

#include "mm/heap_list.h"

#define FIXED_CLASSES          8
#define FIXED_SMALLEST_CLASS   16
#define FIXED_LARGEST_CLASS    2048
#define FIXED_CLASS_KEEP_BYTES (16 * 1024)   /* a class keeps at most this many bytes of blocks */

struct fixed_class {
	uintptr_t kept_head;   /* the first kept block; each holds the next, encoded.  0: none */
	size_t kept;           /* blocks on the list: at most FIXED_CLASS_KEEP_BYTES / class size */
	size_t live;           /* objects of this class in use */
};

struct fixed_heap {
	struct list_heap list;   /* where every block comes from and goes back to */
	struct fixed_class class[FIXED_CLASSES];
	size_t objects;          /* objects in use: class objects and direct ones */
	size_t bytes_requested;
	size_t bytes_in_use;
};

extern const struct heap_ops fixed_heap_ops;

#endif
