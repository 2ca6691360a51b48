/*
 * The boot stage in C.  It runs in long mode on the early identity map that boot/entry.S built,
 * on the kernel stack, and does what a bootloader with a "map all physical memory" option does
 * for the kernel:
 *   1. parse the Multiboot2 information and build the normalized memory map;
 *   2. build the kernel's page tables: the kernel image W^X, the stack guard pages unmapped, and
 *      all physical memory at PHYS_OFFSET (mm/direct_map.c);
 *   3. switch to them, which drops the identity map, and call kmain(&boot_info).
 * While it runs, page tables are reached by identity mapping (physical address = virtual
 * address): the first of the tutorial's access techniques, used only here.
 */
#include <stdarg.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_features.h"
#include "arch/x86_64/machine.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/stacks.h"
#include "boot/boot_defs.h"
#include "boot/early_frames.h"
#include "kernel/console.h"
#include "kernel/kmain.h"
#include "mm/boot_info.h"
#include "mm/direct_map.h"
#include "mm/layout.h"
#include "mm/multiboot2.h"
#include "mm/paging.h"
#include "lib/mem.h"

_Static_assert(BOOT_MB2_MAGIC == MB2_BOOTLOADER_MAGIC, "entry.S checks the wrong magic");

/* The early identity map covers [0, 4 GiB). */
#define IDENTITY_LIMIT (UINT64_C(4) * GIB)

extern char __kernel_phys_start[], __kernel_phys_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[], __kernel_virt_end[];

_Noreturn void boot_main(uint32_t magic, uint32_t info_pa, uint64_t entry_tsc);

static struct boot_info bi;   /* handed to kmain */
static struct mb2_info mb2;

static _Noreturn PRINTF_LIKE(1, 2) void boot_fail(const char *fmt, ...)
{
	va_list ap;

	kputs("ferrite: cannot boot: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kputs("\n");
	machine_exit(MACHINE_EXIT_FAILURE);
}

static void parse_boot_information(uint32_t magic, uint32_t info_pa)
{
	const void *info = (const void *)(uintptr_t)info_pa;
	uint64_t readable = IDENTITY_LIMIT - info_pa;
	enum mb2_status s = mb2_parse(magic, info, readable < MB2_INFO_MAX ? readable : MB2_INFO_MAX, &mb2);

	if (s != MB2_OK)
		boot_fail("bad Multiboot2 boot information at %#x: %s", info_pa, mb2_status_message(s));
}

static void build_memory_map(uint32_t info_pa)
{
	struct boot_image image = {
		.kernel_phys_start = (uint64_t)__kernel_phys_start,
		.kernel_phys_end = (uint64_t)__kernel_phys_end,
		.info_phys = info_pa,
		.info_size = mb2.total_size,
	};
	enum memmap_status s = boot_memmap_build(&mb2, &image, &bi.memmap, &bi.memmap_notes);

	if (s != MEMMAP_OK)
		boot_fail("bad memory map from the bootloader: %s", memmap_status_message(s));
}

static void map_section(struct addr_space *space, const char *start, const char *end, uint32_t flags)
{
	uint64_t virt = (uint64_t)start;
	enum paging_status s = paging_map_range(space, virt, virt - KERNEL_VMA, (uint64_t)(end - start), flags);

	if (s != PAGING_OK)
		boot_fail("cannot map the kernel image at %p: %s", (const void *)start, paging_status_message(s));
}

/* W^X from the linker script's sections; the guard page under each stack stays unmapped. */
static void map_kernel_image(struct addr_space *space)
{
	map_section(space, __text_start, __text_end, PAGE_GLOBAL);
	map_section(space, __rodata_start, __rodata_end, PAGE_GLOBAL | PAGE_NOEXEC);
	map_section(space, __data_start, __data_end, PAGE_WRITE | PAGE_GLOBAL | PAGE_NOEXEC);
	for (size_t i = 0; i < kernel_guard_page_count; i++)
		if (paging_unmap(space, kernel_guard_pages[i], NULL, NULL) != PAGING_OK)
			boot_fail("cannot unmap the stack guard page at %#lx", kernel_guard_pages[i]);
}

static void map_physical_memory(struct addr_space *space)
{
	uint64_t limit = space->phys_limit < DIRECT_MAP_SIZE ? space->phys_limit : DIRECT_MAP_SIZE;
	enum paging_status s = direct_map_build(space, &bi.memmap, PHYS_OFFSET, limit,
	                                        &bi.direct_map_bytes);

	if (s != PAGING_OK)
		boot_fail("cannot map physical memory at PHYS_OFFSET: %s", paging_status_message(s));
	bi.phys_offset = PHYS_OFFSET;
}

static uint64_t build_page_tables(void)
{
	static struct pt_access identity = { .offset = 0 };
	struct early_frames frames;
	struct addr_space space = {
		.access = &identity,
		.allow_1g = cpu.pdpe1gb,
		.phys_limit = UINT64_C(1) << cpu.phys_bits,
	};

	if (!early_frames_init(&frames, &bi.memmap, MIB, IDENTITY_LIMIT))
		boot_fail("no usable memory between 1 MiB and 4 GiB for the page tables");
	space.frames = early_frames_source(&frames);
	if (!space.frames.alloc(space.frames.ctx, &space.root))
		boot_fail("no frame for the PML4");

	map_kernel_image(&space);
	map_physical_memory(&space);

	if (memmap_overlay(&bi.memmap, frames.start, frames.next, MEM_BOOT_PAGE_TABLES) != MEMMAP_OK)
		boot_fail("the memory map has no room to record the boot page tables");
	return space.root;
}

static void copy_boot_strings(void)
{
	memcpy(bi.cmdline, mb2.cmdline, sizeof(bi.cmdline));
	memcpy(bi.bootloader, mb2.bootloader, sizeof(bi.bootloader));
	bi.module_count = mb2.module_count;
	for (size_t i = 0; i < mb2.module_count; i++) {
		bi.modules[i].start = mb2.modules[i].start;
		bi.modules[i].end = mb2.modules[i].end;
		memcpy(bi.modules[i].cmdline, mb2.modules[i].cmdline, sizeof(bi.modules[i].cmdline));
	}
}

void boot_main(uint32_t magic, uint32_t info_pa, uint64_t entry_tsc)
{
	serial_init();
	cpu_detect();
	parse_boot_information(magic, info_pa);
	build_memory_map(info_pa);
	copy_boot_strings();

	bi.entry_tsc = entry_tsc;
	bi.boot_info_phys = info_pa;
	bi.kernel_phys_start = (uint64_t)__kernel_phys_start;
	bi.kernel_phys_end = (uint64_t)__kernel_phys_end;
	bi.kernel_virt_start = (uint64_t)__text_start;
	bi.kernel_virt_end = (uint64_t)__kernel_virt_end;
	bi.page_table_root = build_page_tables();

	write_cr3(bi.page_table_root);   /* from here on, the identity map is gone */
	kmain(&bi);
}
