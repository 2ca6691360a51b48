/*
 * lib/format against the host's snprintf as the reference model: tens of thousands of random
 * format strings drawn from the grammar both define the same way, compared byte for byte at full
 * size and at a random cut; then the edges, and the choices C leaves to us (checked against
 * literal expectations).
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/format.h"

#define OUT_MAX 4096
#define CANARY 0xa5

/*
 * Formats with libc and with vformat_buf into buffers of `size` bytes inside larger ones filled
 * with CANARY, and requires the same length and the same bytes everywhere, canaries included.
 * Returns the length.
 */
static size_t compare_at_size(size_t size, const char *fmt, va_list ap)
{
	static unsigned char want[OUT_MAX + 64], got[OUT_MAX + 64];
	va_list a1, a2;

	cr_assert_leq(size, OUT_MAX);
	memset(want, CANARY, sizeof(want));
	memset(got, CANARY, sizeof(got));
	va_copy(a1, ap);
	int want_len = vsnprintf((char *)want, size, fmt, a1);
	va_end(a1);
	va_copy(a2, ap);
	size_t got_len = vformat_buf((char *)got, size, fmt, a2);
	va_end(a2);

	cr_assert_geq(want_len, 0, "libc rejected \"%s\"", fmt);
	cr_assert_eq(got_len, (size_t)want_len, "\"%s\": length %zu, libc %d", fmt, got_len, want_len);
	cr_assert(memcmp(got, want, sizeof(got)) == 0, "\"%s\" at size %zu: got \"%.200s\", libc \"%.200s\"",
	          fmt, size, (char *)got, (char *)want);
	return got_len;
}

/* compare_at_size at full size, then at a random size from 0 to one past the length. */
static void compare_with_libc(struct rng *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t len = compare_at_size(OUT_MAX, fmt, ap);
	cr_assert_lt(len, OUT_MAX, "test format too long: \"%s\"", fmt);
	compare_at_size(rng_below(r, len + 2), fmt, ap);
	va_end(ap);
}

/* compare_at_size at every size from 0 to two past the length. */
static void compare_all_sizes(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t len = compare_at_size(OUT_MAX, fmt, ap);
	for (size_t size = 0; size <= len + 2; size++)
		compare_at_size(size, fmt, ap);
	va_end(ap);
}

/*
 * Requires that fmt formats to exactly want_len bytes at want.  Without a format attribute, so
 * the tests can pass what the compiler's checker rightly rejects.
 */
static void expect_bytes(const char *want, size_t want_len, const char *fmt, ...)
{
	char got[OUT_MAX];
	va_list ap;

	memset(got, CANARY, sizeof(got));
	va_start(ap, fmt);
	size_t got_len = vformat_buf(got, sizeof(got), fmt, ap);
	va_end(ap);
	cr_assert_eq(got_len, want_len, "\"%s\": length %zu, want %zu (\"%s\")", fmt, got_len, want_len, got);
	cr_assert(memcmp(got, want, want_len) == 0 && got[want_len] == '\0',
	          "\"%s\": got \"%s\", want \"%s\"", fmt, got, want);
}

#define expect(want, ...) expect_bytes((want), strlen(want), __VA_ARGS__)

/* ---------------------------------------------------------------------------------------------
 * Random formats. */

struct random_format {
	char fmt[1024];
	size_t len;
	int ints[64];        /* the int arguments in order: '*' values, then (int-only formats) values */
	size_t nints;
};

static void put(struct random_format *f, const char *s)
{
	size_t n = strlen(s);

	cr_assert_lt(f->len + n, sizeof(f->fmt));
	memcpy(f->fmt + f->len, s, n + 1);
	f->len += n;
}

static void put_char(struct random_format *f, char c)
{
	char s[2] = { c, '\0' };

	put(f, s);
}

static void put_number(struct random_format *f, unsigned v)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", v);
	put(f, s);
}

