/*
 * The serial memory monitor: one command per line on COM1, for exploring the memory model live.
 * `help` lists the commands.  Bad input gets an "error: ..." line and a new prompt.
 */
#ifndef FERRITE_KERNEL_MONITOR_H
#define FERRITE_KERNEL_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MONITOR_LINE_MAX 128   /* characters per command line */
#define MONITOR_ARGS_MAX 8

_Noreturn void monitor_run(void);

/* Command implementations (kernel/monitor_*.c).  argv[0] is the command name. */
struct monitor_command {
	const char *name;
	const char *usage;
	const char *help;
	void (*run)(int argc, char **argv);
	int min_args, max_args;   /* arguments after the name */
};

void cmd_meminfo(int argc, char **argv);
void cmd_memmap(int argc, char **argv);
void cmd_translate(int argc, char **argv);
void cmd_map(int argc, char **argv);
void cmd_unmap(int argc, char **argv);
void cmd_ptdump(int argc, char **argv);
void cmd_read(int argc, char **argv);
void cmd_heapstat(int argc, char **argv);
void cmd_kmalloc(int argc, char **argv);
void cmd_kfree(int argc, char **argv);

/* Parses a number argument (decimal or 0x hex); on error prints "error: CMD: ..." and returns false. */
bool monitor_number(const char *cmd, const char *what, const char *text, uint64_t *out);

#endif
