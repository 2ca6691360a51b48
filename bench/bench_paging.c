/*
 * Mapper benchmarks: the portable walker and mapper over simulated memory, with the offset
 * access (the direct map's fast path) and the real frame allocator as the source of page
 * tables, as in the kernel.  What each one measures is in docs/performance.md.
 *
 *   translate_4k   paging_translate of an address in a 4 KiB page (random page and offset)
 *   translate_2m   the same in 2 MiB pages
 *   translate_1g   the same in 1 GiB pages
 *   map_unmap_4k   paging_map of every 4 KiB page of a --size range (1 GiB), then paging_unmap
 *                  of each: per map+unmap pair, tables allocated and freed included
 *   map_unmap_2m   the same with 2 MiB pages
 *
 * The host has no TLB: the flushes the mapper asks for cost nothing here (struct tlb_ops is
 * empty), so map and unmap are the walk, the entries and the tables only.
 */
#include "bench/harness.h"
#include "lib/rng.h"
#include "host/support/simmem.h"
#include "lib/compiler.h"
#include "mm/frame.h"
#include "mm/page.h"
#include "mm/paging.h"

#define TABLE_MEMORY (64 * MIB)  /* simulated RAM for the frame allocator: page tables only */

/* Where the mappings go: virtual regions far apart, and physical frames the mapper never
 * touches (a mapping's frame is only a number to it), so they need no simulated memory. */
#define VIRT_4K   UINT64_C(0x100000000000)
#define VIRT_2M   UINT64_C(0x200000000000)
#define VIRT_1G   UINT64_C(0x300000000000)
#define VIRT_MAP  UINT64_C(0x400000000000)
#define PHYS_BASE (4 * TIB)

#define FLAGS (PAGE_WRITE | PAGE_NOEXEC)

/* The translate benchmarks cycle through this many random addresses. */
#define ADDRS 4096

struct paging_bench {
	struct memmap map;
	struct simmem mem;
	struct frame_allocator fa;
	struct pt_access access;
	struct addr_space space;
	uint64_t free_frames_before;  /* with only the root allocated */
	uint64_t addrs[ADDRS];
};

static struct paging_bench bench;

NOINLINE static _Noreturn void paging_failed(const char *what, enum paging_status st)
{
	bench_fail("%s: %s", what, paging_status_message(st));
}

static inline void expect_mapped(enum paging_status st, const char *what)
{
	if (unlikely(st != PAGING_OK))
		paging_failed(what, st);
}

/* ---- the address space -------------------------------------------------------------------- */

/* Page tables come zeroed from the frame allocator, as the kernel's do. */
static bool table_alloc(void *ctx, uint64_t *pa)
{
	return frame_alloc(ctx, 0, 0, pa) == FRAME_OK;
}

/* The mapper frees only tables it allocated: a refusal means the benchmark is broken. */
static void table_free(void *ctx, uint64_t pa)
{
	enum frame_status st = frame_free(ctx, pa, 0);

	if (st != FRAME_OK)
		bench_fail("frame_free of page table %#llx: %s", (unsigned long long)pa, frame_status_message(st));
}

static void free_frames_now(struct paging_bench *b, uint64_t *out)
{
	struct frame_stats st;

	frame_stats(&b->fa, &st);
	*out = st.free_frames;
}

/* An empty address space: a frame allocator over simulated RAM and a zeroed root from it. */
static void bench_setup(struct paging_bench *b)
{
	static const struct memmap_entry ram[] = { { 0, TABLE_MEMORY, MEM_USABLE } };
	struct frame_config cfg;
	enum frame_status st;

	bench_memmap(ram, ARRAY_SIZE(ram), &b->map);
	if (!simmem_create(&b->mem, TABLE_MEMORY))
		bench_fail("no simulated memory");
	cfg = (struct frame_config){ .offset = simmem_offset(&b->mem), .reserve_below = MIB };
	st = frame_init(&b->fa, &b->map, &cfg);
	if (st != FRAME_OK)
		bench_fail("frame_init: %s", frame_status_message(st));
	b->access = (struct pt_access){ .offset = simmem_offset(&b->mem) };
	b->space = (struct addr_space){
		.access = &b->access,
		.frames = { table_alloc, table_free, &b->fa },
		.allow_1g = true,
		.phys_limit = PHYS_ADDR_LIMIT,
	};
	if (!table_alloc(&b->fa, &b->space.root))
		bench_fail("no frame for the root table");
	free_frames_now(b, &b->free_frames_before);
}

/* Every mapping of [virt, virt + length) is gone and every table but the root is back with the
 * frame allocator: the map and unmap benchmarks end where they started, or report nothing. */
static void check_empty(struct paging_bench *b, uint64_t virt, uint64_t length)
{
	uint64_t free_frames;

	for (uint64_t off = 0; off < length; off += PAGE_SIZE_2M)
		if (paging_translate(&b->space, virt + off).status != PAGING_ERR_NOT_MAPPED)
			bench_fail("a mapping was left at %#llx", (unsigned long long)(virt + off));
	free_frames_now(b, &free_frames);
	if (free_frames != b->free_frames_before)
		bench_fail("page tables leaked: %llu frames", (unsigned long long)(b->free_frames_before - free_frames));
}

