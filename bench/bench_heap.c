/*
 * Heap workloads: plain malloc, free and realloc calls, built once and run against every
 * allocator: glibc's own, and jemalloc, mimalloc, tcmalloc and ferrite's heap designs
 * (build/host/libferrite_malloc.so) through LD_PRELOAD.  bench/heap.py runs them; what each
 * number means is in docs/performance.md.
 *
 *   churn     --ops N frees and mallocs of random sizes 8-256 B over 10,000 live objects, after
 *             a warm-up of N (at most 100,000)
 *   realloc   --ops N steps over 1,000 vectors and 1,000 objects: three steps in four grow a
 *             vector by realloc (x1.5, from 16 B up to its random final size of at most 64 KiB,
 *             after which it is freed and starts again), one in four frees an object of
 *             16 B-64 KiB and allocates another
 *   xthread   two threads, each allocating batches of objects (8-256 B) that the other frees;
 *             --ops N objects in all
 *   rss       allocates --size bytes (1 GiB) in objects of 16 B-4 KiB, frees every other one,
 *             allocates half as much again in blocks of 8-32 KiB, frees everything; the
 *             resident memory after each phase
 *
 * Every run first prints "ALLOCATOR<TAB><file>": the shared object that the program's malloc
 * and free resolve to, so the driver can check that the allocator under test is the one
 * running.  Every object is written as a program would use it (one byte in each of its pages,
 * its first and last byte): memory nobody writes costs nothing, and would flatter an allocator
 * that hands out fresh pages.  Those bytes are a tag that is checked when the object is freed
 * or moved: an allocator that hands out one address to two live objects, or a realloc that
 * loses contents, fails the benchmark instead of winning it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/harness.h"
#include "lib/rng.h"
#include "lib/compiler.h"

#define TOUCH_STRIDE 4096

/* A number in [0, n) from 32 random bits, without a division (multiply and shift). */
static uint32_t below(uint32_t random, uint32_t n)
{
	return (uint32_t)(((uint64_t)random * n) >> 32);
}

/* A size in [min, max] from 32 random bits. */
static size_t size_between(uint32_t random, size_t min, size_t max)
{
	return min + below(random, (uint32_t)(max - min + 1));
}

static void *checked_malloc(size_t size)
{
	void *p = malloc(size);

	if (p == NULL)
		bench_fail("malloc(%zu) returned NULL", size);
	return p;
}

/* Writes `tag` into bytes [from, to) of the object the way a program filling them would reach
 * its pages: the first byte, one byte per page, and the last byte. */
static void touch(unsigned char *p, size_t from, size_t to, unsigned char tag)
{
	for (size_t i = from; i < to; i += TOUCH_STRIDE)
		p[i] = tag;
	if (to > from)
		p[to - 1] = tag;
}

/* Fails the benchmark unless the object still begins with `tag`. */
static void expect_tag(const unsigned char *p, unsigned char tag, const char *what)
{
	if (p[0] != tag)
		bench_fail("%s: object %p lost its contents (0x%02x, expected 0x%02x)", what, (const void *)p, p[0], tag);
}

/* The object that `symbol` resolves to for this process, as the PLT binds it. */
static const char *provider(const char *symbol)
{
	void *address = dlsym(RTLD_DEFAULT, symbol);
	Dl_info info;

	if (address == NULL || dladdr(address, &info) == 0 || info.dli_fname == NULL)
		bench_fail("cannot find which object provides %s", symbol);
	return info.dli_fname;
}

/* "ALLOCATOR<TAB><file>": who serves this run.  malloc, free and realloc must agree. */
static void report_allocator(void)
{
	const char *malloc_from = provider("malloc");

	if (strcmp(malloc_from, provider("free")) != 0 || strcmp(malloc_from, provider("realloc")) != 0)
		bench_fail("malloc, free and realloc come from different objects (malloc from %s)", malloc_from);
	printf("ALLOCATOR\t%s\n", malloc_from);
}

/* ---- churn ------------------------------------------------------------------------------------ */

#define CHURN_LIVE 10000
#define CHURN_MIN 8
#define CHURN_MAX 256

static void *churn_slot[CHURN_LIVE];

/* The tag of the object in slot k: two slots given one address differ, 255 times in 256. */
static unsigned char slot_tag(uint32_t k)
{
	return (unsigned char)(k * 31 + 7);
}

