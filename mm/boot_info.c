/*
 * The boot memory map: the firmware's map plus what the boot itself put in RAM.  The firmware
 * calls the kernel image, the Multiboot2 information and the modules usable memory; overlaying
 * them with more restrictive kinds carves them out.  The firmware's map is normalized on its
 * own first, so the notes describe what was odd about it, not the expected carving.
 */
#include <stdbool.h>

#include "lib/panic.h"
#include "mm/boot_info.h"

/* True if the kernel image and every module are [start, end) ranges with start <= end. */
static bool ranges_valid(const struct mb2_info *mb, const struct boot_image *image)
{
	if (image->kernel_phys_end < image->kernel_phys_start)
		return false;
	for (size_t i = 0; i < mb->module_count; i++)
		if (mb->modules[i].end < mb->modules[i].start)
			return false;
	return true;
}

/* info_phys + info_size, saturated: past 2^64 it is clipped like any range, not wrapped. */
static uint64_t info_end(const struct boot_image *image)
{
	return image->info_size > UINT64_MAX - image->info_phys ? UINT64_MAX : image->info_phys + image->info_size;
}

enum memmap_status boot_memmap_build(const struct mb2_info *mb, const struct boot_image *image,
                                     struct memmap *out, struct memmap_notes *notes)
{
	enum memmap_status s;

	if (mb->mmap_count > MB2_MMAP_MAX || mb->module_count > MB2_MODULES_MAX)
		panic("boot_memmap_build: counts beyond what mb2_parse can produce");
	out->count = 0;
	if (!ranges_valid(mb, image))
		return MEMMAP_ERR_BAD_RANGE;
	s = memmap_normalize(mb->mmap, mb->mmap_count, out, notes);
	if (s == MEMMAP_OK)
		s = memmap_overlay(out, image->kernel_phys_start, image->kernel_phys_end, MEM_KERNEL);
	if (s == MEMMAP_OK)
		s = memmap_overlay(out, image->info_phys, info_end(image), MEM_BOOTLOADER);
	for (size_t i = 0; i < mb->module_count && s == MEMMAP_OK; i++)
		s = memmap_overlay(out, mb->modules[i].start, mb->modules[i].end, MEM_MODULE);
	if (s != MEMMAP_OK)
		out->count = 0;
	return s;
}
