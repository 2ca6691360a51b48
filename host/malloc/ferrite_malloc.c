/*
 * libferrite_malloc.so: ferrite's heap as the C library's malloc, for any Linux program through
 * LD_PRELOAD.  The heap code is the kernel's own (mm/heap*.c); only the glue is here:
 *   - pages come from a range of address space reserved at first use (host/support/host_pages),
 *     so memory the heap gives back leaves the process;
 *   - one lock around the heap, taken only once the process has a second thread (glibc's
 *     __libc_single_threaded says so), and around fork so the child inherits a heap in one piece;
 *   - set up on the first call, whenever that is (before constructors, from the dynamic loader);
 *   - a detected error (double free, invalid free, redzone, use after free) is printed on stderr
 *     and the program aborts, like glibc's "free(): invalid pointer".
 * malloc and free run the heap's inline paths (heap_alloc_fast, heap_free_fast) under the lock,
 * and call out of line only when those cannot finish: then the heap is set up if it is not yet.
 * Environment: FERRITE_HEAP=bump|list|fixed|slab (default slab), FERRITE_HEAP_DEBUG=1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "host/support/host_pages.h"
#include "lib/compiler.h"
#include "lib/format.h"
#include "lib/panic.h"
#include "mm/heap.h"

#define EXPORT __attribute__((visibility("default")))

/* Address space reserved for the heap: plenty, and it costs nothing until used.  Where the
 * process may not reserve that much (under valgrind, or with a ulimit -v), it takes what it can
 * get, halving down to RESERVE_MIN. */
#define RESERVE     (UINT64_C(256) << 30)
#define RESERVE_MIN (UINT64_C(256) << 20)

static struct heap heap;   /* all zero until set_up: its inline paths then never succeed */
static struct host_pages pages;
static int lock;
static bool ready;

/* The lock is taken: spin a while, then yield, until it is free and ours. */
static NOINLINE void wait_for_lock(void)
{
	do {
		for (int spins = 0; __atomic_load_n(&lock, __ATOMIC_RELAXED) && spins < 100; spins++)
			__builtin_ia32_pause();
		if (__atomic_load_n(&lock, __ATOMIC_RELAXED))
			sched_yield();
	} while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE));
}

/*
 * True if the caller may go on: the lock is now its own, or the process has only one thread and
 * there is no one to keep out (the lock's atomic exchange would cost more than the heap's own
 * work).  glibc clears __libc_single_threaded before a second thread starts, and only a thread
 * of ours could start one: not while it is in here.  False: the lock is taken, wait for it.
 */
static ALWAYS_INLINE bool try_lock(void)
{
	return __libc_single_threaded || !__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE);
}

static void take_lock(void)
{
	if (!try_lock())
		wait_for_lock();
}

