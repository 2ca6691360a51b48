/*
 * boot_memmap_build: the firmware map with the kernel, the boot information and the modules
 * carved out, from real GRUB boots and from hand-made hostile cases.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>

#include "host/support/grub_boot_info.h"
#include "lib/compiler.h"
#include "mm/boot_info.h"
#include "mm/page.h"
#include "tests/host/memmap_asserts.h"

#define R(start, end, kind) { (start), (end), (kind) }

static struct mb2_info mb;
static struct memmap map;

static void parse_grub(const uint8_t *bytes, size_t size)
{
	cr_assert_eq(mb2_parse(MB2_BOOTLOADER_MAGIC, bytes, size, &mb), MB2_OK);
}

/* One usable gigabyte from 1 MiB, as a hand-made firmware map. */
static void one_gigabyte(void)
{
	mb = (struct mb2_info){ .mmap_count = 1 };
	mb.mmap[0] = (struct memmap_entry){ 0x100000, GIB, MEM_USABLE };
}

Test(boot_info, grub_bios_4g)
{
	const struct boot_image image = {
		GRUB_STUB_KERNEL_START, GRUB_STUB_KERNEL_END, GRUB_BIOS_4G_INFO_PHYS, sizeof grub_bios_4g_info,
	};
	const struct mem_range want[] = {
		R(0x0, 0x9f000, MEM_USABLE),
		R(0x9fc00, 0xa0000, MEM_RESERVED),
		R(0xf0000, 0x100000, MEM_RESERVED),
		R(0x100000, 0x100092, MEM_KERNEL),
		R(0x100168, 0x100448, MEM_BOOTLOADER),
		R(0x101000, 0x101084, MEM_MODULE),
		R(0x102000, 0xbffe0000, MEM_USABLE),
		R(0xbffe0000, 0xc0000000, MEM_RESERVED),
		R(0xfffc0000, 0x100000000, MEM_RESERVED),
		R(0x100000000, 0x140000000, MEM_USABLE),
		R(0xfd00000000, 0x10000000000, MEM_RESERVED),
	};
	struct memmap_notes notes;

	parse_grub(grub_bios_4g_info, sizeof grub_bios_4g_info);
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, &notes), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
	/* The notes describe the firmware's map alone, not the expected carving of the kernel,
	 * the information and the module out of usable memory. */
	cr_assert_eq(notes.overlaps, 0);
	cr_assert_eq(notes.zero_length, 0);
	cr_assert_eq(notes.clipped, 0);
	cr_assert_eq(notes.unaligned_bytes, 0xc00, "the usable range ending at the EBDA, 0x9fc00");
	cr_assert_eq(memmap_total(&map, MEM_USABLE), 0x9f000 + (0xbffe0000 - 0x102000) + GIB);
}

Test(boot_info, grub_uefi_4g)
{
	const struct boot_image image = {
		GRUB_STUB_KERNEL_START, GRUB_STUB_KERNEL_END, GRUB_UEFI_4G_INFO_PHYS, sizeof grub_uefi_4g_info,
	};
	const struct mem_range want[] = {
		R(0x0, 0x4000, MEM_USABLE),
		R(0x4000, 0x4084, MEM_MODULE),
		R(0x5000, 0x5000 + sizeof grub_uefi_4g_info, MEM_BOOTLOADER),
		R(0x7000, 0xa0000, MEM_USABLE),
		R(0x100000, 0x100092, MEM_KERNEL),
		R(0x101000, 0x800000, MEM_USABLE),
		R(0x800000, 0x808000, MEM_ACPI_NVS),
		R(0x808000, 0x80b000, MEM_USABLE),
		R(0x80b000, 0x80c000, MEM_ACPI_NVS),
		R(0x80c000, 0x810000, MEM_USABLE),
		R(0x810000, 0x900000, MEM_ACPI_NVS),
		R(0x900000, 0xbeebb000, MEM_USABLE),
		R(0xbeebb000, 0xbef7c000, MEM_RESERVED),
		R(0xbef7c000, 0xbf8ed000, MEM_USABLE),
		R(0xbf8ed000, 0xbfb6d000, MEM_RESERVED),  /* three entries, one of type 20, merged */
		R(0xbfb6d000, 0xbfb7f000, MEM_ACPI_RECLAIMABLE),
		R(0xbfb7f000, 0xbfbff000, MEM_ACPI_NVS),
		R(0xbfbff000, 0xbff58000, MEM_USABLE),
		R(0xbff58000, 0xbff78000, MEM_RESERVED),
		R(0xbff78000, 0xc0000000, MEM_ACPI_NVS),
		R(0x100000000, 0x140000000, MEM_USABLE),
	};
	struct memmap_notes notes;

	parse_grub(grub_uefi_4g_info, sizeof grub_uefi_4g_info);
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, &notes), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
	cr_assert_eq(notes.overlaps, 0);
}

Test(boot_info, kernel_module_and_information_are_carved_out_of_usable_memory)
{
	const struct boot_image image = { 0x200000, 0x3ff000, 0x400000, 0x1000 };
	const struct mem_range want[] = {
		R(0x100000, 0x200000, MEM_USABLE),
		R(0x200000, 0x3ff000, MEM_KERNEL),
		R(0x3ff000, 0x400000, MEM_USABLE),      /* one page between kernel and information */
		R(0x400000, 0x401000, MEM_BOOTLOADER),
		R(0x401000, 0x500000, MEM_USABLE),
		R(0x500000, 0x600000, MEM_MODULE),
		R(0x600000, 0x100000 + GIB, MEM_USABLE),
	};

	one_gigabyte();
	mb.module_count = 1;
	mb.modules[0] = (struct mb2_module){ .start = 0x500000, .end = 0x600000 };
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
}

