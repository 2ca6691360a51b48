/*
 * Strict number parsing.  scan_number() reads an optional 0x prefix and the longest run of
 * digits after it, tracking overflow instead of wrapping; parse_u64 and parse_size only differ
 * in what they allow after the digits.
 */
#include <stdbool.h>

#include "lib/parse.h"

const char *parse_status_message(enum parse_status st)
{
	switch (st) {
	case PARSE_OK:             return "ok";
	case PARSE_ERR_EMPTY:      return "no digits";
	case PARSE_ERR_BAD_DIGIT:  return "not a number";
	case PARSE_ERR_OVERFLOW:   return "number too large (2^64 or more)";
	case PARSE_ERR_BAD_SUFFIX: return "unknown unit (expected K, M, G or T)";
	}
	return "unknown parse status";
}

/* ASCII only: the locale does not exist here. */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The value of c as a digit of base (10 or 16), or base itself if it is not one. */
static unsigned digit_value(char c, unsigned base)
{
	char l = lower(c);
	unsigned d = base;

	if (c >= '0' && c <= '9')
		d = (unsigned)(c - '0');
	else if (l >= 'a' && l <= 'f')
		d = (unsigned)(l - 'a') + 10;
	return d < base ? d : base;
}

struct scan {
	uint64_t value;     /* meaningless when overflow is set */
	bool overflow;
	size_t ndigits;     /* digits read, not counting a 0x prefix */
	size_t end;         /* offset of the first byte after the digits */
};

static bool has_hex_prefix(const char *s, size_t len)
{
	return len >= 2 && s[0] == '0' && lower(s[1]) == 'x';
}

static struct scan scan_number(const char *s, size_t len)
{
	struct scan sc = { 0 };
	unsigned base = 10;

	if (has_hex_prefix(s, len)) {
		base = 16;
		sc.end = 2;
	}
	for (; sc.end < len; sc.end++, sc.ndigits++) {
		unsigned d = digit_value(s[sc.end], base);
		if (d == base)
			break;
		if (sc.value > (UINT64_MAX - d) / base)
			sc.overflow = true;
		sc.value = sc.value * base + d;
	}
	return sc;
}

enum parse_status parse_u64(const char *s, size_t len, uint64_t *out)
{
	struct scan sc = scan_number(s, len);

	if (sc.end < len)
		return PARSE_ERR_BAD_DIGIT;
	if (sc.ndigits == 0)
		return PARSE_ERR_EMPTY;
	if (sc.overflow)
		return PARSE_ERR_OVERFLOW;
	*out = sc.value;
	return PARSE_OK;
}

/* True if s[0, len) is empty, "b" or "ib" in any case. */
static bool is_byte_word(const char *s, size_t len)
{
	if (len == 2 && lower(s[0]) == 'i')
		return lower(s[1]) == 'b';
	return len == 0 || (len == 1 && lower(s[0]) == 'b');
}

/* Reads an optional unit (see parse_size) into the power of two it multiplies by. */
static bool unit_shift(const char *s, size_t len, unsigned *shift)
{
	static const char units[] = "kmgt";

	if (len == 0) {
		*shift = 0;
		return true;
	}
	for (unsigned i = 0; units[i] != '\0'; i++) {
		if (lower(s[0]) == units[i] && is_byte_word(s + 1, len - 1)) {
			*shift = 10 * (i + 1);
			return true;
		}
	}
	return false;
}

enum parse_status parse_size(const char *s, size_t len, uint64_t *out)
{
	struct scan sc = scan_number(s, len);
	unsigned shift;

	if (sc.ndigits == 0)
		return sc.end == len ? PARSE_ERR_EMPTY : PARSE_ERR_BAD_DIGIT;
	if (!unit_shift(s + sc.end, len - sc.end, &shift))
		return PARSE_ERR_BAD_SUFFIX;
	if (sc.overflow || sc.value > UINT64_MAX >> shift)
		return PARSE_ERR_OVERFLOW;
	*out = sc.value << shift;
	return PARSE_OK;
}
