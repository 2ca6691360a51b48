/*
 * lib/cmdline: the tokenizer and the lookups against reference models built on libc's
 * strspn/strcspn, on random command lines; then the getters and the hostile cases by hand.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/cmdline.h"

#define SEPARATORS " \t"
#define MAX_TOKENS 64

/* ---------------------------------------------------------------------------------------------
 * Reference model: offsets into the string, found with strspn and strcspn. */

struct ref_token {
	size_t key_at, key_len, value_at, value_len;
	bool has_value;
};

static size_t ref_tokens(const char *s, struct ref_token *out, size_t max)
{
	size_t n = 0, at = 0;

	for (;;) {
		at += strspn(s + at, SEPARATORS);
		if (s[at] == '\0')
			return n;
		cr_assert_lt(n, max);
		size_t len = strcspn(s + at, SEPARATORS);
		const char *eq = memchr(s + at, '=', len);
		struct ref_token *t = &out[n++];
		t->key_at = at;
		t->key_len = eq != NULL ? (size_t)(eq - (s + at)) : len;
		t->has_value = eq != NULL;
		t->value_at = eq != NULL ? t->key_at + t->key_len + 1 : at + len;
		t->value_len = at + len - t->value_at;
		at += len;
	}
}

/* The index of the last reference token whose key is key, or -1. */
static long ref_find(const char *s, const struct ref_token *toks, size_t n, const char *key)
{
	long found = -1;

	for (size_t i = 0; i < n; i++)
		if (toks[i].key_len == strlen(key) && strncmp(s + toks[i].key_at, key, toks[i].key_len) == 0)
			found = (long)i;
	return found;
}

static void assert_token_is(const char *s, const struct cmdline_token *tok, const struct ref_token *ref)
{
	cr_assert_eq(tok->key, s + ref->key_at, "\"%s\": key at %td, want %zu", s, tok->key - s, ref->key_at);
	cr_assert_eq(tok->key_len, ref->key_len, "\"%s\"", s);
	cr_assert_eq(tok->value, s + ref->value_at, "\"%s\": value at %td, want %zu", s, tok->value - s,
	             ref->value_at);
	cr_assert_eq(tok->value_len, ref->value_len, "\"%s\"", s);
	cr_assert_eq(tok->has_value, ref->has_value, "\"%s\"", s);
}

/* ---------------------------------------------------------------------------------------------
 * Random command lines. */

static const char *const keys[] = { "heap", "heap.debug", "heap.max", "paging", "hea", "h", "x=" };
static const char *const values[] = { "", "1", "0", "on", "off", "slab", "offset", "64M", "0x1000",
                                      "a=b", "==", "yes", "true", "junk", "16777216T" };

/* Builds a command line of random tokens and separator runs into buf. */
static void random_cmdline(struct rng *r, char *buf, size_t size)
{
	static const char *const separators[] = { " ", "\t", "  ", " \t ", "\t\t\t" };
	size_t len = 0;

	buf[0] = '\0';
	for (uint64_t n = rng_below(r, 12); n > 0; n--) {
		const char *sep = separators[rng_below(r, 5)];
		const char *key = keys[rng_below(r, sizeof(keys) / sizeof(keys[0]))];
		const char *value = values[rng_below(r, sizeof(values) / sizeof(values[0]))];
		bool bare = rng_one_in(r, 4);
		int w = snprintf(buf + len, size - len, "%s%s%s%s", rng_one_in(r, 3) ? sep : (len > 0 ? " " : ""),
		                 key, bare ? "" : "=", bare ? "" : value);
		cr_assert(w > 0 && (size_t)w < size - len);
		len += (size_t)w;
	}
	if (rng_one_in(r, 3))
		strcat(buf, separators[rng_below(r, 5)]);
}

Test(cmdline, random_lines_tokenize_like_the_model)
{
	struct rng r = rng_seed(0xc3d1);
	char line[1024];
	struct ref_token want[MAX_TOKENS];

	for (int i = 0; i < 20000; i++) {
		struct cmdline_iter it;
		struct cmdline_token tok;
		size_t n = 0;

		random_cmdline(&r, line, sizeof(line));
		size_t want_n = ref_tokens(line, want, MAX_TOKENS);
		cmdline_iter_init(&it, line);
		while (cmdline_next(&it, &tok)) {
			cr_assert_lt(n, want_n, "\"%s\": more tokens than the model's %zu", line, want_n);
			assert_token_is(line, &tok, &want[n++]);
		}
		cr_assert_eq(n, want_n, "\"%s\": %zu tokens, model %zu", line, n, want_n);
		cr_assert(!cmdline_next(&it, &tok), "the end is sticky");
	}
}

