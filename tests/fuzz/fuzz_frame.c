/*
 * fuzz_frame: the buddy frame allocator, driven by the input as a program, against a model.
 *
 * The first bytes describe a machine: up to MAX_RANGES raw memory-map entries with holes between
 * them (usable, boot page tables, reserved, ...; not always page-aligned), optionally a big
 * usable range of whole 1 GiB chunks above them (the lazy-chunk path), a reserve_below, poisoning,
 * and now and then a deliberately broken map that frame_init must refuse.  The map is normalized
 * and the allocator built over host/support/simmem.
 *
 * The rest is a sequence of operations: allocations of any order with and without FRAME_UNINIT,
 * frees of live blocks, hostile frees (double, interior, misaligned, wrong order, metadata,
 * reserved, foreign) and cache drains.  The model, one byte per frame, decides from the
 * map alone what every call must return: a free must give exactly the model's status and a refused
 * one must change nothing; NO_MEMORY is only allowed when the model has no free naturally aligned
 * block of that order; a block handed out must be free in the model, aligned, and zeroed unless
 * FRAME_UNINIT; user data written into live blocks must survive until they are freed.  frame_stats
 * must agree with the model after every operation, frame_check() every CHECK_EVERY operations,
 * and after each drain the free blocks must be exactly the fully merged decomposition of the free
 * frames.  At the end everything is freed and the allocator must be whole again.
 */
#include <string.h>

#include "host/support/simmem.h"
#include "mm/frame.h"
#include "mm/memmap.h"
#include "mm/page.h"
#include "tests/fuzz/fuzz.h"

#define MAX_RANGES   8
#define CHECK_EVERY  64          /* frame_check() is O(frames) */
#define ZERO_CHECKED 8           /* orders up to this are zeroed; above, FRAME_UNINIT is forced,
                                  * so that big blocks do not make the fuzzer touch all their pages */
#define MARK_BYTES   64          /* user data at each end of a live block */
#define LINK_BYTES   16          /* what a free block on a list keeps for its links */
#define RECENT       8

enum model_frame { UNMANAGED, FREE, USED };

struct block {
	uint64_t pa;
	unsigned order;
};

struct model {
	struct simmem mem;
	struct memmap map;
	struct frame_config cfg;
	struct frame_allocator fa;
	uint64_t floor;          /* reserve_below rounded up to a page, as frame_init does */
	uint64_t frames;         /* frames [0, frames) are modelled: up to the top of the map */
	uint8_t *frame;          /* enum model_frame per frame */
	uint8_t *head;           /* order + 1 at the head of each live block, else 0 */
	uint32_t *slot;          /* index into live[] of the block whose head this is */
	uint8_t *full[FRAME_MAX_ORDER + 1];   /* [k][i]: the 2^k frames from frame i << k are all free */
	uint64_t nfull[FRAME_MAX_ORDER + 1];  /* how many such blocks there are, per order */
	uint8_t *full_bytes;                  /* where full[] lives */
	struct block *live;      /* blocks handed out; boot page tables count as order-0 blocks */
	size_t live_count;
	size_t live_cap;
	uint64_t managed;
	uint64_t used;
	struct block recent[RECENT];  /* freed a moment ago: double-free candidates */
	size_t recent_count;
};

static struct model m;

/* ---------------------------------------------------------------------------------------------
 * The machine.
 */

/* A kind for a raw entry: usable most often. */
static enum mem_kind range_kind(uint8_t byte)
{
	unsigned k = byte % (MEM_KIND_COUNT + 4);

	return k < MEM_KIND_COUNT ? (enum mem_kind)k : MEM_USABLE;
}

/* Raw entries from the input: each a gap and a length in pages, either end sometimes off a page
 * boundary.  Then, if `big`, whole 1 GiB chunks above them (and sometimes a few pages more). */