Test(boot_info, kernel_wins_over_a_module_and_reserved_memory_over_the_kernel)
{
	const struct boot_image image = { 0x100000, 0x300000, 0x800000, 0x100 };
	const struct mem_range want[] = {
		R(0x100000, 0x180000, MEM_KERNEL),
		R(0x180000, 0x190000, MEM_RESERVED),
		R(0x190000, 0x300000, MEM_KERNEL),
		R(0x300000, 0x380000, MEM_MODULE),
		R(0x380000, 0x800000, MEM_USABLE),
		R(0x800000, 0x800100, MEM_BOOTLOADER),
		R(0x801000, 0x100000 + GIB, MEM_USABLE),
	};

	one_gigabyte();
	mb.mmap[mb.mmap_count++] = (struct memmap_entry){ 0x180000, 0x10000, MEM_RESERVED };
	mb.module_count = 1;
	mb.modules[0] = (struct mb2_module){ .start = 0x280000, .end = 0x380000 };
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
}

Test(boot_info, empty_information_and_module_add_nothing)
{
	const struct boot_image image = { 0x200000, 0x201000, 0x300000, 0 };
	const struct mem_range want[] = {
		R(0x100000, 0x200000, MEM_USABLE),
		R(0x200000, 0x201000, MEM_KERNEL),
		R(0x201000, 0x100000 + GIB, MEM_USABLE),
	};
	struct memmap_notes notes;

	one_gigabyte();
	mb.module_count = 1;
	mb.modules[0] = (struct mb2_module){ .start = 0x400000, .end = 0x400000 };
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, &notes), MEMMAP_OK);
	assert_ranges(&map, want, ARRAY_SIZE(want));
	cr_assert_eq(notes.zero_length, 0, "notes describe the firmware's map, which has no empty entry");
}

Test(boot_info, information_reaching_past_2_pow_64_is_clipped)
{
	const struct boot_image image = { 0x200000, 0x201000, UINT64_MAX - 0x10, 0x100 };
	struct memmap_notes notes;

	one_gigabyte();
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, &notes), MEMMAP_OK);
	cr_assert_eq(map.count, 3, "usable, kernel, usable: the information lies beyond 2^52 and marks nothing");
	cr_assert_eq(notes.clipped, 0);
}

Test(boot_info, kernel_ending_before_it_starts)
{
	const struct boot_image image = { 0x300000, 0x200000, 0x400000, 0x1000 };

	one_gigabyte();
	map.count = 5;
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_ERR_BAD_RANGE);
	cr_assert_eq(map.count, 0);
}

Test(boot_info, module_ending_before_it_starts)
{
	const struct boot_image image = { 0x200000, 0x300000, 0x400000, 0x1000 };

	one_gigabyte();
	mb.module_count = 2;
	mb.modules[0] = (struct mb2_module){ .start = 0x500000, .end = 0x600000 };
	mb.modules[1] = (struct mb2_module){ .start = 0x700000, .end = 0x6fffff };
	map.count = 5;
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_ERR_BAD_RANGE);
	cr_assert_eq(map.count, 0);
}

/* Without a firmware map there is no RAM to speak of: an error, not a map of the kernel alone. */
Test(boot_info, an_empty_firmware_map_is_an_error)
{
	const struct boot_image image = { 0x200000, 0x300000, 0x400000, 0x1000 };

	mb = (struct mb2_info){ 0 };
	map.count = 5;
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_ERR_EMPTY);
	cr_assert_eq(map.count, 0);
}

/* The largest input the parser can hand over fits the scratch array; its map is too big. */
Test(boot_info, largest_input_is_refused_when_the_map_does_not_fit)
{
	const struct boot_image image = { 0x200000, 0x201000, 0x300000, 0x1000 };

	mb = (struct mb2_info){ .mmap_count = MB2_MMAP_MAX, .module_count = MB2_MODULES_MAX };
	for (size_t i = 0; i < MB2_MMAP_MAX; i++)
		mb.mmap[i] = (struct memmap_entry){ GIB + i * PAGE_SIZE, PAGE_SIZE, i % 2 ? MEM_BAD : MEM_USABLE };
	for (size_t i = 0; i < MB2_MODULES_MAX; i++)
		mb.modules[i] = (struct mb2_module){ .start = 0x400000 + i * 0x2000, .end = 0x401000 + i * 0x2000 };
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_ERR_TOO_MANY);
	cr_assert_eq(map.count, 0);

	for (size_t i = 0; i < MB2_MMAP_MAX; i++)
		mb.mmap[i].kind = MEM_USABLE;
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_OK);
	cr_assert_eq(map.count, 2 + MB2_MODULES_MAX + 1);
}

Test(boot_info, counts_beyond_what_the_parser_produces_panic, .signal = SIGABRT)
{
	const struct boot_image image = { 0x200000, 0x201000, 0x300000, 0x1000 };

	one_gigabyte();
	mb.mmap_count = MB2_MMAP_MAX + 1;
	boot_memmap_build(&mb, &image, &map, NULL);
}