static void put_int_arg(struct random_format *f, int v)
{
	cr_assert_lt(f->nints, sizeof(f->ints) / sizeof(f->ints[0]));
	f->ints[f->nints++] = v;
}

/* Literal text: ASCII, tabs and newlines, bytes above 0x7f, and "%%". */
static void random_literal(struct rng *r, struct random_format *f)
{
	static const char alphabet[] = "abcXYZ 09:[]-+.#*\t\n\x80\xc3\xa9\xff";

	for (uint64_t n = rng_below(r, 12); n > 0; n--) {
		if (rng_one_in(r, 8))
			put(f, "%%");
		else
			put_char(f, alphabet[rng_below(r, sizeof(alphabet) - 1)]);
	}
}

static bool is_integer_conv(char conv)
{
	return strchr("diuxXo", conv) != NULL;
}

/*
 * The flags C defines for conv: '#' only on o x X, '0' only on integers.  '+' and ' ' are defined
 * to matter only for signed conversions, so they may appear anywhere.
 */
static const char *flags_for(char conv)
{
	if (!is_integer_conv(conv))
		return "-+ ";
	return strchr("oxX", conv) != NULL ? "-0+ #" : "-0+ ";
}

/* Width: none, digits (sometimes wide), or '*' with a value that may be negative. */
static void random_width(struct rng *r, struct random_format *f)
{
	switch (rng_below(r, 3)) {
	case 0:
		break;
	case 1:
		put_number(f, 1 + (unsigned)rng_below(r, rng_one_in(r, 10) ? 300 : 40));
		break;
	default:
		put(f, "*");
		put_int_arg(f, (int)rng_below(r, 101) - 50);
		break;
	}
}

/* Precision: none, ".", digits, or ".*" with a value that may be negative (meaning none). */
static void random_precision(struct rng *r, struct random_format *f)
{
	switch (rng_below(r, 5)) {
	case 0:
	case 1:
		break;
	case 2:
		put(f, ".");
		break;
	case 3:
		put(f, ".");
		put_number(f, (unsigned)rng_below(r, 40));
		break;
	default:
		put(f, ".*");
		put_int_arg(f, (int)rng_below(r, 61) - 10);
		break;
	}
}

enum length { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T, L_COUNT };

static const char *const length_text[L_COUNT] = { "", "hh", "h", "l", "ll", "z", "j", "t" };

/* Appends one conversion specification for conv with the given length modifier. */
static void random_spec(struct rng *r, struct random_format *f, char conv, enum length length)
{
	const char *flags = flags_for(conv);

	put(f, "%");
	for (uint64_t n = rng_below(r, 5); n > 0; n--)
		put_char(f, flags[rng_below(r, strlen(flags))]);
	random_width(r, f);
	if (conv != 'c')   /* a precision on %c is undefined */
		random_precision(r, f);
	put(f, length_text[length]);
	put_char(f, conv);
}

/* A value with interesting bits: zero, small, all ones, powers of two and their neighbours. */
static uint64_t random_bits(struct rng *r)
{
	uint64_t bit = (uint64_t)1 << rng_below(r, 64);

	switch (rng_below(r, 7)) {
	case 0: return 0;
	case 1: return 1 + rng_below(r, 20);
	case 2: return UINT64_MAX - rng_below(r, 3);
	case 3: return bit;
	case 4: return bit - 1;
	case 5: return rng_next(r) >> rng_below(r, 64);
	default: return rng_next(r);
	}
}

/* A string of up to 40 bytes from 1 to 255, in a buffer reused by the next call. */
static const char *random_string(struct rng *r)
{
	static char s[41];
	size_t n = rng_below(r, sizeof(s));

	for (size_t i = 0; i < n; i++)
		s[i] = (char)(1 + rng_below(r, 255));
	s[n] = '\0';
	return s;
}

