/* What the direct map covers, from real GRUB memory maps, and how it is built. */
#include <criterion/criterion.h>

#include "host/support/grub_boot_info.h"
#include "host/support/sim_space.h"
#include "lib/compiler.h"
#include "mm/boot_info.h"
#include "mm/direct_map.h"
#include "mm/layout.h"

static struct memmap map;

static void grub_map(const uint8_t *info, size_t size, uint64_t info_phys)
{
	static struct mb2_info mb;
	const struct boot_image image = { GRUB_STUB_KERNEL_START, GRUB_STUB_KERNEL_END, info_phys, size };

	cr_assert_eq(mb2_parse(MB2_BOOTLOADER_MAGIC, info, size, &mb), MB2_OK);
	cr_assert_eq(boot_memmap_build(&mb, &image, &map, NULL), MEMMAP_OK);
}

static void add(uint64_t start, uint64_t end, enum mem_kind kind)
{
	map.range[map.count++] = (struct mem_range){ start, end, kind };
}

/* The 1 TiB HyperTransport hole is reserved: covering it would cost page tables for nothing. */
Test(direct_map, bios_4g_covers_ram_and_leaves_out_the_hypertransport_hole)
{
	struct mem_range r[8];

	grub_map(grub_bios_4g_info, sizeof grub_bios_4g_info, GRUB_BIOS_4G_INFO_PHYS);
	cr_assert_eq(direct_map_ranges(&map, DIRECT_MAP_SIZE, r, ARRAY_SIZE(r)), 2);
	cr_assert_eq(r[0].start, 0);
	cr_assert_eq(r[0].end, 0xc0000000, "RAM up to 0xbffe0000, rounded out to 2 MiB");
	cr_assert_eq(r[1].start, 0x100000000);
	cr_assert_eq(r[1].end, 0x140000000);
}

Test(direct_map, uefi_fragments_merge)
{
	struct mem_range r[8];

	grub_map(grub_uefi_4g_info, sizeof grub_uefi_4g_info, GRUB_UEFI_4G_INFO_PHYS);
	cr_assert_eq(direct_map_ranges(&map, DIRECT_MAP_SIZE, r, ARRAY_SIZE(r)), 2);
	cr_assert_eq(r[0].start, 0);
	cr_assert_eq(r[0].end, 0xc0000000);
	cr_assert_eq(r[1].start, 0x100000000);
	cr_assert_eq(r[1].end, 0x140000000);
}

Test(direct_map, first_mib_always_and_reserved_and_bad_never)
{
	struct mem_range r[8];

	map.count = 0;
	add(0x40000000, 0x40100000, MEM_USABLE);
	add(0x80000000, 0x80200000, MEM_RESERVED);
	add(0x90000000, 0x90200000, MEM_BAD);
	add(0xa0000000, 0xa0001000, MEM_ACPI_NVS);
	cr_assert_eq(direct_map_ranges(&map, DIRECT_MAP_SIZE, r, ARRAY_SIZE(r)), 3);
	cr_assert_eq(r[0].start, 0);
	cr_assert_eq(r[0].end, PAGE_SIZE_2M, "the first MiB (VGA, BIOS data) even without a range there");
	cr_assert_eq(r[1].start, 0x40000000);
	cr_assert_eq(r[1].end, 0x40200000);
	cr_assert_eq(r[2].start, 0xa0000000, "ACPI NVS is RAM");
	cr_assert_eq(r[2].end, 0xa0200000);
}

Test(direct_map, limit_cuts_and_too_many_is_reported)
{
	struct mem_range r[2];

	map.count = 0;
	add(0x100000, 0x200000, MEM_USABLE);
	add(0x40000000, 0x50000000, MEM_USABLE);
	add(0x60000000, 0x70000000, MEM_USABLE);
	cr_assert_eq(direct_map_ranges(&map, 0x48000000, r, ARRAY_SIZE(r)), 2);
	cr_assert_eq(r[1].end, 0x48000000, "nothing at or above the limit");
	cr_assert_eq(direct_map_ranges(&map, DIRECT_MAP_SIZE, r, ARRAY_SIZE(r)), 3, "max + 1 when it does not fit");
}

struct page_count {
	uint64_t pages[PT_LEVELS];
	bool all_rw_nx_global;
};

static bool count(void *ctx, const struct mapping *m)
{
	struct page_count *c = ctx;

	c->pages[m->level]++;
	if (m->flags != (PAGE_WRITE | PAGE_NOEXEC | PAGE_GLOBAL))
		c->all_rw_nx_global = false;
	return true;
}

static void build_and_count(bool allow_1g, struct page_count *c, uint64_t *bytes)
{
	struct sim_space s;
	const struct sim_space_config cfg = { .access = SIM_ACCESS_OFFSET, .allow_1g = allow_1g };

	cr_assert(sim_space_create(&s, &cfg));
	cr_assert_eq(direct_map_build(&s.space, &map, PHYS_OFFSET, DIRECT_MAP_SIZE, bytes), PAGING_OK);
	*c = (struct page_count){ .all_rw_nx_global = true };
	paging_visit(&s.space, 0, 0, count, c);

	struct translation t = paging_translate(&s.space, PHYS_OFFSET + 0x13fffffff);
	cr_assert_eq(t.status, PAGING_OK);
	cr_assert_eq(t.phys, 0x13fffffff);
	cr_assert_eq(paging_translate(&s.space, PHYS_OFFSET + 0xfd00000000).status, PAGING_ERR_NOT_MAPPED);
	sim_space_destroy(&s);
}

Test(direct_map, built_with_1g_pages_where_the_cpu_has_them)
{
	struct page_count c;
	uint64_t bytes;

	grub_map(grub_bios_4g_info, sizeof grub_bios_4g_info, GRUB_BIOS_4G_INFO_PHYS);
	build_and_count(true, &c, &bytes);
	cr_assert_eq(bytes, 4 * GIB);
	cr_assert_eq(c.pages[3], 4);
	cr_assert_eq(c.pages[2] + c.pages[1], 0);
	cr_assert(c.all_rw_nx_global);
}

Test(direct_map, built_with_2m_pages_otherwise)
{
	struct page_count c;
	uint64_t bytes;

	grub_map(grub_bios_4g_info, sizeof grub_bios_4g_info, GRUB_BIOS_4G_INFO_PHYS);
	build_and_count(false, &c, &bytes);
	cr_assert_eq(bytes, 4 * GIB);
	cr_assert_eq(c.pages[2], 2048);
	cr_assert_eq(c.pages[3] + c.pages[1], 0);
	cr_assert(c.all_rw_nx_global);
}
