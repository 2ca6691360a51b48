#include "bench/naive_frames.h"

#include "mm/page.h"

/* Walks the usable frames in address order, one step per frame: the tutorial's iterator. */
struct usable_cursor {
	const struct memmap *map;
	size_t range;   /* the range the walk is in */
	uint64_t next;  /* the frame the walk returns next, inside that range */
};

static void cursor_start(struct usable_cursor *c, const struct memmap *map)
{
	c->map = map;
	c->range = 0;
	c->next = map->count != 0 ? map->range[0].start : 0;
}

/* The cursor's frame to *pa, then one step on; false when no usable frame is left. */
static bool cursor_step(struct usable_cursor *c, uint64_t *pa)
{
	for (; c->range < c->map->count; c->range++) {
		const struct mem_range *r = &c->map->range[c->range];
		if (c->next < r->start)
			c->next = r->start;
		if (r->kind == MEM_USABLE && c->next < r->end) {
			*pa = c->next;
			c->next += PAGE_SIZE;
			return true;
		}
	}
	return false;
}

void naive_frames_init(struct naive_frames *nf, const struct memmap *map)
{
	nf->map = map;
	nf->handed_out = 0;
}

bool naive_frames_alloc(struct naive_frames *nf, uint64_t *pa)
{
	struct usable_cursor c;
	uint64_t frame = 0;

	/* No state but a count: every call starts over and steps past the frames already out. */
	cursor_start(&c, nf->map);
	for (uint64_t i = 0; i <= nf->handed_out; i++) {
		if (!cursor_step(&c, &frame))
			return false;
	}
	nf->handed_out++;
	*pa = frame;
	return true;
}
