/* The kernel's memory: its frame allocator and its address space, set up from boot_info. */
#ifndef FERRITE_KERNEL_MEMORY_H
#define FERRITE_KERNEL_MEMORY_H

#include "kernel/options.h"
#include "mm/boot_info.h"
#include "mm/frame.h"
#include "mm/layout.h"
#include "mm/paging.h"

extern struct frame_allocator kernel_frames;
extern struct addr_space kernel_space;

/* Page-table frames the mapper took since boot, minus those it gave back (boot tables not
 * counted): the tests account for every frame with it. */
extern int64_t kernel_table_frames_delta;

/* The smallest amount of free memory ferrite boots with (docs/testing.md explains the figure). */
#define MIN_FREE_MEMORY (UINT64_C(4) * MIB)

/* Builds the frame allocator from the memory map and takes over the boot page tables with the
 * access technique `technique`.  Stops the boot with a clear message if memory is too small. */
void memory_init(const struct boot_info *bi, enum pt_technique technique);

/* Virtual address of physical `pa` in the direct map. */
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(pa + PHYS_OFFSET);
}

#endif
