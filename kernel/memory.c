#include "kernel/memory.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_features.h"
#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "kernel/pt_access.h"
#include "lib/panic.h"
#include "mm/layout.h"

struct frame_allocator kernel_frames;
struct addr_space kernel_space;
int64_t kernel_table_frames_delta;

static bool table_frame_alloc(void *ctx, uint64_t *pa)
{
	if (frame_alloc(ctx, 0, 0, pa) != FRAME_OK)
		return false;
	kernel_table_frames_delta++;
	return true;
}

/* The mapper only frees tables it allocated (or the boot path did): a refusal is a bug. */
static void table_frame_free(void *ctx, uint64_t pa)
{
	enum frame_status s = frame_free(ctx, pa, 0);

	if (s != FRAME_OK)
		panic("page-table frame %#lx refused by the frame allocator: %s", pa, frame_status_message(s));
	kernel_table_frames_delta--;
}

static void tlb_flush_page(void *ctx, uint64_t virt)
{
	(void)ctx;
	invlpg(virt);
}

/* Reloading CR3 keeps global entries; toggling CR4.PGE drops those too. */
static void tlb_flush_all(void *ctx)
{
	uint64_t cr4 = read_cr4();

	(void)ctx;
	if (cr4 & CR4_PGE) {
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

static _Noreturn void memory_fail(const char *what, const char *why)
{
	kprintf("ferrite: cannot boot: %s: %s\n", what, why);
	machine_exit(MACHINE_EXIT_FAILURE);
}

static void frames_init(const struct boot_info *bi)
{
	struct frame_config cfg = {
		.offset = bi->phys_offset,
		.reserve_below = MIB,
		.poison_on_free = options.frame_poison,
	};
	enum frame_status s = frame_init(&kernel_frames, &bi->memmap, &cfg);
	struct frame_stats st;

	if (s != FRAME_OK)
		memory_fail("frame allocator", frame_status_message(s));
	frame_stats(&kernel_frames, &st);
	if (st.free_frames * PAGE_SIZE < MIN_FREE_MEMORY) {
		kprintf("ferrite: cannot boot: not enough memory: %lu KiB free after boot, ferrite needs at least %lu KiB\n",
		        st.free_frames * PAGE_SIZE / KIB, MIN_FREE_MEMORY / KIB);
		machine_exit(MACHINE_EXIT_FAILURE);
	}
}

static struct pt_access *select_access(enum pt_technique technique)
{
	enum paging_status s;
	struct pt_access *access;

	switch (technique) {
	case PT_RECURSIVE:
		return pt_recursive_access(kernel_space.root);
	case PT_TEMPORARY:
		access = pt_temporary_access(&kernel_space, &s);
		if (!access)
			memory_fail("temporary-mapping slots", paging_status_message(s));
		return access;
	case PT_OFFSET:
		break;
	}
	return pt_offset_access();
}

void memory_init(const struct boot_info *bi, enum pt_technique technique)
{
	frames_init(bi);
	kernel_space = (struct addr_space){
		.root = bi->page_table_root,
		.access = pt_offset_access(),
		.frames = { table_frame_alloc, table_frame_free, &kernel_frames },
		.tlb = { tlb_flush_page, tlb_flush_all, NULL },
		.allow_1g = cpu.pdpe1gb,
		.phys_limit = UINT64_C(1) << cpu.phys_bits,
	};
	kernel_space.access = select_access(technique);
}
