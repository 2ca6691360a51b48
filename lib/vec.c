/*
 * The growable array.  One primitive changes the storage, set_capacity(); everything else moves
 * bytes inside it.  Checks come first and the storage changes before any element moves, so a
 * call that fails has changed nothing.
 */
#include <stdbool.h>

#include "lib/panic.h"
#include "lib/vec.h"

const char *vec_status_message(enum vec_status status)
{
	switch (status) {
	case VEC_OK:            return "ok";
	case VEC_ERR_NO_MEMORY: return "out of memory";
	case VEC_ERR_TOO_LARGE: return "vector too large";
	case VEC_ERR_RANGE:     return "index out of range";
	case VEC_ERR_INVALID:   return "bad element size or alignment";
	}
	return "unknown vector status";
}

static bool is_power_of_two(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

enum vec_status vec_init(struct vec *v, size_t elem_size, size_t elem_align, const struct allocator *alloc)
{
	if (elem_size == 0 || elem_size > VEC_MAX_BYTES || !is_power_of_two(elem_align) ||
	    elem_size % elem_align != 0)
		return VEC_ERR_INVALID;
	*v = (struct vec){ .elem_size = elem_size, .elem_align = elem_align, .alloc = alloc };
	return VEC_OK;
}

/* The most elements the storage may hold. */
static size_t max_capacity(const struct vec *v)
{
	return VEC_MAX_BYTES / v->elem_size;
}

static unsigned char *elem_ptr(const struct vec *v, size_t i)
{
	return v->data + i * v->elem_size;
}

/* Reallocates the storage for exactly `capacity` elements (0 frees it); len <= capacity <= max. */
static enum vec_status set_capacity(struct vec *v, size_t capacity)
{
	unsigned char *data;

	if (capacity < v->len || capacity > max_capacity(v))
		panic("vec: capacity %zu outside [%zu, %zu]", capacity, v->len, max_capacity(v));
	if (capacity == v->capacity)
		return VEC_OK;
	if (capacity == 0) {
		allocator_free(v->alloc, v->data, v->capacity * v->elem_size);
		v->data = NULL;
		v->capacity = 0;
		return VEC_OK;
	}
	if (v->capacity == 0)
		data = allocator_alloc(v->alloc, capacity * v->elem_size, v->elem_align);
	else
		data = allocator_realloc(v->alloc, v->data, v->capacity * v->elem_size,
		                         capacity * v->elem_size, v->elem_align);
	if (data == NULL)
		return VEC_ERR_NO_MEMORY;
	v->data = data;
	v->capacity = capacity;
	return VEC_OK;
}

/* Room for one more element.  A full vector grows by half, so that n pushes cost O(n) copying,
 * to at least VEC_MIN_CAPACITY and at most the largest allowed.  The sum cannot wrap: the
 * capacity is at most PTRDIFF_MAX, half of SIZE_MAX. */
static enum vec_status make_room_for_one(struct vec *v)
{
	size_t max = max_capacity(v);
	size_t grown = v->capacity + v->capacity / 2;

	if (v->len < v->capacity)
		return VEC_OK;
	if (v->capacity == max)
		return VEC_ERR_TOO_LARGE;
	if (grown < VEC_MIN_CAPACITY)
		grown = VEC_MIN_CAPACITY;
	return set_capacity(v, grown < max ? grown : max);
}

void vec_free(struct vec *v)
{
	v->len = 0;
	set_capacity(v, 0);
}

void vec_clear(struct vec *v)
{
	v->len = 0;
}

void *vec_at(const struct vec *v, size_t i)
{
	return i < v->len ? elem_ptr(v, i) : NULL;
}

enum vec_status vec_get(const struct vec *v, size_t i, void *out)
{
	if (i >= v->len)
		return VEC_ERR_RANGE;
	memcpy(out, elem_ptr(v, i), v->elem_size);
	return VEC_OK;
}

enum vec_status vec_set(struct vec *v, size_t i, const void *elem)
{
	if (i >= v->len)
		return VEC_ERR_RANGE;
	memmove(elem_ptr(v, i), elem, v->elem_size);   /* elem may be this very element */
	return VEC_OK;
}

/* Whether [p, p + elem_size) lies within the vector's elements, and at which byte offset.
 * Compared as integers: p may belong to another object, where pointer `<` is undefined. */
static bool offset_within(const struct vec *v, const void *p, size_t *offset)
{
	uintptr_t at = (uintptr_t)p, base = (uintptr_t)v->data;
	size_t used = v->len * v->elem_size;

	if (v->len == 0 || at < base || at - base > used - v->elem_size)
		return false;
	*offset = at - base;
	return true;
}

enum vec_status vec_insert(struct vec *v, size_t i, const void *elem)
{
	size_t offset = 0;

	if (i > v->len)
		return VEC_ERR_RANGE;
	bool inside = offset_within(v, elem, &offset);
	enum vec_status st = make_room_for_one(v);
	if (st != VEC_OK)
		return st;

	unsigned char *slot = elem_ptr(v, i);
	memmove(slot + v->elem_size, slot, (v->len - i) * v->elem_size);
	if (inside)   /* the storage may have moved, and the element with it if it was past i */
		elem = v->data + offset + (offset >= i * v->elem_size ? v->elem_size : 0);
	memmove(slot, elem, v->elem_size);
	v->len++;
	return VEC_OK;
}

enum vec_status vec_push(struct vec *v, const void *elem)
{
	return vec_insert(v, v->len, elem);
}

enum vec_status vec_remove(struct vec *v, size_t i, void *out)
{
	if (i >= v->len)
		return VEC_ERR_RANGE;

	unsigned char *slot = elem_ptr(v, i);
	if (out != NULL)
		memcpy(out, slot, v->elem_size);
	memmove(slot, slot + v->elem_size, (v->len - i - 1) * v->elem_size);
	v->len--;
	return VEC_OK;
}

enum vec_status vec_pop(struct vec *v, void *out)
{
	if (v->len == 0)
		return VEC_ERR_RANGE;
	return vec_remove(v, v->len - 1, out);
}

enum vec_status vec_reserve(struct vec *v, size_t additional)
{
	if (additional <= v->capacity - v->len)
		return VEC_OK;
	if (additional > max_capacity(v) - v->len)
		return VEC_ERR_TOO_LARGE;
	return set_capacity(v, v->len + additional);
}

enum vec_status vec_shrink(struct vec *v)
{
	return set_capacity(v, v->len);
}
