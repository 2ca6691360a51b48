/*
 * The heap interface: argument checks and the calls every design shares (realloc, calloc), then
 * dispatch to the design's operations.  heap_alloc and heap_free try the inline paths of heap.h
 * first, so the slab's common cases cost no call through the operations table.
 */
#include "mm/heap.h"

#include "lib/mem.h"

static const struct heap_ops *const designs[HEAP_DESIGN_COUNT] = {
	[HEAP_BUMP] = &bump_heap_ops,
	[HEAP_LIST] = &list_heap_ops,
	[HEAP_FIXED] = &fixed_heap_ops,
	[HEAP_SLAB] = &slab_heap_ops,
};

static const char *const design_names[HEAP_DESIGN_COUNT] = { "bump", "list", "fixed", "slab" };

/* Sizes above this are refused outright, so that the designs can add headers, redzones and
 * alignment padding without overflow checks of their own. */
#define HEAP_SIZE_MAX (SIZE_MAX / 4)

enum heap_status heap_init(struct heap *h, const struct heap_config *cfg)
{
	if ((unsigned)cfg->design >= HEAP_DESIGN_COUNT)
		return HEAP_ERR_BAD_CONFIG;
	*h = (struct heap){ .ops = designs[cfg->design], .cfg = *cfg };
	if (!region_init(&h->region, &cfg->region))
		return HEAP_ERR_BAD_CONFIG;
	return h->ops->init(h);
}

void heap_destroy(struct heap *h)
{
	h->ops->destroy(h);
	region_destroy(&h->region);
	h->inline_max = 0;
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
	void *p;

	if (align == 0 && heap_alloc_is_fast(h, size)) {
		p = heap_alloc_fast(h, size);
	} else {
		if (align == 0)
			align = HEAP_MIN_ALIGN;
		if ((align & (align - 1)) != 0 || align > HEAP_MAX_ALIGN || size > HEAP_SIZE_MAX)
			return NULL;
		if (align < HEAP_MIN_ALIGN)
			align = HEAP_MIN_ALIGN;
		p = h->ops->alloc(h, size ? size : 1, align);
	}
	if (p && h->cfg.zero_fill)
		memset(p, 0, size);
	return p;
}

enum heap_status heap_free(struct heap *h, void *ptr)
{
	if (heap_free_fast(h, ptr) || ptr == NULL)
		return HEAP_OK;
	return h->ops->free(h, ptr);
}

size_t heap_usable_size(struct heap *h, const void *ptr)
{
	return ptr ? h->ops->usable_size(h, ptr) : 0;
}

void *heap_realloc(struct heap *h, void *ptr, size_t size)
{
	size_t old_size;
	void *moved;

	if (!ptr)
		return heap_alloc(h, size, 0);
	if (size == 0) {
		heap_free(h, ptr);
		return NULL;
	}
	if (size > HEAP_SIZE_MAX)
		return NULL;
	old_size = heap_usable_size(h, ptr);
	if (old_size == 0) {   /* not a live object: refuse it the way free would */
		heap_free(h, ptr);
		return NULL;
	}
	if (h->ops->resize ? h->ops->resize(h, ptr, size) : size <= old_size) {
		if (h->cfg.zero_fill && size > old_size)
			memset((char *)ptr + old_size, 0, size - old_size);
		return ptr;
	}
	moved = heap_alloc(h, size, 0);   /* zero-filled already, if the heap zero-fills */
	if (!moved)
		return NULL;
	memcpy(moved, ptr, old_size < size ? old_size : size);   /* a resize that cannot shrink moves too */
	heap_free(h, ptr);
	return moved;
}

void *heap_calloc(struct heap *h, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > HEAP_SIZE_MAX / size)
		return NULL;
	p = heap_alloc(h, n * size, 0);
	if (p && !h->cfg.zero_fill)
		memset(p, 0, n * size);
	return p;
}

enum heap_status heap_check(struct heap *h)
{
	return h->ops->check(h);
}

void heap_stats(struct heap *h, struct heap_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->design = h->cfg.design;
	out->requested_known = true;
	out->bytes_mapped = region_mapped_bytes(&h->region);
	out->peak_mapped = region_peak_bytes(&h->region);
	h->ops->stats(h, out);
}

const char *heap_design_name(enum heap_design design)
{
	return (unsigned)design < HEAP_DESIGN_COUNT ? design_names[design] : "?";
}

const char *heap_status_message(enum heap_status status)
{
	switch (status) {
	case HEAP_OK:                 return "ok";
	case HEAP_ERR_NO_MEMORY:      return "out of memory";
	case HEAP_ERR_BAD_ALIGN:      return "alignment is not a power of two up to the page size";
	case HEAP_ERR_TOO_LARGE:      return "size too large";
	case HEAP_ERR_INVALID_FREE:   return "free of a pointer that is not a live heap object";
	case HEAP_ERR_DOUBLE_FREE:    return "double free";
	case HEAP_ERR_REDZONE:        return "redzone overwritten (a write past the end of an object)";
	case HEAP_ERR_USE_AFTER_FREE: return "freed object written to (use after free)";
	case HEAP_ERR_CORRUPT:        return "heap metadata corrupted";
	case HEAP_ERR_BAD_CONFIG:     return "bad heap configuration";
	}
	return "unknown heap status";
}
