/*
 * Monitor commands for the kernel heap: statistics, and kmalloc/kfree by hand.  The objects the
 * monitor allocates are kept in a hash map (address -> size asked for), so heapstat can say what
 * they asked for even where the heap itself does not remember requested sizes (the slab).
 */
#include "kernel/console.h"
#include "kernel/kalloc.h"
#include "kernel/kheap.h"
#include "kernel/monitor.h"
#include "kernel/options.h"
#include "lib/hashmap.h"
#include "lib/units.h"
#include "mm/layout.h"

static struct hashmap monitor_objects;
static bool monitor_objects_ready;

static struct hashmap *objects(void)
{
	if (!monitor_objects_ready) {
		hashmap_init(&monitor_objects, &kernel_allocator, NULL);
		monitor_objects_ready = true;
	}
	return &monitor_objects;
}

static void print_monitor_objects(void)
{
	struct hashmap_iter it;
	uint64_t addr, size, total = 0;
	char requested[UNITS_BUF_SIZE];

	if (hashmap_count(objects()) == 0)
		return;
	for (hashmap_iter_init(&it, objects()); hashmap_iter_next(&it, &addr, &size);)
		total += size;
	kprintf("  the monitor holds %zu of them (kmalloc here): %s requested\n", hashmap_count(objects()),
	        format_bytes(requested, total));
}

void cmd_heapstat(int argc, char **argv)
{
	static struct heap_stats st;   /* too large for a comfortable stack frame */
	char mapped[UNITS_BUF_SIZE], peak[UNITS_BUF_SIZE], requested[UNITS_BUF_SIZE], used[UNITS_BUF_SIZE];

	(void)argc;
	(void)argv;
	kheap_stats(&st);
	kprintf("%s heap at 0x%016lx%s: %s mapped (peak %s)\n", heap_design_names[st.design], HEAP_BASE,
	        options.heap_debug ? " (debug)" : "", format_bytes(mapped, st.bytes_mapped),
	        format_bytes(peak, st.peak_mapped));
	kprintf("  %zu objects, %s handed out", st.objects_in_use, format_bytes(used, st.bytes_in_use));
	if (st.requested_known)
		kprintf(" for %s requested", format_bytes(requested, st.bytes_requested));
	if (st.bytes_mapped)
		kprintf("; %zu%% of the mapped bytes are handed out\n", st.bytes_in_use * 100 / st.bytes_mapped);
	else
		kprintf("\n");
	print_monitor_objects();
	if (st.classes == 0)
		return;
	kprintf("  %8s  %8s  %6s  %10s\n", "class", "objects", "slabs", "held");
	for (size_t i = 0; i < st.classes; i++) {
		const struct heap_class_stats *c = &st.class[i];
		if (c->objects_in_use == 0 && c->slabs == 0)
			continue;
		if (c->size)
			kprintf("  %8zu", c->size);
		else
			kprintf("  %8s", "pages");   /* objects too large for a class: whole page runs */
		kprintf("  %8zu  %6zu  %10s\n", c->objects_in_use, c->slabs, format_bytes(used, c->bytes_held));
	}
}

void cmd_kmalloc(int argc, char **argv)
{
	uint64_t size;
	void *p;

	(void)argc;
	if (!monitor_number("kmalloc", "size", argv[1], &size))
		return;
	p = kmalloc(size);
	if (!p) {
		kprintf("error: kmalloc: out of memory for %lu bytes\n", size);
		return;
	}
	if (hashmap_put(objects(), (uint64_t)p, size) != HASHMAP_OK)
		kprintf("(out of memory to remember it: heapstat will not count it)\n");
	kprintf("%p (%zu usable bytes)\n", p, ksize(p));
}

void cmd_kfree(int argc, char **argv)
{
	uint64_t addr;
	enum heap_status s;

	(void)argc;
	if (!monitor_number("kfree", "address", argv[1], &addr))
		return;
	s = kfree_status((void *)addr);
	if (s == HEAP_OK) {
		hashmap_remove(objects(), addr, NULL);
		kprintf("freed %p\n", (void *)addr);
	}
	else
		kprintf("error: kfree: %s\n", heap_status_message(s));
}
