/* The kernel command-line options ferrite understands, read once at start-up. */
#ifndef FERRITE_KERNEL_OPTIONS_H
#define FERRITE_KERNEL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/heap.h"

/* How the walker and mapper reach page tables (docs/paging.md). */
enum pt_technique {
	PT_OFFSET,     /* through the direct map at PHYS_OFFSET */
	PT_RECURSIVE,  /* through a recursive PML4 entry */
	PT_TEMPORARY,  /* by mapping each table into a slot on demand */
};

struct kernel_options {
	enum pt_technique paging;   /* paging=offset|recursive|temporary (default offset) */
	bool frame_poison;          /* frame.poison=1: fill freed frames with a poison byte */
	enum heap_design heap;      /* heap=bump|list|fixed|slab (default slab) */
	bool heap_debug;            /* heap.debug=1: redzones, poison checked on reuse */
	uint64_t heap_max;          /* heap.max=SIZE: the heap region's limit; 0 = half the usable RAM */
	const char *ktest;          /* ktest=PATTERNS: run the in-kernel tests instead of the monitor */
	size_t ktest_len;
	bool kbench;                /* kbench: run the in-kernel benchmarks instead of the monitor */
	const char *crash;          /* crash=KIND: provoke a fault on purpose, to test its report */
	size_t crash_len;
};

extern struct kernel_options options;

extern const char *const pt_technique_names[3];
extern const char *const heap_design_names[HEAP_DESIGN_COUNT];

/* Reads the command line into `options`.  A bad value is reported and stops the boot. */
void options_parse(const char *cmdline);

#endif
