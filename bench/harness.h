/*
 * What every host benchmark binary shares: the command line, the measured section, and the
 * lines the driver (bench/run.py) reads.
 *
 *   bench_NAME BENCHMARK [--ops N] [--size S]
 *
 * runs one benchmark once and prints one line per result, fields separated by tabs (a metric or
 * unit may contain spaces):
 *
 *   BENCH <metric> <unit> <value>
 *
 * A benchmark brackets exactly the loop it measures with measure_begin() and measure_end().
 * Natively that times the loop with the monotonic clock.  Under callgrind (run with
 * --collect-atstart=no and --toggle-collect=<the functions measured>) the same brackets zero the
 * counters before the loop and dump them after it, labelled "measure ops=N", so the driver can
 * divide the instructions spent inside the measured functions by the operations; natively those
 * client requests are a handful of no-op instructions.
 *
 * A benchmark that meets an error status it did not expect calls bench_fail(): a number
 * measured on a broken run is worse than no number.
 */
#ifndef FERRITE_BENCH_HARNESS_H
#define FERRITE_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "mm/memmap.h"

struct bench_args {
	uint64_t ops;   /* --ops: operations to measure (the benchmark's default if 0) */
	uint64_t size;  /* --size: a size, with K/M/G/T suffixes (the benchmark's default if 0) */
};

struct benchmark {
	const char *name;
	const char *about;  /* one line, for --list */
	void (*run)(const struct bench_args *args);
};

/* Parses the command line, runs the benchmark it names and returns the exit status for main. */
int bench_main(int argc, char **argv, const struct benchmark *benchmarks, size_t count);

/* The monotonic clock, in nanoseconds: for a time that is reported but not a measured section. */
uint64_t clock_ns(void);

struct measure {
	uint64_t ops;
	uint64_t start_ns;
	uint64_t elapsed_ns;
};

/* Starts the measured section of `ops` operations. */
void measure_begin(struct measure *m, uint64_t ops);

/* Ends it: m->elapsed_ns is set and, under callgrind, the counters are dumped. */
void measure_end(struct measure *m);

/* Prints "BENCH time <unit>/op <elapsed / ops>"; unit is "ns", "us" or "ms". */
void report_time_per_op(const struct measure *m, const char *unit);

/* Prints "BENCH total time <unit> <elapsed>"; unit is "ns", "us" or "ms". */
void report_total_time(const struct measure *m, const char *unit);

/* Prints "BENCH <metric> <unit> <value>", tab-separated. */
void report(const char *metric, const char *unit, double value);

/* Prints the message and exits with status 1. */
_Noreturn PRINTF_LIKE(1, 2) void bench_fail(const char *fmt, ...);

/* `ops` from the command line, or `fallback` when none was given. */
uint64_t ops_or(const struct bench_args *args, uint64_t fallback);

/* Normalizes `n` raw entries into `out`, or fails the benchmark. */
void bench_memmap(const struct memmap_entry *raw, size_t n, struct memmap *out);

/* The end of the highest range of `map`: the simulated memory it needs. */
uint64_t bench_map_top(const struct memmap *map);

/* Keeps `value` alive, so the compiler cannot drop the work that computed it. */
void bench_consume(uint64_t value);

#endif