static void churn_fill(uint32_t k, size_t size)
{
	unsigned char *p = checked_malloc(size);

	touch(p, 0, size, slot_tag(k));
	churn_slot[k] = p;
}

/* One free and one malloc in a random slot, both drawn from one 64-bit random number. */
static void churn_step(uint64_t random)
{
	uint32_t k = below((uint32_t)random, CHURN_LIVE);

	expect_tag(churn_slot[k], slot_tag(k), "churn");
	free(churn_slot[k]);
	churn_fill(k, size_between((uint32_t)(random >> 32), CHURN_MIN, CHURN_MAX));
}

static void run_churn(const struct bench_args *args)
{
	uint64_t ops = ops_or(args, 10000000);
	struct rng rng = rng_seed(0xc0ffee);
	struct measure m;

	for (uint32_t k = 0; k < CHURN_LIVE; k++)
		churn_fill(k, size_between((uint32_t)rng_next(&rng), CHURN_MIN, CHURN_MAX));
	/* Warm-up: as many steps as measured, at most ten turnovers of the live set, so that the
	 * measured loop is the steady state (and a short count under callgrind stays short). */
	for (uint64_t i = 0; i < ops && i < 10 * CHURN_LIVE; i++)
		churn_step(rng_next(&rng));
	measure_begin(&m, ops);
	for (uint64_t i = 0; i < ops; i++)
		churn_step(rng_next(&rng));
	measure_end(&m);
	for (uint32_t k = 0; k < CHURN_LIVE; k++)
		free(churn_slot[k]);
	report_time_per_op(&m, "ns");
}

/* ---- realloc ---------------------------------------------------------------------------------- */

#define VECTORS 1000
#define OBJECTS 1000
#define GROWTH_MIN 16
#define GROWTH_MAX (64 * 1024)

struct vector {
	unsigned char *data;
	size_t size;
	size_t final_size;
	unsigned char tag;
};

static struct vector vectors[VECTORS];
static unsigned char *loose[OBJECTS];   /* the objects that are not vectors */

static void vector_start(struct vector *v, uint32_t random)
{
	v->size = GROWTH_MIN;
	v->final_size = size_between(random, GROWTH_MIN, GROWTH_MAX);
	v->data = checked_malloc(GROWTH_MIN);
	v->tag += 101;   /* a new vector, a new tag */
	touch(v->data, 0, GROWTH_MIN, v->tag);
}

/* Grows the vector by half (up to its final size) and writes what was added; a vector that
 * has reached its final size is freed and starts again. */
static void vector_step(struct vector *v, uint32_t random)
{
	size_t old = v->size;
	size_t size = old + old / 2 < v->final_size ? old + old / 2 : v->final_size;

	if (old == v->final_size) {
		free(v->data);
		vector_start(v, random);
		return;
	}
	v->data = realloc(v->data, size);
	if (v->data == NULL)
		bench_fail("realloc(%zu) returned NULL", size);
	expect_tag(v->data, v->tag, "realloc");
	expect_tag(v->data + old - 1, v->tag, "realloc");
	touch(v->data, old, size, v->tag);
	v->size = size;
}

/* Replaces loose object k (which may not exist yet) by a new one. */
static void object_step(uint32_t k, uint32_t random)
{
	size_t size = size_between(random, GROWTH_MIN, GROWTH_MAX);

	if (loose[k] != NULL)
		expect_tag(loose[k], slot_tag(k), "realloc");
	free(loose[k]);
	loose[k] = checked_malloc(size);
	touch(loose[k], 0, size, slot_tag(k));
}

/* One step from one 64-bit random number: its two lowest bits choose the kind of step, the rest
 * of the low half the slot (through its high bits), the high half the size. */
static void realloc_step(uint64_t random)
{
	uint32_t slot = (uint32_t)random, size = (uint32_t)(random >> 32);

	if ((random & 3) == 0)
		object_step(below(slot, OBJECTS), size);
	else
		vector_step(&vectors[below(slot, VECTORS)], size);
}

