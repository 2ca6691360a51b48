/*
 * lib/parse against reference models written another way (whole-string checks first, 128-bit
 * arithmetic, parse_size by trying every unit as a suffix), on random and mutated strings, plus
 * the hostile cases and the boundaries by hand.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/parse.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/* ---------------------------------------------------------------------------------------------
 * Reference models. */

static int ref_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ref_digit(char c, unsigned base)
{
	const char *digits = "0123456789abcdef";
	const char *at = c != '\0' ? strchr(digits, ref_lower((unsigned char)c)) : NULL;

	return at != NULL && (unsigned)(at - digits) < base ? (int)(at - digits) : -1;
}

static enum parse_status ref_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	unsigned __int128 v = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return PARSE_ERR_EMPTY;
	for (size_t i = 0; i < len; i++)
		if (ref_digit(s[i], base) < 0)
			return PARSE_ERR_BAD_DIGIT;
	for (size_t i = 0; i < len; i++) {
		v = v * base + (unsigned)ref_digit(s[i], base);
		if (v > UINT64_MAX)
			return PARSE_ERR_OVERFLOW;
	}
	*out = (uint64_t)v;
	return PARSE_OK;
}

static bool ends_with_ci(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	if (n > len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ref_lower((unsigned char)s[len - n + i]) != suffix[i])
			return false;
	return true;
}