/* Calls compare_with_libc with f's '*' arguments (at most two) and then v. */
#define COMPARE_WITH_VALUE(r, f, v)                                                            \
	do {                                                                                    \
		switch ((f)->nints) {                                                           \
		case 0: compare_with_libc((r), (f)->fmt, (v)); break;                           \
		case 1: compare_with_libc((r), (f)->fmt, (f)->ints[0], (v)); break;             \
		default: compare_with_libc((r), (f)->fmt, (f)->ints[0], (f)->ints[1], (v)); break; \
		}                                                                               \
	} while (0)

/* Runs f, whose one conversion is conv with the length modifier, on a value of the right type. */
static void compare_random_value(struct rng *r, const struct random_format *f, char conv, enum length length)
{
	uint64_t bits = random_bits(r);
	bool is_signed = conv == 'd' || conv == 'i';

	if (conv == 'c') {
		COMPARE_WITH_VALUE(r, f, (int)(unsigned char)bits);
		return;
	}
	if (conv == 's') {
		COMPARE_WITH_VALUE(r, f, random_string(r));
		return;
	}
	switch (length) {
	case L_NONE:
		if (is_signed)
			COMPARE_WITH_VALUE(r, f, (int)bits);
		else
			COMPARE_WITH_VALUE(r, f, (unsigned)bits);
		break;
	case L_HH:
		COMPARE_WITH_VALUE(r, f, is_signed ? (int)(signed char)bits : (int)(unsigned char)bits);
		break;
	case L_H:
		COMPARE_WITH_VALUE(r, f, is_signed ? (int)(short)bits : (int)(unsigned short)bits);
		break;
	case L_L:
		if (is_signed)
			COMPARE_WITH_VALUE(r, f, (long)bits);
		else
			COMPARE_WITH_VALUE(r, f, (unsigned long)bits);
		break;
	case L_LL:
		if (is_signed)
			COMPARE_WITH_VALUE(r, f, (long long)bits);
		else
			COMPARE_WITH_VALUE(r, f, (unsigned long long)bits);
		break;
	case L_J:
		if (is_signed)
			COMPARE_WITH_VALUE(r, f, (intmax_t)bits);
		else
			COMPARE_WITH_VALUE(r, f, (uintmax_t)bits);
		break;
	case L_Z:
	case L_T:
		/* %zd and %tu read the other type of the same width; ptrdiff_t and size_t are those. */
		if (is_signed)
			COMPARE_WITH_VALUE(r, f, (ptrdiff_t)bits);
		else
			COMPARE_WITH_VALUE(r, f, (size_t)bits);
		break;
	case L_COUNT:
		cr_assert_fail("bad length");
	}
}

Test(format, random_single_conversions_match_libc)
{
	static const char convs[] = "diuxXocs";
	struct rng r = rng_seed(0x5eed0001);

	for (int i = 0; i < 40000; i++) {
		struct random_format f = { .len = 0 };
		char conv = convs[rng_below(&r, sizeof(convs) - 1)];
		enum length length = is_integer_conv(conv) ? (enum length)rng_below(&r, L_COUNT) : L_NONE;

		random_literal(&r, &f);
		random_spec(&r, &f, conv, length);
		random_literal(&r, &f);
		compare_random_value(&r, &f, conv, length);
	}
}

/* A value for an int-passed conversion that is in range for what conv and length read. */
static int random_int_value(struct rng *r, char conv, enum length length)
{
	uint64_t bits = random_bits(r);
	bool is_signed = conv == 'd' || conv == 'i';

	if (conv == 'c' || (length == L_HH && !is_signed))
		return (unsigned char)bits;
	if (length == L_HH)
		return (signed char)bits;
	if (length == L_H)
		return is_signed ? (short)bits : (unsigned short)bits;
	return is_signed ? (int)bits : (int)(bits & INT_MAX);   /* %u of an int must fit both */
}

