/*
 * lib/hashmap: random operations against a brute-force model (an unsorted array searched
 * linearly), with the default hash and with deliberately bad ones that pile keys onto a few
 * slots or onto the slot where runs wrap around; hashmap_check after every operation; the same
 * runs with an allocation failing at every point they allocate; then growth, churn, iteration,
 * retain, hostile sizes, corruption detection and the hash's quality by hand.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lib/rng.h"
#include "host/support/test_alloc.h"
#include "lib/compiler.h"
#include "lib/hashmap.h"

#define MODEL_MAX 2048

/* ---------------------------------------------------------------------------------------------
 * Hash functions: the default and bad ones. */

static uint64_t hash_constant(uint64_t key)
{
	(void)key;
	return 0;
}

/* Every key's home is the last slot, so the one run wraps around the end of the table. */
static uint64_t hash_last_slot(uint64_t key)
{
	(void)key;
	return UINT64_MAX;
}

/* Only four homes. */
static uint64_t hash_four_ways(uint64_t key)
{
	return key & 3;
}

/* The identity: page addresses all have the low 12 bits clear, so they share a few homes. */
static uint64_t hash_identity(uint64_t key)
{
	return key;
}

struct hash_case {
	const char *name;
	hashmap_hash_fn *hash;
	uint64_t key_range;   /* how many distinct keys the run draws from */
};

static const struct hash_case hash_cases[] = {
	{ "default", NULL, 1500 },
	{ "identity", hash_identity, 1500 },
	{ "four ways", hash_four_ways, 300 },
	{ "constant", hash_constant, 120 },
	{ "last slot", hash_last_slot, 120 },
};

/* ---------------------------------------------------------------------------------------------
 * The model and the harness. */

struct harness {
	struct test_alloc ta;
	struct hashmap map;
	size_t count;
	uint64_t keys[MODEL_MAX];
	uint64_t values[MODEL_MAX];
	uint64_t key_range;
	struct rng r;
};

/* The model's index of key, or count if absent. */
static size_t model_find(const struct harness *h, uint64_t key)
{
	size_t i = 0;

	while (i < h->count && h->keys[i] != key)
		i++;
	return i;
}

static void model_add(struct harness *h, uint64_t key, uint64_t value)
{
	cr_assert_lt(h->count, MODEL_MAX);
	h->keys[h->count] = key;
	h->values[h->count++] = value;
}

static void model_remove_at(struct harness *h, size_t i)
{
	h->keys[i] = h->keys[--h->count];
	h->values[i] = h->values[h->count];
}

/* Keys of several shapes from a range of key_range numbers: small integers, page addresses,
 * the extremes, and scrambled 64-bit values; the same number always gives the same key. */
static uint64_t key_of(uint64_t n)
{
	switch (n % 4) {
	case 0:  return n / 4;
	case 1:  return (n / 4) << 12;
	case 2:  return UINT64_MAX - n / 4;
	default: return hashmap_hash64(n) ^ 0x5555555555555555u;
	}
}

static uint64_t random_key(struct harness *h)
{
	return key_of(rng_below(&h->r, h->key_range));
}

static void harness_init(struct harness *h, const struct hash_case *hc, uint64_t seed)
{
	test_alloc_init(&h->ta, true);
	hashmap_init(&h->map, &h->ta.allocator, hc->hash);
	h->count = 0;
	h->key_range = hc->key_range;
	h->r = rng_seed(seed);
}

/* Every model entry is in the map with its value, and nothing else is. */
static void expect_matches_model(const struct harness *h)
{
	uint64_t value;

	cr_assert_eq(hashmap_check(&h->map), HASHMAP_OK);
	cr_assert_eq(hashmap_count(&h->map), h->count);
	for (size_t i = 0; i < h->count; i++) {
		cr_assert(hashmap_get(&h->map, h->keys[i], &value), "key %#lx lost", (unsigned long)h->keys[i]);
		cr_assert_eq(value, h->values[i]);
	}
}

