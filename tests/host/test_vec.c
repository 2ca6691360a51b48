/*
 * lib/vec: random operations against a plain array model, for several element sizes and
 * alignments, with and without the allocator's realloc; the same runs with an allocation failing
 * at every point they allocate; then growth, overflow, aliasing and hostile indices by hand.
 * After every operation the vector must equal the model, byte for byte, and hold exactly one
 * block of exactly capacity * elem_size bytes.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lib/rng.h"
#include "host/support/test_alloc.h"
#include "lib/compiler.h"
#include "lib/vec.h"

#define MAX_ELEM 64         /* bytes in the largest element tested */
#define MODEL_MAX 400       /* elements the model holds */

struct elem_kind {
	size_t size, align;
};

static const struct elem_kind kinds[] = { { 1, 1 }, { 3, 1 }, { 8, 8 }, { 24, 8 }, { 64, 64 } };

/* The vector under test, its allocator and the model it must equal. */
struct harness {
	struct test_alloc ta;
	struct vec v;
	size_t es;
	size_t len;
	unsigned char model[MODEL_MAX * MAX_ELEM];
	struct rng r;
};

/* What a failed call must leave as it was. */
struct snapshot {
	void *data;
	size_t len, capacity;
};

static struct snapshot snap(const struct vec *v)
{
	return (struct snapshot){ .data = vec_data(v), .len = vec_len(v), .capacity = vec_capacity(v) };
}

static void expect_unchanged(const struct vec *v, struct snapshot before)
{
	cr_assert_eq(vec_data(v), before.data);
	cr_assert_eq(vec_len(v), before.len);
	cr_assert_eq(vec_capacity(v), before.capacity);
}

static void harness_init(struct harness *h, struct elem_kind kind, bool with_realloc, uint64_t seed)
{
	test_alloc_init(&h->ta, with_realloc);
	cr_assert_eq(vec_init(&h->v, kind.size, kind.align, &h->ta.allocator), VEC_OK);
	h->es = kind.size;
	h->len = 0;
	h->r = rng_seed(seed);
}

static void random_elem(struct harness *h, unsigned char *out)
{
	for (size_t b = 0; b < h->es; b++)
		out[b] = (unsigned char)rng_next(&h->r);
}

static unsigned char *model_at(struct harness *h, size_t i)
{
	return h->model + i * h->es;
}

/* The invariants, the allocator's view of the storage, and the contents against the model. */
static void expect_matches_model(struct harness *h)
{
	const struct vec *v = &h->v;

	cr_assert_eq(vec_len(v), h->len);
	cr_assert_leq(vec_len(v), vec_capacity(v));
	cr_assert_eq(vec_data(v) == NULL, vec_capacity(v) == 0);
	cr_assert_eq(h->ta.live, vec_capacity(v) != 0 ? 1u : 0u, "one block while there is storage");
	if (vec_capacity(v) != 0) {
		cr_assert_eq(h->ta.blocks[0].ptr, vec_data(v));
		cr_assert_eq(h->ta.blocks[0].size, vec_capacity(v) * h->es);
		cr_assert_eq((uintptr_t)vec_data(v) % v->elem_align, 0);
	}
	if (h->len != 0)
		cr_assert(memcmp(vec_data(v), h->model, h->len * h->es) == 0, "contents differ from the model");
}

/* A call that may fail for lack of memory: true if it succeeded, else it must have changed
 * nothing and the model is left alone. */
static bool ok_or_unchanged(struct harness *h, enum vec_status st, struct snapshot before)
{
	if (st == VEC_OK)
		return true;
	cr_assert_eq(st, VEC_ERR_NO_MEMORY, "unexpected %s", vec_status_message(st));
	cr_assert_gt(h->ta.failures, 0, "NO_MEMORY while the allocator never failed");
	expect_unchanged(&h->v, before);
	return false;
}

static void model_insert(struct harness *h, size_t i, const unsigned char *elem)
{
	memmove(model_at(h, i + 1), model_at(h, i), (h->len - i) * h->es);
	memcpy(model_at(h, i), elem, h->es);
	h->len++;
}

static void model_remove(struct harness *h, size_t i)
{
	memmove(model_at(h, i), model_at(h, i + 1), (h->len - i - 1) * h->es);
	h->len--;
}

