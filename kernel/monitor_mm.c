/* Monitor commands for the memory map, the frame allocator and the page tables. */
#include "arch/x86_64/probe.h"
#include "arch/x86_64/trap.h"
#include "kernel/console.h"
#include "kernel/describe.h"
#include "kernel/kmain.h"
#include "kernel/memory.h"
#include "kernel/monitor.h"
#include "kernel/options.h"
#include "lib/compiler.h"
#include "lib/mem.h"
#include "lib/units.h"

#define READ_DEFAULT 64
#define READ_MAX     4096

void cmd_meminfo(int argc, char **argv)
{
	char usable[UNITS_BUF_SIZE], direct[UNITS_BUF_SIZE];

	(void)argc;
	(void)argv;
	kprintf("usable RAM %s; direct map %s at 0x%016lx\n",
	        format_bytes(usable, memmap_total(&boot_info->memmap, MEM_USABLE)),
	        format_bytes(direct, boot_info->direct_map_bytes), boot_info->phys_offset);
	kprintf("page tables: PML4 at 0x%lx, %s technique\n", kernel_space.root, pt_technique_names[options.paging]);
	kprintf("frame allocator:\n");
	print_frame_stats(&kernel_frames);
}

void cmd_memmap(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_memmap(&boot_info->memmap);
}

void cmd_translate(int argc, char **argv)
{
	uint64_t virt;

	(void)argc;
	if (monitor_number("translate", "address", argv[1], &virt))
		print_translation(&kernel_space, virt);
}

static const struct {
	const char *word;
	uint32_t flag;
} map_flag_words[] = {
	{ "rw", PAGE_WRITE }, { "u", PAGE_USER }, { "g", PAGE_GLOBAL }, { "wt", PAGE_WRITETHROUGH }, { "uc", PAGE_NOCACHE },
};

/* Reads the optional size and flag words of `map`.  Flags start as read-only, NX, kernel. */
static bool parse_map_options(int argc, char **argv, uint64_t *size, uint32_t *flags)
{
	*size = PAGE_SIZE;
	*flags = PAGE_NOEXEC;
	for (int i = 3; i < argc; i++) {
		const char *w = argv[i];
		bool known = false;
		if (strcmp(w, "4k") == 0 || strcmp(w, "2m") == 0 || strcmp(w, "1g") == 0) {
			*size = w[0] == '4' ? PAGE_SIZE : w[0] == '2' ? PAGE_SIZE_2M : PAGE_SIZE_1G;
			known = true;
		}
		if (strcmp(w, "x") == 0) {
			*flags &= ~(uint32_t)PAGE_NOEXEC;
			known = true;
		}
		for (size_t k = 0; k < ARRAY_SIZE(map_flag_words); k++) {
			if (strcmp(w, map_flag_words[k].word) == 0) {
				*flags |= map_flag_words[k].flag;
				known = true;
			}
		}
		if (!known) {
			kprintf("error: map: unknown option '%s' (expected 4k, 2m, 1g, rw, x, u, g, wt or uc)\n", w);
			return false;
		}
	}
	if ((*flags & PAGE_WRITE) && !(*flags & PAGE_NOEXEC)) {
		kprintf("error: map: refusing a page that is both writable and executable (W^X)\n");
		return false;
	}
	return true;
}

void cmd_map(int argc, char **argv)
{
	uint64_t virt, phys, size;
	uint32_t flags;
	enum paging_status s;

	if (!monitor_number("map", "virtual address", argv[1], &virt) ||
	    !monitor_number("map", "physical address", argv[2], &phys) || !parse_map_options(argc, argv, &size, &flags))
		return;
	s = paging_map(&kernel_space, virt, phys, size, flags);
	if (s != PAGING_OK) {
		kprintf("error: map: %s\n", paging_status_message(s));
		return;
	}
	print_translation(&kernel_space, virt);
}

void cmd_unmap(int argc, char **argv)
{
	uint64_t virt, phys, size;
	enum paging_status s;

	(void)argc;
	if (!monitor_number("unmap", "address", argv[1], &virt))
		return;
	s = paging_unmap(&kernel_space, virt, &phys, &size);
	if (s != PAGING_OK) {
		kprintf("error: unmap: %s\n", paging_status_message(s));
		return;
	}
	kprintf("unmapped 0x%016lx (was -> 0x%016lx %s)\n", virt, phys, page_size_name(size));
}

static const char *const level_names[PT_LEVELS + 1] = { "", "PT", "PD", "PDPT", "PML4" };

