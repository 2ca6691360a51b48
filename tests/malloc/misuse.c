/*
 * Misuses malloc in one way, named by argv[1], for the death tests (tests/host/test_malloc_death.c)
 * to run under LD_PRELOAD=libferrite_malloc.so.  Each misuse must end in abort() with a report on
 * stderr; reaching the end of main means the misuse went unnoticed, and exits 3.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the compiler from seeing through the misuse, warning about it, or removing it. */
static void *volatile sink;

/* Live objects on both sides of the misused one, as in any real program: without them a heap
 * may give all its memory back when the one object goes, and a second free then meets a pointer
 * that is simply not in the heap any more. */
static void *neighbours[2];

static void *surrounded_malloc(size_t size)
{
	void *p;

	neighbours[0] = malloc(size);
	p = malloc(size);
	neighbours[1] = malloc(size);
	return p;
}

/* `p`, laundered: the compiler can no longer tell where it came from, so it neither warns about
 * the misuse (gcc and clang both see through the plain forms) nor optimizes it away. */
static char *launder(char *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

static void double_free(void)
{
	char *p = surrounded_malloc(64), *same = launder(p);

	free(p);
	free(same);
}

static void interior_free(void)
{
	char *p = malloc(64);

	sink = p;
	free(launder(p + 8));
}

static void foreign_free(void)
{
	static char not_from_malloc[64];

	free(launder(not_from_malloc));
}

static void redzone_overflow(void)
{
	char *p = malloc(24);

	sink = p;
	p[24] = 'x';   /* one byte past the end */
	free(p);
}

static void write_after_free(void)
{
	char *p = surrounded_malloc(48), *dangling = launder(p);

	free(p);
	dangling[16] = 'x';
	sink = malloc(48);   /* the freed object comes back first, and its poison is checked */
}

static const struct {
	const char *name;
	void (*run)(void);
} misuses[] = {
	{ "double-free", double_free },
	{ "interior-free", interior_free },
	{ "foreign-free", foreign_free },
	{ "redzone-overflow", redzone_overflow },
	{ "write-after-free", write_after_free },
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: misuse double-free|interior-free|foreign-free|redzone-overflow|write-after-free\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(misuses) / sizeof(misuses[0]); i++) {
		if (strcmp(argv[1], misuses[i].name) == 0) {
			misuses[i].run();
			fprintf(stderr, "misuse: %s went unnoticed\n", argv[1]);
			return 3;
		}
	}
	fprintf(stderr, "misuse: unknown misuse %s\n", argv[1]);
	return 2;
}
