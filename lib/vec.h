/*
 * A growable array of fixed-size elements, stored contiguously in one block from a
 * `struct allocator`.  Elements are copied in and out by value (elem_size bytes each).
 *
 * Growth: a push into a full vector grows the capacity by half (x1.5, at least VEC_MIN_CAPACITY),
 * so n pushes copy O(n) bytes in total; vec_reserve and vec_shrink set it exactly.  Every size is
 * computed with an overflow check against VEC_MAX_BYTES, and any call that fails (no memory, too
 * large, index out of range) leaves the vector exactly as it was.
 *
 * Pointers into the storage (vec_at, vec_data) stay valid until the capacity next changes: a
 * push or insert into a full vector, vec_reserve, vec_shrink or vec_free.  Not thread-safe.
 */
#ifndef FERRITE_LIB_VEC_H
#define FERRITE_LIB_VEC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/alloc.h"

enum vec_status {
	VEC_OK,
	VEC_ERR_NO_MEMORY,  /* the allocator failed */
	VEC_ERR_TOO_LARGE,  /* the storage would exceed VEC_MAX_BYTES */
	VEC_ERR_RANGE,      /* index out of range, or pop from an empty vector */
	VEC_ERR_INVALID,    /* vec_init: element size 0, or alignment not a power of two dividing it */
};

/* The capacity a push into an empty vector gets. */
#define VEC_MIN_CAPACITY 4

/* The largest storage a vector asks for: byte offsets into it must fit a ptrdiff_t. */
#define VEC_MAX_BYTES ((size_t)PTRDIFF_MAX)

/* The fields are read-only outside vec.c; vec_len and vec_capacity read them. */
struct vec {
	unsigned char *data;    /* NULL while capacity is 0 */
	size_t len;             /* elements in use: data[0 .. len * elem_size) */
	size_t capacity;        /* elements the storage holds; capacity * elem_size <= VEC_MAX_BYTES */
	size_t elem_size;
	size_t elem_align;
	const struct allocator *alloc;
};

/*
 * An empty vector of elements of elem_size bytes aligned to elem_align (a power of two dividing
 * elem_size, as sizeof and _Alignof of any C type are).  Allocates nothing.  The allocator must
 * outlive the vector.  VEC_ERR_INVALID, and *v untouched, for a bad size or alignment.
 */
enum vec_status vec_init(struct vec *v, size_t elem_size, size_t elem_align, const struct allocator *alloc);

/* vec_init for elements of type T. */
#define vec_init_for(v, T, alloc) vec_init((v), sizeof(T), _Alignof(T), (alloc))

/* Gives the storage back; the vector is empty and usable again, as after vec_init. */
void vec_free(struct vec *v);

static inline size_t vec_len(const struct vec *v)
{
	return v->len;
}

static inline size_t vec_capacity(const struct vec *v)
{
	return v->capacity;
}

/* The first element, or NULL while the capacity is 0. */
static inline void *vec_data(const struct vec *v)
{
	return v->data;
}

/* A pointer to element i, or NULL if i >= len. */
void *vec_at(const struct vec *v, size_t i);

/* Copies element i to *out.  VEC_ERR_RANGE if i >= len. */
enum vec_status vec_get(const struct vec *v, size_t i, void *out);

/* Copies *elem over element i.  VEC_ERR_RANGE if i >= len.  elem may be an element of v. */
enum vec_status vec_set(struct vec *v, size_t i, const void *elem);

/*
 * Inserts a copy of *elem before element i (i == len appends), moving the later elements up.
 * elem may be an element of v itself (vec_at(v, j)): it is found again if the storage moves.
 */
enum vec_status vec_insert(struct vec *v, size_t i, const void *elem);

/* vec_insert at the end. */
enum vec_status vec_push(struct vec *v, const void *elem);

/* Removes element i, copying it to *out unless out is NULL, and moves the later ones down.
 * out must not point into v.  VEC_ERR_RANGE if i >= len. */
enum vec_status vec_remove(struct vec *v, size_t i, void *out);

/* Removes the last element, copying it to *out unless out is NULL.  VEC_ERR_RANGE if empty. */
enum vec_status vec_pop(struct vec *v, void *out);

/* Makes room for at least `additional` more elements, so that many pushes cannot fail. */
enum vec_status vec_reserve(struct vec *v, size_t additional);

/* Cuts the capacity down to the length (an empty vector gives its storage back). */
enum vec_status vec_shrink(struct vec *v);

/* Removes every element; the capacity stays. */
void vec_clear(struct vec *v);

const char *vec_status_message(enum vec_status status);

#endif