/* Tries every unit spelling as a suffix; only when none fits does it classify the error. */
static enum parse_status ref_parse_size(const char *s, size_t len, uint64_t *out)
{
	static const struct { const char *text; unsigned shift; } units[] = {
		{ "", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t v;
		if (!ends_with_ci(s, len, units[i].text))
			continue;
		enum parse_status st = ref_parse_u64(s, len - strlen(units[i].text), &v);
		if (st == PARSE_ERR_OVERFLOW)
			return st;
		if (st != PARSE_OK)
			continue;
		if (((unsigned __int128)v << units[i].shift) > UINT64_MAX)
			return PARSE_ERR_OVERFLOW;
		*out = v << units[i].shift;
		return PARSE_OK;
	}
	size_t start = len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0;
	if (start == len)
		return PARSE_ERR_EMPTY;
	return ref_digit(s[start], start == 2 ? 16 : 10) < 0 ? PARSE_ERR_BAD_DIGIT : PARSE_ERR_BAD_SUFFIX;
}

/* ---------------------------------------------------------------------------------------------
 * Checking against the models. */

typedef enum parse_status (*parser)(const char *s, size_t len, uint64_t *out);

/* Runs parse and ref on the len bytes at s; same status, same value, *out untouched on error. */
static void agree(parser parse, parser ref, const char *s, size_t len)
{
	uint64_t got = SENTINEL, want = SENTINEL;
	enum parse_status got_st = parse(s, len, &got);
	enum parse_status want_st = ref(s, len, &want);

	cr_assert_eq(got_st, want_st, "\"%.*s\": status %d, reference %d", (int)len, s, got_st, want_st);
	cr_assert_eq(got, want, "\"%.*s\": %llu, reference %llu", (int)len, s,
	             (unsigned long long)got, (unsigned long long)want);
}

static void agree_both(const char *s, size_t len)
{
	agree(parse_u64, ref_parse_u64, s, len);
	agree(parse_size, ref_parse_size, s, len);
}

/* A value near something interesting: 0, small, powers of two and their neighbours, all ones. */
static uint64_t random_value(struct rng *r)
{
	uint64_t bit = (uint64_t)1 << rng_below(r, 64);

	switch (rng_below(r, 6)) {
	case 0: return rng_below(r, 10);
	case 1: return bit;
	case 2: return bit - 1;
	case 3: return UINT64_MAX - rng_below(r, 3);
	case 4: return rng_next(r) >> rng_below(r, 64);
	default: return rng_next(r);
	}
}

/* Writes a number the grammar accepts, sometimes with a unit; returns its length. */
static size_t random_number_text(struct rng *r, char *buf, size_t size)
{
	static const char *const units[] = { "", "", "k", "K", "M", "mib", "G", "gB", "T", "TiB", "tIb" };
	uint64_t v = random_value(r);
	const char *unit = units[rng_below(r, sizeof(units) / sizeof(units[0]))];
	const char *zeros = rng_one_in(r, 8) ? "0000000000000000000000" : "";
	int n;

	switch (rng_below(r, 4)) {
	case 0:  n = snprintf(buf, size, "0x%s%llx%s", zeros, (unsigned long long)v, unit); break;
	case 1:  n = snprintf(buf, size, "0X%s%llX%s", zeros, (unsigned long long)v, unit); break;
	default: n = snprintf(buf, size, "%s%llu%s", zeros, (unsigned long long)v, unit); break;
	}
	cr_assert(n > 0 && (size_t)n < size);
	return (size_t)n;
}

/* Replaces, inserts or deletes one byte, or appends a digit (to push past 2^64). */
static size_t mutate(struct rng *r, char *buf, size_t len, size_t size)
{
	static const char bytes[] = "0123456789abcdefxXkKmMgGtTiIbB _-+.\t\n\xff";
	char c = bytes[rng_below(r, sizeof(bytes) - 1)];
	size_t at = rng_below(r, len + 1);

	switch (rng_below(r, 4)) {
	case 0:
		if (at < len)
			buf[at] = c;
		return len;
	case 1:
		if (len + 1 >= size)
			return len;
		memmove(buf + at + 1, buf + at, len - at);
		buf[at] = c;
		return len + 1;
	case 2:
		if (at < len)
			memmove(buf + at, buf + at + 1, len - at - 1);
		return at < len ? len - 1 : len;
	default:
		if (len + 1 >= size)
			return len;
		buf[len] = (char)('0' + rng_below(r, 10));
		return len + 1;
	}
}

Test(parse, random_numbers_and_mutations_match_the_models)
{
	struct rng r = rng_seed(0x9a45e001);
	char buf[96];

	for (int i = 0; i < 50000; i++) {
		size_t len = random_number_text(&r, buf, sizeof(buf));
		agree_both(buf, len);
		for (uint64_t n = rng_below(&r, 4); n > 0; n--) {
			len = mutate(&r, buf, len, sizeof(buf));
			agree_both(buf, len);
		}
	}
}

Test(parse, random_strings_match_the_models)
{
	static const char alphabet[] = "0000111999aAfFxXkKmMgGtTiIbBzZ _+-\t\0\xff";
	struct rng r = rng_seed(0x9a45e002);
	char buf[32];

	for (int i = 0; i < 100000; i++) {
		size_t len = rng_below(&r, sizeof(buf));
		for (size_t j = 0; j < len; j++)
			buf[j] = alphabet[rng_below(&r, sizeof(alphabet) - 1)];
		agree_both(buf, len);
	}
}

/* Whatever libc prints, parse_u64 reads back (and libc agrees on the value). */
Test(parse, decimal_and_hex_round_trip_through_libc)
{
	struct rng r = rng_seed(0x9a45e003);
	char buf[32];

	for (int i = 0; i < 20000; i++) {
		uint64_t v = random_value(&r), got = 0;
		int n = snprintf(buf, sizeof(buf), rng_one_in(&r, 2) ? "%llu" : "%#llx", (unsigned long long)v);

		cr_assert_eq(parse_u64(buf, (size_t)n, &got), PARSE_OK, "%s", buf);
		cr_assert_eq(got, v, "%s", buf);
		cr_assert_eq(strtoull(buf, NULL, 0), v, "libc disagrees on %s", buf);
	}
}

/* ---------------------------------------------------------------------------------------------
 * By hand. */

static void expect_u64(const char *s, enum parse_status want_st, uint64_t want)
{
	uint64_t got = SENTINEL;

	cr_assert_eq(parse_u64(s, strlen(s), &got), want_st, "parse_u64(\"%s\")", s);
	cr_assert_eq(got, want_st == PARSE_OK ? want : SENTINEL, "parse_u64(\"%s\") = %llu", s,
	             (unsigned long long)got);
}

static void expect_size(const char *s, enum parse_status want_st, uint64_t want)
{
	uint64_t got = SENTINEL;

	cr_assert_eq(parse_size(s, strlen(s), &got), want_st, "parse_size(\"%s\")", s);
	cr_assert_eq(got, want_st == PARSE_OK ? want : SENTINEL, "parse_size(\"%s\") = %llu", s,
	             (unsigned long long)got);
}

Test(parse, u64_hostile_input)
{
	expect_u64("", PARSE_ERR_EMPTY, 0);
	expect_u64("0x", PARSE_ERR_EMPTY, 0);
	expect_u64("0X", PARSE_ERR_EMPTY, 0);
	expect_u64("0x1g", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("0xg", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("x10", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("0x0x1", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("12a", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64(" 12", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("12 ", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("\t12", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("+12", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("-12", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("1_000", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("12K", PARSE_ERR_BAD_DIGIT, 0);
	expect_u64("99999999999999999999999x", PARSE_ERR_BAD_DIGIT, 0);   /* syntax before overflow */
}

Test(parse, u64_boundaries)
{
	expect_u64("0", PARSE_OK, 0);
	expect_u64("0x0", PARSE_OK, 0);
	expect_u64("010", PARSE_OK, 10);   /* no octal */
	expect_u64("18446744073709551615", PARSE_OK, UINT64_MAX);
	expect_u64("18446744073709551616", PARSE_ERR_OVERFLOW, 0);
	expect_u64("18446744073709551620", PARSE_ERR_OVERFLOW, 0);
	expect_u64("36893488147419103231", PARSE_ERR_OVERFLOW, 0);   /* 2^65 - 1: wraps to a fit */
	expect_u64("99999999999999999999", PARSE_ERR_OVERFLOW, 0);
	expect_u64("000000000000000000000000018446744073709551615", PARSE_OK, UINT64_MAX);
	expect_u64("0xffffffffffffffff", PARSE_OK, UINT64_MAX);
	expect_u64("0xFFFFFFFFFFFFFFFF", PARSE_OK, UINT64_MAX);
	expect_u64("0x10000000000000000", PARSE_ERR_OVERFLOW, 0);
	expect_u64("0x00000000000000000000000000000001", PARSE_OK, 1);
	expect_u64("0xDeadBeef", PARSE_OK, 0xdeadbeef);
}

Test(parse, u64_reads_exactly_len_bytes)
{
	uint64_t v = 0;

	cr_assert_eq(parse_u64("123456", 3, &v), PARSE_OK);
	cr_assert_eq(v, 123);
	cr_assert_eq(parse_u64("12\0" "3", 4, &v), PARSE_ERR_BAD_DIGIT);   /* a NUL is a bad byte */
	cr_assert_eq(parse_u64("0x10", 1, &v), PARSE_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(parse_u64(NULL, 0, &v), PARSE_ERR_EMPTY);
	cr_assert_eq(parse_size(NULL, 0, &v), PARSE_ERR_EMPTY);
}

Test(parse, size_units)
{
	expect_size("4096", PARSE_OK, 4096);
	expect_size("64K", PARSE_OK, 64ull << 10);
	expect_size("64k", PARSE_OK, 64ull << 10);
	expect_size("64KB", PARSE_OK, 64ull << 10);
	expect_size("64KiB", PARSE_OK, 64ull << 10);
	expect_size("64kib", PARSE_OK, 64ull << 10);
	expect_size("64M", PARSE_OK, 64ull << 20);
	expect_size("3G", PARSE_OK, 3ull << 30);
	expect_size("2T", PARSE_OK, 2ull << 40);
	expect_size("0x10k", PARSE_OK, 16ull << 10);
	expect_size("0x1B", PARSE_OK, 0x1b);   /* B is a hex digit; a lone B is no unit */
	expect_size("0x1BK", PARSE_OK, 0x1bull << 10);
	expect_size("0K", PARSE_OK, 0);
}

Test(parse, size_hostile_input)
{
	expect_size("", PARSE_ERR_EMPTY, 0);
	expect_size("0x", PARSE_ERR_EMPTY, 0);
	expect_size("K", PARSE_ERR_BAD_DIGIT, 0);
	expect_size("0xK", PARSE_ERR_BAD_DIGIT, 0);
	expect_size(" 64K", PARSE_ERR_BAD_DIGIT, 0);
	expect_size("-1K", PARSE_ERR_BAD_DIGIT, 0);
	expect_size("64 K", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64K ", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64B", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64iB", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64KK", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64KiBs", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64Ki", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64P", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("64E", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("1.5G", PARSE_ERR_BAD_SUFFIX, 0);
	expect_size("0x1g", PARSE_OK, 1ull << 30);   /* the hex digits end at g, which is a unit */
	expect_size("99999999999999999999999X", PARSE_ERR_BAD_SUFFIX, 0);   /* syntax first */
}

Test(parse, size_overflow)
{
	expect_size("16777215T", PARSE_OK, 16777215ull << 40);
	expect_size("16777216T", PARSE_ERR_OVERFLOW, 0);
	expect_size("17179869183G", PARSE_OK, 17179869183ull << 30);
	expect_size("17179869184G", PARSE_ERR_OVERFLOW, 0);
	expect_size("18014398509481983K", PARSE_OK, 18014398509481983ull << 10);
	expect_size("18014398509481984K", PARSE_ERR_OVERFLOW, 0);
	expect_size("18446744073709551615", PARSE_OK, UINT64_MAX);
	expect_size("18446744073709551616", PARSE_ERR_OVERFLOW, 0);
	expect_size("18446744073709551616K", PARSE_ERR_OVERFLOW, 0);
	expect_size("0xffffffffffffffffK", PARSE_ERR_OVERFLOW, 0);
	expect_size("0x3fffffffffffffK", PARSE_OK, 0x3fffffffffffffull << 10);
}

Test(parse, every_status_has_its_own_message)
{
	const enum parse_status all[] = { PARSE_OK, PARSE_ERR_EMPTY, PARSE_ERR_BAD_DIGIT,
	                                  PARSE_ERR_OVERFLOW, PARSE_ERR_BAD_SUFFIX };
	const size_t n = sizeof(all) / sizeof(all[0]);

	for (size_t i = 0; i < n; i++) {
		const char *m = parse_status_message(all[i]);
		cr_assert(m != NULL && m[0] != '\0');
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(m, parse_status_message(all[j]));
	}
	cr_assert_not_null(parse_status_message((enum parse_status)99));
}
