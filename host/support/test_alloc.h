/*
 * A `struct allocator` for tests of the lib/ collections.  It hands out malloc'd blocks filled
 * with garbage, keeps a table of the live ones and panics on any free or realloc that does not
 * name a live block with its exact size and alignment.  It counts the calls that can fail
 * (alloc and realloc) and fails the one numbered fail_at, or every one from fail_at on, so a
 * test can make an operation fail at each allocation it does.  Its realloc always moves the
 * block, so a stale pointer into the old one is caught under ASan.  Requests over 1 GiB fail
 * as out of memory.
 */
#ifndef FERRITE_HOST_TEST_ALLOC_H
#define FERRITE_HOST_TEST_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/alloc.h"

#define TEST_ALLOC_MAX_LIVE 8

struct test_alloc_block {
	void *ptr;
	size_t size;
	size_t align;
};

struct test_alloc {
	struct allocator allocator;   /* what the collection under test gets */
	uint64_t calls;               /* alloc and realloc calls so far, failed ones included */
	uint64_t failures;            /* calls failed on purpose */
	uint64_t fail_at;             /* the call number (from 1) to fail; 0 for none */
	bool fail_from_then_on;       /* fail every call from fail_at on, not only that one */
	size_t live;                  /* blocks handed out and not freed */
	size_t largest_request;       /* the largest size asked for, failed calls included */
	struct test_alloc_block blocks[TEST_ALLOC_MAX_LIVE];
};

/* A fresh allocator that never fails; with_realloc false leaves allocator.realloc NULL, so the
 * collections fall back to alloc, copy and free. */
void test_alloc_init(struct test_alloc *t, bool with_realloc);

/* Panics unless every block has been freed. */
void test_alloc_expect_no_leaks(const struct test_alloc *t);

#endif
