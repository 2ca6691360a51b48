/*
 * The kernel command line.  cmdline_next() is the only code that knows the syntax; every lookup
 * walks the tokens with it (a command line is short, and walking keeps "the last one wins" in
 * one place: cmdline_find).
 */
#include "lib/cmdline.h"
#include "lib/compiler.h"
#include "lib/format.h"
#include "lib/mem.h"

const char *cmdline_status_message(enum cmdline_status st)
{
	switch (st) {
	case CMDLINE_OK:            return "ok";
	case CMDLINE_NOT_FOUND:     return "not given";
	case CMDLINE_ERR_NO_VALUE:  return "missing value";
	case CMDLINE_ERR_BAD_VALUE: return "bad value";
	}
	return "unknown cmdline status";
}

static bool is_separator(char c)
{
	return c == ' ' || c == '\t';
}

/* True if the len bytes at s are exactly the string word. */
static bool text_equals(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

void cmdline_iter_init(struct cmdline_iter *it, const char *cmdline)
{
	it->pos = cmdline != NULL ? cmdline : "";
}

bool cmdline_next(struct cmdline_iter *it, struct cmdline_token *tok)
{
	const char *p = it->pos;

	while (is_separator(*p))
		p++;
	if (*p == '\0') {
		it->pos = p;
		return false;
	}
	tok->key = p;
	while (*p != '\0' && !is_separator(*p) && *p != '=')
		p++;
	tok->key_len = (size_t)(p - tok->key);
	tok->has_value = *p == '=';
	if (tok->has_value)
		p++;
	tok->value = p;
	while (*p != '\0' && !is_separator(*p))
		p++;
	tok->value_len = (size_t)(p - tok->value);
	it->pos = p;
	return true;
}

enum cmdline_status cmdline_find(const char *cmdline, const char *key, struct cmdline_token *tok)
{
	struct cmdline_iter it;
	struct cmdline_token cur;
	bool found = false;

	cmdline_iter_init(&it, cmdline);
	while (cmdline_next(&it, &cur)) {
		if (text_equals(cur.key, cur.key_len, key)) {
			*tok = cur;
			found = true;
		}
	}
	return found ? CMDLINE_OK : CMDLINE_NOT_FOUND;
}

/* cmdline_find for getters that need a value: a bare key or "key=" is CMDLINE_ERR_NO_VALUE. */
static enum cmdline_status find_value(const char *cmdline, const char *key,
                                      struct cmdline_token *tok)
{
	enum cmdline_status st = cmdline_find(cmdline, key, tok);

	if (st == CMDLINE_OK && tok->value_len == 0)
		return CMDLINE_ERR_NO_VALUE;
	return st;
}

enum cmdline_status cmdline_get_choice(const char *cmdline, const char *key,
                                       const char *const *names, size_t count, size_t *index)
{
	struct cmdline_token tok;
	enum cmdline_status st = find_value(cmdline, key, &tok);

	if (st != CMDLINE_OK)
		return st;
	for (size_t i = 0; i < count; i++) {
		if (text_equals(tok.value, tok.value_len, names[i])) {
			*index = i;
			return CMDLINE_OK;
		}
	}
	return CMDLINE_ERR_BAD_VALUE;
}

static const struct {
	const char *word;
	bool value;
} bool_words[] = {
	{ "1", true },  { "on", true },   { "yes", true }, { "true", true },
	{ "0", false }, { "off", false }, { "no", false }, { "false", false },
};

enum cmdline_status cmdline_get_bool(const char *cmdline, const char *key, bool *out)
{
	struct cmdline_token tok;
	enum cmdline_status st = cmdline_find(cmdline, key, &tok);

	if (st != CMDLINE_OK)
		return st;
	if (!tok.has_value) {
		*out = true;
		return CMDLINE_OK;
	}
	if (tok.value_len == 0)
		return CMDLINE_ERR_NO_VALUE;
	for (size_t i = 0; i < ARRAY_SIZE(bool_words); i++) {
		if (text_equals(tok.value, tok.value_len, bool_words[i].word)) {
			*out = bool_words[i].value;
			return CMDLINE_OK;
		}
	}
	return CMDLINE_ERR_BAD_VALUE;
}

enum cmdline_status cmdline_get_size(const char *cmdline, const char *key, uint64_t *out,
                                     enum parse_status *why)
{
	struct cmdline_token tok;
	enum cmdline_status st = find_value(cmdline, key, &tok);

	if (st != CMDLINE_OK)
		return st;
	enum parse_status ps = parse_size(tok.value, tok.value_len, out);
	if (ps == PARSE_OK)
		return CMDLINE_OK;
	if (why != NULL)
		*why = ps;
	return CMDLINE_ERR_BAD_VALUE;
}

size_t cmdline_format_choices(char *buf, size_t size, const char *const *names, size_t count)
{
	size_t len = 0;

	if (size > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
		size_t room = len < size ? size - len : 0;
		/* Once the buffer is full, keep counting with a zero-sized (unwritten) buffer. */
		len += format_buf(room > 0 ? buf + len : NULL, room, "%s%s", sep, names[i]);
	}
	return len;
}
