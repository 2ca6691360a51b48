/* Small compiler helpers shared by the kernel and the host builds. */
#ifndef FERRITE_LIB_COMPILER_H
#define FERRITE_LIB_COMPILER_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define PRINTF_LIKE(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

#endif
