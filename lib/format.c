/*
 * The printf engine.  format() copies literal runs of fmt to the sink and hands each
 * '%' specification to convert(): parse_spec() reads flags, width, precision and length into a
 * struct spec, then one small function per kind of conversion fetches its argument and lays out
 * the field.  Every field goes through emit_field(), the one place that knows how padding,
 * sign or prefix, zeros and digits are ordered.
 */
#include <stdbool.h>
#include <stdint.h>

#include "lib/format.h"
#include "lib/mem.h"

/* %zd reads ptrdiff_t as "the signed type of size_t", and %tu reads size_t the other way. */
_Static_assert(sizeof(ptrdiff_t) == sizeof(size_t), "size_t and ptrdiff_t differ in width");

enum {
	FLAG_LEFT  = 1u << 0,  /* '-' */
	FLAG_ZERO  = 1u << 1,  /* '0' */
	FLAG_PLUS  = 1u << 2,  /* '+' */
	FLAG_SPACE = 1u << 3,  /* ' ' */
	FLAG_ALT   = 1u << 4,  /* '#' */
};

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct spec {
	unsigned flags;
	size_t width;           /* 0 when absent */
	size_t precision;
	bool has_precision;
	enum length length;
	char conv;              /* the conversion character, or '\0' if fmt ended inside the spec */
};

struct out {
	format_sink sink;
	void *ctx;
	size_t count;
};

static void emit(struct out *out, const char *s, size_t n)
{
	if (n == 0)
		return;
	out->sink(out->ctx, s, n);
	out->count += n;
}