/* ---------------------------------------------------------------------------------------------
 * The operations, each checked against the model.  Indices run one past the valid range so that
 * VEC_ERR_RANGE comes up too. */

static void op_insert(struct harness *h, bool at_end)
{
	unsigned char elem[MAX_ELEM];
	size_t i = at_end ? h->len : rng_below(&h->r, h->len + 2);
	struct snapshot before = snap(&h->v);

	random_elem(h, elem);
	enum vec_status st = at_end ? vec_push(&h->v, elem) : vec_insert(&h->v, i, elem);
	if (i > h->len) {
		cr_assert_eq(st, VEC_ERR_RANGE);
		expect_unchanged(&h->v, before);
	} else if (ok_or_unchanged(h, st, before)) {
		model_insert(h, i, elem);
	}
}

/* Inserts a copy of one of the vector's own elements. */
static void op_insert_own_element(struct harness *h)
{
	unsigned char want[MAX_ELEM];

	if (h->len == 0)
		return;
	size_t j = rng_below(&h->r, h->len), i = rng_below(&h->r, h->len + 1);
	struct snapshot before = snap(&h->v);
	memcpy(want, model_at(h, j), h->es);
	if (ok_or_unchanged(h, vec_insert(&h->v, i, vec_at(&h->v, j)), before))
		model_insert(h, i, want);
}

static void op_remove(struct harness *h, bool at_end)
{
	unsigned char got[MAX_ELEM];
	size_t i = at_end ? h->len - 1 : rng_below(&h->r, h->len + 1);
	bool valid = i < h->len;   /* h->len - 1 wraps for an empty vector */
	struct snapshot before = snap(&h->v);

	enum vec_status st = at_end ? vec_pop(&h->v, got) : vec_remove(&h->v, i, got);
	if (!valid) {
		cr_assert_eq(st, VEC_ERR_RANGE);
		expect_unchanged(&h->v, before);
		return;
	}
	cr_assert_eq(st, VEC_OK);
	cr_assert(memcmp(got, model_at(h, i), h->es) == 0, "removed the wrong element");
	cr_assert_eq(vec_capacity(&h->v), before.capacity, "removing never reallocates");
	model_remove(h, i);
}

static void op_get_set(struct harness *h)
{
	unsigned char elem[MAX_ELEM];
	size_t i = rng_below(&h->r, h->len + 1);
	struct snapshot before = snap(&h->v);

	if (i == h->len) {
		cr_assert_eq(vec_get(&h->v, i, elem), VEC_ERR_RANGE);
		cr_assert_eq(vec_set(&h->v, i, elem), VEC_ERR_RANGE);
		cr_assert_null(vec_at(&h->v, i));
	} else {
		cr_assert_eq(vec_get(&h->v, i, elem), VEC_OK);
		cr_assert(memcmp(elem, model_at(h, i), h->es) == 0);
		cr_assert_eq(vec_at(&h->v, i), (unsigned char *)vec_data(&h->v) + i * h->es);
		random_elem(h, elem);
		cr_assert_eq(vec_set(&h->v, i, elem), VEC_OK);
		memcpy(model_at(h, i), elem, h->es);
	}
	expect_unchanged(&h->v, before);
}

static void op_reserve(struct harness *h)
{
	size_t additional = rng_below(&h->r, 2 * MODEL_MAX - h->len);
	struct snapshot before = snap(&h->v);

	if (!ok_or_unchanged(h, vec_reserve(&h->v, additional), before))
		return;
	cr_assert_geq(vec_capacity(&h->v), h->len + additional);
	if (before.capacity >= h->len + additional)
		expect_unchanged(&h->v, before);
	else
		cr_assert_eq(vec_capacity(&h->v), h->len + additional, "reserve is exact");
}

static void op_shrink(struct harness *h)
{
	struct snapshot before = snap(&h->v);

	if (ok_or_unchanged(h, vec_shrink(&h->v), before))
		cr_assert_eq(vec_capacity(&h->v), h->len);
}

static void op_clear(struct harness *h)
{
	size_t capacity = vec_capacity(&h->v);

	vec_clear(&h->v);
	cr_assert_eq(vec_capacity(&h->v), capacity);
	h->len = 0;
}

/* One random operation.  Insertions are likelier, so the vector grows to hundreds of elements
 * until the model is nearly full or a rare clear empties it. */