static size_t read_entries(struct fuzz_input *in, struct memmap_entry *e, bool big)
{
	size_t n = 1 + fuzz_below(in, MAX_RANGES);
	uint64_t pos = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t gap = fuzz_u8(in) * PAGE_SIZE;
		uint64_t length = (fuzz_u16(in) % 4096 + 1) * PAGE_SIZE;
		uint8_t shape = fuzz_u8(in);

		e[i].kind = range_kind(shape >> 2);
		/* Unaligned boot page tables make frame_init refuse the map: only now and then. */
		if (e[i].kind == MEM_BOOT_PAGE_TABLES && (shape & 3) != 3)
			shape &= ~3;
		e[i].base = pos + gap + (shape & 1 ? 1 + fuzz_below(in, PAGE_SIZE - 1) : 0);
		e[i].length = length - (shape & 2 ? 1 + fuzz_below(in, PAGE_SIZE - 1) : 0);
		pos = e[i].base + e[i].length;
	}
	if (big) {
		uint8_t shape = fuzz_u8(in);
		e[n++] = (struct memmap_entry){ align_up(pos + 1, GIB), GIB * (1 + (shape & 1)) +
		                                (shape & 2 ? fuzz_u8(in) * PAGE_SIZE : 0), MEM_USABLE };
	}
	return n;
}

static uint64_t map_top(const struct memmap *map) { return map->range[map->count - 1].end; }

static uint64_t read_reserve(struct fuzz_input *in, uint64_t top)
{
	switch (fuzz_u8(in) % 6) {
	case 0:  return 0;
	case 1:  return MIB;
	case 2:  return fuzz_u32(in) % top;            /* anywhere, often inside a range */
	case 3:  return top + fuzz_u8(in) * PAGE_SIZE; /* nothing left above it */
	case 4:  return UINT64_MAX - fuzz_u8(in);      /* far beyond PHYS_ADDR_LIMIT */
	default: return align_down(fuzz_u32(in) % top, PAGE_SIZE);
	}
}

/* Bends a normalized map so that it is not normalized any more; false if this map cannot be bent
 * that way.  frame_init must refuse every one of these. */
static bool break_map(struct memmap *map, uint8_t how)
{
	size_t n = map->count;
	struct mem_range *r = map->range;

	switch (how % 7) {
	case 0: {  /* unsorted */
		struct mem_range first = r[0];

		if (n < 2)
			return false;
		r[0] = r[1];
		r[1] = first;
		return true;
	}
	case 1:  /* a managed range off a page boundary */
		for (size_t i = 0; i < n; i++) {
			if (r[i].kind == MEM_USABLE || r[i].kind == MEM_BOOT_PAGE_TABLES) {
				r[i].start++;
				return true;
			}
		}
		return false;
	case 2:  /* empty */
		r[n - 1].end = r[n - 1].start;
		return true;
	case 3:  /* not a kind */
		r[0].kind = MEM_KIND_COUNT;
		return true;
	case 4:  /* a count past the array */
		map->count = MEMMAP_MAX + 1;
		return true;
	case 5:  /* past the physical address space */
		r[n - 1].end = PHYS_ADDR_LIMIT + PAGE_SIZE;
		return true;
	default:  /* a range split in two touching halves of one kind */
		if (n == MEMMAP_MAX || r[0].end - r[0].start < 2 * PAGE_SIZE)
			return false;
		memmove(&r[1], &r[0], n * sizeof *r);
		r[0].end = r[1].start = align_up(r[0].start + 1, PAGE_SIZE);
		map->count++;
		return true;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Block contents: what users write, what the allocator must zero or poison.
 */

static uint64_t block_bytes(unsigned order) { return PAGE_SIZE << order; }

static uint8_t mark_of(uint64_t pa) { return (uint8_t)(0x5a ^ (pa >> PAGE_SHIFT)); }

static bool bytes_are(const uint8_t *p, size_t n, uint8_t value)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != value)
			return false;
	return true;
}