static void bench_teardown(struct paging_bench *b)
{
	if (frame_check(&b->fa) != FRAME_OK)
		bench_fail("the frame allocator is corrupt after the benchmark");
	simmem_destroy(&b->mem);
}

/* ---- translate ---------------------------------------------------------------------------- */

/* Maps `count` pages of `size` from `virt` and fills b->addrs with random addresses in them. */
static void map_for_translate(struct paging_bench *b, uint64_t virt, uint64_t size, uint64_t count)
{
	struct rng rng = rng_seed(size);

	for (uint64_t i = 0; i < count; i++)
		expect_mapped(paging_map(&b->space, virt + i * size, PHYS_BASE + i * size, size, FLAGS), "paging_map");
	for (size_t i = 0; i < ADDRS; i++)
		b->addrs[i] = virt + rng_below(&rng, count) * size + rng_below(&rng, size);
}

/* Each address translates to its frame, in a page of `size`: checked before it is measured. */
static void check_translations(struct paging_bench *b, uint64_t virt, uint64_t size)
{
	for (size_t i = 0; i < ADDRS; i++) {
		struct translation t = paging_translate(&b->space, b->addrs[i]);
		if (t.status != PAGING_OK || t.page_size != size || t.phys != b->addrs[i] - virt + PHYS_BASE)
			bench_fail("%#llx translated wrongly", (unsigned long long)b->addrs[i]);
	}
}

static uint64_t translate_all(struct paging_bench *b, uint64_t ops)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < ops; i++)
		sum += paging_translate(&b->space, b->addrs[i % ADDRS]).phys;
	return sum;
}

static void measure_translate(const struct bench_args *args, uint64_t virt, uint64_t size, uint64_t count)
{
	uint64_t ops = ops_or(args, 20000000);
	struct measure m;

	bench_setup(&bench);
	map_for_translate(&bench, virt, size, count);
	check_translations(&bench, virt, size);
	bench_consume(translate_all(&bench, ADDRS));
	measure_begin(&m, ops);
	bench_consume(translate_all(&bench, ops));
	measure_end(&m);
	report_time_per_op(&m, "ns");
	bench_teardown(&bench);
}

static void run_translate_4k(const struct bench_args *args)
{
	measure_translate(args, VIRT_4K, PAGE_SIZE, 4096);  /* eight page tables */
}

static void run_translate_2m(const struct bench_args *args)
{
	measure_translate(args, VIRT_2M, PAGE_SIZE_2M, 512);  /* one page directory */
}

static void run_translate_1g(const struct bench_args *args)
{
	measure_translate(args, VIRT_1G, PAGE_SIZE_1G, 64);
}

/* ---- map and unmap ------------------------------------------------------------------------ */

/* Maps every page of [VIRT_MAP, VIRT_MAP + length), then unmaps them in the same order. */
static void map_unmap_pass(struct paging_bench *b, uint64_t size, uint64_t length)
{
	for (uint64_t off = 0; off < length; off += size)
		expect_mapped(paging_map(&b->space, VIRT_MAP + off, PHYS_BASE + off, size, FLAGS), "paging_map");
	for (uint64_t off = 0; off < length; off += size)
		expect_mapped(paging_unmap(&b->space, VIRT_MAP + off, NULL, NULL), "paging_unmap");
}

/* Whole passes over the range, at least one: --ops is rounded up to a multiple of its pages. */
static void measure_map_unmap(const struct bench_args *args, uint64_t size, uint64_t default_ops)
{
	uint64_t length = args->size != 0 ? args->size : GIB;
	uint64_t pages = length / size;
	struct measure m;

	if (pages == 0 || !is_aligned(length, size))
		bench_fail("--size must be a multiple of the page size");
	uint64_t passes = (ops_or(args, default_ops) + pages - 1) / pages;
	bench_setup(&bench);
	map_unmap_pass(&bench, size, length);
	measure_begin(&m, passes * pages);
	for (uint64_t i = 0; i < passes; i++)
		map_unmap_pass(&bench, size, length);
	measure_end(&m);
	report_time_per_op(&m, "ns");
	check_empty(&bench, VIRT_MAP, length);
	bench_teardown(&bench);
}

static void run_map_unmap_4k(const struct bench_args *args)
{
	measure_map_unmap(args, PAGE_SIZE, 2000000);
}

static void run_map_unmap_2m(const struct bench_args *args)
{
	measure_map_unmap(args, PAGE_SIZE_2M, 2000000);
}

static const struct benchmark benchmarks[] = {
	{ "translate_4k", "paging_translate in 4 KiB pages", run_translate_4k },
	{ "translate_2m", "paging_translate in 2 MiB pages", run_translate_2m },
	{ "translate_1g", "paging_translate in 1 GiB pages", run_translate_1g },
	{ "map_unmap_4k", "map then unmap every 4 KiB page of --size (1G), per pair", run_map_unmap_4k },
	{ "map_unmap_2m", "map then unmap every 2 MiB page of --size (1G), per pair", run_map_unmap_2m },
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, benchmarks, ARRAY_SIZE(benchmarks));
}
