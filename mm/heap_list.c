/* Placeholder until the list design lands: every operation fails cleanly. */
#include "mm/heap.h"

static enum heap_status list_init(struct heap *h) { (void)h; return HEAP_ERR_BAD_CONFIG; }
static void list_destroy(struct heap *h) { (void)h; }
static void *list_alloc(struct heap *h, size_t size, size_t align) { (void)h; (void)size; (void)align; return 0; }
static enum heap_status list_free(struct heap *h, void *p) { (void)h; (void)p; return HEAP_ERR_INVALID_FREE; }
static size_t list_usable_size(struct heap *h, const void *p) { (void)h; (void)p; return 0; }
static enum heap_status list_check(struct heap *h) { (void)h; return HEAP_OK; }
static void list_stats(struct heap *h, struct heap_stats *out) { (void)h; (void)out; }

const struct heap_ops list_heap_ops = {
	list_init, list_destroy, list_alloc, list_free, list_usable_size, 0, list_check, list_stats,
};
