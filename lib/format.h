/*
 * A freestanding printf engine: the C printf language without floating point, writing into any
 * sink (a buffer, the serial port, the screen).
 *
 * Conversions: d i u x X o c s p %.  Length modifiers: hh h l ll z j t on the integer
 * conversions (none on c, s, p, %).  Flags: - 0 + space #.  Field width and precision: digits or
 * '*' (a negative '*' width means '-' and its magnitude; a negative '*' precision means none).
 * All of it follows C17 7.21.6.1, with these choices where C leaves the behaviour open:
 *   - %p prints "0x" and 16 lower-case hex digits (the full address, so columns line up);
 *     width and '-' apply to it, the other flags are ignored.
 *   - %s of NULL prints "(null)", cut by the precision like any other string.
 *   - '0' on c, s, p and '#' on d, i, u, c, s, p are ignored.
 *   - Anything else after '%' is not a conversion: the whole specification is emitted as text
 *     (so "%y" prints "%y", "%Lf" prints "%Lf", "%n" prints "%n"), and takes no argument.  A
 *     '*' inside it has already taken its int.  A '%' at the very end of fmt prints itself.
 *   - Widths and precisions written as digits saturate at INT_MAX.
 */
#ifndef FERRITE_LIB_FORMAT_H
#define FERRITE_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/compiler.h"

/*
 * Receives the output in pieces: n bytes at s (not NUL-terminated, n > 0).  A run of literal
 * text from fmt always comes in one call; each conversion in a few (padding, sign, digits).
 */
typedef void (*format_sink)(void *ctx, const char *s, size_t n);

/* Formats fmt with the arguments in ap into sink; returns the number of bytes it emitted. */
size_t format(format_sink sink, void *ctx, const char *fmt, va_list ap) PRINTF_LIKE(3, 0);

/*
 * snprintf: writes at most size bytes to buf, the last of them a NUL (when size > 0; buf may be
 * NULL when size is 0), and returns the length the whole output has, without the NUL.  The
 * output was cut short exactly when the result is >= size.
 */
size_t format_buf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* format_buf with a va_list. */
size_t vformat_buf(char *buf, size_t size, const char *fmt, va_list ap) PRINTF_LIKE(3, 0);

#endif