/* Blocks are checked whole up to 64 KiB; bigger ones at both ends (`edge` bytes of each). */
static bool block_is(uint64_t pa, unsigned order, size_t edge, uint8_t value)
{
	const uint8_t *p = simmem_ptr(&m.mem, pa);
	uint64_t bytes = block_bytes(order);

	if (order <= 4 && edge >= PAGE_SIZE)
		return bytes_are(p, bytes, value);
	return bytes_are(p, edge, value) && bytes_are(p + bytes - edge, edge, value);
}

/* What a user does with a block: writes both ends. */
static void write_marks(uint64_t pa, unsigned order)
{
	uint8_t *p = simmem_ptr(&m.mem, pa);

	memset(p, mark_of(pa), MARK_BYTES);
	memset(p + block_bytes(order) - MARK_BYTES, mark_of(pa), MARK_BYTES);
}

/* ---------------------------------------------------------------------------------------------
 * The model.
 */

static void *zalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	FUZZ_CHECK(p != NULL, "out of host memory");
	return p;
}

static bool is_managed_kind(enum mem_kind k) { return k == MEM_USABLE || k == MEM_BOOT_PAGE_TABLES; }

/* The managed part of range `r`, [*start, r->end) above the floor; false if none. */
static bool managed_part(const struct mem_range *r, uint64_t *start)
{
	*start = r->start > m.floor ? r->start : m.floor;
	return is_managed_kind(r->kind) && *start < r->end;
}

static uint64_t blocks_at(unsigned k) { return m.frames >> k; }

static void set_full(unsigned k, uint64_t i, bool value)
{
	if (m.full[k][i] != value) {
		m.full[k][i] = value;
		m.nfull[k] = value ? m.nfull[k] + 1 : m.nfull[k] - 1;
	}
}

/* Frames [f, f + 2^order), all free before, all stopped being free (or the other way round): the
 * aligned blocks inside them all flip, then each block around them is full if both halves are. */
static void update_full(uint64_t f, unsigned order, bool free)
{
	for (unsigned k = 0; k <= order; k++) {
		uint64_t n = UINT64_C(1) << (order - k);
		memset(&m.full[k][f >> k], free, n);
		m.nfull[k] = free ? m.nfull[k] + n : m.nfull[k] - n;
	}
	for (unsigned k = order + 1; k <= FRAME_MAX_ORDER && (f >> k) < blocks_at(k); k++) {
		uint64_t i = f >> k;
		set_full(k, i, m.full[k - 1][2 * i] && m.full[k - 1][2 * i + 1]);
	}
}

/* All full[][] from the frames' states, bottom up. */
static void build_full(void)
{
	uint64_t total = 0;

	for (unsigned k = 0; k <= FRAME_MAX_ORDER; k++)
		total += blocks_at(k);
	m.full_bytes = zalloc(total, 1);
	for (unsigned k = 0; k <= FRAME_MAX_ORDER; k++) {
		m.full[k] = k == 0 ? m.full_bytes : m.full[k - 1] + blocks_at(k - 1);
		for (uint64_t i = 0; i < blocks_at(k); i++)
			set_full(k, i, k == 0 ? m.frame[i] == FREE : m.full[k - 1][2 * i] && m.full[k - 1][2 * i + 1]);
	}
}

static void mark_live(uint64_t pa, unsigned order)
{
	uint64_t f = pa / PAGE_SIZE;

	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		FUZZ_CHECK(m.frame[f + i] == FREE, "frame %#llx handed out while %s", (unsigned long long)((f + i) * PAGE_SIZE),
		           m.frame[f + i] == USED ? "in use" : "unmanaged");
		m.frame[f + i] = USED;
	}
	FUZZ_CHECK(m.live_count < m.live_cap, "model full");
	m.head[f] = (uint8_t)(order + 1);
	m.slot[f] = (uint32_t)m.live_count;
	m.live[m.live_count++] = (struct block){ pa, order };
	m.used += UINT64_C(1) << order;
	update_full(f, order, false);
}