/* The cheap checks done after every operation; the model comparison runs now and then. */
static void expect_consistent(const struct harness *h)
{
	cr_assert_eq(hashmap_check(&h->map), HASHMAP_OK);
	cr_assert_eq(hashmap_count(&h->map), h->count);
	cr_assert_eq(h->ta.live, h->map.capacity != 0 ? 1u : 0u, "one block while there is a table");
	if (h->map.capacity != 0)
		cr_assert_eq(h->ta.blocks[0].size, h->map.capacity * (sizeof(struct hashmap_slot) + sizeof(uint32_t)));
}

struct snapshot {
	const void *slots;
	size_t capacity, count;
};

static struct snapshot snap(const struct hashmap *m)
{
	return (struct snapshot){ .slots = m->slots, .capacity = m->capacity, .count = m->count };
}

/* A call that may fail for lack of memory: true if it succeeded, else nothing may have changed. */
static bool ok_or_unchanged(const struct harness *h, enum hashmap_status st, struct snapshot before)
{
	if (st == HASHMAP_OK)
		return true;
	cr_assert_eq(st, HASHMAP_ERR_NO_MEMORY, "unexpected %s", hashmap_status_message(st));
	cr_assert_gt(h->ta.failures, 0, "NO_MEMORY while the allocator never failed");
	cr_assert_eq(h->map.slots, before.slots);
	cr_assert_eq(h->map.capacity, before.capacity);
	cr_assert_eq(h->map.count, before.count);
	expect_matches_model(h);
	return false;
}

/* ---------------------------------------------------------------------------------------------
 * The operations, each checked against the model. */

static void op_insert(struct harness *h, bool replace)
{
	uint64_t key = random_key(h), value = rng_next(&h->r), old = 0;
	size_t at = model_find(h, key);
	bool present = at < h->count;
	struct snapshot before = snap(&h->map);

	if (!present && h->count == MODEL_MAX)
		return;
	enum hashmap_status st = replace ? hashmap_put(&h->map, key, value) : hashmap_insert(&h->map, key, value);
	if (present) {
		cr_assert_eq(st, replace ? HASHMAP_OK : HASHMAP_ERR_EXISTS);
		cr_assert_eq(h->map.slots, before.slots, "a present key never reallocates");
		cr_assert(hashmap_get(&h->map, key, &old));
		cr_assert_eq(old, replace ? value : h->values[at]);
		h->values[at] = old;
	} else if (ok_or_unchanged(h, st, before)) {
		model_add(h, key, value);
	}
}

static void op_get(struct harness *h)
{
	uint64_t key = random_key(h), value = 0x1234;
	size_t at = model_find(h, key);

	cr_assert_eq(hashmap_get(&h->map, key, &value), at < h->count);
	cr_assert_eq(value, at < h->count ? h->values[at] : 0x1234, "a miss writes nothing");
	cr_assert_eq(hashmap_get(&h->map, key, NULL), at < h->count);
}

static void op_remove(struct harness *h)
{
	/* Mostly keys that are there, so that the map does not fill up. */
	uint64_t key = h->count != 0 && !rng_one_in(&h->r, 4) ? h->keys[rng_below(&h->r, h->count)] : random_key(h);
	uint64_t value = 0x1234;
	bool want_value = rng_one_in(&h->r, 2);
	size_t at = model_find(h, key);
	bool present = at < h->count;

	cr_assert_eq(hashmap_remove(&h->map, key, want_value ? &value : NULL), present);
	cr_assert_eq(value, present && want_value ? h->values[at] : 0x1234);
	if (present)
		model_remove_at(h, at);
	cr_assert(!hashmap_get(&h->map, key, NULL));
}

static void op_reserve(struct harness *h)
{
	size_t count = h->count + rng_below(&h->r, 200);
	struct snapshot before = snap(&h->map);

	if (ok_or_unchanged(h, hashmap_reserve(&h->map, count), before))
		cr_assert_geq(h->map.capacity / 4 * 3, count);
}

