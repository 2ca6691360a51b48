/* Placeholder until the bump design lands: every operation fails cleanly. */
#include "mm/heap.h"

static enum heap_status bump_init(struct heap *h) { (void)h; return HEAP_ERR_BAD_CONFIG; }
static void bump_destroy(struct heap *h) { (void)h; }
static void *bump_alloc(struct heap *h, size_t size, size_t align) { (void)h; (void)size; (void)align; return 0; }
static enum heap_status bump_free(struct heap *h, void *p) { (void)h; (void)p; return HEAP_ERR_INVALID_FREE; }
static size_t bump_usable_size(struct heap *h, const void *p) { (void)h; (void)p; return 0; }
static enum heap_status bump_check(struct heap *h) { (void)h; return HEAP_OK; }
static void bump_stats(struct heap *h, struct heap_stats *out) { (void)h; (void)out; }

const struct heap_ops bump_heap_ops = {
	bump_init, bump_destroy, bump_alloc, bump_free, bump_usable_size, 0, bump_check, bump_stats,
};
