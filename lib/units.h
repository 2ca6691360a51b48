/* Byte counts for people: "636 KiB", "3.9 GiB". */
#ifndef FERRITE_LIB_UNITS_H
#define FERRITE_LIB_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define UNITS_BUF_SIZE 16   /* enough for any uint64_t: "1023.9 PiB" is the longest */

/*
 * Writes `bytes` in the largest binary unit that keeps the number at 1 or more, with one decimal,
 * rounded down so a size is never overstated, and without the decimal when it is 0:
 * "4 KiB", "3.9 GiB", "636 KiB".  Returns buf.
 */
const char *format_bytes(char buf[UNITS_BUF_SIZE], uint64_t bytes);

#endif