static void dump_walk(uint64_t virt)
{
	struct pt_path path;
	enum paging_status s = paging_walk_path(&kernel_space, virt, &path);

	if (s == PAGING_ERR_NONCANONICAL) {
		kprintf("error: ptdump: 0x%lx is not canonical\n", virt);
		return;
	}
	for (unsigned i = 0; i < path.depth; i++) {
		unsigned level = PT_LEVELS - i;
		pte_t e = path.entry[i];
		kprintf("  %-4s 0x%016lx[%3u] = 0x%016lx", level_names[level], path.table[i], path.index[i], e);
		if (!pte_present(e))
			kprintf("  not present\n");
		else if (level == 1 || pte_huge(e))
			kprintf("  -> frame 0x%lx (%s page)\n", pte_addr(e) & ~(pt_entry_span(level) - 1),
			        page_size_name(pt_entry_span(level)));
		else
			kprintf("  -> table 0x%lx\n", pte_addr(e));
	}
	print_translation(&kernel_space, virt);
}

/* ptdump without an address: contiguous mappings with the same flags, merged into runs. */
struct run {
	struct mapping first;
	uint64_t end;          /* virtual end of the run */
	uint64_t pages;
	uint64_t runs_printed;
};

static void print_run(const struct run *r)
{
	char flags[PAGE_FLAGS_TEXT_SIZE], size[UNITS_BUF_SIZE];

	kprintf("  0x%016lx-0x%016lx -> 0x%012lx  %9s  %s  %lu x %s\n", r->first.virt, r->end, r->first.phys,
	        format_bytes(size, r->end - r->first.virt), format_page_flags(flags, r->first.flags), r->pages,
	        page_size_name(r->first.size));
}

static bool extend_run(void *ctx, const struct mapping *m)
{
	struct run *r = ctx;
	bool continues = r->pages > 0 && m->virt == r->end && m->size == r->first.size && m->flags == r->first.flags &&
	                 m->phys == r->first.phys + (r->end - r->first.virt);

	if (continues) {
		r->end += m->size;
		r->pages++;
		return true;
	}
	if (r->pages > 0) {
		print_run(r);
		r->runs_printed++;
	}
	r->first = *m;
	r->end = m->virt + m->size;
	r->pages = 1;
	return true;
}

void cmd_ptdump(int argc, char **argv)
{
	uint64_t virt;
	struct run run = { 0 };

	if (argc == 2) {
		if (monitor_number("ptdump", "address", argv[1], &virt))
			dump_walk(virt);
		return;
	}
	kprintf("  %-37s    %-14s  %9s  %-8s  pages\n", "virtual", "physical", "size", "flags");
	paging_visit(&kernel_space, 0, 0, extend_run, &run);
	if (run.pages > 0) {
		print_run(&run);
		run.runs_printed++;
	}
	kprintf("  %lu runs of mappings\n", run.runs_printed);
}

static void report_read_fault(uint64_t addr)
{
	struct probe_fault f = probe_last_fault();

	if (f.vector == VEC_PAGE_FAULT)
		kprintf("error: read: page fault at 0x%016lx (%s)\n", f.addr,
		        f.error & PF_PRESENT ? "protection violation" : "page not present");
	else
		kprintf("error: read: general protection fault reading 0x%016lx\n", addr);
}

void cmd_read(int argc, char **argv)
{
	uint64_t addr, count = READ_DEFAULT;
	uint8_t line[16];

	if (!monitor_number("read", "address", argv[1], &addr) ||
	    (argc == 3 && !monitor_number("read", "count", argv[2], &count)))
		return;
	if (count == 0 || count > READ_MAX) {
		kprintf("error: read: count must be 1..%d\n", READ_MAX);
		return;
	}
	for (uint64_t done = 0; done < count; done += sizeof(line)) {
		uint64_t n = count - done < sizeof(line) ? count - done : sizeof(line);
		for (uint64_t i = 0; i < n; i++) {
			if (!probe_read8(addr + done + i, &line[i])) {
				report_read_fault(addr + done + i);
				return;
			}
		}
		kprintf("  %016lx ", addr + done);
		for (uint64_t i = 0; i < sizeof(line); i++) {
			if (i < n)
				kprintf(" %02x", line[i]);
			else
				kputs("   ");
		}
		kprintf("  |");
		for (uint64_t i = 0; i < n; i++)
			kprintf("%c", line[i] >= ' ' && line[i] < 0x7f ? line[i] : '.');
		kprintf("|\n");
	}
}