/* Emits n copies of c (a space or '0') in chunks, so a huge width costs few sink calls. */
static void emit_repeat(struct out *out, char c, size_t n)
{
	static const char spaces[] = "                                                                ";
	static const char zeros[]  = "0000000000000000000000000000000000000000000000000000000000000000";
	const char *chunk = c == '0' ? zeros : spaces;
	size_t chunk_len = sizeof(spaces) - 1;

	while (n > 0) {
		size_t step = n < chunk_len ? n : chunk_len;
		emit(out, chunk, step);
		n -= step;
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Where digit widths and precisions saturate: INT_MAX, the most a '*' int can ask for. */
#define FIELD_MAX ((size_t)INT32_MAX)

/* Reads a run of decimal digits into *value, saturating at FIELD_MAX; returns what follows. */
static const char *parse_decimal(const char *p, size_t *value)
{
	size_t v = 0;

	for (; is_digit(*p); p++) {
		size_t d = (size_t)(*p - '0');
		v = v > (FIELD_MAX - d) / 10 ? FIELD_MAX : v * 10 + d;
	}
	*value = v;
	return p;
}

static unsigned flag_of(char c)
{
	switch (c) {
	case '-': return FLAG_LEFT;
	case '0': return FLAG_ZERO;
	case '+': return FLAG_PLUS;
	case ' ': return FLAG_SPACE;
	case '#': return FLAG_ALT;
	default:  return 0;
	}
}

/* The magnitude of a '*' argument; 0u - turns INT_MIN into 2^31 without overflow. */
static size_t magnitude_of_int(int v)
{
	return v < 0 ? 0u - (size_t)v : (size_t)v;
}

static const char *parse_width(const char *p, struct spec *spec, va_list *ap)
{
	if (*p != '*')
		return parse_decimal(p, &spec->width);
	int w = va_arg(*ap, int);
	if (w < 0)
		spec->flags |= FLAG_LEFT;
	spec->width = magnitude_of_int(w);
	return p + 1;
}

static const char *parse_precision(const char *p, struct spec *spec, va_list *ap)
{
	if (*p != '.')
		return p;
	p++;
	if (*p != '*') {
		spec->has_precision = true;
		return parse_decimal(p, &spec->precision);
	}
	int prec = va_arg(*ap, int);
	spec->has_precision = prec >= 0;
	spec->precision = spec->has_precision ? (size_t)prec : 0;
	return p + 1;
}

static const char *parse_length(const char *p, enum length *length)
{
	switch (*p) {
	case 'h':
		if (p[1] == 'h') {
			*length = LEN_HH;
			return p + 2;
		}
		*length = LEN_H;
		return p + 1;
	case 'l':
		if (p[1] == 'l') {
			*length = LEN_LL;
			return p + 2;
		}
		*length = LEN_L;
		return p + 1;
	case 'z': *length = LEN_Z; return p + 1;
	case 'j': *length = LEN_J; return p + 1;
	case 't': *length = LEN_T; return p + 1;
	default:  *length = LEN_NONE; return p;
	}
}

/* Parses the specification after a '%' at p; returns a pointer to its conversion character. */
static const char *parse_spec(const char *p, struct spec *spec, va_list *ap)
{
	unsigned flag;

	*spec = (struct spec){ 0 };
	for (p++; (flag = flag_of(*p)) != 0; p++)
		spec->flags |= flag;
	p = parse_width(p, spec, ap);
	p = parse_precision(p, spec, ap);
	p = parse_length(p, &spec->length);
	spec->conv = *p;
	return p;
}

static intmax_t fetch_signed(va_list *ap, enum length length)
{
	switch (length) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H:  return (short)va_arg(*ap, int);
	case LEN_L:  return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z:  return va_arg(*ap, ptrdiff_t);
	case LEN_J:  return va_arg(*ap, intmax_t);
	case LEN_T:  return va_arg(*ap, ptrdiff_t);
	case LEN_NONE: break;
	}
	return va_arg(*ap, int);
}

/* unsigned char and unsigned short arguments arrive promoted to int. */
static uintmax_t fetch_unsigned(va_list *ap, enum length length)
{
	switch (length) {
	case LEN_HH: return (unsigned char)va_arg(*ap, int);
	case LEN_H:  return (unsigned short)va_arg(*ap, int);
	case LEN_L:  return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z:  return va_arg(*ap, size_t);
	case LEN_J:  return va_arg(*ap, uintmax_t);
	case LEN_T:  return va_arg(*ap, size_t);
	case LEN_NONE: break;
	}
	return va_arg(*ap, unsigned int);
}

/*
 * Writes the digits of v in base 8, 10 or 16 backwards, ending just before end; returns where
 * they start.  Zero is "0".  The bases are split so each divides by a constant (a multiply or a
 * shift) instead of a variable.
 */
static char *digits_backwards(char *end, uintmax_t v, unsigned base, bool upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	if (base == 10) {
		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		return p;
	}
	unsigned shift = base == 16 ? 4 : 3;
	do {
		*--p = hex[v & (base - 1)];
		v >>= shift;
	} while (v != 0);
	return p;
}

/* Enough for the 22 octal digits of 2^64 - 1. */
#define DIGITS_MAX 24

/* Emits prefix, zeros and body as one field, right-aligned in the width, or left under '-'. */
static void emit_field(struct out *out, const struct spec *spec, const char *prefix,
                       size_t prefix_len, size_t zeros, const char *body, size_t body_len)
{
	size_t len = prefix_len + zeros + body_len;
	size_t pad = spec->width > len ? spec->width - len : 0;

	if (!(spec->flags & FLAG_LEFT))
		emit_repeat(out, ' ', pad);
	emit(out, prefix, prefix_len);
	emit_repeat(out, '0', zeros);
	emit(out, body, body_len);
	if (spec->flags & FLAG_LEFT)
		emit_repeat(out, ' ', pad);
}

/*
 * The zeros between an integer's prefix (sign, 0x) and its digits: up to the precision if there
 * is one, else under '0' (and not '-') up to the width.
 */
static size_t leading_zeros(const struct spec *spec, size_t prefix_len, size_t ndigits)
{
	size_t len = prefix_len + ndigits;

	if (spec->has_precision)
		return spec->precision > ndigits ? spec->precision - ndigits : 0;
	if ((spec->flags & (FLAG_ZERO | FLAG_LEFT)) == FLAG_ZERO && spec->width > len)
		return spec->width - len;
	return 0;
}

static void emit_integer(struct out *out, const struct spec *spec, const char *prefix,
                         size_t prefix_len, const char *digits, size_t ndigits)
{
	size_t zeros = leading_zeros(spec, prefix_len, ndigits);

	emit_field(out, spec, prefix, prefix_len, zeros, digits, ndigits);
}

/* The digits of v under spec's precision: ".0" turns a zero into no digits at all. */
static size_t integer_digits(char *end, uintmax_t v, unsigned base, const struct spec *spec,
                             const char **start)
{
	if (v == 0 && spec->has_precision && spec->precision == 0) {
		*start = end;
		return 0;
	}
	*start = digits_backwards(end, v, base, spec->conv == 'X');
	return (size_t)(end - *start);
}

static const char *sign_of(bool negative, unsigned flags)
{
	if (negative)
		return "-";
	if (flags & FLAG_PLUS)
		return "+";
	return flags & FLAG_SPACE ? " " : "";
}

static void convert_signed(struct out *out, const struct spec *spec, va_list *ap)
{
	char buf[DIGITS_MAX];
	const char *digits;
	intmax_t v = fetch_signed(ap, spec->length);
	/* 0 - in unsigned arithmetic: the magnitude of INTMAX_MIN does not fit in intmax_t. */
	uintmax_t magnitude = v < 0 ? 0 - (uintmax_t)v : (uintmax_t)v;
	size_t ndigits = integer_digits(buf + sizeof(buf), magnitude, 10, spec, &digits);
	const char *sign = sign_of(v < 0, spec->flags);

	emit_integer(out, spec, sign, *sign != '\0', digits, ndigits);
}

/*
 * '#' on o forces a leading 0 unless the precision already gives one; on x and X it prefixes
 * a nonzero value with 0x or 0X.
 */
static size_t alt_prefix(const struct spec *spec, uintmax_t v, size_t ndigits, const char **prefix)
{
	if (!(spec->flags & FLAG_ALT))
		return 0;
	if (spec->conv == 'o') {
		bool zero_first = (ndigits > 0 && v == 0) || (spec->has_precision && spec->precision > ndigits);
		*prefix = "0";
		return zero_first ? 0 : 1;
	}
	*prefix = spec->conv == 'X' ? "0X" : "0x";
	return v != 0 ? 2 : 0;
}

static void convert_unsigned(struct out *out, const struct spec *spec, va_list *ap)
{
	char buf[DIGITS_MAX];
	const char *digits;
	const char *prefix = "";
	uintmax_t v = fetch_unsigned(ap, spec->length);
	unsigned base = spec->conv == 'u' ? 10 : spec->conv == 'o' ? 8 : 16;
	size_t ndigits = integer_digits(buf + sizeof(buf), v, base, spec, &digits);
	size_t prefix_len = alt_prefix(spec, v, ndigits, &prefix);

	emit_integer(out, spec, prefix, prefix_len, digits, ndigits);
}

/* A pointer is always "0x" and all 16 digits; only the width and '-' of spec apply. */
static void convert_pointer(struct out *out, const struct spec *spec, va_list *ap)
{
	char buf[DIGITS_MAX];
	struct spec p = {
		.flags = spec->flags & FLAG_LEFT,
		.width = spec->width,
		.precision = 2 * sizeof(void *),
		.has_precision = true,
	};
	uintptr_t v = (uintptr_t)va_arg(*ap, void *);
	const char *digits = digits_backwards(buf + sizeof(buf), v, 16, false);

	emit_integer(out, &p, "0x", 2, digits, (size_t)(buf + sizeof(buf) - digits));
}

/* strlen that stops after max bytes: with a precision the string need not be terminated. */
static size_t bounded_length(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

static void convert_string(struct out *out, const struct spec *spec, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);

	if (s == NULL)
		s = "(null)";
	size_t n = bounded_length(s, spec->has_precision ? spec->precision : SIZE_MAX);

	emit_field(out, spec, "", 0, 0, s, n);   /* '0' does not apply to text */
}

static void convert_char(struct out *out, const struct spec *spec, va_list *ap)
{
	unsigned char c = (unsigned char)va_arg(*ap, int);

	emit_field(out, spec, "", 0, 0, (const char *)&c, 1);
}

/* c, s, p and % take no length modifier: "%ls" would want wide characters. */
static bool is_conversion(const struct spec *spec)
{
	switch (spec->conv) {
	case 'd': case 'i': case 'u': case 'o': case 'x': case 'X':
		return true;
	case 'c': case 's': case 'p': case '%':
		return spec->length == LEN_NONE;
	default:
		return false;
	}
}

/*
 * Handles the specification starting at the '%' at pct and returns where the literal text after
 * it resumes.  What is not a conversion is emitted as it stands.
 */
static const char *convert(struct out *out, const char *pct, va_list *ap)
{
	struct spec spec;
	const char *conv = parse_spec(pct, &spec, ap);

	if (spec.conv == '\0') {
		emit(out, pct, (size_t)(conv - pct));
		return conv;
	}
	if (!is_conversion(&spec)) {
		emit(out, pct, (size_t)(conv + 1 - pct));
		return conv + 1;
	}
	switch (spec.conv) {
	case 'd': case 'i':
		convert_signed(out, &spec, ap);
		break;
	case 'c':
		convert_char(out, &spec, ap);
		break;
	case 's':
		convert_string(out, &spec, ap);
		break;
	case 'p':
		convert_pointer(out, &spec, ap);
		break;
	case '%':
		emit(out, "%", 1);
		break;
	case 'u': case 'o': case 'x': case 'X':
		convert_unsigned(out, &spec, ap);
		break;
	}
	return conv + 1;
}

static const char *next_percent_or_end(const char *p)
{
	while (*p != '\0' && *p != '%')
		p++;
	return p;
}

size_t format(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct out out = { .sink = sink, .ctx = ctx, .count = 0 };
	/* A private copy, so the helpers can share it through a pointer (va_list may be an array
	 * type, and &ap of an array parameter is not a va_list *). */
	va_list args;

	va_copy(args, ap);
	while (*fmt != '\0') {
		const char *pct = next_percent_or_end(fmt);
		emit(&out, fmt, (size_t)(pct - fmt));
		fmt = *pct == '%' ? convert(&out, pct, &args) : pct;
	}
	va_end(args);
	return out.count;
}

/* The sink of format_buf: keeps the first size - 1 bytes and drops the rest. */
struct buf_sink {
	char *buf;
	size_t room;   /* bytes still free, not counting the one kept for the NUL */
	size_t used;
};

static void buf_sink_write(void *ctx, const char *s, size_t n)
{
	struct buf_sink *b = ctx;
	size_t take = n < b->room ? n : b->room;

	if (take == 0)
		return;     /* also keeps a NULL buf of size 0 out of memcpy */
	memcpy(b->buf + b->used, s, take);
	b->used += take;
	b->room -= take;
}

size_t vformat_buf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = { .buf = buf, .room = size > 0 ? size - 1 : 0, .used = 0 };
	size_t len = format(buf_sink_write, &b, fmt, ap);

	if (size > 0)
		buf[b.used] = '\0';
	return len;
}

size_t format_buf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t len = vformat_buf(buf, size, fmt, ap);
	va_end(ap);
	return len;
}