/* Walks the map: every model entry exactly once, with its value. */
static void op_iterate(struct harness *h)
{
	static bool seen[MODEL_MAX];
	struct hashmap_iter it;
	uint64_t key, value;
	size_t n = 0;

	memset(seen, 0, sizeof(seen));
	for (hashmap_iter_init(&it, &h->map); hashmap_iter_next(&it, &key, &value); n++) {
		size_t at = model_find(h, key);
		cr_assert_lt(at, h->count, "iteration found a key the model does not have");
		cr_assert(!seen[at], "iteration visited a key twice");
		cr_assert_eq(value, h->values[at]);
		seen[at] = true;
	}
	cr_assert_eq(n, h->count);
	cr_assert(!hashmap_iter_next(&it, NULL, NULL), "the end is sticky");
}

struct retain_ctx {
	struct harness *h;
	bool seen[MODEL_MAX];
	uint64_t drop_mask;
};

/* Drops keys whose scrambled bits meet drop_mask; halves the value of the ones it keeps. */
static bool keep_some(void *ctx, uint64_t key, uint64_t *value)
{
	struct retain_ctx *rc = ctx;
	size_t at = model_find(rc->h, key);

	cr_assert_lt(at, rc->h->count);
	cr_assert(!rc->seen[at], "retain called keep twice for one entry");
	cr_assert_eq(*value, rc->h->values[at]);
	rc->seen[at] = true;
	*value /= 2;
	return (hashmap_hash64(key) & rc->drop_mask) != 0;
}

static void op_retain(struct harness *h)
{
	static struct retain_ctx rc;
	static const uint64_t masks[] = { 1, 3, 7, UINT64_MAX };

	memset(&rc, 0, sizeof(rc));
	rc.h = h;
	rc.drop_mask = masks[rng_below(&h->r, ARRAY_SIZE(masks))];
	size_t removed = hashmap_retain(&h->map, keep_some, &rc);

	size_t want_removed = 0;
	for (size_t i = h->count; i-- > 0;) {
		cr_assert(rc.seen[i], "retain skipped an entry");
		h->values[i] /= 2;
		if ((hashmap_hash64(h->keys[i]) & rc.drop_mask) == 0) {
			model_remove_at(h, i);
			want_removed++;
		}
	}
	cr_assert_eq(removed, want_removed);
}

static void op_clear_or_free(struct harness *h)
{
	if (rng_one_in(&h->r, 2)) {
		size_t capacity = h->map.capacity;
		hashmap_clear(&h->map);
		cr_assert_eq(h->map.capacity, capacity, "clear keeps the table");
	} else {
		hashmap_free(&h->map);
		cr_assert_eq(h->map.capacity, 0);
	}
	h->count = 0;
	cr_assert(!hashmap_get(&h->map, key_of(0), NULL));
}

/* One random operation.  Inserts outweigh removals until about 2/3 of the key range is in the
 * map, so it grows through many tables; retain, clear and free are rare enough not to hold the
 * count down. */
static void random_op(struct harness *h)
{
	uint64_t roll = rng_below(&h->r, 10000);

	if (roll < 3500)
		op_insert(h, false);
	else if (roll < 5000)
		op_insert(h, true);
	else if (roll < 7500)
		op_get(h);
	else if (roll < 9500)
		op_remove(h);
	else if (roll < 9800)
		op_reserve(h);
	else if (roll < 9895)
		op_iterate(h);
	else if (roll < 9905)
		op_retain(h);
	else if (roll < 9908)
		op_clear_or_free(h);
	else
		op_get(h);
	expect_consistent(h);
}

struct run {
	const struct hash_case *hc;
	uint64_t seed;
	int nops;
	int reset_period;           /* clear or free the map every so many operations; 0 for never */
	uint64_t fail_at;           /* as in struct test_alloc */
	bool fail_from_then_on;
};

