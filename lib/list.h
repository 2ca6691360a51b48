/*
 * An intrusive doubly linked circular list.  The links live inside the objects listed (a
 * `struct list_node` member), so adding and removing never allocate and cannot fail; an object
 * can be on as many lists as it has nodes.  A list is a sentinel `struct list_node` that is
 * never an element: an empty list is the head linked to itself, and no operation needs a NULL
 * check for the ends.
 *
 *     struct page { uint64_t pa; struct list_node lru; };
 *     struct list_node lru_list = LIST_INIT(lru_list);
 *     list_add_tail(&lru_list, &page->lru);
 *     struct list_node *n, *tmp;
 *     list_for_each_safe(n, tmp, &lru_list)
 *             if (list_entry(n, struct page, lru)->pa == pa)
 *                     list_del(n);
 *
 * Every operation first checks that the links it is about to rewrite point back where they
 * should, and panics if not: a corrupted list (a node freed while listed, added twice, written
 * over) is caught where it is first touched instead of spreading.  Not thread-safe.
 */
#ifndef FERRITE_LIB_LIST_H
#define FERRITE_LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/panic.h"

struct list_node {
	struct list_node *next;
	struct list_node *prev;
};

/* The object of type `type` whose member `member` is at ptr.  The sizeof term only makes the
 * compiler check that ptr points to the member's type; it adds nothing. */
#define container_of(ptr, type, member)                                                      \
	((type *)(void *)((char *)(ptr) - offsetof(type, member) +                            \
	                  0 * sizeof((ptr) == &((type *)0)->member)))

/* The object holding list node `node` as its member `member`. */
#define list_entry(node, type, member) container_of(node, type, member)

/* A static initializer for an empty list: struct list_node l = LIST_INIT(l); */
#define LIST_INIT(head) { &(head), &(head) }

/* Makes head an empty list, or a node a detached one. */
static inline void list_init(struct list_node *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool list_empty(const struct list_node *head)
{
	return head->next == head;
}

/* Whether node is on a list: list_del leaves it linked to itself, as list_init does. */
static inline bool list_is_linked(const struct list_node *node)
{
	return node->next != node;
}

/* Panics unless prev and next are neighbours on a list. */
static inline void list_check_neighbours(const struct list_node *prev, const struct list_node *next)
{
	if (prev->next != next || next->prev != prev)
		panic("list corrupt: %p -> %p but %p <- %p", (const void *)prev, (const void *)prev->next,
		      (const void *)next->prev, (const void *)next);
}

/* Links node in between the neighbours prev and next. */
static inline void list_link_between(struct list_node *node, struct list_node *prev, struct list_node *next)
{
	list_check_neighbours(prev, next);
	if (node == prev || node == next)
		panic("list corrupt: %p added next to itself", (void *)node);
	node->prev = prev;
	node->next = next;
	prev->next = node;
	next->prev = node;
}

/* Adds node at the front of the list.  node must not be on a list. */
static inline void list_add_head(struct list_node *head, struct list_node *node)
{
	list_link_between(node, head, head->next);
}

/* Adds node at the back of the list.  node must not be on a list. */
static inline void list_add_tail(struct list_node *head, struct list_node *node)
{
	list_link_between(node, head->prev, head);
}

/* Unlinks node from its list and leaves it detached (linked to itself); deleting a detached
 * node does nothing.  node must not be a list's head. */
static inline void list_del(struct list_node *node)
{
	list_check_neighbours(node->prev, node);
	list_check_neighbours(node, node->next);
	node->prev->next = node->next;
	node->next->prev = node->prev;
	list_init(node);
}

/* The first element, or NULL if the list is empty. */
static inline struct list_node *list_first(const struct list_node *head)
{
	return list_empty(head) ? NULL : head->next;
}

/* The last element, or NULL if the list is empty. */
static inline struct list_node *list_last(const struct list_node *head)
{
	return list_empty(head) ? NULL : head->prev;
}

/* The element after node, or NULL if node is the last. */
static inline struct list_node *list_next(const struct list_node *head, const struct list_node *node)
{
	return node->next == head ? NULL : node->next;
}

/* The element before node, or NULL if node is the first. */
static inline struct list_node *list_prev(const struct list_node *head, const struct list_node *node)
{
	return node->prev == head ? NULL : node->prev;
}

/* Visits every element front to back; the body must not remove `pos`. */
#define list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Visits every element front to back; the body may list_del `pos` (and only `pos`). */
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

#endif
