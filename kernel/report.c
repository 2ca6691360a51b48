#include "kernel/report.h"

#include "arch/x86_64/cpu_features.h"
#include "kernel/console.h"
#include "kernel/describe.h"
#include "kernel/kmain.h"
#include "kernel/memory.h"
#include "kernel/options.h"
#include "lib/units.h"
#include "mm/layout.h"

/* The tutorial's example: a page far from anything else, mapped onto the VGA text buffer. */
#define DEMO_PAGE   UINT64_C(0xdeadbeaf000)
#define VGA_BUFFER  UINT64_C(0xb8000)

static void report_cpu(void)
{
	kprintf("CPU: %s, %s\n", cpu.vendor, cpu.brand);
	kprintf("  used: long mode, NX%s%s%s%s%s; %u-bit physical addresses\n",
	        cpu.pdpe1gb ? ", 1 GiB pages" : " (no 1 GiB pages: direct map uses 2 MiB)",
	        cpu.pge ? ", global pages" : "", cpu.smep ? ", SMEP" : "", cpu.smap ? ", SMAP" : "",
	        cpu.umip ? ", UMIP" : "", cpu.phys_bits);
}

static void report_notes(const struct memmap_notes *n)
{
	if (n->zero_length)
		kprintf("  note: %zu zero-length entries dropped\n", n->zero_length);
	if (n->clipped)
		kprintf("  note: %zu entries clipped at the 52-bit physical address limit\n", n->clipped);
	if (n->overlaps)
		kprintf("  note: %zu overlaps resolved in favour of the more restrictive kind\n", n->overlaps);
	if (n->unaligned_bytes)
		kprintf("  note: %lu bytes at the edges of usable ranges left out to align them to pages\n",
		        n->unaligned_bytes);
}

static void report_memory(const struct boot_info *bi)
{
	char size[UNITS_BUF_SIZE];
	uint64_t usable = memmap_total(&bi->memmap, MEM_USABLE);

	kprintf("Memory map (%zu ranges, from %s):\n", bi->memmap.count, bi->bootloader[0] ? bi->bootloader : "the bootloader");
	print_memmap(&bi->memmap);
	report_notes(&bi->memmap_notes);
	kprintf("Usable memory: %s (%lu bytes)\n", format_bytes(size, usable), usable);
}

struct page_counts {
	uint64_t pages[PT_LEVELS];   /* by leaf level: 4K, 2M, 1G */
};

static bool count_page(void *ctx, const struct mapping *m)
{
	((struct page_counts *)ctx)->pages[m->level]++;
	return true;
}

static void report_layout(const struct boot_info *bi)
{
	char size[UNITS_BUF_SIZE];
	struct page_counts direct = { { 0 } };

	kprintf("Kernel: physical 0x%lx-0x%lx (%s, with the 32-bit entry), virtual 0x%lx-0x%lx\n",
	        bi->kernel_phys_start, bi->kernel_phys_end, format_bytes(size, bi->kernel_phys_end - bi->kernel_phys_start),
	        bi->kernel_virt_start, bi->kernel_virt_end);
	paging_visit(&kernel_space, PHYS_OFFSET, PHYS_OFFSET + DIRECT_MAP_SIZE, count_page, &direct);
	kprintf("Direct map: physical memory at PHYS_OFFSET 0x%016lx, %s in %lu 1G + %lu 2M + %lu 4K pages\n",
	        bi->phys_offset, format_bytes(size, bi->direct_map_bytes), direct.pages[3], direct.pages[2],
	        direct.pages[1]);
	kprintf("Page tables: PML4 at 0x%lx, reached by the %s technique\n", kernel_space.root,
	        pt_technique_names[options.paging]);
}

/* The tutorial's translation examples, and its example mapping. */
static void report_paging_demos(void)
{
	uint64_t on_stack = 0;
	volatile uint16_t *through_demo_page = (volatile uint16_t *)DEMO_PAGE;
	volatile uint16_t *through_direct_map = phys_to_virt(VGA_BUFFER);
	enum paging_status s;

	kprintf("Translations (virtual -> physical):\n");
	print_translation(&kernel_space, PHYS_OFFSET + VGA_BUFFER);   /* VGA text buffer, direct map */
	print_translation(&kernel_space, (uint64_t)kmain);            /* kernel code */
	print_translation(&kernel_space, (uint64_t)&on_stack);        /* kernel stack */
	print_translation(&kernel_space, PHYS_OFFSET);                /* physical 0 */
	print_translation(&kernel_space, DEMO_PAGE);                  /* not mapped yet */

	s = paging_map(&kernel_space, DEMO_PAGE, VGA_BUFFER, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC);
	if (s != PAGING_OK) {
		kprintf("Mapping 0x%lx to frame 0x%lx failed: %s\n", DEMO_PAGE, VGA_BUFFER, paging_status_message(s));
		return;
	}
	through_demo_page[0] = 0x0f21;   /* '!' white on black, top-left of the screen */
	kprintf("Mapped 0x%lx to frame 0x%lx, wrote 0x0f21 through it, read 0x%04x back through the direct map\n",
	        DEMO_PAGE, VGA_BUFFER, through_direct_map[0]);
	print_translation(&kernel_space, DEMO_PAGE);
}

void report_boot(const struct boot_info *bi, uint64_t kmain_tsc)
{
	kprintf("\nferrite: a kernel built around its memory model\n");
	if (bi->cmdline[0])
		kprintf("Command line: %s\n", bi->cmdline);
	report_cpu();
	report_memory(bi);
	report_layout(bi);
	report_paging_demos();
	kprintf("Frame allocator:\n");
	print_frame_stats(&kernel_frames);
	kprintf("Boot: %lu TSC ticks from the 32-bit entry to kmain\n", kmain_tsc - bi->entry_tsc);
}
