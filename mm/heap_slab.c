/* Placeholder until the slab design lands: every operation fails cleanly. */
#include "mm/heap.h"

static enum heap_status slab_init(struct heap *h) { (void)h; return HEAP_ERR_BAD_CONFIG; }
static void slab_destroy(struct heap *h) { (void)h; }
static void *slab_alloc(struct heap *h, size_t size, size_t align) { (void)h; (void)size; (void)align; return 0; }
static enum heap_status slab_free(struct heap *h, void *p) { (void)h; (void)p; return HEAP_ERR_INVALID_FREE; }
static size_t slab_usable_size(struct heap *h, const void *p) { (void)h; (void)p; return 0; }
static enum heap_status slab_check(struct heap *h) { (void)h; return HEAP_OK; }
static void slab_stats(struct heap *h, struct heap_stats *out) { (void)h; (void)out; }

const struct heap_ops slab_heap_ops = {
	slab_init, slab_destroy, slab_alloc, slab_free, slab_usable_size, 0, slab_check, slab_stats,
};
