/* Placeholder until the fixed design lands: every operation fails cleanly. */
#include "mm/heap.h"

static enum heap_status fixed_init(struct heap *h) { (void)h; return HEAP_ERR_BAD_CONFIG; }
static void fixed_destroy(struct heap *h) { (void)h; }
static void *fixed_alloc(struct heap *h, size_t size, size_t align) { (void)h; (void)size; (void)align; return 0; }
static enum heap_status fixed_free(struct heap *h, void *p) { (void)h; (void)p; return HEAP_ERR_INVALID_FREE; }
static size_t fixed_usable_size(struct heap *h, const void *p) { (void)h; (void)p; return 0; }
static enum heap_status fixed_check(struct heap *h) { (void)h; return HEAP_OK; }
static void fixed_stats(struct heap *h, struct heap_stats *out) { (void)h; (void)out; }

const struct heap_ops fixed_heap_ops = {
	fixed_init, fixed_destroy, fixed_alloc, fixed_free, fixed_usable_size, 0, fixed_check, fixed_stats,
};