static void mark_freed(uint64_t pa)
{
	uint64_t f = pa / PAGE_SIZE;
	unsigned order = m.head[f] - 1u;
	uint32_t slot = m.slot[f];

	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++)
		m.frame[f + i] = FREE;
	m.head[f] = 0;
	m.live[slot] = m.live[--m.live_count];
	m.slot[m.live[slot].pa / PAGE_SIZE] = slot;
	m.used -= UINT64_C(1) << order;
	m.recent[m.recent_count++ % RECENT] = (struct block){ pa, order };
	update_full(f, order, true);
}

/* The metadata bytes frame_init needs lie in [*lo, *hi]: a state byte per frame of each chunk's
 * managed span, plus a descriptor of 8..64 bytes per chunk, in whole pages. */
static void metadata_bounds(uint64_t *lo, uint64_t *hi)
{
	uint64_t chunks = 0, state = 0, span_chunk = UINT64_MAX, span_start = 0, span_end = 0, start;

	for (size_t i = 0; i < m.map.count; i++) {
		const struct mem_range *r = &m.map.range[i];
		if (!managed_part(r, &start))
			continue;
		for (uint64_t pos = start; pos < r->end;) {
			uint64_t c = pos / GIB, end = (c + 1) * GIB < r->end ? (c + 1) * GIB : r->end;
			if (c != span_chunk) {
				state += (span_end - span_start) / PAGE_SIZE;
				span_chunk = c;
				span_start = pos;
				chunks = c + 1;
			}
			span_end = end;
			pos = end;
		}
	}
	state += (span_end - span_start) / PAGE_SIZE;
	*lo = align_up(state + chunks * 8, PAGE_SIZE);
	*hi = align_up(state + chunks * 64, PAGE_SIZE);
}

/* The largest usable part above the floor, in bytes. */
static uint64_t largest_usable(void)
{
	uint64_t best = 0, start;

	for (size_t i = 0; i < m.map.count; i++)
		if (m.map.range[i].kind == MEM_USABLE && managed_part(&m.map.range[i], &start) &&
		    m.map.range[i].end - start > best)
			best = m.map.range[i].end - start;
	return best;
}

/* Where frame_init put its metadata must be the end of the highest usable range above the floor
 * that can hold it; then every usable frame outside it is free, every boot page table live. */
static void model_from_map(void)
{
	struct frame_stats st;
	uint64_t lo, hi, start;
	bool placed = false;

	frame_stats(&m.fa, &st);
	metadata_bounds(&lo, &hi);
	FUZZ_CHECK(is_aligned(st.metadata_phys, PAGE_SIZE) && st.metadata_bytes >= lo && st.metadata_bytes <= hi,
	           "metadata of %#llx bytes, expected %#llx..%#llx", (unsigned long long)st.metadata_bytes,
	           (unsigned long long)lo, (unsigned long long)hi);
	for (size_t i = m.map.count; i-- > 0;) {
		const struct mem_range *r = &m.map.range[i];
		if (r->kind != MEM_USABLE || !managed_part(r, &start) || placed)
			continue;
		if (r->end - start >= st.metadata_bytes) {
			FUZZ_CHECK(st.metadata_phys + st.metadata_bytes == r->end, "metadata not at the end of the highest range that holds it");
			placed = true;
		}
	}
	FUZZ_CHECK(placed, "metadata placed, yet no range can hold it");
	for (size_t i = 0; i < m.map.count; i++) {
		const struct mem_range *r = &m.map.range[i];
		if (!managed_part(r, &start))
			continue;
		for (uint64_t pa = start; pa < r->end; pa += PAGE_SIZE) {
			if (pa >= st.metadata_phys && pa < st.metadata_phys + st.metadata_bytes)
				continue;
			m.frame[pa / PAGE_SIZE] = FREE;
			m.managed++;
		}
	}
	build_full();
	for (size_t i = 0; i < m.map.count; i++) {
		const struct mem_range *r = &m.map.range[i];
		if (r->kind != MEM_BOOT_PAGE_TABLES || !managed_part(r, &start))
			continue;
		for (uint64_t pa = start; pa < r->end; pa += PAGE_SIZE) {
			mark_live(pa, 0);
			write_marks(pa, 0);  /* the tables' contents, which nobody may touch */
		}
	}
}

