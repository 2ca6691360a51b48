/* Printing memory-model objects the way the boot report, the monitor and the tests show them. */
#ifndef FERRITE_KERNEL_DESCRIBE_H
#define FERRITE_KERNEL_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "mm/frame.h"
#include "mm/memmap.h"
#include "mm/paging.h"

#define PAGE_FLAGS_TEXT_SIZE 24

/* "RW NX", "R X U", plus G, WT and UC when set. */
const char *format_page_flags(char buf[PAGE_FLAGS_TEXT_SIZE], uint32_t flags);

/* "4K", "2M" or "1G". */
const char *page_size_name(uint64_t size);

/*
 * Prints exactly one line:
 *   0x<16 hex digits> -> 0x<16 hex digits> <4K|2M|1G> <flags>
 *   0x<16 hex digits> -> not mapped
 *   0x<16 hex digits> -> non-canonical
 * Scripts and tests parse this form.
 */
void print_translation(struct addr_space *space, uint64_t virt);

/* The memory map as a table with human-readable sizes. */
void print_memmap(const struct memmap *map);

/* Free memory, metadata and free blocks per order. */
void print_frame_stats(const struct frame_allocator *fa);

#endif