/* Runs random operations; returns how many allocations they asked for. */
static uint64_t run_random(struct run run)
{
	static struct harness h;

	harness_init(&h, run.hc, run.seed);
	h.ta.fail_at = run.fail_at;
	h.ta.fail_from_then_on = run.fail_from_then_on;
	for (int i = 1; i <= run.nops; i++) {
		random_op(&h);
		if (run.reset_period != 0 && i % run.reset_period == 0)
			op_clear_or_free(&h);
		if (i % 64 == 0)
			expect_matches_model(&h);
	}
	expect_matches_model(&h);
	op_iterate(&h);
	hashmap_free(&h.map);
	test_alloc_expect_no_leaks(&h.ta);
	return h.ta.calls;
}

Test(hashmap, random_operations_match_the_model)
{
	for (size_t c = 0; c < ARRAY_SIZE(hash_cases); c++) {
		const struct hash_case *hc = &hash_cases[c];
		run_random((struct run){ .hc = hc, .seed = 0x4a5e + c, .nops = hc->key_range > 1000 ? 40000 : 8000 });
	}
}

/* Short runs that start over often, so that they allocate often. */
Test(hashmap, an_allocation_failing_at_any_point_changes_nothing)
{
	for (size_t c = 0; c < ARRAY_SIZE(hash_cases); c++) {
		struct run run = { .hc = &hash_cases[c], .seed = 0xfa1 + c, .nops = 4000, .reset_period = 250 };
		uint64_t calls = run_random(run);
		cr_assert_gt(calls, 20, "%s: the run must allocate often to be a test", hash_cases[c].name);
		for (run.fail_at = 1; run.fail_at <= calls; run.fail_at++) {
			run.fail_from_then_on = false;
			run_random(run);
			run.fail_from_then_on = true;
			run_random(run);
		}
	}
}

/* ---------------------------------------------------------------------------------------------
 * By hand. */

Test(hashmap, an_empty_map_allocates_nothing_and_finds_nothing)
{
	struct test_alloc ta;
	struct hashmap m;
	struct hashmap_iter it;
	uint64_t value = 5;

	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, NULL);
	cr_assert(!hashmap_get(&m, 0, &value));
	cr_assert(!hashmap_remove(&m, UINT64_MAX, &value));
	cr_assert_eq(value, 5);
	cr_assert_eq(hashmap_reserve(&m, 0), HASHMAP_OK);
	cr_assert_eq(hashmap_retain(&m, keep_some, NULL), 0);
	hashmap_iter_init(&it, &m);
	cr_assert(!hashmap_iter_next(&it, NULL, NULL));
	hashmap_clear(&m);
	hashmap_free(&m);
	cr_assert_eq(hashmap_check(&m), HASHMAP_OK);
	cr_assert_eq(ta.calls, 0);
}

Test(hashmap, zero_and_all_ones_are_ordinary_keys)
{
	struct test_alloc ta;
	struct hashmap m;
	uint64_t value;

	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, NULL);
	cr_assert_eq(hashmap_insert(&m, 0, 0), HASHMAP_OK);
	cr_assert_eq(hashmap_insert(&m, UINT64_MAX, UINT64_MAX), HASHMAP_OK);
	cr_assert_eq(hashmap_insert(&m, 0, 1), HASHMAP_ERR_EXISTS);
	cr_assert(hashmap_get(&m, 0, &value));
	cr_assert_eq(value, 0, "EXISTS keeps the old value");
	cr_assert_eq(hashmap_put(&m, 0, 9), HASHMAP_OK);
	cr_assert(hashmap_get(&m, 0, &value));
	cr_assert_eq(value, 9);
	cr_assert(hashmap_remove(&m, UINT64_MAX, &value));
	cr_assert_eq(value, UINT64_MAX);
	cr_assert_eq(hashmap_count(&m), 1);
	hashmap_free(&m);
	test_alloc_expect_no_leaks(&ta);
}