/* Unconditional: a single-threaded caller did not take the lock, but nobody else holds it. */
static ALWAYS_INLINE void drop_lock(void)
{
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

/* No stdio here: it may call malloc. */
static void write_stderr(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(2, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static _Noreturn void die(const char *line)
{
	write_stderr(line, strlen(line));
	abort();
}

static void report(void *ctx, const struct heap_error *e)
{
	char line[256];

	(void)ctx;
	format_buf(line, sizeof(line), "ferrite_malloc: %s at %p (%s heap, class %zu): %s\n", e->what,
	           (void *)e->addr, heap_design_name(heap.cfg.design), e->size_class, heap_status_message(e->status));
	drop_lock();   /* abort() may run handlers that allocate */
	die(line);
}

/* The heap's broken-invariant path, without stdio. */
void panic_at(const char *file, int line, const char *fmt, ...)
{
	char text[256];
	size_t n = format_buf(text, sizeof(text), "ferrite_malloc: panic at %s:%d: ", file, line);
	va_list ap;

	va_start(ap, fmt);
	if (n < sizeof(text))
		vformat_buf(text + n, sizeof(text) - n, fmt, ap);
	va_end(ap);
	die(text);
}

static enum heap_design design_from_env(void)
{
	const char *name = getenv("FERRITE_HEAP");

	for (int d = 0; name && d < HEAP_DESIGN_COUNT; d++)
		if (strcmp(name, heap_design_name((enum heap_design)d)) == 0)
			return (enum heap_design)d;
	return HEAP_SLAB;
}

static uint64_t random_secret(void)
{
	uint64_t secret = 0;

	if (getrandom(&secret, sizeof(secret), GRND_NONBLOCK) != sizeof(secret))
		secret = (uint64_t)(uintptr_t)&secret * UINT64_C(0x9e3779b97f4a7c15);
	return secret;
}

/* Called with the lock held. */
static void set_up(void)
{
	const char *debug = getenv("FERRITE_HEAP_DEBUG");
	struct heap_config cfg;

	size_t reserve = RESERVE;

	while (!host_pages_reserve(&pages, reserve))
		if ((reserve /= 2) < RESERVE_MIN)
			die("ferrite_malloc: cannot reserve address space for the heap\n");
	cfg = (struct heap_config){
		.design = design_from_env(),
		.region = { .base = pages.base, .limit = pages.size, .pages = host_pages_seam(&pages) },
		.debug = debug && strcmp(debug, "1") == 0,
		.secret = random_secret(),
		.report = report,
	};
	if (heap_init(&heap, &cfg) != HEAP_OK)
		die("ferrite_malloc: cannot set up the heap\n");
	ready = true;
}

static void lock_heap(void)
{
	take_lock();
	if (unlikely(!ready))
		set_up();
}

/* fork: the child gets the heap as it was between two calls, never halfway through one.  The
 * lock is taken even by a single thread, in case the child or parent starts threads later. */
static void before_fork(void)
{
	if (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		wait_for_lock();
	if (!ready)
		set_up();
}

static void after_fork(void) { drop_lock(); }

__attribute__((constructor)) static void register_fork_handlers(void)
{
	pthread_atfork(before_fork, after_fork, after_fork);
}

/* Everything heap_alloc_fast does not serve: other sizes and alignments, a heap not yet set up. */
static NOINLINE void *allocate(size_t size, size_t align)
{
	void *p;

	lock_heap();
	p = heap_alloc(&heap, size, align);
	drop_lock();
	if (!p)
		errno = ENOMEM;
	return p;
}

static NOINLINE void *out_of_memory(void)
{
	errno = ENOMEM;
	return NULL;
}

/* malloc and free keep their common case free of calls that need registers saved: a thread that
 * waits for the lock, and every case the inline paths do not finish, go out of line whole. */
EXPORT void *malloc(size_t size)
{
	void *p;

	if (unlikely(!try_lock()))
		return allocate(size, 0);
	if (unlikely(!heap_alloc_is_fast(&heap, size))) {
		drop_lock();
		return allocate(size, 0);
	}
	p = heap_alloc_fast(&heap, size);
	drop_lock();
	return likely(p != NULL) ? p : out_of_memory();
}

/* Everything heap_free_fast does not finish (NULL, page runs, errors, a heap not yet set up). */
static NOINLINE void free_slow(void *ptr)
{
	lock_heap();
	heap_free(&heap, ptr);
	drop_lock();
}

EXPORT void free(void *ptr)
{
	if (likely(try_lock())) {
		if (likely(heap_free_fast(&heap, ptr))) {
			drop_lock();
			return;
		}
		drop_lock();
	}
	free_slow(ptr);
}

EXPORT void *calloc(size_t n, size_t size)
{
	void *p;

	lock_heap();
	p = heap_calloc(&heap, n, size);
	drop_lock();
	if (!p)
		errno = ENOMEM;
	return p;
}

EXPORT void *realloc(void *ptr, size_t size)
{
	void *p;

	lock_heap();
	p = heap_realloc(&heap, ptr, size);
	drop_lock();
	if (!p && size)
		errno = ENOMEM;
	return p;
}

EXPORT size_t malloc_usable_size(void *ptr)
{
	size_t n;

	lock_heap();
	n = heap_usable_size(&heap, ptr);
	drop_lock();
	return n;
}

static bool power_of_two(size_t x) { return x && (x & (x - 1)) == 0; }

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!power_of_two(align) || align % sizeof(void *) != 0)
		return EINVAL;
	if (align > HEAP_MAX_ALIGN)
		return EINVAL;
	p = allocate(size, align);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (!power_of_two(align) || align > HEAP_MAX_ALIGN) {
		errno = EINVAL;
		return NULL;
	}
	return allocate(size, align);
}

EXPORT void *memalign(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

_Static_assert(PAGE_SIZE <= HEAP_MAX_ALIGN, "valloc needs page alignment");

EXPORT void *valloc(size_t size)
{
	return allocate(size, PAGE_SIZE);
}

EXPORT void *pvalloc(size_t size)
{
	if (size > SIZE_MAX - PAGE_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	return allocate(align_up(size, PAGE_SIZE), PAGE_SIZE);
}
