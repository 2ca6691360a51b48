/*
 * Strict number parsing for the command line and the monitor.
 *
 * The input is len bytes at s (no NUL needed; a NUL inside is just a bad character).  Nothing
 * is skipped or guessed: no whitespace, no sign, no '_' separators, no octal (a leading 0 is
 * a decimal digit).  *out is written only on PARSE_OK.  When the text is malformed and its
 * digits also overflow, the syntax error is the one reported.
 */
#ifndef FERRITE_LIB_PARSE_H
#define FERRITE_LIB_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum parse_status {
	PARSE_OK,
	PARSE_ERR_EMPTY,        /* no digits: "" or a bare "0x" */
	PARSE_ERR_BAD_DIGIT,    /* a character that is not a digit of the number's base */
	PARSE_ERR_OVERFLOW,     /* the value is 2^64 or more */
	PARSE_ERR_BAD_SUFFIX,   /* parse_size: the text after the digits is not a unit */
};

/* A short lower-case phrase for st ("number too large", ...), for messages. */
const char *parse_status_message(enum parse_status st);

/* Parses a decimal number, or a hexadecimal one after 0x or 0X (digits in either case). */
enum parse_status parse_u64(const char *s, size_t len, uint64_t *out);

/*
 * Parses a byte count: a number as parse_u64 takes it, then optionally a binary unit K, M, G
 * or T (2^10, 2^20, 2^30, 2^40; either case), which may be followed by "B" or "iB" (either
 * case; both still mean the binary unit).  "64M", "64MiB", "0x10k", "4096".  A lone "B" is not a
 * unit, so "0x1B" is 27.  The digits are the longest run valid in the base; whatever follows
 * them must be a unit.
 */
enum parse_status parse_size(const char *s, size_t len, uint64_t *out);

#endif
