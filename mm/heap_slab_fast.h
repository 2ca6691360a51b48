/*
 * The slab heap's inline paths (mm/heap_slab.h; docs/heap.md, "slab"): heap_alloc_fast and
 * heap_free_fast are these.  They need struct heap, so mm/heap.h includes this header after
 * defining it; nothing else should.
 *
 * Each path does its common case inline and hands the rest to one out-of-line function of
 * heap_slab.c that already knows the class (alloc) or the object (free), so the uncommon but
 * regular cases (a bitmap word used up, a slab filling or emptying) skip the generic layer.
 */
#ifndef FERRITE_MM_HEAP_SLAB_FAST_H
#define FERRITE_MM_HEAP_SLAB_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

/* Out of line: an object of class c when the word of the first slab that the cursor names has
 * none (another word, the next slab, a new slab), or NULL if out of memory. */
void *slab_refill(struct heap *h, struct slab_class *c) __attribute__((__cold__));

/* Out of line: frees object i of s, live, whose free changes s's place (s->in_use == s->watch). */
void slab_free_watched(struct heap *h, struct slab *s, unsigned i) __attribute__((__cold__));

/*
 * Hands out the lowest free object in word w of s's bitmap (s is the first slab of c): its
 * address, or 0 if the word has no free object below the capacity.  The objects are handed out
 * in address order the first time, so only object `carved` can be new.
 */
static inline uintptr_t slab_take_in_word(const struct slab_class *c, struct slab *s, unsigned w)
{
	uint64_t bits = s->live[w];
	unsigned i;

	if (unlikely(bits == ~UINT64_C(0)))
		return 0;
	i = w * 64 + (unsigned)__builtin_ctzll(~bits);
	if (unlikely(i >= s->carved)) {
		if (i >= c->capacity)
			return 0;
		s->carved = (uint8_t)(i + 1);
	}
	s->live[w] = bits | (bits + 1);   /* sets the lowest clear bit */
	s->in_use++;
	return s->start + (uintptr_t)i * c->size;
}

/* An object of 1 .. SLAB_SMALL_MAX bytes at 16-byte alignment (h not in debug mode), or NULL if
 * out of memory. */
static inline void *slab_alloc_fast(struct heap *h, size_t size)
{
	struct slab_heap *sh = &h->design.slab;
	struct slab_class *c = &sh->class[sh->class_of[(size - 1) / SLAB_GRANULE]];
	uintptr_t p = slab_take_in_word(c, c->first, c->cursor);

	return likely(p != 0) ? (void *)p : slab_refill(h, c);
}

/*
 * True if ptr was a live object of a slab, and is now free.  False in every other case, with
 * nothing changed: not in a slab (page runs, header pages and debug-mode slabs have reciprocal
 * 0), not at an object start (the multiplication by the reciprocal gives the object number and,
 * in its low half, whether the offset divides: heap_slab.c, object_at), or not in use.  The
 * object number is below 256, as the offset lies inside the slab.
 */
static inline bool slab_free_fast(struct heap *h, void *ptr)
{
	struct slab *s = (struct slab *)region_page_owner(&h->region, (uintptr_t)ptr);
	uint64_t q, word;
	unsigned i;

	if (unlikely(s == NULL))
		return false;
	q = ((uintptr_t)ptr - s->start) * (uint64_t)s->reciprocal;
	if (unlikely((uint32_t)q >= s->reciprocal))
		return false;
	i = (unsigned)(q >> 32);
	word = s->live[i / 64];
	if (unlikely(!((word >> (i % 64)) & 1)))
		return false;
	if (unlikely(s->in_use == s->watch)) {
		slab_free_watched(h, s, i);
		return true;
	}
	s->live[i / 64] = word ^ (UINT64_C(1) << (i % 64));
	s->in_use--;
	return true;
}

#endif