Test(cmdline, random_lines_find_the_last_occurrence)
{
	struct rng r = rng_seed(0xc3d2);
	char line[1024];
	struct ref_token toks[MAX_TOKENS];

	for (int i = 0; i < 20000; i++) {
		random_cmdline(&r, line, sizeof(line));
		size_t n = ref_tokens(line, toks, MAX_TOKENS);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			struct cmdline_token tok = { .key = NULL };
			long want = ref_find(line, toks, n, keys[k]);
			enum cmdline_status st = cmdline_find(line, keys[k], &tok);

			cr_assert_eq(st, want >= 0 ? CMDLINE_OK : CMDLINE_NOT_FOUND, "\"%s\" key %s", line, keys[k]);
			if (want >= 0)
				assert_token_is(line, &tok, &toks[want]);
			else
				cr_assert_null(tok.key, "tok written although not found");
		}
	}
}

/* The getters on random lines, against what the header promises for the found token. */
Test(cmdline, random_lines_getters_follow_the_last_token)
{
	static const char *const names[] = { "0", "slab", "offset", "64M", "a=b" };
	struct rng r = rng_seed(0xc3d3);
	char line[1024];
	struct ref_token toks[MAX_TOKENS];

	for (int i = 0; i < 20000; i++) {
		random_cmdline(&r, line, sizeof(line));
		size_t n = ref_tokens(line, toks, MAX_TOKENS);
		const char *key = keys[rng_below(&r, sizeof(keys) / sizeof(keys[0]))];
		long at = ref_find(line, toks, n, key);
		const char *value = at >= 0 ? line + toks[at].value_at : "";
		size_t value_len = at >= 0 ? toks[at].value_len : 0;
		enum cmdline_status absent_or_empty = at < 0 ? CMDLINE_NOT_FOUND : CMDLINE_ERR_NO_VALUE;
		size_t index = 99;
		uint64_t size = 99, want_size = 0;
		enum parse_status why = PARSE_OK;

		/* choice */
		enum cmdline_status want = absent_or_empty;
		size_t want_index = 99;
		if (value_len > 0) {
			want = CMDLINE_ERR_BAD_VALUE;
			for (size_t j = 0; j < sizeof(names) / sizeof(names[0]) && want != CMDLINE_OK; j++)
				if (strlen(names[j]) == value_len && strncmp(names[j], value, value_len) == 0) {
					want = CMDLINE_OK;
					want_index = j;
				}
		}
		cr_assert_eq(cmdline_get_choice(line, key, names, 5, &index), want, "\"%s\" %s", line, key);
		cr_assert_eq(index, want_index);

		/* size: parse_size on the value when there is one */
		enum parse_status ps = value_len > 0 ? parse_size(value, value_len, &want_size) : PARSE_OK;
		want = value_len == 0 ? absent_or_empty : ps == PARSE_OK ? CMDLINE_OK : CMDLINE_ERR_BAD_VALUE;
		cr_assert_eq(cmdline_get_size(line, key, &size, &why), want, "\"%s\" %s", line, key);
		cr_assert_eq(size, want == CMDLINE_OK ? want_size : 99);
		cr_assert_eq(why, want == CMDLINE_ERR_BAD_VALUE ? ps : PARSE_OK);
	}
}

/* ---------------------------------------------------------------------------------------------
 * The tokenizer by hand. */

/* Tokenizes s and checks the keys and values against "key=value" or "key" strings. */
static void expect_tokens(const char *s, const char *const *want, size_t n)
{
	struct cmdline_iter it;
	struct cmdline_token tok;
	size_t i = 0;
	char got[256];

	cmdline_iter_init(&it, s);
	while (cmdline_next(&it, &tok)) {
		cr_assert_lt(i, n, "\"%s\": too many tokens", s ? s : "(null)");
		snprintf(got, sizeof(got), "%.*s%s%.*s", (int)tok.key_len, tok.key, tok.has_value ? "=" : "",
		         (int)tok.value_len, tok.value);
		cr_assert_str_eq(got, want[i], "\"%s\" token %zu", s ? s : "(null)", i);
		i++;
	}
	cr_assert_eq(i, n, "\"%s\": %zu tokens, want %zu", s ? s : "(null)", i, n);
}

