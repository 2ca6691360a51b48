#include "boot/early_frames.h"

#include "lib/mem.h"

bool early_frames_init(struct early_frames *ef, const struct memmap *map, uint64_t low, uint64_t high)
{
	*ef = (struct early_frames){ 0 };
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->range[i];
		if (r->kind != MEM_USABLE || r->end <= low || r->start >= high)
			continue;
		uint64_t start = r->start > low ? r->start : low;
		uint64_t end = r->end < high ? r->end : high;
		if (end - start > ef->end - ef->start) {
			ef->start = ef->next = start;
			ef->end = end;
		}
	}
	return ef->end > ef->start;
}

/* Physical addresses are identity-mapped while the boot path runs. */
static void *identity(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static bool early_frame_alloc(void *ctx, uint64_t *pa)
{
	struct early_frames *ef = ctx;

	if (ef->free_list) {
		*pa = ef->free_list;
		ef->free_list = *(uint64_t *)identity(*pa);
	} else if (ef->next < ef->end) {
		*pa = ef->next;
		ef->next += PAGE_SIZE;
	} else {
		return false;
	}
	memset(identity(*pa), 0, PAGE_SIZE);
	return true;
}

static void early_frame_free(void *ctx, uint64_t pa)
{
	struct early_frames *ef = ctx;

	*(uint64_t *)identity(pa) = ef->free_list;
	ef->free_list = pa;
}

struct table_frames early_frames_source(struct early_frames *ef)
{
	return (struct table_frames){ early_frame_alloc, early_frame_free, ef };
}