static bool model_is_free(uint64_t f) { return f < m.frames && m.frame[f] == FREE; }

/* The status frame_free(pa, order) must return, from the model alone. */
static enum frame_status expected_free(uint64_t pa, unsigned order)
{
	uint64_t f = pa / PAGE_SIZE;

	if (order > FRAME_MAX_ORDER)
		return FRAME_ERR_BAD_ORDER;
	if (!is_aligned(pa, PAGE_SIZE << order))
		return FRAME_ERR_MISALIGNED;
	if (f < m.frames && m.head[f] != 0)
		return m.head[f] - 1u == order ? FRAME_OK : FRAME_ERR_WRONG_ORDER;
	return model_is_free(f) ? FRAME_ERR_DOUBLE_FREE : FRAME_ERR_NOT_ALLOCATED;
}

/* True if some naturally aligned run of 2^order frames is all free: then alloc must not fail. */
static bool model_has_free_block(unsigned order) { return m.nfull[order] != 0; }

static void check_stats(void)
{
	struct frame_stats st;
	uint64_t sum = 0;

	frame_stats(&m.fa, &st);
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		sum += st.free_blocks[order] << order;
	FUZZ_CHECK(st.managed_frames == m.managed, "managed %llu, model %llu", (unsigned long long)st.managed_frames,
	           (unsigned long long)m.managed);
	FUZZ_CHECK(st.free_frames == m.managed - m.used, "free %llu, model %llu", (unsigned long long)st.free_frames,
	           (unsigned long long)(m.managed - m.used));
	FUZZ_CHECK(sum == st.free_frames, "free blocks add up to %llu frames, not %llu", (unsigned long long)sum,
	           (unsigned long long)st.free_frames);
	FUZZ_CHECK(st.cached_frames <= st.free_blocks[0] && st.cached_frames <= FRAME_CACHE_SIZE, "cache count off");
}

static void check_sound(void)
{
	enum frame_status s = frame_check(&m.fa);

	FUZZ_CHECK(s == FRAME_OK, "frame_check: %s", frame_status_message(s));
	check_stats();
}

/* With the cache drained every free frame is on a list, merged as far as it goes: the free blocks
 * of each order are the maximal all-free aligned blocks.  Of the nfull[k] all-free blocks of
 * order k, 2 nfull[k + 1] are halves of bigger ones. */