static void random_op(struct harness *h)
{
	uint64_t roll = rng_below(&h->r, 1000);
	bool room = h->len < MODEL_MAX - 2;

	if (roll < 250 && room)
		op_insert(h, true);
	else if (roll < 400 && room)
		op_insert(h, false);
	else if (roll < 450 && room)
		op_insert_own_element(h);
	else if (roll < 600)
		op_remove(h, true);
	else if (roll < 750)
		op_remove(h, false);
	else if (roll < 900)
		op_get_set(h);
	else if (roll < 940 && room)
		op_reserve(h);
	else if (roll < 998)
		op_shrink(h);
	else
		op_clear(h);
	expect_matches_model(h);
}

/* Runs nops random operations; returns how many alloc and realloc calls they made. */
static uint64_t run_random(struct elem_kind kind, bool with_realloc, uint64_t seed, int nops,
                           uint64_t fail_at, bool fail_from_then_on)
{
	static struct harness h;

	harness_init(&h, kind, with_realloc, seed);
	h.ta.fail_at = fail_at;
	h.ta.fail_from_then_on = fail_from_then_on;
	for (int i = 0; i < nops; i++)
		random_op(&h);
	vec_free(&h.v);
	cr_assert_eq(vec_len(&h.v), 0);
	cr_assert_eq(vec_capacity(&h.v), 0);
	test_alloc_expect_no_leaks(&h.ta);
	return h.ta.calls;
}

Test(vec, random_operations_match_the_model)
{
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		for (int with_realloc = 0; with_realloc < 2; with_realloc++)
			run_random(kinds[k], with_realloc, 0x7ec0 + k, 20000, 0, false);
}

Test(vec, an_allocation_failing_at_any_point_changes_nothing)
{
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (int with_realloc = 0; with_realloc < 2; with_realloc++) {
			uint64_t seed = 0xfa11 + k, calls = run_random(kinds[k], with_realloc, seed, 600, 0, false);
			cr_assert_gt(calls, 20, "the run must allocate often to be a test");
			for (uint64_t n = 1; n <= calls; n++) {
				run_random(kinds[k], with_realloc, seed, 600, n, false);
				run_random(kinds[k], with_realloc, seed, 600, n, true);
			}
		}
	}
}

/* ---------------------------------------------------------------------------------------------
 * By hand. */

Test(vec, init_rejects_impossible_elements)
{
	struct test_alloc ta;
	struct vec v = { .len = 12345 };

	test_alloc_init(&ta, true);
	cr_assert_eq(vec_init(&v, 0, 1, &ta.allocator), VEC_ERR_INVALID);
	cr_assert_eq(vec_init(&v, 8, 0, &ta.allocator), VEC_ERR_INVALID);
	cr_assert_eq(vec_init(&v, 12, 3, &ta.allocator), VEC_ERR_INVALID);
	cr_assert_eq(vec_init(&v, 8, 16, &ta.allocator), VEC_ERR_INVALID);
	cr_assert_eq(vec_init(&v, 24, 16, &ta.allocator), VEC_ERR_INVALID);
	cr_assert_eq(vec_init(&v, (size_t)PTRDIFF_MAX + 1, 1, &ta.allocator), VEC_ERR_INVALID);
	cr_assert_eq(v.len, 12345, "a rejected init leaves the vector alone");
	cr_assert_eq(vec_init(&v, 24, 8, &ta.allocator), VEC_OK);
	cr_assert_eq(vec_init_for(&v, long double, &ta.allocator), VEC_OK);
	cr_assert_eq(v.elem_size, sizeof(long double));
	cr_assert_eq(v.elem_align, _Alignof(long double));
	cr_assert_eq(ta.calls, 0, "init allocates nothing");
}

