/*
 * The fixed-size block heap (mm/heap_fixed.h): size classes over an embedded list heap.
 *
 * Every block is an object of the list heap, and the list's tag says whose it is:
 *   TAG_DIRECT  an object the list handed out for this heap's caller (large or over-aligned);
 *   TAG_OBJECT  a class block in use: its requested size (kept by the list) names its class;
 *   TAG_KEPT    a class block waiting on its class's list, its requested size the class size.
 * So a free is proved by the list (the header's seal), and a second free of a kept block is
 * seen exactly, by its tag.  The class lists are singly linked through each block's first word,
 * stored encoded, and every block popped is proved by the list before it is handed out.
 */
#include "mm/heap.h"

#include "lib/mem.h"
#include "mm/heap_guard.h"

enum { TAG_DIRECT = 0, TAG_OBJECT = 1, TAG_KEPT = 2 };

_Static_assert(FIXED_SMALLEST_CLASS << (FIXED_CLASSES - 1) == FIXED_LARGEST_CLASS, "classes are powers of two");
_Static_assert(FIXED_SMALLEST_CLASS == HEAP_MIN_ALIGN, "a class block is aligned like any object");

static struct fixed_heap *state(struct heap *h) { return &h->design.fixed; }

static size_t class_size(unsigned k) { return (size_t)FIXED_SMALLEST_CLASS << k; }
static size_t class_cap(unsigned k) { return FIXED_CLASS_KEEP_BYTES / class_size(k); }

/* The class of an object of `size` bytes, 1 .. FIXED_LARGEST_CLASS. */
static unsigned class_of(size_t size)
{
	unsigned k = 0;

	while (class_size(k) < size)
		k++;
	return k;
}

/* heap_usable_size of a live object: the list's for a direct one, the class size for a class
 * object, and in debug mode what was asked for. */
static size_t usable(const struct heap *h, const struct list_object *o)
{
	if (h->cfg.debug)
		return o->requested;
	return o->tag == TAG_OBJECT ? class_size(class_of(o->requested)) : o->payload;
}

static void count_in(struct heap *h, const struct list_object *o)
{
	struct fixed_heap *F = state(h);

	F->objects++;
	F->bytes_requested += o->requested;
	F->bytes_in_use += usable(h, o);
	if (o->tag == TAG_OBJECT)
		F->class[class_of(o->requested)].live++;
}

static void count_out(struct heap *h, const struct list_object *o)
{
	struct fixed_heap *F = state(h);

	F->objects--;
	F->bytes_requested -= o->requested;
	F->bytes_in_use -= usable(h, o);
	if (o->tag == TAG_OBJECT)
		F->class[class_of(o->requested)].live--;
}

/* The object at p, which the caller knows to be live. */
static struct list_object object_at(struct heap *h, const void *p)
{
	struct list_object o = { 0 };
	const char *what;

	list_find(h, p, &o, &what);
	return o;
}

/* ---------------------------------------------------------------------------------------------
 * Class lists. */

static uintptr_t *link_slot(uintptr_t block) { return (uintptr_t *)block; }

/* Puts a class block that the caller no longer uses on class k's list. */
static void keep(struct heap *h, unsigned k, void *p)
{
	struct fixed_class *c = &state(h)->class[k];
	uintptr_t *slot = link_slot((uintptr_t)p);

	list_set_object(h, p, class_size(k), TAG_KEPT);
	*slot = heap_encode_link(h, slot, c->kept_head);
	if (h->cfg.debug)
		memset(slot + 1, HEAP_POISON_BYTE, class_size(k) - sizeof(*slot));
	c->kept_head = (uintptr_t)p;
	c->kept++;
}

/* True if `at` is a block kept by class k, as the list proves it. */
static bool is_kept(struct heap *h, unsigned k, uintptr_t at)
{
	struct list_object o;
	const char *what;

	return list_find(h, (void *)at, &o, &what) == HEAP_OK && o.tag == TAG_KEPT && o.requested == class_size(k);
}

/* Takes the first block off class k's list: the block, 0 if the list is empty, or 0 with a
 * report if its head was overwritten.  In debug mode, a kept block that was written to since it
 * was freed is reported, then handed out all the same. */
