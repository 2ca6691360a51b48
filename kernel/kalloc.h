/* The kernel heap as a `struct allocator`, for the lib/ collections (vec, hashmap). */
#ifndef FERRITE_KERNEL_KALLOC_H
#define FERRITE_KERNEL_KALLOC_H

#include "lib/alloc.h"

extern const struct allocator kernel_allocator;

#endif
