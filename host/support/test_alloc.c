/* The checking, failing allocator for collection tests: see test_alloc.h. */
#define _POSIX_C_SOURCE 200112L   /* posix_memalign */

#include <stdlib.h>
#include <string.h>

#include "host/support/test_alloc.h"
#include "lib/panic.h"

#define FRESH_BYTE 0xa5   /* new memory: a collection that reads it before writing sees junk */
#define FREED_BYTE 0x5a

/* Larger requests fail as out of memory without reaching malloc, which under ASan would abort on
 * the sizes that overflow tests ask for. */
#define LARGEST_BLOCK ((size_t)1 << 30)

static bool should_fail(struct test_alloc *t, size_t size)
{
	t->calls++;
	if (size > t->largest_request)
		t->largest_request = size;
	bool fail = t->fail_at != 0 && (t->calls == t->fail_at || (t->fail_from_then_on && t->calls > t->fail_at));
	t->failures += fail;
	return fail;
}

static struct test_alloc_block *find_block(struct test_alloc *t, const void *ptr)
{
	for (size_t i = 0; i < t->live; i++)
		if (t->blocks[i].ptr == ptr)
			return &t->blocks[i];
	return NULL;
}

/* The live block at ptr, which must have exactly this size (and alignment, unless 0). */
static struct test_alloc_block *expect_block(struct test_alloc *t, const void *ptr, size_t size, size_t align)
{
	struct test_alloc_block *b = find_block(t, ptr);

	if (b == NULL)
		panic("test_alloc: %p is not a live block", ptr);
	if (b->size != size || (align != 0 && b->align != align))
		panic("test_alloc: %p has size %zu align %zu, caller says %zu and %zu", ptr, b->size, b->align,
		      size, align);
	return b;
}

/* A new block, recorded; NULL only for an impossible size or alignment. */
static void *new_block(struct test_alloc *t, size_t size, size_t align)
{
	void *p = NULL;

	if (size == 0 || align == 0 || (align & (align - 1)) != 0)
		panic("test_alloc: asked for size %zu align %zu", size, align);
	if (t->live == TEST_ALLOC_MAX_LIVE)
		panic("test_alloc: more than %d live blocks", TEST_ALLOC_MAX_LIVE);
	if (size > LARGEST_BLOCK || posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
		return NULL;
	memset(p, FRESH_BYTE, size);
	t->blocks[t->live++] = (struct test_alloc_block){ .ptr = p, .size = size, .align = align };
	return p;
}

static void drop_block(struct test_alloc *t, struct test_alloc_block *b)
{
	memset(b->ptr, FREED_BYTE, b->size);
	free(b->ptr);
	*b = t->blocks[--t->live];
}

static void *test_alloc_alloc(void *ctx, size_t size, size_t align)
{
	struct test_alloc *t = ctx;

	return should_fail(t, size) ? NULL : new_block(t, size, align);
}

static void *test_alloc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size, size_t align)
{
	struct test_alloc *t = ctx;

	expect_block(t, ptr, old_size, align);
	if (should_fail(t, new_size))
		return NULL;
	void *moved = new_block(t, new_size, align);
	if (moved != NULL) {
		memcpy(moved, ptr, old_size < new_size ? old_size : new_size);
		drop_block(t, find_block(t, ptr));
	}
	return moved;
}

static void test_alloc_free(void *ctx, void *ptr, size_t size)
{
	struct test_alloc *t = ctx;

	drop_block(t, expect_block(t, ptr, size, 0));
}

void test_alloc_init(struct test_alloc *t, bool with_realloc)
{
	*t = (struct test_alloc){
		.allocator = {
			.alloc = test_alloc_alloc,
			.realloc = with_realloc ? test_alloc_realloc : NULL,
			.free = test_alloc_free,
			.ctx = t,
		},
	};
}

void test_alloc_expect_no_leaks(const struct test_alloc *t)
{
	if (t->live != 0)
		panic("test_alloc: %zu blocks leaked, the first of %zu bytes", t->live, t->blocks[0].size);
}
