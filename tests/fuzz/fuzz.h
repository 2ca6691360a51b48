/*
 * What the fuzz targets share: their entry points, the failure exit, and a reader that turns the
 * fuzzer's bytes into the numbers a target asks for.
 *
 * Each target is a plain function, fuzz_<name>(data, size), that returns 0 and stops the process
 * with fuzz_fail() when a check fails.  Built with -DFERRITE_LIBFUZZER it also gets libFuzzer's
 * LLVMFuzzerTestOneInput (FUZZ_ENTRY); without it the same function runs from the host test
 * tests/host/test_fuzz_regressions.c, over the seed corpora and every input that once failed.
 */
#ifndef FERRITE_TESTS_FUZZ_H
#define FERRITE_TESTS_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_multiboot2(const uint8_t *data, size_t size);
int fuzz_frame(const uint8_t *data, size_t size);
int fuzz_paging(const uint8_t *data, size_t size);
int fuzz_heap(const uint8_t *data, size_t size);

#ifdef FERRITE_LIBFUZZER
#define FUZZ_ENTRY(fn)                                                      \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);        \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fn(data, size); }
#else
#define FUZZ_ENTRY(fn)
#endif

/* A failed check: says where and what, then aborts, which libFuzzer reports as a crash (and saves
 * the input) and Criterion as a crashed test. */
static inline _Noreturn __attribute__((format(printf, 3, 4))) void fuzz_fail(const char *file, int line,
                                                                              const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz check failed at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FUZZ_CHECK(cond, ...)                                   \
	do {                                                    \
		if (!(cond))                                    \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* The unread part of the input.  Reads past the end give zeros, so every input is a valid
 * program: a short one is simply a program of zeros at the end. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline bool fuzz_done(const struct fuzz_input *in) { return in->left == 0; }

/* The next `n` <= 8 bytes as a little-endian number. */
static inline uint64_t fuzz_bytes(struct fuzz_input *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && in->left != 0; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in) { return (uint8_t)fuzz_bytes(in, 1); }
static inline uint16_t fuzz_u16(struct fuzz_input *in) { return (uint16_t)fuzz_bytes(in, 2); }
static inline uint32_t fuzz_u32(struct fuzz_input *in) { return (uint32_t)fuzz_bytes(in, 4); }
static inline uint64_t fuzz_u64(struct fuzz_input *in) { return fuzz_bytes(in, 8); }

/* A number in [0, n), n > 0, from one byte (n <= 256) or two. */
static inline uint64_t fuzz_below(struct fuzz_input *in, uint64_t n)
{
	return (n <= 256 ? fuzz_u8(in) : fuzz_u16(in)) % n;
}

#endif
