/*
 * lib/list: random operations on two lists sharing a pool of objects, against an array model of
 * each list's order, walked forwards and backwards after every operation; deletion while
 * iterating; container_of; and the corruption checks, which must panic.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/compiler.h"
#include "lib/list.h"

#define POOL 200

/* The node sits between other fields, so container_of has a real offset to undo. */
struct item {
	uint64_t id;
	struct list_node link;
	uint32_t canary;
};

/* An array model of one list: the ids front to back. */
struct model {
	size_t len;
	uint64_t ids[POOL];
};

struct harness {
	struct item pool[POOL];
	struct list_node heads[2];
	struct model models[2];
	int on[POOL];               /* the list each item is on, or -1 */
	struct rng r;
};

static struct item *item_of(struct list_node *n)
{
	return list_entry(n, struct item, link);
}

static void expect_matches_model(struct harness *h, int l)
{
	const struct list_node *head = &h->heads[l];
	const struct model *m = &h->models[l];
	struct list_node *n;
	size_t i = 0;

	cr_assert_eq(list_empty(head), m->len == 0);
	for (n = list_first(head); n != NULL; n = list_next(head, n), i++) {
		cr_assert_lt(i, m->len, "list %d is longer than the model", l);
		cr_assert_eq(item_of(n)->id, m->ids[i], "list %d, position %zu", l, i);
		cr_assert_eq(n->next->prev, n);
		cr_assert(list_is_linked(n));
	}
	cr_assert_eq(i, m->len, "list %d is shorter than the model", l);
	for (n = list_last(head); n != NULL; n = list_prev(head, n))
		cr_assert_eq(item_of(n)->id, m->ids[--i], "list %d backwards, position %zu", l, i);
	cr_assert_eq(i, 0);
	list_for_each(n, head)
		i++;
	cr_assert_eq(i, m->len);
}

static void expect_pool_intact(const struct harness *h)
{
	for (size_t i = 0; i < POOL; i++) {
		cr_assert_eq(h->pool[i].id, i);
		cr_assert_eq(h->pool[i].canary, 0xc0ffee, "item %zu overwritten", i);
		if (h->on[i] < 0)
			cr_assert(!list_is_linked(&h->pool[i].link), "item %zu linked but on no list", i);
	}
}

static void harness_init(struct harness *h, uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < POOL; i++) {
		h->pool[i] = (struct item){ .id = i, .canary = 0xc0ffee };
		list_init(&h->pool[i].link);
		h->on[i] = -1;
	}
	list_init(&h->heads[0]);
	list_init(&h->heads[1]);
	h->r = rng_seed(seed);
}

static void model_insert(struct model *m, size_t at, uint64_t id)
{
	memmove(&m->ids[at + 1], &m->ids[at], (m->len - at) * sizeof(m->ids[0]));
	m->ids[at] = id;
	m->len++;
}

static void model_delete(struct model *m, uint64_t id)
{
	size_t at = 0;

	while (m->ids[at] != id)
		at++;
	memmove(&m->ids[at], &m->ids[at + 1], (m->len - at - 1) * sizeof(m->ids[0]));
	m->len--;
}

/* Puts item i on list l, at the front or the back. */
static void add(struct harness *h, size_t i, int l, bool at_head)
{
	if (at_head)
		list_add_head(&h->heads[l], &h->pool[i].link);
	else
		list_add_tail(&h->heads[l], &h->pool[i].link);
	model_insert(&h->models[l], at_head ? 0 : h->models[l].len, i);
	h->on[i] = l;
}

static void del(struct harness *h, size_t i)
{
	list_del(&h->pool[i].link);
	if (h->on[i] >= 0)
		model_delete(&h->models[h->on[i]], i);
	h->on[i] = -1;
}

static void op_add_or_move(struct harness *h)
{
	size_t i = rng_below(&h->r, POOL);
	int l = (int)rng_below(&h->r, 2);

	if (h->on[i] >= 0)
		del(h, i);
	add(h, i, l, rng_one_in(&h->r, 2));
}

/* Deletes an item, listed or not: deleting a detached item does nothing. */
static void op_del(struct harness *h)
{
	del(h, rng_below(&h->r, POOL));
}

