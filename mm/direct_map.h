/*
 * The direct map: all physical memory at PHYS_OFFSET + physical address.
 *
 * What it covers is a deliberate choice: every range of RAM in the memory map (every kind but
 * reserved and bad) plus the first MiB (legacy memory such as the VGA text buffer), rounded out
 * to 2 MiB and merged.  Reserved ranges far above RAM, such as the 1 TiB HyperTransport hole QEMU
 * reports on AMD hosts, are left out: mapping "everything up to the highest address" would spend
 * page tables on memory that does not exist.  MMIO is mapped by drivers, uncached, when needed.
 */
#ifndef FERRITE_MM_DIRECT_MAP_H
#define FERRITE_MM_DIRECT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"
#include "mm/paging.h"

#define DIRECT_MAP_GRANULE PAGE_SIZE_2M

/*
 * Writes the physical ranges the direct map covers into `out` (sorted, disjoint, 2 MiB-aligned,
 * below `limit`) and returns how many; more than `max` is reported as max + 1 with `out` full.
 */
size_t direct_map_ranges(const struct memmap *map, uint64_t limit, struct mem_range *out, size_t max);

/* Maps those ranges into `space` at `offset` + physical, writable, global and non-executable,
 * with 1 GiB pages where `space` allows them and alignment permits.  *bytes gets the total. */
enum paging_status direct_map_build(struct addr_space *space, const struct memmap *map, uint64_t offset,
                                    uint64_t limit, uint64_t *bytes);

#endif