static uintptr_t take_kept(struct heap *h, unsigned k)
{
	struct fixed_class *c = &state(h)->class[k];
	uintptr_t at = c->kept_head;

	if (at == 0)
		return 0;
	if (!is_kept(h, k, at)) {
		heap_report(h, HEAP_ERR_CORRUPT, at, class_size(k), "class list link overwritten");
		return 0;
	}
	uintptr_t *slot = link_slot(at);
	if (h->cfg.debug) {
		size_t n = class_size(k) - sizeof(*slot);
		size_t bad = heap_find_mismatch(slot + 1, n, HEAP_POISON_BYTE);
		if (bad < n)
			heap_report(h, HEAP_ERR_USE_AFTER_FREE, at, class_size(k),
			            "freed object written to (use after free)");
	}
	c->kept_head = heap_encode_link(h, slot, *slot);
	c->kept--;
	return at;
}

/* Gives every kept block back to the list heap.  True if there was any. */
static bool give_back_kept(struct heap *h)
{
	bool any = false;

	for (unsigned k = 0; k < FIXED_CLASSES; k++) {
		for (uintptr_t at; (at = take_kept(h, k)) != 0; any = true)
			list_heap_ops.free(h, (void *)at);
	}
	return any;
}

/* ---------------------------------------------------------------------------------------------
 * The interface. */

/* A block from the list heap; when the list is out of memory, the kept blocks go back to it
 * (where they can merge) and it is asked once more. */
static void *list_block(struct heap *h, size_t size, size_t align)
{
	void *p = list_heap_ops.alloc(h, size, align);

	if (p == NULL && give_back_kept(h))
		p = list_heap_ops.alloc(h, size, align);
	return p;
}

static void *fixed_alloc(struct heap *h, size_t size, size_t align)
{
	void *p;

	if (size > FIXED_LARGEST_CLASS || align > HEAP_MIN_ALIGN) {
		p = list_block(h, size, align);
	} else {
		unsigned k = class_of(size);
		p = (void *)take_kept(h, k);
		if (p == NULL)
			p = list_block(h, class_size(k), HEAP_MIN_ALIGN);
		if (p != NULL)
			list_set_object(h, p, size, TAG_OBJECT);
	}
	if (p != NULL) {
		struct list_object o = object_at(h, p);
		count_in(h, &o);
	}
	return p;
}

/* Frees a class object: onto its class's list, or back to the list heap when the class is full.
 * An overflow into the redzone is reported, the redzone restored, and the object freed. */
static enum heap_status free_class_object(struct heap *h, void *ptr, const struct list_object *o)
{
	unsigned k = class_of(o->requested);
	enum heap_status status = HEAP_OK;

	if (!list_redzone_intact(h, ptr, o)) {
		status = heap_report(h, HEAP_ERR_REDZONE, (uintptr_t)ptr, class_size(k), "redzone overwritten");
		list_set_object(h, ptr, o->requested, TAG_OBJECT);
	}
	if (state(h)->class[k].kept < class_cap(k))
		keep(h, k, ptr);
	else if (list_heap_ops.free(h, ptr) != HEAP_OK)
		return HEAP_ERR_CORRUPT;   /* reported by the list; the object stays live */
	return status;
}

static enum heap_status fixed_free(struct heap *h, void *ptr)
{
	struct list_object o;
	const char *what;
	enum heap_status status = list_find(h, ptr, &o, &what);

	if (status != HEAP_OK)
		return heap_report(h, status, (uintptr_t)ptr, 0, what);
	if (o.tag == TAG_KEPT)
		return heap_report(h, HEAP_ERR_DOUBLE_FREE, (uintptr_t)ptr, class_size(class_of(o.requested)),
		                   "double free");
	if (o.tag == TAG_DIRECT)
		status = list_heap_ops.free(h, ptr);   /* checks the redzone and reports */
	else
		status = free_class_object(h, ptr, &o);
	if (status != HEAP_OK && status != HEAP_ERR_REDZONE)
		return status;   /* refused: still live */
	count_out(h, &o);
	if (state(h)->objects == 0)
		give_back_kept(h);   /* an idle heap holds only what the list keeps */
	return status;
}

static size_t fixed_usable_size(struct heap *h, const void *ptr)
{
	struct list_object o;
	const char *what;

	if (list_find(h, ptr, &o, &what) != HEAP_OK || o.tag == TAG_KEPT)
		return 0;
	return usable(h, &o);
}