/*
 * Several conversions per string, all of which take ints, so one call with many int arguments
 * serves any of them (C ignores arguments past the last conversion).
 */
Test(format, random_multi_conversions_match_libc)
{
	static const char convs[] = "diuxXoc";
	struct rng r = rng_seed(0x5eed0002);

	for (int i = 0; i < 10000; i++) {
		struct random_format f = { .len = 0 };

		random_literal(&r, &f);
		for (uint64_t n = 1 + rng_below(&r, 6); n > 0; n--) {
			char conv = convs[rng_below(&r, sizeof(convs) - 1)];
			enum length length = conv == 'c' ? L_NONE : (enum length)rng_below(&r, L_H + 1);
			random_spec(&r, &f, conv, length);
			put_int_arg(&f, random_int_value(&r, conv, length));
			random_literal(&r, &f);
		}
		const int *a = f.ints;
		compare_with_libc(&r, f.fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
		                  a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17]);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Edges against libc. */

Test(format, extreme_integers_match_libc)
{
	struct rng r = rng_seed(3);

	compare_with_libc(&r, "%lld|%+lld|% lld|%30lld|%-30lld|%.25lld|%030lld", (long long)INT64_MIN,
	                  (long long)INT64_MIN, (long long)INT64_MIN, (long long)INT64_MIN,
	                  (long long)INT64_MIN, (long long)INT64_MIN, (long long)INT64_MIN);
	compare_with_libc(&r, "%lld|%+lld|%llu|%llx|%#llX|%#llo|%#30llo", (long long)INT64_MAX,
	                  (long long)INT64_MAX, (unsigned long long)UINT64_MAX,
	                  (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX,
	                  (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX);
	compare_with_libc(&r, "%jd|%ju|%zu|%zx|%td|%d|%i", INTMAX_MIN, UINTMAX_MAX, SIZE_MAX, SIZE_MAX,
	                  PTRDIFF_MIN, INT_MIN, INT_MAX);
	compare_with_libc(&r, "%hhd|%hhu|%hd|%hu|%hhx", SCHAR_MIN, UCHAR_MAX, SHRT_MIN, USHRT_MAX, 0xab);
}

/* hh and h convert an out-of-range int as C says: to (un)signed char or short. */
Test(format, short_lengths_truncate_like_libc)
{
	struct rng r = rng_seed(4);

	compare_with_libc(&r, "%hhd|%hhu|%hd|%hu|%hhx|%hX", 300, -1, 70000, -70000, 0x1234, 0x12345);
}

Test(format, zero_width_and_precision_match_libc)
{
	struct rng r = rng_seed(5);

	compare_with_libc(&r, "[%.0d][%5.0d][%-5.0d][%+.0d][% .0d][%.0u][%.0x][%#.0x][%#.0o][%#o]",
	                  0, 0, 0, 0, 0, 0u, 0u, 0u, 0u, 0u);
	compare_with_libc(&r, "[%.d][%.0s][%.s][%0d][%00d][%.007d][%08.3d][%-08d]", 0, "abc", "abc",
	                  7, 7, 7, -7, -7);
	compare_with_libc(&r, "[%#08o][%#.5o][%#8.5o][%#08x][%#-8x][%#.0X]", 8u, 8u, 8u, 255u, 255u, 1u);
	compare_with_libc(&r, "[%*d][%*d][%.*d][%.*s][%-*.*s]", -6, 42, 0, 42, -3, 42, -1, "abc",
	                  -7, 2, "abcdef");
}

Test(format, huge_widths_and_precisions_match_libc)
{
	static char want[200000], got[200000];
	const char *fmts[] = { "%100000d|", "%-100000s|", "%.100000d|", "%0100000x|", "%100000c|" };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		int want_len = i == 1 ? snprintf(want, sizeof(want), fmts[i], "s")
		                      : snprintf(want, sizeof(want), fmts[i], 'q');
		size_t got_len = i == 1 ? format_buf(got, sizeof(got), fmts[i], "s")
		                        : format_buf(got, sizeof(got), fmts[i], 'q');
		cr_assert_eq(got_len, (size_t)want_len, "%s", fmts[i]);
		cr_assert(memcmp(got, want, (size_t)want_len + 1) == 0, "%s", fmts[i]);
	}
}

Test(format, truncation_at_every_size_matches_libc)
{
	compare_all_sizes("");
	compare_all_sizes("plain text, no conversions");
	compare_all_sizes("%-12s|%+08.3d|%#x|%c|%%|%lld|%o", "left", -42, 0xbeefu, 'z',
	                  (long long)INT64_MIN, 0777u);
	compare_all_sizes("%30s%-30d%030x", "right", 17, 0x42u);
	compare_all_sizes("%c%c%c", 'a', 0, 'b');   /* a NUL in the middle of the output */
}

/* ---------------------------------------------------------------------------------------------
 * The buffer contract. */

Test(format, always_terminates_and_never_writes_past_size)
{
	char buf[8];

	for (size_t size = 1; size <= sizeof(buf); size++) {
		memset(buf, CANARY, sizeof(buf));
		cr_assert_eq(format_buf(buf, size, "%s-%d", "abcdef", 12345), 12);
		cr_assert_eq(buf[size - 1], '\0');
		cr_assert_eq(strlen(buf), size - 1);
		cr_assert(memcmp(buf, "abcdef-12345", size - 1) == 0);
		for (size_t i = size; i < sizeof(buf); i++)
			cr_assert_eq((unsigned char)buf[i], CANARY, "byte %zu written at size %zu", i, size);
	}
}

Test(format, size_zero_only_counts)
{
	char buf[1] = { 'x' };

	cr_assert_eq(format_buf(NULL, 0, "hello %d %s", 42, "world"), 14);
	cr_assert_eq(format_buf(buf, 0, "hello"), 5);
	cr_assert_eq(buf[0], 'x');
}

/* ---------------------------------------------------------------------------------------------
 * The choices C leaves open (lib/format.h), against literal expectations. */

Test(format, pointer_is_0x_and_16_digits)
{
	struct rng r = rng_seed(6);
	char want[64], inner[32];

	expect("0x0000000000000000", "%p", (void *)0);
	expect("0x00000000deadbeef", "%p", (void *)(uintptr_t)0xdeadbeef);
	expect("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	for (int i = 0; i < 2000; i++) {
		uintptr_t v = (uintptr_t)random_bits(&r);
		int width = (int)rng_below(&r, 30);
		bool left = rng_one_in(&r, 2);

		snprintf(inner, sizeof(inner), "0x%016jx", (uintmax_t)v);
		snprintf(want, sizeof(want), left ? "%-*s" : "%*s", width, inner);
		/* '0', '+', ' ' and '#' are ignored; a precision too. */
		expect(want, left ? "%-*p" : "%*p", width, (void *)v);
		expect(want, left ? "%-0+ #*.3p" : "%0+ #*.40p", width, (void *)v);
	}
}

Test(format, null_string_prints_null_cut_by_precision)
{
	const char *null = NULL;

	expect("(null)", "%s", null);
	expect("(nu", "%.3s", null);
	expect("  (null)|", "%8s|", null);
	expect("(null)  |", "%-8s|", null);
	expect("", "%.0s", null);
}

Test(format, precision_bounds_the_read_of_an_unterminated_string)
{
	const char abc[3] = { 'a', 'b', 'c' };   /* no NUL: ASan catches a read past it */

	expect("abc", "%.3s", abc);
	expect("ab", "%.2s", abc);
	expect("  abc", "%5.3s", abc);
	expect("abc", "%.*s", 3, abc);
}

Test(format, zero_flag_does_not_pad_text)
{
	expect("   ab", "%05s", "ab");
	expect("    a", "%05c", 'a');
}

Test(format, char_zero_is_one_byte)
{
	expect_bytes("a\0b", 3, "a%cb", 0);
	expect_bytes("  \0", 3, "%3c", 0);
}

Test(format, unknown_conversions_are_emitted_as_text)
{
	expect("%y", "%y");
	expect("[%5.3y]", "[%5.3y]");
	expect("%-+ #0y", "%-+ #0y");
	expect("%ls %lc %hp %ll%", "%ls %lc %hp %ll%");   /* c s p % take no length */
	expect("%Lf %f %e %a %g", "%Lf %f %e %a %g");     /* no floating point */
	expect("%n", "%n");                                /* never writes through an argument */
	expect("%q 7", "%q %d", 7);                        /* takes no argument */
	expect("%*y7", "%*y%d", 5, 7);                     /* but a '*' inside takes its int */
	expect("100%", "100%");                            /* a '%' at the end */
	expect("abc%-5", "abc%-5");                        /* a spec cut by the end */
	expect("%.*", "%.*", 3);
	expect("%hh", "%hh");
}

Test(format, percent_ignores_flags_and_width)
{
	expect("%", "%%");
	expect("%|%", "%5%|%-05%");
}

/* Digit widths beyond INT_MAX saturate instead of wrapping around to something small. */
static void count_only(void *ctx, const char *s, size_t n)
{
	(void)s;
	*(size_t *)ctx += n;
}

static size_t count_output(const char *fmt, ...)
{
	size_t counted = 0;
	va_list ap;

	va_start(ap, fmt);
	size_t len = format(count_only, &counted, fmt, ap);
	va_end(ap);
	cr_assert_eq(len, counted);
	return len;
}

Test(format, digit_widths_saturate_at_int_max)
{
	cr_assert_eq(count_output("%99999999999999999999999d", 1), INT_MAX);
	cr_assert_eq(count_output("%.4294967297d|", 1), (size_t)INT_MAX + 1);
	cr_assert_eq(count_output("%*d", INT_MIN, 1), (size_t)INT_MAX + 1);
}

/* ---------------------------------------------------------------------------------------------
 * The sink interface. */

struct recorder {
	char data[256];
	size_t len;
	size_t calls;
	size_t empty_calls;
};

static void record(void *ctx, const char *s, size_t n)
{
	struct recorder *rec = ctx;

	rec->calls++;
	rec->empty_calls += n == 0;
	cr_assert_leq(rec->len + n, sizeof(rec->data));
	memcpy(rec->data + rec->len, s, n);
	rec->len += n;
}

static size_t record_format(struct recorder *rec, const char *fmt, ...)
{
	va_list ap;

	*rec = (struct recorder){ .len = 0 };
	va_start(ap, fmt);
	size_t len = format(record, rec, fmt, ap);
	va_end(ap);
	cr_assert_eq(len, rec->len);
	cr_assert_eq(rec->empty_calls, 0, "the sink got an empty piece");
	return len;
}

Test(format, literal_runs_reach_the_sink_in_one_call)
{
	struct recorder rec;

	record_format(&rec, "a literal run of some length, no conversions");
	cr_assert_eq(rec.calls, 1);
	record_format(&rec, "before %d after", 12345);
	cr_assert_eq(rec.calls, 3);
	cr_assert(memcmp(rec.data, "before 12345 after", rec.len) == 0);
	record_format(&rec, "%d%d", 1, 2);
	cr_assert_eq(rec.calls, 2);
	record_format(&rec, "");
	cr_assert_eq(rec.calls, 0);
}

Test(format, padding_comes_in_chunks)
{
	struct recorder rec;

	record_format(&rec, "%200d", 7);
	cr_assert_eq(rec.len, 200);
	cr_assert_leq(rec.calls, 5, "%zu calls for 199 spaces and a digit", rec.calls);
	cr_assert_eq(count_output("%1000000s", ""), 1000000);
}
