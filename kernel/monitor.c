#include "kernel/monitor.h"

#include "arch/x86_64/machine.h"
#include "arch/x86_64/serial.h"
#include "kernel/console.h"
#include "lib/compiler.h"
#include "lib/mem.h"
#include "lib/parse.h"

#define PROMPT "ferrite> "

static void cmd_help(int argc, char **argv);
static void cmd_poweroff(int argc, char **argv);

static const struct monitor_command commands[] = {
	{ "help", "", "this list", cmd_help, 0, 0 },
	{ "meminfo", "", "memory totals, frame allocator and page-table statistics", cmd_meminfo, 0, 0 },
	{ "memmap", "", "the memory map from boot_info", cmd_memmap, 0, 0 },
	{ "translate", "VADDR", "walk the page tables for VADDR", cmd_translate, 1, 1 },
	{ "map", "VADDR PADDR [4k|2m|1g] [rw] [x] [u] [g] [wt] [uc]",
	  "map a page (default 4k, read-only, no-execute, kernel)", cmd_map, 2, 8 },
	{ "unmap", "VADDR", "remove the mapping that starts at VADDR", cmd_unmap, 1, 1 },
	{ "ptdump", "[VADDR]", "entries on the walk for VADDR, or a summary of all mappings", cmd_ptdump, 0, 1 },
	{ "read", "VADDR [N]", "hex dump of N bytes (default 64, at most 4096) through the page tables", cmd_read, 1, 2 },
	{ "heapstat", "", "the kernel heap: per size class objects, slabs and pages held; totals", cmd_heapstat, 0, 0 },
	{ "kmalloc", "SIZE", "allocate SIZE bytes from the kernel heap and print the address", cmd_kmalloc, 1, 1 },
	{ "kfree", "ADDR", "free a kernel heap object (bad pointers are refused and reported)", cmd_kfree, 1, 1 },
	{ "poweroff", "", "end the machine", cmd_poweroff, 0, 0 },
};

static void cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		kprintf("  %-9s %-26s %s\n", commands[i].name, commands[i].usage, commands[i].help);
	kprintf("Numbers are decimal or 0x-prefixed hex.\n");
}

static void cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kprintf("Powering off.\n");
	machine_exit(MACHINE_EXIT_SUCCESS);
}

bool monitor_number(const char *cmd, const char *what, const char *text, uint64_t *out)
{
	enum parse_status s = parse_u64(text, strlen(text), out);

	if (s == PARSE_OK)
		return true;
	kprintf("error: %s: bad %s '%s': %s\n", cmd, what, text, parse_status_message(s));
	return false;
}

/*
 * Reads one line into buf, echoing it.  Returns false if the line was longer than the buffer
 * (the rest of it is read and dropped).  CR, LF and CR LF all end a line.
 */
static bool read_line(char *buf, size_t size)
{
	static bool last_was_cr;
	size_t len = 0;
	bool overflow = false;

	for (;;) {
		char c = serial_read();
		if (c == '\n' && last_was_cr) {   /* the LF of a CR LF */
			last_was_cr = false;
			continue;
		}
		last_was_cr = c == '\r';
		if (c == '\r' || c == '\n')
			break;
		if ((c == '\b' || c == 0x7f) && len > 0) {
			len--;
			kputs("\b \b");
		} else if (c >= ' ' && c < 0x7f) {
			if (len + 1 < size) {
				buf[len++] = c;
				serial_write(&c, 1);
			} else {
				overflow = true;
			}
		}
	}
	buf[len] = 0;
	kputs("\n");
	return !overflow;
}

/* Splits the line at spaces, in place.  Returns the number of words, or -1 if there are too many. */
static int split_words(char *line, char **argv, int max)
{
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		if (argc == max)
			return -1;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return argc;
}

static const struct monitor_command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void execute(char *line)
{
	char *argv[MONITOR_ARGS_MAX + 1];
	int argc = split_words(line, argv, MONITOR_ARGS_MAX + 1);
	const struct monitor_command *cmd;

	if (argc == 0)
		return;
	if (argc < 0) {
		kprintf("error: too many words (at most %d)\n", MONITOR_ARGS_MAX + 1);
		return;
	}
	cmd = find_command(argv[0]);
	if (!cmd) {
		kprintf("error: unknown command '%s' (type 'help' for the list)\n", argv[0]);
		return;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		kprintf("error: %s: expected %s%s%s\n", cmd->name, cmd->name, cmd->usage[0] ? " " : "", cmd->usage);
		return;
	}
	cmd->run(argc, argv);
}

void monitor_run(void)
{
	char line[MONITOR_LINE_MAX + 1];

	kprintf("\nMemory monitor ready. Type 'help' for commands.\n");
	for (;;) {
		kputs(PROMPT);
		if (!read_line(line, sizeof(line))) {
			kprintf("error: line longer than %d characters\n", MONITOR_LINE_MAX);
			continue;
		}
		execute(line);
	}
}