/* The table doubles exactly when an insert would pass 3/4 full, and never otherwise. */
Test(hashmap, grows_at_three_quarters)
{
	struct test_alloc ta;
	struct hashmap m;
	uint64_t growths = 0;

	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, NULL);
	for (uint64_t n = 0; n < 200000; n++) {
		size_t before = m.capacity;
		cr_assert_eq(hashmap_insert(&m, n << 12, n), HASHMAP_OK);
		size_t want = before == 0 ? HASHMAP_MIN_CAPACITY : n + 1 > before / 4 * 3 ? 2 * before : before;
		cr_assert_eq(m.capacity, want, "%lu entries: capacity %zu", (unsigned long)n + 1, m.capacity);
		growths += m.capacity != before;
	}
	cr_assert_eq(ta.calls, growths);
	cr_assert_eq(hashmap_check(&m), HASHMAP_OK);
	for (uint64_t n = 0; n < 200000; n++) {
		uint64_t value;
		cr_assert(hashmap_get(&m, n << 12, &value));
		cr_assert_eq(value, n);
	}
	hashmap_free(&m);
	test_alloc_expect_no_leaks(&ta);
}

/* The sum of all probe distances, and which slots are taken: with linear probing both depend
 * only on the set of keys, not on the order they came in or on what was removed before. */
static uint64_t total_distance(const struct hashmap *m)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < m->capacity; i++)
		sum += m->dist[i];
	return sum;
}

static void expect_same_occupancy(const struct hashmap *a, const struct hashmap *b)
{
	cr_assert_eq(a->capacity, b->capacity);
	for (size_t i = 0; i < a->capacity; i++)
		cr_assert_eq(a->dist[i] == 0, b->dist[i] == 0, "slot %zu", i);
	cr_assert_eq(total_distance(a), total_distance(b));
}

/*
 * Heavy churn at a steady 0.74 load: removing leaves no tombstones behind, so after 300000
 * removals and reinsertions the table is laid out exactly as one built fresh from the keys that
 * are left, and nothing was allocated after the start.
 */
Test(hashmap, churn_leaves_no_trace)
{
	static uint64_t keys[3000];
	struct test_alloc ta;
	struct hashmap m, fresh;
	struct rng r = rng_seed(0xc4u);

	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, NULL);
	cr_assert_eq(hashmap_reserve(&m, 3000), HASHMAP_OK);
	cr_assert_eq(m.capacity, 4096);
	for (size_t i = 0; i < 3000; i++) {
		keys[i] = rng_next(&r) & ~(uint64_t)0xfff;
		cr_assert_eq(hashmap_put(&m, keys[i], i), HASHMAP_OK);
	}
	for (int round = 0; round < 300000; round++) {
		size_t i = rng_below(&r, 3000);
		cr_assert(hashmap_remove(&m, keys[i], NULL));
		keys[i] = rng_next(&r) & ~(uint64_t)0xfff;
		cr_assert_eq(hashmap_insert(&m, keys[i], i), HASHMAP_OK);
		if (round % 10000 == 0)
			cr_assert_eq(hashmap_check(&m), HASHMAP_OK);
	}
	cr_assert_eq(ta.calls, 1, "a steady load never reallocates");
	cr_assert_eq(hashmap_check(&m), HASHMAP_OK);

	hashmap_init(&fresh, &ta.allocator, NULL);
	cr_assert_eq(hashmap_reserve(&fresh, 3000), HASHMAP_OK);
	for (size_t i = 0; i < 3000; i++)
		cr_assert_eq(hashmap_insert(&fresh, keys[i], i), HASHMAP_OK);
	expect_same_occupancy(&m, &fresh);
	cr_assert_leq(total_distance(&m), 3 * 3000, "mean probe length %lu/3000", (unsigned long)total_distance(&m));
	hashmap_free(&m);
	hashmap_free(&fresh);
	test_alloc_expect_no_leaks(&ta);
}

