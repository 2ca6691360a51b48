/*
 * Frame allocator benchmarks: the portable core over simulated memory (host/support/simmem).
 * What each one measures, and why it is set up the way it is, is in docs/performance.md.
 *
 *   pair_4k        alloc+free of one frame, steady state: both ends served by the order-0 cache
 *   batch_4k       256 allocs then 256 frees of one frame: the cache refills from and drains
 *                  into the buddy lists, so the lists' cost is in the average
 *   pair_2m        alloc+free of an order-9 (2 MiB) block that lies free on its list
 *   pair_2m_split  alloc+free of an order-9 block split from a free 1 GiB block, merged back
 *   init           frame_init from a memory map of --size RAM (128M, 16G or 1T), warm
 *   growth_ferrite --ops N order-0 allocations from a fresh allocator, total time
 *   growth_naive   the same from the tutorial's allocator (bench/naive_frames.h)
 *
 * Every benchmark allocates with FRAME_UNINIT: zeroing a frame costs the same in any allocator,
 * and would hide the allocator's own cost under a 4 KiB memset.
 */
#include "bench/harness.h"
#include "bench/naive_frames.h"
#include "host/support/simmem.h"
#include "lib/compiler.h"
#include "mm/frame.h"
#include "mm/page.h"

/* ---- memory maps ------------------------------------------------------------------------------
 * Raw entries as firmware gives them, normalized as the boot path does: reserved gaps, ACPI
 * ranges inside RAM, and usable edges on odd (even byte-unaligned) addresses. */

#define E(start, end, kind) { (start), (end) - (start), (kind) }

/* The PC below 1 MiB, as QEMU's firmware describes it, in every map. */
#define LOW_MEMORY \
	E(0, 0x9fc00, MEM_USABLE), E(0x9fc00, 0xa0000, MEM_RESERVED), E(0xf0000, 0x100000, MEM_RESERVED)

static const struct memmap_entry map_128m[] = {
	LOW_MEMORY,
	E(0x100000, 0x4000800, MEM_USABLE),
	E(0x4000800, 0x4003000, MEM_ACPI_RECLAIMABLE),
	E(0x4003000, 0x7fdf800, MEM_USABLE),
	E(0x7fdf800, 0x8000000, MEM_RESERVED),
	E(0xfffc0000, 0x100000000, MEM_RESERVED),  /* the BIOS ROM below 4 GiB */
};

static const struct memmap_entry map_16g[] = {
	LOW_MEMORY,
	E(0x100000, 3 * GIB - 0x5400, MEM_USABLE),
	E(3 * GIB - 0x5400, 3 * GIB, MEM_ACPI_NVS),
	E(0xfec00000, 0xfec01000, MEM_RESERVED),  /* the I/O APIC, in the PCI hole */
	E(4 * GIB, 9 * GIB + 0x3400, MEM_USABLE),
	E(9 * GIB + 0x3400, 9 * GIB + 0x9000, MEM_BAD),
	E(9 * GIB + 0x9000, 17 * GIB - 0x800, MEM_USABLE),
};

static const struct memmap_entry map_1t[] = {
	LOW_MEMORY,
	E(0x100000, 3 * GIB - 0x5400, MEM_USABLE),
	E(3 * GIB - 0x5400, 3 * GIB, MEM_ACPI_NVS),
	E(0xfec00000, 0xfec01000, MEM_RESERVED),
	E(4 * GIB, 300 * GIB + 0x3400, MEM_USABLE),
	E(300 * GIB + 0x3400, 300 * GIB + 0x10000, MEM_ACPI_NVS),
	E(300 * GIB + 0x10000, 700 * GIB, MEM_USABLE),
	E(700 * GIB, 700 * GIB + 0x2000, MEM_BOOT_PAGE_TABLES),
	E(700 * GIB + 0x2000, 701 * GIB, MEM_RESERVED),
	E(701 * GIB, 1026 * GIB - 0x7800, MEM_USABLE),
};

/* One whole free GiB, and a small range above it that takes the metadata, so the GiB stays whole. */
static const struct memmap_entry map_whole_gib[] = {
	E(1 * GIB, 2 * GIB, MEM_USABLE),
	E(2 * GIB + MIB, 2 * GIB + 2 * MIB, MEM_USABLE),
};

struct sized_map {
	uint64_t ram;  /* the --size that names it */
	const struct memmap_entry *raw;
	size_t count;
};

static const struct sized_map init_maps[] = {
	{ 128 * MIB, map_128m, ARRAY_SIZE(map_128m) },
	{ 16 * GIB, map_16g, ARRAY_SIZE(map_16g) },
	{ TIB, map_1t, ARRAY_SIZE(map_1t) },
};

/* ---- the allocator under test ------------------------------------------------------------- */

struct frame_bench {
	struct memmap map;
	struct simmem mem;
	struct frame_allocator fa;
};

static struct frame_bench bench;

NOINLINE static _Noreturn void status_failed(const char *what, enum frame_status st)
{
	bench_fail("%s: %s", what, frame_status_message(st));
}