Test(cmdline, empty_lines_have_no_tokens)
{
	expect_tokens(NULL, NULL, 0);
	expect_tokens("", NULL, 0);
	expect_tokens(" ", NULL, 0);
	expect_tokens(" \t \t\t  ", NULL, 0);
}

Test(cmdline, tokens_split_on_runs_of_spaces_and_tabs)
{
	const char *const want[] = { "paging=recursive", "heap=slab", "ktest", "heap.max=64M" };

	expect_tokens("paging=recursive heap=slab ktest heap.max=64M", want, 4);
	expect_tokens("  \tpaging=recursive\t\theap=slab   ktest \theap.max=64M \t", want, 4);
}

Test(cmdline, odd_tokens_keep_their_shape)
{
	const char *const want[] = { "=value", "key=", "a=b=c", "=", "==", "k\n=\x01", "\xff" };

	expect_tokens("=value key= a=b=c = == k\n=\x01 \xff", want, 7);
}

Test(cmdline, very_long_tokens_are_not_cut)
{
	size_t n = 100000;
	char *line = malloc(2 * n + 16);
	struct cmdline_token tok;

	cr_assert_not_null(line);
	memset(line, 'k', n);
	line[n] = '=';
	memset(line + n + 1, 'v', n);
	strcpy(line + 2 * n + 1, " end");
	line[0] = 'K';
	line[n - 1] = 'Z';

	struct cmdline_iter it;
	cmdline_iter_init(&it, line);
	cr_assert(cmdline_next(&it, &tok));
	cr_assert_eq(tok.key, line);
	cr_assert_eq(tok.key_len, n);
	cr_assert_eq(tok.value, line + n + 1);
	cr_assert_eq(tok.value_len, n);
	cr_assert(cmdline_next(&it, &tok));
	cr_assert_eq(tok.key_len, 3);
	cr_assert(!cmdline_next(&it, &tok));
	free(line);
}

/* ---------------------------------------------------------------------------------------------
 * Lookups by hand. */

Test(cmdline, keys_match_in_full_only)
{
	const char *line = "heap.debug=1 heapx=2 hea=3";
	struct cmdline_token tok;

	cr_assert_eq(cmdline_find(line, "heap", &tok), CMDLINE_NOT_FOUND);
	cr_assert_eq(cmdline_find(line, "heap.debu", &tok), CMDLINE_NOT_FOUND);
	cr_assert_eq(cmdline_find(line, "heap.debug.x", &tok), CMDLINE_NOT_FOUND);
	cr_assert_eq(cmdline_find(line, "hea", &tok), CMDLINE_OK);
	cr_assert_eq(tok.value, line + strlen(line) - 1);
	cr_assert_eq(cmdline_find("heap=slab heap.debug=1", "heap", &tok), CMDLINE_OK);
	cr_assert_eq(tok.value_len, 4);
	cr_assert(strncmp(tok.value, "slab", 4) == 0);
}

Test(cmdline, an_empty_key_is_never_found_by_value)
{
	struct cmdline_token tok;

	cr_assert_eq(cmdline_find("=value", "value", &tok), CMDLINE_NOT_FOUND);
	cr_assert_eq(cmdline_find("=value", "=value", &tok), CMDLINE_NOT_FOUND);
}