struct drop_ctx {
	int calls;
	uint64_t below;
};

static bool keep_at_least(void *ctx, uint64_t key, uint64_t *value)
{
	struct drop_ctx *dc = ctx;

	(void)value;
	dc->calls++;
	return key >= dc->below;
}

/* One run that wraps from the last slot to the first: retain must still see each entry once. */
Test(hashmap, retain_across_the_wrap)
{
	struct test_alloc ta;
	struct hashmap m;

	test_alloc_init(&ta, true);
	for (uint64_t below = 0; below <= 50; below += 5) {
		hashmap_init(&m, &ta.allocator, hash_last_slot);
		for (uint64_t k = 0; k < 50; k++)
			cr_assert_eq(hashmap_insert(&m, k, k), HASHMAP_OK);
		cr_assert_neq(m.dist[0], 0, "the run wraps");
		struct drop_ctx dc = { 0, below };
		cr_assert_eq(hashmap_retain(&m, keep_at_least, &dc), below);
		cr_assert_eq(dc.calls, 50);
		cr_assert_eq(hashmap_count(&m), 50 - below);
		cr_assert_eq(hashmap_check(&m), HASHMAP_OK);
		for (uint64_t k = 0; k < 50; k++)
			cr_assert_eq(hashmap_get(&m, k, NULL), k >= below);
		hashmap_free(&m);
	}
	test_alloc_expect_no_leaks(&ta);
}

Test(hashmap, sizes_beyond_the_limit_are_refused_before_allocating)
{
	struct test_alloc ta;
	struct hashmap m;
	size_t most = HASHMAP_MAX_CAPACITY / 4 * 3;

	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, NULL);
	cr_assert_eq(hashmap_reserve(&m, SIZE_MAX), HASHMAP_ERR_TOO_LARGE);
	cr_assert_eq(hashmap_reserve(&m, most + 1), HASHMAP_ERR_TOO_LARGE);
	cr_assert_eq(ta.calls, 0);
	cr_assert_eq(hashmap_reserve(&m, most), HASHMAP_ERR_NO_MEMORY);
	cr_assert_eq(ta.largest_request, HASHMAP_MAX_CAPACITY * (sizeof(struct hashmap_slot) + sizeof(uint32_t)));
	cr_assert_eq(m.capacity, 0);
	cr_assert_eq(hashmap_reserve(&m, 7), HASHMAP_OK);
	cr_assert_eq(m.capacity, 16, "the smallest table that holds 7 within 3/4");
	hashmap_free(&m);
	test_alloc_expect_no_leaks(&ta);
}

/* A map of keys 0 .. 39 over four homes, so that every run is long. */
static void four_way_map(struct test_alloc *ta, struct hashmap *m)
{
	test_alloc_init(ta, true);
	hashmap_init(m, &ta->allocator, hash_four_ways);
	for (uint64_t k = 0; k < 40; k++)
		cr_assert_eq(hashmap_insert(m, k, k), HASHMAP_OK);
	cr_assert_eq(hashmap_check(m), HASHMAP_OK);
}

/* The first slot holding an entry displaced from its home. */
static size_t some_displaced_slot(const struct hashmap *m)
{
	size_t i = 0;

	while (m->dist[i] < 2)
		i++;
	return i;
}

