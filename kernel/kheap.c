#include "kernel/kheap.h"

#include "arch/x86_64/cpu_features.h"
#include "arch/x86_64/spinlock.h"
#include "kernel/console.h"
#include "kernel/memory.h"
#include "lib/panic.h"
#include "mm/layout.h"

static struct heap heap;
static struct spinlock heap_lock;

static void (*reporter)(void *ctx, const struct heap_error *e);
static void *reporter_ctx;

/* ---- the page seam: frames from the frame allocator, mapped into the heap region ---------- */

static void unmap_heap_pages(void *ctx, uintptr_t addr, size_t len)
{
	(void)ctx;
	/* The heap only unmaps what it mapped: a failure here is a broken invariant. */
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t frame;
		enum paging_status ps = paging_unmap(&kernel_space, addr + off, &frame, NULL);
		if (ps != PAGING_OK)
			panic("heap page %#lx: %s", addr + off, paging_status_message(ps));
		enum frame_status fs = frame_free(&kernel_frames, frame, 0);
		if (fs != FRAME_OK)
			panic("heap frame %#lx: %s", frame, frame_status_message(fs));
	}
}

/* Maps fresh zeroed frames; on failure gives back what this call mapped. */
static bool map_heap_pages(void *ctx, uintptr_t addr, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t frame;
		if (frame_alloc(&kernel_frames, 0, 0, &frame) != FRAME_OK) {
			unmap_heap_pages(ctx, addr, off);
			return false;
		}
		if (paging_map(&kernel_space, addr + off, frame, PAGE_SIZE, PAGE_WRITE | PAGE_NOEXEC) != PAGING_OK) {
			frame_free(&kernel_frames, frame, 0);
			unmap_heap_pages(ctx, addr, off);
			return false;
		}
	}
	return true;
}

/* ---- reports ------------------------------------------------------------------------------ */

static void report(void *ctx, const struct heap_error *e)
{
	(void)ctx;
	if (reporter) {
		reporter(reporter_ctx, e);
		return;
	}
	kprintf("heap: %s at %p (%s heap, class %zu): %s\n", e->what, (void *)e->addr,
	        heap_design_name(heap.cfg.design), e->size_class, heap_status_message(e->status));
}

void kheap_set_reporter(void (*fn)(void *ctx, const struct heap_error *e), void *ctx)
{
	bool irq = spin_lock_irqsave(&heap_lock);

	reporter = fn;
	reporter_ctx = ctx;
	spin_unlock_irqrestore(&heap_lock, irq);
}

void kheap_init(enum heap_design design, bool debug, size_t limit)
{
	struct heap_config cfg = {
		.design = design,
		.region = { .base = HEAP_BASE, .limit = limit, .pages = { map_heap_pages, unmap_heap_pages, NULL } },
		.debug = debug,
		.zero_fill = true,
		.secret = cpu_random64(),
		.report = report,
	};
	enum heap_status s = heap_init(&heap, &cfg);

	if (s != HEAP_OK)
		panic("kernel heap (%s, limit %zu bytes): %s", heap_design_name(design), limit, heap_status_message(s));
}

/* ---- the interface, each call under the lock ---------------------------------------------- */

void *kmalloc_aligned(size_t size, size_t align)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	void *p = heap_alloc(&heap, size, align);

	spin_unlock_irqrestore(&heap_lock, irq);
	return p;
}

void *kmalloc(size_t size)
{
	return kmalloc_aligned(size, 0);
}

void *kcalloc(size_t n, size_t size)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	void *p = heap_calloc(&heap, n, size);

	spin_unlock_irqrestore(&heap_lock, irq);
	return p;
}

void *krealloc(void *ptr, size_t size)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	void *p = heap_realloc(&heap, ptr, size);

	spin_unlock_irqrestore(&heap_lock, irq);
	return p;
}

enum heap_status kfree_status(void *ptr)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	enum heap_status s = heap_free(&heap, ptr);

	spin_unlock_irqrestore(&heap_lock, irq);
	return s;
}

void kfree(void *ptr)
{
	kfree_status(ptr);
}

size_t ksize(const void *ptr)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	size_t n = heap_usable_size(&heap, ptr);

	spin_unlock_irqrestore(&heap_lock, irq);
	return n;
}

size_t kheap_limit(void)
{
	return heap.cfg.region.limit;
}

enum heap_status kheap_check(void)
{
	bool irq = spin_lock_irqsave(&heap_lock);
	enum heap_status s = heap_check(&heap);

	spin_unlock_irqrestore(&heap_lock, irq);
	return s;
}

void kheap_stats(struct heap_stats *out)
{
	bool irq = spin_lock_irqsave(&heap_lock);

	heap_stats(&heap, out);
	spin_unlock_irqrestore(&heap_lock, irq);
}
