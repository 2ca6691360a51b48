#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <valgrind/callgrind.h>

#include "bench/harness.h"
#include "lib/parse.h"

uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("benchmark failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void measure_begin(struct measure *m, uint64_t ops)
{
	if (ops == 0)
		bench_fail("a measured section needs at least one operation");
	m->ops = ops;
	m->elapsed_ns = 0;
	CALLGRIND_ZERO_STATS;
	m->start_ns = clock_ns();
}

void measure_end(struct measure *m)
{
	char label[64];

	m->elapsed_ns = clock_ns() - m->start_ns;
	snprintf(label, sizeof(label), "measure ops=%llu", (unsigned long long)m->ops);
	CALLGRIND_DUMP_STATS_AT(label);
}

static double ns_per(const char *unit)
{
	if (strcmp(unit, "ns") == 0)
		return 1.0;
	if (strcmp(unit, "us") == 0)
		return 1e3;
	if (strcmp(unit, "ms") == 0)
		return 1e6;
	bench_fail("unknown time unit \"%s\"", unit);
}

void report(const char *metric, const char *unit, double value)
{
	printf("BENCH\t%s\t%s\t%.12g\n", metric, unit, value);
}

void report_time_per_op(const struct measure *m, const char *unit)
{
	char per_op[16];

	snprintf(per_op, sizeof(per_op), "%s/op", unit);
	report("time", per_op, (double)m->elapsed_ns / (double)m->ops / ns_per(unit));
}

void report_total_time(const struct measure *m, const char *unit)
{
	report("total time", unit, (double)m->elapsed_ns / ns_per(unit));
}

uint64_t ops_or(const struct bench_args *args, uint64_t fallback)
{
	return args->ops != 0 ? args->ops : fallback;
}

void bench_memmap(const struct memmap_entry *raw, size_t n, struct memmap *out)
{
	enum memmap_status st = memmap_normalize(raw, n, out, NULL);

	if (st != MEMMAP_OK)
		bench_fail("memory map: %s", memmap_status_message(st));
}

uint64_t bench_map_top(const struct memmap *map)
{
	return map->count != 0 ? map->range[map->count - 1].end : 0;
}

/* Written, never read: a volatile store the compiler must keep, and with it the value. */
static volatile uint64_t consumed;

void bench_consume(uint64_t value)
{
	consumed = value;
}

static uint64_t parse_option(const char *option, const char *text, bool size)
{
	uint64_t value;
	enum parse_status st = size ? parse_size(text, strlen(text), &value) : parse_u64(text, strlen(text), &value);

	if (st != PARSE_OK)
		bench_fail("%s %s: %s", option, text, parse_status_message(st));
	return value;
}

static void list_benchmarks(const struct benchmark *benchmarks, size_t count)
{
	for (size_t i = 0; i < count; i++)
		printf("%-16s %s\n", benchmarks[i].name, benchmarks[i].about);
}

static int usage(const char *self)
{
	fprintf(stderr, "usage: %s BENCHMARK [--ops N] [--size S]   (--list names them)\n", self);
	return 2;
}

int bench_main(int argc, char **argv, const struct benchmark *benchmarks, size_t count)
{
	struct bench_args args = { 0 };
	const struct benchmark *chosen = NULL;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		list_benchmarks(benchmarks, count);
		return 0;
	}
	if (argc < 2 || argc % 2 != 0)
		return usage(argv[0]);
	for (size_t i = 0; i < count && chosen == NULL; i++)
		if (strcmp(argv[1], benchmarks[i].name) == 0)
			chosen = &benchmarks[i];
	if (chosen == NULL) {
		fprintf(stderr, "%s: no benchmark \"%s\"\n", argv[0], argv[1]);
		return usage(argv[0]);
	}
	for (int i = 2; i < argc; i += 2) {
		if (strcmp(argv[i], "--ops") == 0)
			args.ops = parse_option(argv[i], argv[i + 1], false);
		else if (strcmp(argv[i], "--size") == 0)
			args.size = parse_option(argv[i], argv[i + 1], true);
		else
			return usage(argv[0]);
	}
	chosen->run(&args);
	return 0;
}
