/*
 * boot_info: what the boot path hands to kmain().  A plain struct with no pointers into
 * bootloader memory: the direct-map offset, the normalized memory map, where the kernel lies,
 * the command line and the boot modules.
 */
#ifndef FERRITE_MM_BOOT_INFO_H
#define FERRITE_MM_BOOT_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"
#include "mm/multiboot2.h"

struct boot_module {
	uint64_t start;  /* [start, end), physical */
	uint64_t end;
	char cmdline[MB2_MODULE_NAME_MAX];
};

struct boot_info {
	uint64_t phys_offset;          /* physical address p is mapped at phys_offset + p */
	uint64_t direct_map_bytes;     /* bytes of physical memory the direct map covers */

	struct memmap memmap;
	struct memmap_notes memmap_notes;

	uint64_t kernel_phys_start;  /* [start, end) */
	uint64_t kernel_phys_end;
	uint64_t kernel_virt_start;
	uint64_t kernel_virt_end;

	uint64_t page_table_root;    /* physical address of the PML4 the boot path built */
	uint64_t boot_info_phys;     /* where the Multiboot2 information was */

	char cmdline[MB2_CMDLINE_MAX];
	char bootloader[MB2_NAME_MAX];
	size_t module_count;
	struct boot_module modules[MB2_MODULES_MAX];

	uint64_t entry_tsc;          /* time-stamp counter at the 32-bit entry */
};

/* The parts of the machine the memory map must know about besides the firmware's map. */
struct boot_image {
	uint64_t kernel_phys_start;
	uint64_t kernel_phys_end;
	uint64_t info_phys;     /* the Multiboot2 information */
	uint64_t info_size;
};

/*
 * Builds the normalized memory map from the parsed Multiboot2 information: the firmware map
 * with the kernel image, the Multiboot2 information and the modules marked on top of it.
 */
enum memmap_status boot_memmap_build(const struct mb2_info *mb, const struct boot_image *image,
                                     struct memmap *out, struct memmap_notes *notes);

#endif