static void run_realloc(const struct bench_args *args)
{
	uint64_t ops = ops_or(args, 2000000);
	struct rng rng = rng_seed(0x5eed);
	struct measure m;

	for (uint32_t k = 0; k < VECTORS; k++) {
		vectors[k].tag = slot_tag(k);
		vector_start(&vectors[k], (uint32_t)rng_next(&rng));
	}
	for (uint32_t k = 0; k < OBJECTS; k++)
		object_step(k, (uint32_t)rng_next(&rng));
	measure_begin(&m, ops);
	for (uint64_t i = 0; i < ops; i++)
		realloc_step(rng_next(&rng));
	measure_end(&m);
	for (uint32_t k = 0; k < VECTORS; k++)
		free(vectors[k].data);
	for (uint32_t k = 0; k < OBJECTS; k++)
		free(loose[k]);
	report_time_per_op(&m, "ns");
}

/* ---- cross-thread frees ----------------------------------------------------------------------- *
 * Each direction is a ring of batches with one producer and one consumer: the producer fills
 * the batch at `produced` with new objects and publishes it; the consumer frees the objects of
 * the batch at `consumed` and hands the slot back.  A thread that finds the other's ring full
 * frees what it has received meanwhile, so the two can never wait for each other. */

#define BATCH 256
#define RING 4
#define XTHREAD_MIN 8
#define XTHREAD_MAX 256

struct ring {
	alignas(64) atomic_uint_fast64_t produced;
	alignas(64) atomic_uint_fast64_t consumed;
	void *batch[RING][BATCH];
};

struct worker {
	struct ring *out;       /* the batches this thread allocates */
	struct ring *in;        /* the batches it frees */
	uint64_t batches;       /* how many it allocates, and receives */
	struct rng rng;
	unsigned char tag;      /* in every object it allocates */
	unsigned char peer_tag; /* in every object it frees */
};

/* Frees every batch waiting in `w->in`; false if there was none. */
static bool free_received(struct worker *w)
{
	uint64_t consumed = atomic_load_explicit(&w->in->consumed, memory_order_relaxed);
	uint64_t produced = atomic_load_explicit(&w->in->produced, memory_order_acquire);

	for (uint64_t b = consumed; b < produced; b++) {
		void **batch = w->in->batch[b % RING];
		for (size_t i = 0; i < BATCH; i++) {
			expect_tag(batch[i], w->peer_tag, "cross-thread");
			free(batch[i]);
		}
		atomic_store_explicit(&w->in->consumed, b + 1, memory_order_release);
	}
	return produced != consumed;
}

/* Waits, freeing what arrives, until the other thread has freed a slot of `w->out`. */
static void wait_for_room(struct worker *w, uint64_t produced)
{
	while (produced - atomic_load_explicit(&w->out->consumed, memory_order_acquire) == RING)
		if (!free_received(w))
			sched_yield();
}

static void allocate_batch(struct worker *w, uint64_t b)
{
	void **batch = w->out->batch[b % RING];

	for (size_t i = 0; i < BATCH; i++) {
		size_t size = size_between((uint32_t)rng_next(&w->rng), XTHREAD_MIN, XTHREAD_MAX);
		batch[i] = checked_malloc(size);
		touch(batch[i], 0, size, w->tag);
	}
	atomic_store_explicit(&w->out->produced, b + 1, memory_order_release);
}

static void *xthread_worker(void *arg)
{
	struct worker *w = arg;

	for (uint64_t b = 0; b < w->batches; b++) {
		wait_for_room(w, b);
		allocate_batch(w, b);
	}
	while (atomic_load_explicit(&w->in->consumed, memory_order_relaxed) < w->batches)
		if (!free_received(w))
			sched_yield();
	return NULL;
}

static struct ring rings[2];

static void run_xthread(const struct bench_args *args)
{
	uint64_t batches = ops_or(args, 4000000) / (2 * BATCH);
	struct worker workers[2] = {
		{ &rings[0], &rings[1], batches, rng_seed(0xa), 'a', 'b' },
		{ &rings[1], &rings[0], batches, rng_seed(0xb), 'b', 'a' },
	};
	pthread_t threads[2];
	struct measure m;

	if (batches == 0)
		bench_fail("--ops must be at least %d", 2 * BATCH);
	measure_begin(&m, 2 * batches * BATCH);
	for (int t = 0; t < 2; t++)
		if (pthread_create(&threads[t], NULL, xthread_worker, &workers[t]) != 0)
			bench_fail("pthread_create failed");
	for (int t = 0; t < 2; t++)
		pthread_join(threads[t], NULL);
	measure_end(&m);
	report_time_per_op(&m, "ns");
}

