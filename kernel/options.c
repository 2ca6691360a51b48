#include "kernel/options.h"

#include "arch/x86_64/machine.h"
#include "kernel/console.h"
#include "lib/cmdline.h"
#include "lib/compiler.h"
#include "lib/mem.h"
#include "mm/layout.h"

struct kernel_options options;

const char *const pt_technique_names[3] = { "offset", "recursive", "temporary" };

const char *const heap_design_names[HEAP_DESIGN_COUNT] = { "bump", "list", "fixed", "slab" };

static const char *const known_keys[] = {
	"paging", "frame.poison", "heap", "heap.debug", "heap.max", "ktest", "kbench", "crash",
};

static _Noreturn void bad_option(const char *key, const char *why)
{
	kprintf("ferrite: cannot boot: kernel command line option %s: expected %s\n", key, why);
	machine_exit(MACHINE_EXIT_FAILURE);
}

static void read_choice(const char *cmdline, const char *key, const char *const *names, size_t count,
                        size_t *index)
{
	enum cmdline_status s = cmdline_get_choice(cmdline, key, names, count, index);
	char expected[128];

	if (s == CMDLINE_OK || s == CMDLINE_NOT_FOUND)
		return;
	cmdline_format_choices(expected, sizeof(expected), names, count);
	bad_option(key, expected);
}

static void read_bool(const char *cmdline, const char *key, bool *out)
{
	enum cmdline_status s = cmdline_get_bool(cmdline, key, out);

	if (s != CMDLINE_OK && s != CMDLINE_NOT_FOUND)
		bad_option(key, "1, 0, on, off, yes, no, true or false");
}

static void read_heap_limit(const char *cmdline, uint64_t *out)
{
	enum parse_status why;
	enum cmdline_status s = cmdline_get_size(cmdline, "heap.max", out, &why);

	if (s == CMDLINE_NOT_FOUND)
		return;
	if (s != CMDLINE_OK)
		bad_option("heap.max", "a size such as 64M");
	if (*out < PAGE_SIZE || *out > HEAP_MAX_SIZE || !is_aligned(*out, PAGE_SIZE))
		bad_option("heap.max", "a multiple of 4 KiB from 4K to 512G");
}

static void read_string(const char *cmdline, const char *key, const char **value, size_t *len)
{
	struct cmdline_token tok;

	if (cmdline_find(cmdline, key, &tok) != CMDLINE_OK)
		return;
	if (!tok.has_value || tok.value_len == 0)
		bad_option(key, "a value");
	*value = tok.value;
	*len = tok.value_len;
}

static bool is_known_key(const struct cmdline_token *tok)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++)
		if (strlen(known_keys[i]) == tok->key_len && memcmp(known_keys[i], tok->key, tok->key_len) == 0)
			return true;
	return false;
}

static void warn_unknown_keys(const char *cmdline)
{
	struct cmdline_iter it;
	struct cmdline_token tok;

	cmdline_iter_init(&it, cmdline);
	while (cmdline_next(&it, &tok))
		if (!is_known_key(&tok))
			kprintf("ferrite: ignoring unknown command line option '%.*s'\n", (int)tok.key_len, tok.key);
}

void options_parse(const char *cmdline)
{
	size_t paging = PT_OFFSET, heap = HEAP_SLAB;

	warn_unknown_keys(cmdline);
	read_choice(cmdline, "paging", pt_technique_names, ARRAY_SIZE(pt_technique_names), &paging);
	options.paging = (enum pt_technique)paging;
	read_bool(cmdline, "frame.poison", &options.frame_poison);
	read_choice(cmdline, "heap", heap_design_names, HEAP_DESIGN_COUNT, &heap);
	options.heap = (enum heap_design)heap;
	read_bool(cmdline, "heap.debug", &options.heap_debug);
	read_heap_limit(cmdline, &options.heap_max);
	read_string(cmdline, "ktest", &options.ktest, &options.ktest_len);
	read_bool(cmdline, "kbench", &options.kbench);
	read_string(cmdline, "crash", &options.crash, &options.crash_len);
}