Test(cmdline, later_keys_override_earlier_ones)
{
	static const char *const modes[] = { "offset", "recursive", "temporary" };
	size_t mode = 99;
	bool debug = false;
	uint64_t max = 0;

	cr_assert_eq(cmdline_get_choice("paging=offset paging=temporary", "paging", modes, 3, &mode), CMDLINE_OK);
	cr_assert_eq(mode, 2);
	/* The last one decides even when it is worse than an earlier one. */
	cr_assert_eq(cmdline_get_choice("paging=offset paging=foo", "paging", modes, 3, &mode),
	             CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(cmdline_get_choice("paging=offset paging", "paging", modes, 3, &mode), CMDLINE_ERR_NO_VALUE);
	cr_assert_eq(mode, 2);
	cr_assert_eq(cmdline_get_bool("heap.debug=0 heap.debug", "heap.debug", &debug), CMDLINE_OK);
	cr_assert(debug);
	cr_assert_eq(cmdline_get_bool("heap.debug heap.debug=off", "heap.debug", &debug), CMDLINE_OK);
	cr_assert(!debug);
	cr_assert_eq(cmdline_get_size("heap.max=1G heap.max=64M", "heap.max", &max, NULL), CMDLINE_OK);
	cr_assert_eq(max, 64ull << 20);
}

Test(cmdline, choice)
{
	static const char *const modes[] = { "offset", "recursive", "temporary" };
	const char *line = "paging=recursive a=offsetx b=Offset c= d e=offset=1 f=temporary";
	size_t mode = 99;

	cr_assert_eq(cmdline_get_choice(line, "paging", modes, 3, &mode), CMDLINE_OK);
	cr_assert_eq(mode, 1);
	cr_assert_eq(cmdline_get_choice(line, "f", modes, 3, &mode), CMDLINE_OK);
	cr_assert_eq(mode, 2);
	mode = 99;
	cr_assert_eq(cmdline_get_choice(line, "a", modes, 3, &mode), CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(cmdline_get_choice(line, "b", modes, 3, &mode), CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(cmdline_get_choice(line, "c", modes, 3, &mode), CMDLINE_ERR_NO_VALUE);
	cr_assert_eq(cmdline_get_choice(line, "d", modes, 3, &mode), CMDLINE_ERR_NO_VALUE);
	cr_assert_eq(cmdline_get_choice(line, "e", modes, 3, &mode), CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(cmdline_get_choice(line, "g", modes, 3, &mode), CMDLINE_NOT_FOUND);
	cr_assert_eq(cmdline_get_choice(line, "paging", modes, 0, &mode), CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(mode, 99, "index written on failure");
}

Test(cmdline, bool_words)
{
	static const struct { const char *line; enum cmdline_status st; bool value; } cases[] = {
		{ "k", CMDLINE_OK, true },        { "k=1", CMDLINE_OK, true },
		{ "k=on", CMDLINE_OK, true },     { "k=yes", CMDLINE_OK, true },
		{ "k=true", CMDLINE_OK, true },   { "k=0", CMDLINE_OK, false },
		{ "k=off", CMDLINE_OK, false },   { "k=no", CMDLINE_OK, false },
		{ "k=false", CMDLINE_OK, false }, { "k=", CMDLINE_ERR_NO_VALUE, false },
		{ "k=2", CMDLINE_ERR_BAD_VALUE, false },    { "k=ON", CMDLINE_ERR_BAD_VALUE, false },
		{ "k=01", CMDLINE_ERR_BAD_VALUE, false },   { "k=yes=1", CMDLINE_ERR_BAD_VALUE, false },
		{ "k=o", CMDLINE_ERR_BAD_VALUE, false },    { "k=truex", CMDLINE_ERR_BAD_VALUE, false },
		{ "kk=1", CMDLINE_NOT_FOUND, false },       { "", CMDLINE_NOT_FOUND, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int before = 0; before < 2; before++) {
			bool out = before;   /* a default that must survive anything but CMDLINE_OK */
			cr_assert_eq(cmdline_get_bool(cases[i].line, "k", &out), cases[i].st, "\"%s\"", cases[i].line);
			cr_assert_eq(out, cases[i].st == CMDLINE_OK ? cases[i].value : (bool)before, "\"%s\"",
			             cases[i].line);
		}
	}
}

Test(cmdline, size)
{
	const char *line = "a=64M b=4096 c=0x1000 d=64X e=99999999999999999999 f= g h=";
	uint64_t v = 7;
	enum parse_status why = PARSE_OK;

	cr_assert_eq(cmdline_get_size(line, "a", &v, &why), CMDLINE_OK);
	cr_assert_eq(v, 64ull << 20);
	cr_assert_eq(cmdline_get_size(line, "b", &v, NULL), CMDLINE_OK);
	cr_assert_eq(v, 4096);
	cr_assert_eq(cmdline_get_size(line, "c", &v, NULL), CMDLINE_OK);
	cr_assert_eq(v, 0x1000);
	cr_assert_eq(cmdline_get_size(line, "d", &v, &why), CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(why, PARSE_ERR_BAD_SUFFIX);
	cr_assert_eq(cmdline_get_size(line, "e", &v, &why), CMDLINE_ERR_BAD_VALUE);
	cr_assert_eq(why, PARSE_ERR_OVERFLOW);
	cr_assert_eq(cmdline_get_size(line, "e", &v, NULL), CMDLINE_ERR_BAD_VALUE);
	why = PARSE_OK;
	cr_assert_eq(cmdline_get_size(line, "f", &v, &why), CMDLINE_ERR_NO_VALUE);
	cr_assert_eq(cmdline_get_size(line, "g", &v, &why), CMDLINE_ERR_NO_VALUE);
	cr_assert_eq(cmdline_get_size(line, "i", &v, &why), CMDLINE_NOT_FOUND);
	cr_assert_eq(why, PARSE_OK, "why written without a bad value");
	cr_assert_eq(v, 0x1000, "out written on failure");
}

Test(cmdline, the_example_from_the_header)
{
	static const char *const paging[] = { "offset", "recursive", "temporary" };
	static const char *const heap[] = { "bump", "slab" };
	static const char *const ktest[] = { "none", "all" };
	const char *line = "paging=recursive heap=slab heap.debug=1 ktest=all heap.max=64M";
	size_t p = 9, h = 9, k = 9;
	bool debug = false;
	uint64_t max = 0;

	cr_assert_eq(cmdline_get_choice(line, "paging", paging, 3, &p), CMDLINE_OK);
	cr_assert_eq(cmdline_get_choice(line, "heap", heap, 2, &h), CMDLINE_OK);
	cr_assert_eq(cmdline_get_choice(line, "ktest", ktest, 2, &k), CMDLINE_OK);
	cr_assert_eq(cmdline_get_bool(line, "heap.debug", &debug), CMDLINE_OK);
	cr_assert_eq(cmdline_get_size(line, "heap.max", &max, NULL), CMDLINE_OK);
	cr_assert(p == 1 && h == 1 && k == 1 && debug && max == 64ull << 20);
}

/* ---------------------------------------------------------------------------------------------
 * Messages. */

Test(cmdline, choices_read_as_an_english_list)
{
	static const char *const names[] = { "offset", "recursive", "temporary" };
	const char *full = "offset, recursive or temporary";
	char buf[64];

	cr_assert_eq(cmdline_format_choices(buf, sizeof(buf), names, 3), strlen(full));
	cr_assert_str_eq(buf, full);
	cr_assert_eq(cmdline_format_choices(buf, sizeof(buf), names, 2), strlen("offset or recursive"));
	cr_assert_str_eq(buf, "offset or recursive");
	cr_assert_eq(cmdline_format_choices(buf, sizeof(buf), names, 1), 6);
	cr_assert_str_eq(buf, "offset");
	cr_assert_eq(cmdline_format_choices(buf, sizeof(buf), names, 0), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(cmdline_format_choices(NULL, 0, names, 3), strlen(full));
	for (size_t size = 1; size <= strlen(full) + 2; size++) {
		memset(buf, 0x5a, sizeof(buf));
		cr_assert_eq(cmdline_format_choices(buf, size, names, 3), strlen(full));
		size_t kept = size - 1 < strlen(full) ? size - 1 : strlen(full);
		cr_assert(strncmp(buf, full, kept) == 0 && buf[kept] == '\0', "size %zu: \"%s\"", size, buf);
		for (size_t i = kept + 1; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0x5a, "size %zu: byte %zu written", size, i);
	}
}

Test(cmdline, every_status_has_its_own_message)
{
	const enum cmdline_status all[] = { CMDLINE_OK, CMDLINE_NOT_FOUND, CMDLINE_ERR_NO_VALUE,
	                                    CMDLINE_ERR_BAD_VALUE };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *m = cmdline_status_message(all[i]);
		cr_assert(m != NULL && m[0] != '\0');
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(m, cmdline_status_message(all[j]));
	}
	cr_assert_not_null(cmdline_status_message((enum cmdline_status)99));
}