/* In place: a direct object as the list can; a class object within its class. */
static bool fixed_resize(struct heap *h, void *ptr, size_t size)
{
	struct list_object o;
	const char *what;

	if (list_find(h, ptr, &o, &what) != HEAP_OK || o.tag == TAG_KEPT)
		return false;
	if (o.tag == TAG_DIRECT) {
		if (!list_heap_ops.resize(h, ptr, size))
			return false;
	} else {
		if (size > FIXED_LARGEST_CLASS || class_of(size) != class_of(o.requested) ||
		    !list_redzone_intact(h, ptr, &o))
			return false;
		list_set_object(h, ptr, size, TAG_OBJECT);
	}
	count_out(h, &o);
	o = object_at(h, ptr);
	count_in(h, &o);
	return true;
}

/* Walks class k's list, as long as it says it is: every block kept by the class, poisoned in
 * debug mode, and the list ending where the count does. */
static enum heap_status check_class(struct heap *h, unsigned k)
{
	const struct fixed_class *c = &state(h)->class[k];
	uintptr_t at = c->kept_head;
	size_t n = class_size(k) - sizeof(uintptr_t);

	if (c->kept > class_cap(k))
		return heap_report(h, HEAP_ERR_CORRUPT, at, class_size(k), "class keeps more blocks than its cap");
	for (size_t i = 0; i < c->kept; i++) {
		if (!is_kept(h, k, at))
			return heap_report(h, HEAP_ERR_CORRUPT, at, class_size(k), "class list link overwritten");
		uintptr_t *slot = link_slot(at);
		size_t bad = h->cfg.debug ? heap_find_mismatch(slot + 1, n, HEAP_POISON_BYTE) : n;
		if (bad < n)
			return heap_report(h, HEAP_ERR_USE_AFTER_FREE, at, class_size(k),
			                   "freed object written to (use after free)");
		at = heap_encode_link(h, slot, *slot);
	}
	if (at != 0)
		return heap_report(h, HEAP_ERR_CORRUPT, at, class_size(k), "class list longer than its count");
	return HEAP_OK;
}

static enum heap_status fixed_check(struct heap *h)
{
	const struct fixed_heap *F = state(h);
	size_t kept = 0, kept_bytes = 0;
	enum heap_status status = list_heap_ops.check(h);

	for (unsigned k = 0; k < FIXED_CLASSES && status == HEAP_OK; k++) {
		status = check_class(h, k);
		kept += F->class[k].kept;
		kept_bytes += F->class[k].kept * class_size(k);
	}
	if (status != HEAP_OK)
		return status;
	/* The list's objects are this heap's objects and the kept blocks, nothing else. */
	if (F->list.objects != F->objects + kept || F->list.bytes_requested != F->bytes_requested + kept_bytes)
		return heap_report(h, HEAP_ERR_CORRUPT, h->region.base, 0, "object counts do not match the list's");
	return HEAP_OK;
}

static void fixed_stats(struct heap *h, struct heap_stats *out)
{
	const struct fixed_heap *F = state(h);

	out->objects_in_use = F->objects;
	out->bytes_requested = F->bytes_requested;
	out->bytes_in_use = F->bytes_in_use;
	out->classes = FIXED_CLASSES;
	for (unsigned k = 0; k < FIXED_CLASSES; k++) {
		const struct fixed_class *c = &F->class[k];
		out->class[k] = (struct heap_class_stats){
			.size = class_size(k),
			.objects_in_use = c->live,
			.slabs = c->kept,
			.bytes_held = (c->live + c->kept) * class_size(k),
		};
	}
}

static enum heap_status fixed_init(struct heap *h)
{
	enum heap_status status = list_heap_ops.init(h);

	memset(state(h)->class, 0, sizeof(state(h)->class));
	state(h)->objects = state(h)->bytes_requested = state(h)->bytes_in_use = 0;
	return status;
}

static void fixed_destroy(struct heap *h)
{
	list_heap_ops.destroy(h);
	*state(h) = (struct fixed_heap){ 0 };
}

const struct heap_ops fixed_heap_ops = {
	.init = fixed_init,
	.destroy = fixed_destroy,
	.alloc = fixed_alloc,
	.free = fixed_free,
	.usable_size = fixed_usable_size,
	.resize = fixed_resize,
	.check = fixed_check,
	.stats = fixed_stats,
};
