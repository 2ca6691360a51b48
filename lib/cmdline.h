/*
 * The kernel command line: tokens separated by runs of spaces and tabs, each either `key=value`
 * or a bare `key`, as in "paging=recursive heap=slab heap.debug=1 ktest=all heap.max=64M".
 *
 * - The key is everything before the first '='; the value everything after it, '=' included
 *   ("a=b=c" is key "a", value "b=c").  "=v" has an empty key (only a lookup of "" finds it).
 * - Keys compare exactly and in full: "heap" never finds "heap.debug".
 * - A key may appear more than once; the last occurrence wins, so appending to a command line
 *   overrides what it already says.
 * - No quoting or escaping: a value cannot contain a space or a tab.
 * - Nothing is copied: tokens point into the command line, which must outlive them.
 *
 * The command line is a NUL-terminated string; NULL stands for an empty one.  The getters
 * write their outputs only on CMDLINE_OK, so a default stored there beforehand survives an
 * absent key (and a bad value, which the caller should still report).
 */
#ifndef FERRITE_LIB_CMDLINE_H
#define FERRITE_LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/parse.h"

enum cmdline_status {
	CMDLINE_OK,
	CMDLINE_NOT_FOUND,       /* the key does not appear: the caller keeps its default */
	CMDLINE_ERR_NO_VALUE,    /* the key needs a value but is bare or ends in '=' */
	CMDLINE_ERR_BAD_VALUE,   /* the value is not one the getter accepts */
};

/* A short lower-case phrase for st, for messages. */
const char *cmdline_status_message(enum cmdline_status st);

struct cmdline_token {
	const char *key;
	size_t key_len;
	const char *value;       /* just past the '=' (or the end of the key when there is none) */
	size_t value_len;
	bool has_value;          /* false for a bare key; true for "key=", with value_len 0 */
};

struct cmdline_iter {
	const char *pos;
};

/* Starts an iteration over the tokens of cmdline. */
void cmdline_iter_init(struct cmdline_iter *it, const char *cmdline);

/* Stores the next token in *tok and returns true, or returns false at the end. */
bool cmdline_next(struct cmdline_iter *it, struct cmdline_token *tok);

/* Finds the last token whose key is key: CMDLINE_OK with *tok filled in, or CMDLINE_NOT_FOUND. */
enum cmdline_status cmdline_find(const char *cmdline, const char *key, struct cmdline_token *tok);

/*
 * Reads key's value as one of the count strings in names (compared exactly) and stores its
 * position in names in *index.  CMDLINE_ERR_BAD_VALUE if it is none of them.
 */
enum cmdline_status cmdline_get_choice(const char *cmdline, const char *key,
                                       const char *const *names, size_t count, size_t *index);

/*
 * Reads key as a bool: 1, on, yes, true or 0, off, no, false (lower case), or a bare key, which
 * means true.  "key=" is CMDLINE_ERR_NO_VALUE.
 */
enum cmdline_status cmdline_get_bool(const char *cmdline, const char *key, bool *out);

/*
 * Reads key's value with parse_size ("64M", "0x1000").  On CMDLINE_ERR_BAD_VALUE the reason goes
 * to *why (pass NULL if it is not wanted); see parse_status_message.
 */
enum cmdline_status cmdline_get_size(const char *cmdline, const char *key, uint64_t *out,
                                     enum parse_status *why);

/*
 * Writes the names as an English list, "offset, recursive or temporary", for messages such as
 * "paging=foo: expected offset, recursive or temporary".  snprintf semantics, as format_buf.
 */
size_t cmdline_format_choices(char *buf, size_t size, const char *const *names, size_t count);

#endif