static void check_fully_merged(void)
{
	struct frame_stats st;

	frame_stats(&m.fa, &st);
	FUZZ_CHECK(st.cached_frames == 0, "%llu frames cached after a drain", (unsigned long long)st.cached_frames);
	for (unsigned k = 0; k <= FRAME_MAX_ORDER; k++) {
		uint64_t want = m.nfull[k] - (k < FRAME_MAX_ORDER ? 2 * m.nfull[k + 1] : 0);
		FUZZ_CHECK(st.free_blocks[k] == want, "order %u: %llu free blocks, fully merged there are %llu", k,
		           (unsigned long long)st.free_blocks[k], (unsigned long long)want);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Operations through the model.
 */

static void op_alloc(unsigned order, unsigned flags)
{
	uint64_t pa = UINT64_MAX;
	enum frame_status s;

	if (order > ZERO_CHECKED && order <= FRAME_MAX_ORDER)
		flags |= FRAME_UNINIT;
	s = frame_alloc(&m.fa, order, flags, &pa);
	if (order > FRAME_MAX_ORDER) {
		FUZZ_CHECK(s == FRAME_ERR_BAD_ORDER && pa == UINT64_MAX, "alloc of order %u: %s", order, frame_status_message(s));
		return;
	}
	if (s == FRAME_ERR_NO_MEMORY) {
		FUZZ_CHECK(!model_has_free_block(order), "NO_MEMORY for order %u, yet the model has a free block", order);
		FUZZ_CHECK(pa == UINT64_MAX, "*pa written on error");
		return;
	}
	FUZZ_CHECK(s == FRAME_OK, "alloc order %u: %s", order, frame_status_message(s));
	FUZZ_CHECK(is_aligned(pa, block_bytes(order)) && pa / PAGE_SIZE + (UINT64_C(1) << order) <= m.frames,
	           "block %#llx of order %u misaligned or off the map", (unsigned long long)pa, order);
	mark_live(pa, order);
	if (!(flags & FRAME_UNINIT))
		FUZZ_CHECK(block_is(pa, order, PAGE_SIZE, 0), "block %#llx of order %u not zeroed", (unsigned long long)pa, order);
	write_marks(pa, order);
}

/* Frees through the model: the status must be the model's; a refused free changes nothing; a
 * block's user data must be intact when it comes back, and poisoned after. */
static void op_free(uint64_t pa, unsigned order)
{
	enum frame_status want = expected_free(pa, order);
	struct frame_stats before, after;
	enum frame_status got;

	if (want == FRAME_OK)
		FUZZ_CHECK(block_is(pa, order, MARK_BYTES, mark_of(pa)), "live block %#llx of order %u was overwritten",
		           (unsigned long long)pa, order);
	frame_stats(&m.fa, &before);
	got = frame_free(&m.fa, pa, order);
	FUZZ_CHECK(got == want, "free(%#llx, %u): \"%s\", the model says \"%s\"", (unsigned long long)pa, order,
	           frame_status_message(got), frame_status_message(want));
	if (got != FRAME_OK) {
		frame_stats(&m.fa, &after);
		FUZZ_CHECK(memcmp(&before, &after, sizeof before) == 0, "a refused free changed the stats");
		return;
	}
	mark_freed(pa);
	if (m.cfg.poison_on_free) {
		const uint8_t *p = simmem_ptr(&m.mem, pa);
		FUZZ_CHECK(bytes_are(p + LINK_BYTES, MARK_BYTES, FRAME_POISON_BYTE) &&
		                   bytes_are(p + block_bytes(order) - MARK_BYTES, MARK_BYTES, FRAME_POISON_BYTE),
		           "freed block %#llx not poisoned", (unsigned long long)pa);
	}
}

/* Orders weighted toward small ones, as a kernel asks for them; now and then one too big. */
static unsigned read_order(struct fuzz_input *in)
{
	uint8_t r = fuzz_u8(in);

	if (r < 128)
		return 0;
	if (r < 176)
		return 1 + r % 3;
	if (r < 240)
		return 4 + r % (FRAME_MAX_ORDER - 3);
	return r < 252 ? FRAME_MAX_ORDER : FRAME_MAX_ORDER + 1 + r % 40;
}

static const struct block *pick_live(struct fuzz_input *in)
{
	return m.live_count ? &m.live[fuzz_u16(in) % m.live_count] : NULL;
}

/* An address a buggy or hostile caller might pass to frame_free. */
static void op_hostile_free(struct fuzz_input *in)
{
	uint64_t top = m.frames * PAGE_SIZE;
	uint8_t how = fuzz_u8(in);
	unsigned order = fuzz_u8(in) % 6;
	const struct block *b = pick_live(in);
	struct frame_stats st;
	uint64_t pa;

	frame_stats(&m.fa, &st);
	switch (how % 10) {
	case 0:  /* a live block, any order */
		if (!b)
			return;
		pa = b->pa;
		order = fuzz_u8(in) % (FRAME_MAX_ORDER + 3);
		break;
	case 1:  /* inside a live block */
		if (!b)
			return;
		pa = b->pa + PAGE_SIZE * (fuzz_u8(in) % (UINT64_C(1) << b->order));
		break;
	case 2:  /* a live block, off its page boundary */
		if (!b)
			return;
		pa = b->pa + 1 + fuzz_below(in, PAGE_SIZE - 1);
		order = 0;
		break;
	case 3:  /* freed a moment ago */
		if (m.recent_count == 0)
			return;
		b = &m.recent[fuzz_u8(in) % (m.recent_count < RECENT ? m.recent_count : RECENT)];
		pa = b->pa;
		order = b->order;
		break;
	case 4:  /* anywhere in the map, or a little past it */
		pa = align_down(fuzz_u32(in) * PAGE_SIZE % (top + top / 8 + PAGE_SIZE), PAGE_SIZE);
		break;
	case 5:  /* the metadata */
		pa = st.metadata_phys + align_down(fuzz_u32(in) % st.metadata_bytes, PAGE_SIZE);
		order = 0;
		break;
	case 6:  /* below the reserve */
		pa = align_down(fuzz_u32(in) % (m.floor + 1), PAGE_SIZE);
		break;
	case 7:  /* far outside: up to the top of the physical address space and beyond */
		pa = align_down(PHYS_ADDR_LIMIT - 1 - fuzz_u32(in), PAGE_SIZE) << (fuzz_u8(in) % 12);
		break;
	case 8:  /* an order too big */
		pa = b ? b->pa : 0;
		order = FRAME_MAX_ORDER + 1 + fuzz_u8(in);
		break;
	default:  /* a frame that is free: never handed out, or inside a free block */
		pa = align_down(fuzz_u32(in) * PAGE_SIZE % (top + PAGE_SIZE), PAGE_SIZE);
		order = 0;
		break;
	}
	op_free(pa, order);
}

static void op_drain(void)
{
	enum frame_status s = frame_drain_cache(&m.fa);

	FUZZ_CHECK(s == FRAME_OK, "drain: %s", frame_status_message(s));
	check_fully_merged();
}

static void run(struct fuzz_input *in)
{
	for (unsigned step = 1; !fuzz_done(in); step++) {
		uint8_t op = fuzz_u8(in);
		const struct block *b;

		switch (op % 16) {
		case 0: case 1: case 2: case 3: case 4: case 5: case 6:
			op_alloc(read_order(in), op & 0x10 ? FRAME_UNINIT : 0);
			break;
		case 7: case 8: case 9: case 10: case 11:
			if ((b = pick_live(in)) != NULL)
				op_free(b->pa, b->order);
			break;
		case 12: case 13: case 14:
			op_hostile_free(in);
			break;
		default:
			op_drain();
			break;
		}
		check_stats();
		if (step % CHECK_EVERY == 0)
			check_sound();
	}
}

/* Everything back, newest first: the allocator must be whole and fully merged again. */
static void free_everything(void)
{
	while (m.live_count != 0)
		op_free(m.live[m.live_count - 1].pa, m.live[m.live_count - 1].order);
	op_drain();
	check_sound();
	FUZZ_CHECK(m.used == 0, "model still has used frames");
}

/* After a failed frame_init the allocator is empty: it hands out nothing, takes nothing back. */
static void check_empty(void)
{
	uint64_t pa = UINT64_MAX;

	FUZZ_CHECK(frame_alloc(&m.fa, 0, FRAME_UNINIT, &pa) == FRAME_ERR_NO_MEMORY && pa == UINT64_MAX,
	           "an allocator that failed init handed out a frame");
	FUZZ_CHECK(frame_free(&m.fa, m.map.count ? m.map.range[0].start & ~(PAGE_SIZE - 1) : 0, 0) == FRAME_ERR_NOT_ALLOCATED,
	           "an allocator that failed init took a frame back");
	FUZZ_CHECK(frame_check(&m.fa) == FRAME_OK, "an empty allocator fails its check");
}

static void model_free_all(void)
{
	simmem_destroy(&m.mem);
	free(m.frame);
	free(m.head);
	free(m.slot);
	free(m.full_bytes);
	free(m.live);
}

/* True if a boot-page-table range is off page boundaries: memmap_normalize aligns only usable
 * ranges, but frame_init wants every range it manages aligned and refuses the map. */
static bool tables_unaligned(void)
{
	for (size_t i = 0; i < m.map.count; i++)
		if (m.map.range[i].kind == MEM_BOOT_PAGE_TABLES &&
		    !is_aligned(m.map.range[i].start | m.map.range[i].end, PAGE_SIZE))
			return true;
	return false;
}

/* Builds the allocator on the normalized map, checks frame_init's status against the map, and
 * builds the model; `ops` bounds the blocks the run can hand out. */
static enum frame_status init_and_check(size_t ops)
{
	enum frame_status s = frame_init(&m.fa, &m.map, &m.cfg);
	uint64_t lo, hi, start, usable = 0;

	if (tables_unaligned()) {
		FUZZ_CHECK(s == FRAME_ERR_BAD_MAP, "unaligned boot page tables, yet init says %s", frame_status_message(s));
		return s;
	}
	for (size_t i = 0; i < m.map.count; i++)
		if (m.map.range[i].kind == MEM_USABLE && managed_part(&m.map.range[i], &start))
			usable += m.map.range[i].end - start;
	if (usable == 0) {
		FUZZ_CHECK(s == FRAME_ERR_NO_USABLE, "no usable memory, yet init says %s", frame_status_message(s));
		return s;
	}
	if (s == FRAME_ERR_NO_METADATA) {
		metadata_bounds(&lo, &hi);
		FUZZ_CHECK(largest_usable() < hi, "NO_METADATA, yet a range holds %#llx bytes", (unsigned long long)largest_usable());
		return s;
	}
	FUZZ_CHECK(s == FRAME_OK, "frame_init: %s", frame_status_message(s));
	m.frames = map_top(&m.map) / PAGE_SIZE;
	m.frame = zalloc(m.frames, 1);
	m.head = zalloc(m.frames, 1);
	m.slot = zalloc(m.frames, sizeof *m.slot);
	m.live_cap = ops;
	for (size_t i = 0; i < m.map.count; i++)
		if (m.map.range[i].kind == MEM_BOOT_PAGE_TABLES)
			m.live_cap += (m.map.range[i].end - m.map.range[i].start) / PAGE_SIZE;
	m.live = zalloc(m.live_cap, sizeof *m.live);
	model_from_map();
	check_sound();
	return s;
}

int fuzz_frame(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct memmap_entry raw[MAX_RANGES + 1];
	uint8_t config = fuzz_u8(&in);
	bool big = config & 2;
	size_t n = read_entries(&in, raw, big);

	memset(&m, 0, sizeof m);
	if (memmap_normalize(raw, n, &m.map, NULL) != MEMMAP_OK)
		return 0;  /* every usable entry shrank to nothing */
	/* Poisoning a 1 GiB block would make the fuzzer touch all of it. */
	m.cfg.poison_on_free = (config & 1) && !big;
	m.cfg.reserve_below = read_reserve(&in, map_top(&m.map));
	m.floor = m.cfg.reserve_below < PHYS_ADDR_LIMIT ? align_up(m.cfg.reserve_below, PAGE_SIZE) : PHYS_ADDR_LIMIT;
	FUZZ_CHECK(simmem_create(&m.mem, map_top(&m.map)), "no simulated memory");
	m.cfg.offset = simmem_offset(&m.mem);

	if ((config & 4) && break_map(&m.map, fuzz_u8(&in))) {
		enum frame_status s = frame_init(&m.fa, &m.map, &m.cfg);
		FUZZ_CHECK(s == FRAME_ERR_BAD_MAP, "a broken map gave %s", frame_status_message(s));
		check_empty();
	} else if (init_and_check(in.left + 1) == FRAME_OK) {
		run(&in);
		free_everything();
	} else {
		check_empty();
	}
	model_free_all();
	return 0;
}

FUZZ_ENTRY(fuzz_frame)