Test(vec, hostile_indices_are_refused_on_an_empty_vector)
{
	struct test_alloc ta;
	struct vec v;
	uint64_t x = 7;

	test_alloc_init(&ta, true);
	vec_init_for(&v, uint64_t, &ta.allocator);
	cr_assert_eq(vec_pop(&v, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_pop(&v, NULL), VEC_ERR_RANGE);
	cr_assert_eq(vec_remove(&v, 0, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_get(&v, 0, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_set(&v, 0, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_insert(&v, 1, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_insert(&v, SIZE_MAX, &x), VEC_ERR_RANGE);
	cr_assert_null(vec_at(&v, 0));
	cr_assert_null(vec_at(&v, SIZE_MAX));
	cr_assert_eq(vec_shrink(&v), VEC_OK);
	cr_assert_eq(x, 7, "nothing was written to out");
	cr_assert_eq(ta.calls, 0);

	cr_assert_eq(vec_push(&v, &x), VEC_OK);
	cr_assert_eq(vec_get(&v, SIZE_MAX, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_remove(&v, SIZE_MAX, &x), VEC_ERR_RANGE);
	cr_assert_eq(vec_remove(&v, 1, NULL), VEC_ERR_RANGE);
	cr_assert_eq(vec_pop(&v, NULL), VEC_OK);
	cr_assert_eq(vec_len(&v), 0);
	vec_free(&v);
	vec_free(&v);   /* twice is fine: an empty vector holds nothing */
	test_alloc_expect_no_leaks(&ta);
}

Test(vec, grows_by_half_with_a_minimum)
{
	struct test_alloc ta;
	struct vec v;
	size_t want = 0;
	uint64_t changes = 0;

	test_alloc_init(&ta, true);
	vec_init_for(&v, uint32_t, &ta.allocator);
	for (uint32_t i = 0; i < 100000; i++) {
		size_t before = vec_capacity(&v);
		cr_assert_eq(vec_push(&v, &i), VEC_OK);
		if (vec_capacity(&v) != before) {
			want = before < VEC_MIN_CAPACITY ? VEC_MIN_CAPACITY : before + before / 2;
			cr_assert_eq(vec_capacity(&v), want, "%zu grew to %zu", before, vec_capacity(&v));
			cr_assert_eq(before, i, "grows only when full");
			changes++;
		}
	}
	cr_assert_eq(ta.calls, changes);
	cr_assert_leq(changes, 30, "geometric growth: %lu reallocations", (unsigned long)changes);
	for (uint32_t i = 0; i < 100000; i++)
		cr_assert_eq(*(uint32_t *)vec_at(&v, i), i);
	vec_free(&v);
	test_alloc_expect_no_leaks(&ta);
}

/* The vector's own elements pushed into it while it grows: with a realloc that always moves, a
 * stale source pointer would be a use after free (caught by ASan) or copy junk (caught here). */
Test(vec, pushing_its_own_elements_survives_growth)
{
	struct test_alloc ta;
	struct vec v;

	for (int with_realloc = 0; with_realloc < 2; with_realloc++) {
		test_alloc_init(&ta, with_realloc);
		vec_init_for(&v, uint64_t, &ta.allocator);
		uint64_t first = 0xabcdef;
		cr_assert_eq(vec_push(&v, &first), VEC_OK);
		for (uint64_t n = 1; n < 200; n++) {
			uint64_t want = *(uint64_t *)vec_at(&v, n / 2) + 1;
			cr_assert_eq(vec_set(&v, n / 2, &want), VEC_OK);
			cr_assert_eq(vec_push(&v, vec_at(&v, n / 2)), VEC_OK);
			cr_assert_eq(*(uint64_t *)vec_at(&v, n), want);
			cr_assert_eq(vec_insert(&v, 0, vec_at(&v, n)), VEC_OK);   /* shifted past */
			cr_assert_eq(*(uint64_t *)vec_at(&v, 0), want);
			cr_assert_eq(vec_remove(&v, 0, NULL), VEC_OK);
		}
		vec_free(&v);
		test_alloc_expect_no_leaks(&ta);
	}
}

Test(vec, reserve_and_shrink_set_the_capacity_exactly)
{
	struct test_alloc ta;
	struct vec v;
	uint16_t x = 1;

	test_alloc_init(&ta, true);
	vec_init_for(&v, uint16_t, &ta.allocator);
	cr_assert_eq(vec_reserve(&v, 0), VEC_OK);
	cr_assert_eq(vec_capacity(&v), 0, "reserving nothing allocates nothing");
	cr_assert_eq(vec_reserve(&v, 1000), VEC_OK);
	cr_assert_eq(vec_capacity(&v), 1000);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(vec_push(&v, &x), VEC_OK);
	cr_assert_eq(ta.calls, 1, "reserved pushes do not allocate");
	cr_assert_eq(vec_reserve(&v, 0), VEC_OK);
	cr_assert_eq(vec_reserve(&v, 5), VEC_OK);
	cr_assert_eq(vec_capacity(&v), 1005);
	vec_clear(&v);
	cr_assert_eq(vec_capacity(&v), 1005);
	cr_assert_eq(vec_push(&v, &x), VEC_OK);
	cr_assert_eq(vec_shrink(&v), VEC_OK);
	cr_assert_eq(vec_capacity(&v), 1);
	cr_assert_eq(*(uint16_t *)vec_at(&v, 0), 1);
	cr_assert_eq(vec_pop(&v, NULL), VEC_OK);
	cr_assert_eq(vec_shrink(&v), VEC_OK);
	cr_assert_eq(vec_capacity(&v), 0);
	cr_assert_null(vec_data(&v));
	test_alloc_expect_no_leaks(&ta);
}

/* Sizes near the limit: the allocator must only ever see the true byte count, and what cannot
 * be represented is refused before it is asked at all. */
Test(vec, sizes_never_wrap)
{
	struct test_alloc ta;
	struct vec v;
	uint64_t x = 0;

	test_alloc_init(&ta, true);
	vec_init_for(&v, uint64_t, &ta.allocator);
	size_t max = (size_t)PTRDIFF_MAX / 8;
	cr_assert_eq(vec_reserve(&v, SIZE_MAX), VEC_ERR_TOO_LARGE);
	cr_assert_eq(vec_reserve(&v, max + 1), VEC_ERR_TOO_LARGE);
	cr_assert_eq(ta.calls, 0, "refused before asking the allocator");
	cr_assert_eq(vec_reserve(&v, max), VEC_ERR_NO_MEMORY);
	cr_assert_eq(ta.largest_request, max * 8);
	cr_assert_eq(vec_push(&v, &x), VEC_OK);
	cr_assert_eq(vec_reserve(&v, max), VEC_ERR_TOO_LARGE, "len 1 + max is one too many");
	cr_assert_eq(vec_reserve(&v, SIZE_MAX), VEC_ERR_TOO_LARGE, "len + additional would wrap");
	cr_assert_eq(vec_reserve(&v, max - 1), VEC_ERR_NO_MEMORY);
	cr_assert_eq(vec_len(&v), 1);
	cr_assert_eq(vec_capacity(&v), VEC_MIN_CAPACITY);
	vec_free(&v);

	/* Elements so large that only three fit: growth stops at three, not at the minimum of four. */
	size_t huge = (size_t)PTRDIFF_MAX / 3;
	cr_assert_eq(vec_init(&v, huge, 1, &ta.allocator), VEC_OK);
	ta.largest_request = 0;
	cr_assert_eq(vec_push(&v, &x), VEC_ERR_NO_MEMORY);
	cr_assert_eq(ta.largest_request, 3 * huge);
	cr_assert_eq(vec_reserve(&v, 4), VEC_ERR_TOO_LARGE);
	test_alloc_expect_no_leaks(&ta);
}

/* A full vector at the largest capacity: the state is made by hand, since no machine has the
 * memory to reach it; the push is refused before anything is touched. */
Test(vec, a_full_vector_at_the_limit_refuses_to_grow)
{
	struct test_alloc ta;
	struct vec v;
	static unsigned char not_the_storage[1];

	test_alloc_init(&ta, true);
	cr_assert_eq(vec_init(&v, (size_t)PTRDIFF_MAX, 1, &ta.allocator), VEC_OK);
	v.data = not_the_storage;
	v.len = v.capacity = 1;
	cr_assert_eq(vec_push(&v, &ta), VEC_ERR_TOO_LARGE);
	cr_assert_eq(vec_insert(&v, 0, &ta), VEC_ERR_TOO_LARGE);
	cr_assert_eq(vec_reserve(&v, 1), VEC_ERR_TOO_LARGE);
	cr_assert_eq(vec_len(&v), 1);
	cr_assert_eq(ta.calls, 0);
}

Test(vec, every_status_has_a_message)
{
	for (int st = VEC_OK; st <= VEC_ERR_INVALID; st++)
		cr_assert(strcmp(vec_status_message((enum vec_status)st), "unknown vector status") != 0);
	cr_assert_str_eq(vec_status_message((enum vec_status)99), "unknown vector status");
}
