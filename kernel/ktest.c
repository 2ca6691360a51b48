#include "kernel/ktest.h"

#include <stdarg.h>
#include <stdbool.h>

#include "arch/x86_64/jump.h"
#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "kernel/memory.h"
#include "kernel/options.h"
#include "lib/format.h"
#include "lib/mem.h"

extern const struct ktest __ktests_start[], __ktests_end[];

static struct jump_point test_exit;
static char failure[256];   /* why the running test failed */

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	size_t n = format_buf(failure, sizeof(failure), "%s:%d: ", file, line);

	va_start(ap, fmt);
	if (n < sizeof(failure))
		vformat_buf(failure + n, sizeof(failure) - n, fmt, ap);
	va_end(ap);
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

static uint64_t free_frames(void)
{
	struct frame_stats st;

	frame_stats(&kernel_frames, &st);
	return st.free_frames;
}

/* Runs one test; on failure, `failure` says why. */
static bool run_one(const struct ktest *t)
{
	uint64_t frames_before = free_frames();

	if (jump_save(&test_exit) != 0)
		return false;
	t->run();
	uint64_t frames_after = free_frames();
	if (frames_after != frames_before) {
		format_buf(failure, sizeof(failure), "%s frames: %lu free before the test, %lu after",
		           frames_after < frames_before ? "leaked" : "gained", frames_before, frames_after);
		return false;
	}
	return true;
}

void ktest_main(const char *patterns, size_t len)
{
	unsigned passed = 0, failed = 0, number = 0;

	kprintf("ktest: paging=%s\n", pt_technique_names[options.paging]);
	for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
		if (!selected(t, patterns, len))
			continue;
		number++;
		if (run_one(t)) {
			passed++;
			kprintf("ok   %u %s.%s\n", number, t->group, t->name);
		} else {
			failed++;
			kprintf("FAIL %u %s.%s: %s\n", number, t->group, t->name, failure);
		}
	}
	if (number == 0)
		kprintf("ktest: no test matches '%.*s'\n", (int)len, patterns);
	kprintf("%u passed, %u failed\n", passed, failed);
	machine_exit(failed == 0 && number > 0 ? MACHINE_EXIT_SUCCESS : MACHINE_EXIT_FAILURE);
}