/* ---- resident memory -------------------------------------------------------------------------- */

#define SMALL_MIN 16
#define SMALL_MAX 4096
#define BLOCK_MIN (8 * 1024)
#define BLOCK_MAX (32 * 1024)
#define MIB (1024.0 * 1024.0)

/* Resident memory now (statm's second field), in MiB. */
static double resident_mib(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2)
		bench_fail("cannot read /proc/self/statm");
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE) / MIB;
}

/* The most resident memory the process has had, in MiB (the kernel's high-water mark). */
static double peak_resident_mib(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_SELF, &usage) != 0)
		bench_fail("getrusage failed");
	return (double)usage.ru_maxrss * 1024.0 / MIB;
}

/* Reports the resident memory now as `metric`; returns it. */
static double report_resident(const char *metric)
{
	double now = resident_mib();

	report(metric, "MiB", now);
	return now;
}

/* An array for the program's own bookkeeping, straight from mmap so that it is not the
 * allocator's memory, and can be given back before the last measurement. */
static void **pointer_array(size_t count)
{
	void *p = mmap(NULL, count * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	               -1, 0);

	if (p == MAP_FAILED)
		bench_fail("mmap of %zu pointers failed", count);
	return p;
}

/* Allocates objects of [min, max] bytes until they add up to `total`; returns how many. */
static size_t allocate_until(void **out, uint64_t total, size_t min, size_t max, struct rng *rng)
{
	size_t n = 0;

	for (uint64_t sum = 0; sum < total; n++) {
		size_t size = size_between((uint32_t)rng_next(rng), min, max);
		out[n] = checked_malloc(size);
		touch(out[n], 0, size, (unsigned char)n);
		sum += size;
	}
	return n;
}

/* Frees objects[first], objects[first + step], ...: those allocate_until made. */
static void free_every(void **objects, size_t count, size_t first, size_t step)
{
	for (size_t i = first; i < count; i += step) {
		expect_tag(objects[i], (unsigned char)i, "rss");
		free(objects[i]);
	}
}

static void run_rss(const struct bench_args *args)
{
	uint64_t total = args->size != 0 ? args->size : UINT64_C(1) << 30;
	size_t small_max = (size_t)(total / SMALL_MIN + 1), block_max = (size_t)(total / 2 / BLOCK_MIN + 1);
	void **small = pointer_array(small_max), **blocks = pointer_array(block_max);
	struct rng rng = rng_seed(0xf4a9);
	size_t smalls, block_count;
	double peak, after;

	report_resident("RSS at start");
	smalls = allocate_until(small, total, SMALL_MIN, SMALL_MAX, &rng);
	report_resident("RSS small objects allocated");
	free_every(small, smalls, 1, 2);
	report_resident("RSS every other freed");
	block_count = allocate_until(blocks, total / 2, BLOCK_MIN, BLOCK_MAX, &rng);
	/* The high-water mark is kept in coarse steps: it can lag a reading just taken. */
	peak = report_resident("RSS blocks allocated");
	free_every(small, smalls, 0, 2);
	free_every(blocks, block_count, 0, 1);
	munmap(small, small_max * sizeof(void *));
	munmap(blocks, block_max * sizeof(void *));
	after = report_resident("RSS everything freed");
	if (peak_resident_mib() > peak)
		peak = peak_resident_mib();
	report("RSS peak", "MiB", peak);
	report("RSS everything freed, share of peak", "%", 100.0 * after / peak);
}

static const struct benchmark benchmarks[] = {
	{ "churn", "--ops frees+mallocs of 8-256 B over 10,000 live objects", run_churn },
	{ "realloc", "--ops steps: vectors grown by realloc to 64 KiB, objects of 16 B-64 KiB", run_realloc },
	{ "xthread", "--ops objects allocated by one thread and freed by the other", run_xthread },
	{ "rss", "--size bytes of 16 B-4 KiB objects, half freed, half as much of 8-32 KiB: RSS", run_rss },
};

int main(int argc, char **argv)
{
	report_allocator();
	return bench_main(argc, argv, benchmarks, ARRAY_SIZE(benchmarks));
}
