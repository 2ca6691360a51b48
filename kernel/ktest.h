/*
 * In-kernel tests.  KTEST(group, name) defines a test; `ktest=PATTERNS` on the command line runs
 * the tests whose "group.name" starts with one of the comma-separated patterns ("all" runs every
 * test), prints one line per test and a closing "N passed, N failed" line, and ends QEMU with
 * success or failure.  Each test must give back every frame it takes: the runner checks the free
 * frame count before and after, and a difference fails the test.
 */
#ifndef FERRITE_KERNEL_KTEST_H
#define FERRITE_KERNEL_KTEST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

struct ktest {
	const char *group;
	const char *name;
	void (*run)(void);
};

#define KTEST(group, name)                                                                        \
	static void ktest_run_##group##_##name(void);                                             \
	static const struct ktest ktest_##group##_##name                                          \
		__attribute__((used, section(".ktests"), aligned(8))) = { #group, #name, ktest_run_##group##_##name }; \
	static void ktest_run_##group##_##name(void)

/* Ends the running test as skipped (it does not apply to this boot), with the reason. */
_Noreturn void ktest_skip(const char *why);

/* Ends the running test as failed, with a message. */
_Noreturn void ktest_fail(const char *file, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);

#define KT_ASSERT(cond) \
	((cond) ? (void)0 : ktest_fail(__FILE__, __LINE__, "assertion failed: %s", #cond))

#define KT_ASSERT_MSG(cond, ...) \
	((cond) ? (void)0 : ktest_fail(__FILE__, __LINE__, __VA_ARGS__))

/* Compares two integers (as uint64_t) and shows both on failure. */
#define KT_ASSERT_EQ(a, b)                                                                        \
	do {                                                                                      \
		uint64_t ktest_a_ = (uint64_t)(a), ktest_b_ = (uint64_t)(b);                      \
		if (ktest_a_ != ktest_b_)                                                         \
			ktest_fail(__FILE__, __LINE__, "%s == %s: 0x%lx != 0x%lx", #a, #b,        \
			           ktest_a_, ktest_b_);                                           \
	} while (0)

/* Runs the tests matching `patterns` and ends QEMU. */
_Noreturn void ktest_main(const char *patterns, size_t len);

#endif
