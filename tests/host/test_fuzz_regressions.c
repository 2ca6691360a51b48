/*
 * The fuzz targets (tests/fuzz/) as host tests.  Each target's entry function runs over every
 * input in tests/fuzz/regressions/<target>/, inputs that once made it fail and must keep passing
 * once the bug is fixed, and over its seed corpus, tests/fuzz/corpus/<target>/, so that the
 * targets' models are exercised by `make test` too, under ASan+UBSan in the san build.  A target
 * reports a failed check by aborting: Criterion shows the test as crashed, after the target's
 * message and the name of the input (printed before each run).  Paths are relative to the
 * repository root, where tools/test.py runs the tests.
 */
#define _DEFAULT_SOURCE  /* strdup, dirent */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

#define FUZZ_DIR  "tests/fuzz"
#define MAX_FILES 1024

typedef int fuzz_fn(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file at `path`, in a buffer of exactly its size (so ASan sees reads past the end). */
static uint8_t *read_input(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0, "cannot size %s", path);
	data = malloc(n ? (size_t)n : 1);
	cr_assert_not_null(data);
	cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n, "cannot read %s", path);
	fclose(f);
	*size = (size_t)n;
	return data;
}

/* Runs `fn` over every regular file in FUZZ_DIR/<kind>/<target>, in name order; returns how many
 * there were (0 when the folder does not exist). */
static size_t run_folder(const char *kind, const char *target, fuzz_fn *fn)
{
	char folder[256], path[512];
	char *names[MAX_FILES];
	size_t count = 0;
	struct dirent *e;
	DIR *dir;

	snprintf(folder, sizeof folder, "%s/%s/%s", FUZZ_DIR, kind, target);
	dir = opendir(folder);
	if (dir == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		cr_assert_lt(count, MAX_FILES, "more than %d inputs in %s", MAX_FILES, folder);
		names[count] = strdup(e->d_name);
		cr_assert_not_null(names[count]);
		count++;
	}
	closedir(dir);
	qsort(names, count, sizeof names[0], by_name);
	for (size_t i = 0; i < count; i++) {
		size_t size;
		uint8_t *data;

		snprintf(path, sizeof path, "%s/%s", folder, names[i]);
		data = read_input(path, &size);
		fprintf(stderr, "%s: %s\n", target, path);
		cr_assert_eq(fn(data, size), 0, "%s returned non-zero on %s", target, path);
		free(data);
		free(names[i]);
	}
	return count;
}

static void run_target(const char *target, fuzz_fn *fn)
{
	run_folder("regressions", target, fn);
	cr_assert_gt(run_folder("corpus", target, fn), 0,
	             "no seed corpus in " FUZZ_DIR "/corpus/%s (run from the repository root)", target);
}

Test(fuzz_regressions, multiboot2) { run_target("fuzz_multiboot2", fuzz_multiboot2); }
Test(fuzz_regressions, frame) { run_target("fuzz_frame", fuzz_frame); }
Test(fuzz_regressions, paging) { run_target("fuzz_paging", fuzz_paging); }
Test(fuzz_regressions, heap) { run_target("fuzz_heap", fuzz_heap); }
