/* Small compiler helpers shared by the kernel and the host builds. */
#ifndef FERRITE_LIB_COMPILER_H
#define FERRITE_LIB_COMPILER_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Keeps a slow path out of line, so that the fast path calling it needs no stack frame. */
#define NOINLINE __attribute__((__noinline__))

/* Inlines even where the compiler would not: a hot path built from small helpers. */
#define ALWAYS_INLINE inline __attribute__((__always_inline__))

#define PRINTF_LIKE(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

#endif