/* The checker must be able to fail: each kind of damage is caught. */
Test(hashmap, check_catches_corruption)
{
	struct test_alloc ta;
	struct hashmap m;

	four_way_map(&ta, &m);
	size_t i = some_displaced_slot(&m);
	m.dist[i]++;
	cr_assert_eq(hashmap_check(&m), HASHMAP_ERR_CORRUPT, "a wrong distance");
	m.dist[i]--;
	m.slots[i].key += 1;
	cr_assert_eq(hashmap_check(&m), HASHMAP_ERR_CORRUPT, "a key away from its home");
	m.slots[i].key += 3;
	cr_assert_eq(hashmap_check(&m), HASHMAP_ERR_CORRUPT, "a duplicate key (k + 4 is also there)");
	m.slots[i].key -= 4;
	m.count--;
	cr_assert_eq(hashmap_check(&m), HASHMAP_ERR_CORRUPT, "a wrong count");
	m.count++;
	m.capacity--;
	cr_assert_eq(hashmap_check(&m), HASHMAP_ERR_CORRUPT, "a capacity that is not a power of two");
	m.capacity++;
	cr_assert_eq(hashmap_check(&m), HASHMAP_OK, "all damage undone");
	hashmap_free(&m);

	/* Key 1 put two slots past its empty home, behind key 2 at home: every distance is right,
	 * but Robin Hood order is broken and a lookup stops at the empty slot. */
	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, hash_identity);
	cr_assert_eq(hashmap_insert(&m, 2, 0), HASHMAP_OK);
	cr_assert_eq(m.dist[2], 1);
	m.slots[3] = (struct hashmap_slot){ .key = 1, .value = 0 };
	m.dist[3] = 3;
	m.count++;
	cr_assert_eq(hashmap_check(&m), HASHMAP_ERR_CORRUPT, "out of Robin Hood order");
	m.dist[3] = 0;
	m.count--;
	cr_assert_eq(hashmap_check(&m), HASHMAP_OK);
	hashmap_free(&m);
	test_alloc_expect_no_leaks(&ta);
}

/* Avalanche: flipping any one input bit flips each output bit with probability close to 1/2. */
Test(hashmap, hash64_avalanches)
{
	struct rng r = rng_seed(0xa7a1);
	static uint32_t flips[64][64];
	const int samples = 4000;

	for (int s = 0; s < samples; s++) {
		uint64_t x = rng_next(&r), hx = hashmap_hash64(x);
		for (int in = 0; in < 64; in++) {
			uint64_t diff = hx ^ hashmap_hash64(x ^ ((uint64_t)1 << in));
			for (int out = 0; out < 64; out++)
				flips[in][out] += (diff >> out) & 1;
		}
	}
	for (int in = 0; in < 64; in++)
		for (int out = 0; out < 64; out++)
			cr_assert(flips[in][out] > samples * 4 / 10 && flips[in][out] < samples * 6 / 10,
			          "input bit %d flips output bit %d %u times in %d", in, out, flips[in][out], samples);
}

/* The keys a kernel uses most, page addresses, spread evenly with the default hash. */
Test(hashmap, page_addresses_probe_briefly)
{
	struct test_alloc ta;
	struct hashmap m;
	uint32_t longest = 0;

	test_alloc_init(&ta, true);
	hashmap_init(&m, &ta.allocator, NULL);
	for (uint64_t n = 0; n < 24576; n++)
		cr_assert_eq(hashmap_insert(&m, 0xffff800000000000u + (n << 12), n), HASHMAP_OK);
	cr_assert_eq(m.capacity, 32768, "at the 3/4 limit");
	for (size_t i = 0; i < m.capacity; i++)
		longest = m.dist[i] > longest ? m.dist[i] : longest;
	cr_assert_leq(total_distance(&m), 3 * 24576, "mean probe length %lu/24576", (unsigned long)total_distance(&m));
	cr_assert_leq(longest, 64);
	hashmap_free(&m);
	test_alloc_expect_no_leaks(&ta);
}

Test(hashmap, every_status_has_a_message)
{
	for (int st = HASHMAP_OK; st <= HASHMAP_ERR_CORRUPT; st++)
		cr_assert(strcmp(hashmap_status_message((enum hashmap_status)st), "unknown hash map status") != 0);
	cr_assert_str_eq(hashmap_status_message((enum hashmap_status)99), "unknown hash map status");
}