static inline void expect_ok(enum frame_status st, const char *what)
{
	if (unlikely(st != FRAME_OK))
		status_failed(what, st);
}

static void init_allocator(struct frame_bench *b)
{
	struct frame_config cfg = { .offset = simmem_offset(&b->mem), .reserve_below = MIB };

	expect_ok(frame_init(&b->fa, &b->map, &cfg), "frame_init");
}

/* Normalizes the map and backs it with simulated memory. */
static void bench_memory(struct frame_bench *b, const struct memmap_entry *raw, size_t count)
{
	bench_memmap(raw, count, &b->map);
	if (!simmem_create(&b->mem, bench_map_top(&b->map)))
		bench_fail("no simulated memory for a map up to %#llx", (unsigned long long)bench_map_top(&b->map));
}

/* bench_memory, then the allocator over it. */
static void bench_setup(struct frame_bench *b, const struct memmap_entry *raw, size_t count)
{
	bench_memory(b, raw, count);
	init_allocator(b);
}

/* The benchmark ran on a sound allocator, or the run fails and the driver drops its numbers. */
static void bench_teardown(struct frame_bench *b)
{
	expect_ok(frame_check(&b->fa), "frame_check after the benchmark");
	simmem_destroy(&b->mem);
}

/* ---- alloc and free ----------------------------------------------------------------------- */

static void alloc_free_pairs(struct frame_allocator *fa, unsigned order, uint64_t pairs)
{
	for (uint64_t i = 0; i < pairs; i++) {
		uint64_t pa;
		expect_ok(frame_alloc(fa, order, FRAME_UNINIT, &pa), "frame_alloc");
		expect_ok(frame_free(fa, pa, order), "frame_free");
	}
}

/* Warms up (the cache filled, the pages the lists touch backed), then measures `pairs` pairs. */
static void measure_pairs(struct frame_bench *b, unsigned order, uint64_t pairs)
{
	struct measure m;

	alloc_free_pairs(&b->fa, order, pairs / 8 + 1);
	measure_begin(&m, pairs);
	alloc_free_pairs(&b->fa, order, pairs);
	measure_end(&m);
	report_time_per_op(&m, "ns");
}

static void run_pair_4k(const struct bench_args *args)
{
	bench_setup(&bench, map_128m, ARRAY_SIZE(map_128m));
	measure_pairs(&bench, 0, ops_or(args, 20000000));
	bench_teardown(&bench);
}

/* An order-9 block lies free on its list, so the alloc splits nothing and the free merges
 * nothing (its buddy is below the reserved first MiB): checked before measuring. */
static void run_pair_2m(const struct bench_args *args)
{
	struct frame_stats before, after;
	uint64_t pa;

	bench_setup(&bench, map_128m, ARRAY_SIZE(map_128m));
	frame_stats(&bench.fa, &before);
	expect_ok(frame_alloc(&bench.fa, 9, FRAME_UNINIT, &pa), "frame_alloc");
	frame_stats(&bench.fa, &after);
	if (before.free_blocks[9] == 0 || after.free_blocks[9] != before.free_blocks[9] - 1 ||
	    after.free_frames != before.free_frames - 512)
		bench_fail("the 2 MiB block was not taken whole from its list");
	expect_ok(frame_free(&bench.fa, pa, 9), "frame_free");
	frame_stats(&bench.fa, &after);
	if (after.free_blocks[9] != before.free_blocks[9])
		bench_fail("the 2 MiB block merged when freed");
	measure_pairs(&bench, 9, ops_or(args, 20000000));
	bench_teardown(&bench);
}

/* The only free block big enough is the whole GiB, so every alloc splits it nine times and
 * every free merges it back: checked before measuring, so the number means what it says. */
static void run_pair_2m_split(const struct bench_args *args)
{
	struct frame_stats st;
	uint64_t pa;

	bench_setup(&bench, map_whole_gib, ARRAY_SIZE(map_whole_gib));
	expect_ok(frame_alloc(&bench.fa, 9, FRAME_UNINIT, &pa), "frame_alloc");
	frame_stats(&bench.fa, &st);
	if (pa < GIB || pa >= 2 * GIB || st.free_blocks[FRAME_MAX_ORDER] != 0)
		bench_fail("the 2 MiB block did not come from splitting the free GiB");
	expect_ok(frame_free(&bench.fa, pa, 9), "frame_free");
	frame_stats(&bench.fa, &st);
	if (st.free_blocks[FRAME_MAX_ORDER] != 1)
		bench_fail("the 2 MiB block did not merge back into a whole GiB");
	measure_pairs(&bench, 9, ops_or(args, 5000000));
	bench_teardown(&bench);
}

#define BATCH 256  /* more than FRAME_CACHE_SIZE: the cache must refill and drain */

