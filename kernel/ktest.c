#include "kernel/ktest.h"

#include <stdarg.h>
#include <stdbool.h>

#include "arch/x86_64/jump.h"
#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "kernel/kheap.h"
#include "kernel/memory.h"
#include "kernel/options.h"
#include "lib/format.h"
#include "lib/mem.h"

extern const struct ktest __ktests_start[], __ktests_end[];

enum verdict { PASSED, FAILED, SKIPPED };

static struct jump_point test_exit;
static char failure[256];   /* why the running test failed, or was skipped */
static enum verdict exit_verdict;  /* what jumping to test_exit means */

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	size_t n = format_buf(failure, sizeof(failure), "%s:%d: ", file, line);

	va_start(ap, fmt);
	if (n < sizeof(failure))
		vformat_buf(failure + n, sizeof(failure) - n, fmt, ap);
	va_end(ap);
	exit_verdict = FAILED;
	jump_back(&test_exit);
}

void ktest_skip(const char *why)
{
	format_buf(failure, sizeof(failure), "%s", why);
	exit_verdict = SKIPPED;
	jump_back(&test_exit);
}

/* Does "group.name" start with the pattern [p, p + n)? */
static bool name_matches(const struct ktest *t, const char *p, size_t n)
{
	size_t group_len = strlen(t->group);

	if (n == 3 && memcmp(p, "all", 3) == 0)
		return true;
	if (n <= group_len)
		return memcmp(t->group, p, n) == 0;
	return memcmp(t->group, p, group_len) == 0 && p[group_len] == '.' &&
	       strncmp(t->name, p + group_len + 1, n - group_len - 1) == 0 &&
	       strlen(t->name) >= n - group_len - 1;
}

static bool selected(const struct ktest *t, const char *patterns, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && patterns[i] != ',')
			continue;
		if (i > start && name_matches(t, patterns + start, i - start))
			return true;
		start = i + 1;
	}
	return false;
}

/* Where every frame is: free, held by the heap (its pages may stay cached between tests), or
 * a page table.  A test must leave the sum as it found it, and every heap object freed. */
struct accounts {
	int64_t frames;
	size_t heap_objects;
};

static struct accounts take_accounts(void)
{
	struct frame_stats fs;
	struct heap_stats hs;

	frame_stats(&kernel_frames, &fs);
	kheap_stats(&hs);
	return (struct accounts){
		.frames = (int64_t)fs.free_frames + (int64_t)(hs.bytes_mapped / PAGE_SIZE) + kernel_table_frames_delta,
		.heap_objects = hs.objects_in_use,
	};
}

/* Runs one test; unless it passed, `failure` says why. */
static enum verdict run_one(const struct ktest *t)
{
	struct accounts before = take_accounts(), after;

	if (jump_save(&test_exit) != 0)
		return exit_verdict;
	t->run();
	after = take_accounts();
	if (after.frames != before.frames) {
		format_buf(failure, sizeof(failure), "%s %ld frames (free + heap + page tables: %ld before, %ld after)",
		           after.frames < before.frames ? "leaked" : "gained", after.frames - before.frames,
		           before.frames, after.frames);
		return FAILED;
	}
	if (after.heap_objects != before.heap_objects) {
		format_buf(failure, sizeof(failure), "leaked %zu heap objects", after.heap_objects - before.heap_objects);
		return FAILED;
	}
	return PASSED;
}

void ktest_main(const char *patterns, size_t len)
{
	unsigned passed = 0, failed = 0, skipped = 0, number = 0;

	kprintf("ktest: paging=%s heap=%s%s\n", pt_technique_names[options.paging], heap_design_names[options.heap],
	        options.heap_debug ? " heap.debug=1" : "");
	for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
		if (!selected(t, patterns, len))
			continue;
		number++;
		switch (run_one(t)) {
		case PASSED:
			passed++;
			kprintf("ok   %u %s.%s\n", number, t->group, t->name);
			break;
		case FAILED:
			failed++;
			kprintf("FAIL %u %s.%s: %s\n", number, t->group, t->name, failure);
			break;
		case SKIPPED:
			skipped++;
			kprintf("skip %u %s.%s: %s\n", number, t->group, t->name, failure);
			break;
		}
	}
	if (number == 0)
		kprintf("ktest: no test matches '%.*s'\n", (int)len, patterns);
	kprintf("%u passed, %u failed", passed, failed);
	if (skipped)
		kprintf(", %u skipped", skipped);
	kputs("\n");
	machine_exit(failed == 0 && passed > 0 ? MACHINE_EXIT_SUCCESS : MACHINE_EXIT_FAILURE);
}