/* Walks list l deleting the items whose id is a multiple of k; the walk must see them all. */
static void op_del_while_walking(struct harness *h)
{
	int l = (int)rng_below(&h->r, 2);
	uint64_t k = 1 + rng_below(&h->r, 4);
	struct list_node *n, *tmp;
	size_t seen = 0, len = h->models[l].len;

	list_for_each_safe(n, tmp, &h->heads[l]) {
		uint64_t id = item_of(n)->id;
		cr_assert_eq(id, h->models[l].ids[seen - (len - h->models[l].len)], "walk out of order");
		seen++;
		if (id % k == 0)
			del(h, id);
	}
	cr_assert_eq(seen, len);
}

/* Empties list l from the front, as a queue consumer would. */
static void op_drain(struct harness *h)
{
	int l = (int)rng_below(&h->r, 2);
	struct list_node *n;

	while ((n = list_first(&h->heads[l])) != NULL) {
		cr_assert_eq(item_of(n)->id, h->models[l].ids[0]);
		del(h, item_of(n)->id);
	}
}

static void random_op(struct harness *h)
{
	uint64_t roll = rng_below(&h->r, 1000);

	if (roll < 550)
		op_add_or_move(h);
	else if (roll < 950)
		op_del(h);
	else if (roll < 995)
		op_del_while_walking(h);
	else
		op_drain(h);
	expect_matches_model(h, 0);
	expect_matches_model(h, 1);
	expect_pool_intact(h);
}

Test(list, random_operations_match_the_model)
{
	static struct harness h;

	for (uint64_t seed = 0; seed < 4; seed++) {
		harness_init(&h, 0x115700 + seed);
		for (int i = 0; i < 20000; i++)
			random_op(&h);
	}
}

Test(list, an_empty_list_has_no_ends)
{
	struct list_node head = LIST_INIT(head);

	cr_assert(list_empty(&head));
	cr_assert_null(list_first(&head));
	cr_assert_null(list_last(&head));
	cr_assert(!list_is_linked(&head));
}

Test(list, container_of_undoes_the_member_offset)
{
	struct item it = { .id = 42 };

	cr_assert_eq(container_of(&it.link, struct item, link), &it);
	cr_assert_eq(container_of(&it.canary, struct item, canary), &it);
	cr_assert_eq(list_entry(&it.link, struct item, link)->id, 42);
	cr_assert_neq((void *)&it.link, (void *)&it, "the test needs a member away from offset 0");
}

/* One element: it is first and last, and has neither a next nor a previous one. */
Test(list, a_single_element_is_both_ends)
{
	struct list_node head = LIST_INIT(head);
	struct item it = { .id = 1 };

	list_add_tail(&head, &it.link);
	cr_assert_eq(list_first(&head), &it.link);
	cr_assert_eq(list_last(&head), &it.link);
	cr_assert_null(list_next(&head, &it.link));
	cr_assert_null(list_prev(&head, &it.link));
	list_del(&it.link);
	list_del(&it.link);   /* a detached node: nothing happens */
	cr_assert(list_empty(&head));
	cr_assert(!list_is_linked(&it.link));
}

/* Nodes whose neighbours no longer point back at them (freed and reused, written over). */
Test(list, deleting_a_node_its_successor_lost_panics, .signal = SIGABRT)
{
	struct list_node head = LIST_INIT(head);
	struct list_node a, b, stray;

	list_add_tail(&head, &a);
	list_add_tail(&head, &b);
	b.prev = &stray;
	list_del(&a);
}

Test(list, deleting_a_node_its_predecessor_lost_panics, .signal = SIGABRT)
{
	struct list_node head = LIST_INIT(head);
	struct list_node a, b;

	list_add_tail(&head, &a);
	list_add_tail(&head, &b);
	head.next = &b;
	list_del(&a);
}

Test(list, adding_a_node_next_to_itself_panics, .signal = SIGABRT)
{
	struct list_node head = LIST_INIT(head);
	struct list_node a;

	list_add_head(&head, &a);
	list_add_head(&head, &a);
}

Test(list, adding_after_a_corrupted_tail_panics, .signal = SIGABRT)
{
	struct list_node head = LIST_INIT(head);
	struct list_node a, b, c;

	list_add_tail(&head, &a);
	list_add_tail(&head, &b);
	head.prev = &a;   /* the head lost track of its tail */
	list_add_tail(&head, &c);
}