static void alloc_free_batches(struct frame_allocator *fa, uint64_t batches)
{
	uint64_t pa[BATCH];

	for (uint64_t n = 0; n < batches; n++) {
		for (size_t i = 0; i < BATCH; i++)
			expect_ok(frame_alloc(fa, 0, FRAME_UNINIT, &pa[i]), "frame_alloc");
		for (size_t i = 0; i < BATCH; i++)
			expect_ok(frame_free(fa, pa[i], 0), "frame_free");
	}
}

static void run_batch_4k(const struct bench_args *args)
{
	uint64_t batches = (ops_or(args, 10000000) + BATCH - 1) / BATCH;
	struct measure m;

	bench_setup(&bench, map_128m, ARRAY_SIZE(map_128m));
	alloc_free_batches(&bench.fa, batches / 8 + 1);
	measure_begin(&m, batches * BATCH);
	alloc_free_batches(&bench.fa, batches);
	measure_end(&m);
	report_time_per_op(&m, "ns");
	bench_teardown(&bench);
}

/* ---- building the allocator --------------------------------------------------------------- */

static const struct sized_map *init_map(uint64_t ram)
{
	for (size_t i = 0; i < ARRAY_SIZE(init_maps); i++)
		if (init_maps[i].ram == ram)
			return &init_maps[i];
	bench_fail("no memory map of %llu bytes: use --size 128M, 16G or 1T", (unsigned long long)ram);
}

/*
 * The first build is reported on its own: it backs the simulated pages it writes, and those host
 * page faults dominate it (real RAM has none, but its caches are as cold).  The builds after it,
 * over the same memory, are the measured section: warm caches, no faults.
 */
static void run_init(const struct bench_args *args)
{
	const struct sized_map *sm = init_map(args->size != 0 ? args->size : TIB);
	uint64_t builds = ops_or(args, 200);
	struct frame_stats st;
	struct measure m;

	bench_memory(&bench, sm->raw, sm->count);
	uint64_t start = clock_ns();
	init_allocator(&bench);
	report("first build", "us", (double)(clock_ns() - start) / 1e3);
	measure_begin(&m, builds);
	for (uint64_t i = 0; i < builds; i++)
		init_allocator(&bench);
	measure_end(&m);
	report_time_per_op(&m, "us");
	frame_stats(&bench.fa, &st);
	report("metadata", "bytes", (double)st.metadata_bytes);
	report("metadata share", "% of RAM", 100.0 * (double)st.metadata_bytes / (double)memmap_total(&bench.map, MEM_USABLE));
	bench_teardown(&bench);
}

/* ---- growth: ferrite against the tutorial's allocator ------------------------------------- */

static void alloc_frames(struct frame_allocator *fa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pa;
		expect_ok(frame_alloc(fa, 0, FRAME_UNINIT, &pa), "frame_alloc");
		bench_consume(pa);
	}
}

static void run_growth_ferrite(const struct bench_args *args)
{
	uint64_t n = ops_or(args, 1000000);
	struct measure m;

	bench_setup(&bench, map_16g, ARRAY_SIZE(map_16g));
	alloc_frames(&bench.fa, n);  /* backs the pages the free lists run through */
	init_allocator(&bench);
	measure_begin(&m, n);
	alloc_frames(&bench.fa, n);
	measure_end(&m);
	report_total_time(&m, "ms");
	report_time_per_op(&m, "ns");
	bench_teardown(&bench);
}

static void run_growth_naive(const struct bench_args *args)
{
	uint64_t n = ops_or(args, 1000000);
	struct naive_frames nf;
	struct measure m;
	uint64_t pa, last = 0;

	bench_memmap(map_16g, ARRAY_SIZE(map_16g), &bench.map);
	naive_frames_init(&nf, &bench.map);
	measure_begin(&m, n);
	for (uint64_t i = 0; i < n; i++) {
		if (!naive_frames_alloc(&nf, &pa))
			bench_fail("the naive allocator ran out after %llu frames", (unsigned long long)i);
		if (i != 0 && pa <= last)
			bench_fail("the naive allocator went backwards: %#llx after %#llx",
			           (unsigned long long)pa, (unsigned long long)last);
		last = pa;
	}
	measure_end(&m);
	report_total_time(&m, "ms");
	report_time_per_op(&m, "ns");
}

static const struct benchmark benchmarks[] = {
	{ "pair_4k", "alloc+free of one 4 KiB frame, steady state (the order-0 cache)", run_pair_4k },
	{ "batch_4k", "256 allocs then 256 frees of 4 KiB (cache refills and drains)", run_batch_4k },
	{ "pair_2m", "alloc+free of a 2 MiB block free on its list", run_pair_2m },
	{ "pair_2m_split", "alloc+free of a 2 MiB block split from a free GiB", run_pair_2m_split },
	{ "init", "frame_init from a map of --size RAM (128M, 16G, 1T)", run_init },
	{ "growth_ferrite", "--ops order-0 allocations from ferrite, total", run_growth_ferrite },
	{ "growth_naive", "--ops allocations from the tutorial's allocator, total", run_growth_naive },
};

int main(int argc, char **argv)
{
	return bench_main(argc, argv, benchmarks, ARRAY_SIZE(benchmarks));
}
