/*
 * The page-table walker and mapper.  Everything is built around one primitive, walk_via(),
 * which descends from the PML4 to the entry for an address at a chosen level (walk() is the same
 * with the space's own way of reaching tables).  translate() alone has a descent of its own, the
 * hottest loop of the mapper (see there).  docs/paging.md ("The walker and mapper") gives the
 * contracts, the table-freeing rules and the TLB policy.
 *
 * Tables are reached only through the access seam, by small helpers that enter a table, touch
 * it and leave it before returning (entry_read, entry_write, table_empty): enter and leave are
 * balanced by construction, and no table pointer outlives the helper that got it.
 */
#include "mm/paging.h"

#include "lib/compiler.h"
#include "mm/page.h"

/* The first address of the upper canonical half. */
#define UPPER_HALF_START UINT64_C(0xffff800000000000)

/* ---------------------------------------------------------------------------------------------
 * Flags.  Each PAGE_* flag is its PTE bit moved down by a fixed shift, so converting either way
 * is a few shifts and masks: translate stays short.
 */

#define LOW_FLAGS   (PAGE_WRITE | PAGE_USER | PAGE_WRITETHROUGH | PAGE_NOCACHE)
#define LOW_SHIFT    1   /* PTE bits 1..4 <-> flag bits 0..3 */
#define GLOBAL_SHIFT 4   /* PTE bit 8 <-> flag bit 4 */
#define NX_SHIFT     58  /* PTE bit 63 <-> flag bit 5 */

_Static_assert(PTE_WRITABLE == (uint64_t)PAGE_WRITE << LOW_SHIFT, "flag layout");
_Static_assert(PTE_USER == (uint64_t)PAGE_USER << LOW_SHIFT, "flag layout");
_Static_assert(PTE_PWT == (uint64_t)PAGE_WRITETHROUGH << LOW_SHIFT, "flag layout");
_Static_assert(PTE_PCD == (uint64_t)PAGE_NOCACHE << LOW_SHIFT, "flag layout");
_Static_assert(PTE_GLOBAL == (uint64_t)PAGE_GLOBAL << GLOBAL_SHIFT, "flag layout");
_Static_assert(PTE_NX == (uint64_t)PAGE_NOEXEC << NX_SHIFT, "flag layout");

/* The PTE bits a mapping's flags decide; protect replaces exactly these. */
#define FLAG_BITS (PTE_WRITABLE | PTE_USER | PTE_PWT | PTE_PCD | PTE_GLOBAL | PTE_NX)

static inline pte_t flags_to_pte(uint32_t flags)
{
	return (pte_t)(flags & LOW_FLAGS) << LOW_SHIFT |
	       (pte_t)(flags & PAGE_GLOBAL) << GLOBAL_SHIFT |
	       (pte_t)(flags & PAGE_NOEXEC) << NX_SHIFT;
}

/* Effective flags: W and U survive only if every entry on the way grants them (`all` is the AND
 * of the entries), NX counts if any sets it (`any` is their OR); the rest is the leaf's. */
static inline uint32_t pte_to_flags(pte_t all, pte_t any, pte_t leaf)
{
	pte_t low = (all & (PTE_WRITABLE | PTE_USER)) | (leaf & (PTE_PWT | PTE_PCD));

	return (uint32_t)(low >> LOW_SHIFT) |
	       (uint32_t)((leaf & PTE_GLOBAL) >> GLOBAL_SHIFT) |
	       (uint32_t)((any & PTE_NX) >> NX_SHIFT);
}

static bool flags_valid(uint32_t flags)
{
	return (flags & ~(uint32_t)PAGE_FLAGS_ALL) == 0;
}

/* ---------------------------------------------------------------------------------------------
 * The access seam.
 *
 * Every helper below takes `direct`: true when the technique has no enter (the offset technique),
 * and the table whose frame is pa is simply at offset + pa.  The hot operations (translate, map,
 * unmap) are compiled twice from one body: with `direct` the constant true, where every table
 * access is one load or store with no call and no test, and with false, out of line, through
 * enter and leave.  The others pass is_direct(space).
 */

static inline bool is_direct(const struct addr_space *space)
{
	return space->access->enter == NULL;
}

/* The table at `level` on the walk for `virt`, whose frame is `pa`. */
static ALWAYS_INLINE pte_t *table_enter(const struct addr_space *space, bool direct, uint64_t pa,
                                        unsigned level, uint64_t virt)
{
	struct pt_access *access = space->access;

	if (direct)
		return (pte_t *)(access->offset + pa);
	return access->enter(access, pa, level, virt);
}

static ALWAYS_INLINE void table_leave(const struct addr_space *space, bool direct, pte_t *table, unsigned level)
{
	struct pt_access *access = space->access;

	if (!direct && access->leave != NULL)
		access->leave(access, table, level);
}

/* Entries are read and written with one 64-bit access each (volatile: never torn, merged or
 * repeated), because the MMU reads them, and sets accessed and dirty bits, at the same time. */
static ALWAYS_INLINE pte_t entry_read(const struct addr_space *space, bool direct, uint64_t table_pa,
                                      unsigned level, uint64_t virt)
{
	pte_t *table = table_enter(space, direct, table_pa, level, virt);
	pte_t e = ((volatile pte_t *)table)[pt_index(virt, level)];

	table_leave(space, direct, table, level);
	return e;
}

static ALWAYS_INLINE void entry_write(const struct addr_space *space, bool direct, uint64_t table_pa,
                                      unsigned level, uint64_t virt, pte_t e)
{
	pte_t *table = table_enter(space, direct, table_pa, level, virt);

	((volatile pte_t *)table)[pt_index(virt, level)] = e;
	table_leave(space, direct, table, level);
}

/* True if the table holds no present entry.  Mappings cluster, so the scan starts next to the
 * slot of `virt` (just cleared) and works outward: usually a neighbour is present and it stops
 * at once.  Past slot 0, `below` wraps around to a huge value, which ends that side. */
static ALWAYS_INLINE bool table_empty(const struct addr_space *space, bool direct, uint64_t table_pa,
                                      unsigned level, uint64_t virt)
{
	pte_t *table = table_enter(space, direct, table_pa, level, virt);
	unsigned slot = pt_index(virt, level);
	bool empty = true;

	for (unsigned d = 1; d < PT_ENTRIES; d++) {
		unsigned above = slot + d, below = slot - d;

		if ((above < PT_ENTRIES && pte_present(table[above])) ||
		    (below < PT_ENTRIES && pte_present(table[below]))) {
			empty = false;
			break;
		}
	}
	table_leave(space, direct, table, level);
	return empty;
}

/* ---------------------------------------------------------------------------------------------
 * The primitive: walk.
 */

enum walk_mode {
	WALK_FIND,         /* stop at an absent entry */
	WALK_CREATE,       /* create missing tables, kernel-only */
	WALK_CREATE_USER,  /* create missing tables, user-accessible */
};

/* Where a walk went, indexed by level: table[l] is the level-l table it passed, seen[l] the
 * entry it read there.  It stopped at `level`; seen[level] is the entry for the address there. */
struct walk {
	unsigned level;
	uint64_t table[PT_LEVELS + 1];
	pte_t seen[PT_LEVELS + 1];
};

static inline pte_t walk_entry(const struct walk *w)
{
	return w->seen[w->level];
}

/* A huge page: PS at level 2 or 3.  At level 1 the same bit is PAT, at level 4 it is reserved. */
static inline bool is_huge_leaf(pte_t e, unsigned level)
{
	return pte_huge(e) && level != 1 && level != PT_LEVELS;
}

static void free_frames(const struct addr_space *space, const uint64_t *pa, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		space->frames.free(space->frames.ctx, pa[i]);
}

/* Gives the walk, stopped at an absent entry above `target`, the tables it misses down to
 * `target`.  Every frame is allocated before any is linked, so running out changes nothing.
 * They are linked from the top: a table is only entered once its parent points to it, which the
 * recursive technique needs, and a fresh table is zeroed, so there is nothing to read in it.
 * Out of line: it runs once per new table, not once per page. */
static NOINLINE enum paging_status add_tables(const struct addr_space *space, struct walk *w, uint64_t virt,
                                              unsigned target, bool user)
{
	bool direct = is_direct(space);
	uint64_t fresh[PT_LEVELS];
	unsigned count = w->level - target;

	for (unsigned i = 0; i < count; i++) {
		if (!space->frames.alloc(space->frames.ctx, &fresh[i])) {
			free_frames(space, fresh, i);
			return PAGING_ERR_NO_FRAMES;
		}
	}
	for (unsigned i = 0; i < count; i++) {
		unsigned level = w->level;

		w->seen[level] = pte_table(fresh[i], user);
		entry_write(space, direct, w->table[level], level, virt, w->seen[level]);
		w->level = level - 1;
		w->table[level - 1] = fresh[i];
		w->seen[level - 1] = 0;
	}
	return PAGING_OK;
}

/*
 * The primitive.  Descends from the root towards the entry for `virt` in the level-`target`
 * table (1..4), recording in *w every table it passes and entry it reads.  Returns
 *   PAGING_OK               w stopped at `target`; the entry there may be present or not
 *   PAGING_ERR_NOT_MAPPED   an entry above `target` is absent (WALK_FIND); w stopped there
 *   PAGING_ERR_PARENT_HUGE  a huge page above `target` maps virt; w stopped at it
 *   PAGING_ERR_NO_FRAMES    tables were missing and could not all be made; nothing changed
 * Always inlined, and unrolled: what a caller does not use of the record is never computed, and
 * a caller that keeps its address to itself keeps the record in registers.
 */
static ALWAYS_INLINE enum paging_status walk_via(const struct addr_space *space, bool direct, uint64_t virt,
                                                 unsigned target, enum walk_mode mode, struct walk *w)
{
	uint64_t pa = space->root;
	unsigned level;

#pragma GCC unroll 4
	for (level = PT_LEVELS; level >= 1; level--) {
		pte_t e = entry_read(space, direct, pa, level, virt);

		w->table[level] = pa;
		w->seen[level] = e;
		if (level == target || !pte_present(e) || is_huge_leaf(e, level))
			break;
		pa = pte_addr(e);
	}
	w->level = level;
	if (level == target)
		return PAGING_OK;
	if (pte_present(w->seen[level]))
		return PAGING_ERR_PARENT_HUGE;
	if (mode == WALK_FIND)
		return PAGING_ERR_NOT_MAPPED;
	return add_tables(space, w, virt, target, mode == WALK_CREATE_USER);
}

static ALWAYS_INLINE enum paging_status walk(const struct addr_space *space, uint64_t virt, unsigned target,
                                             enum walk_mode mode, struct walk *w)
{
	return walk_via(space, is_direct(space), virt, target, mode, w);
}

/* The flags of the leaf w stopped at, combined over every level it passed. */
static uint32_t walk_flags(const struct walk *w)
{
	pte_t all = ~(pte_t)0, any = 0;

	for (unsigned level = w->level; level <= PT_LEVELS; level++) {
		all &= w->seen[level];
		any |= w->seen[level];
	}
	return pte_to_flags(all, any, walk_entry(w));
}

/* The first byte of the frame of the leaf w stopped at.  For a huge page, bit 12 of the entry
 * is PAT, not address, hence the alignment to the page size. */
static inline uint64_t walk_frame(const struct walk *w)
{
	return align_down(pte_addr(walk_entry(w)), pt_entry_span(w->level));
}

/* ---------------------------------------------------------------------------------------------
 * TLB policy.  A single-page operation that changes a present entry flushes that page.  Range
 * operations collect the pages they change in a batch and flush once at the end: page by page,
 * or everything past PAGING_FLUSH_ALL_THRESHOLD pages.  Unlinked tables are freed only after
 * the flush (see paging_unmap and unmap_inside).
 */

/* Starts with count = 0; pages[] fills as count grows, so it needs no clearing. */
struct tlb_batch {
	uint64_t pages[PAGING_FLUSH_ALL_THRESHOLD];
	uint64_t count;  /* pages changed; past the threshold they are only counted */
};

static inline void flush_page(const struct addr_space *space, uint64_t virt)
{
	if (space->tlb.flush_page != NULL)
		space->tlb.flush_page(space->tlb.ctx, virt);
}

static void batch_add(struct tlb_batch *batch, uint64_t virt)
{
	if (batch->count < PAGING_FLUSH_ALL_THRESHOLD)
		batch->pages[batch->count] = virt;
	batch->count++;
}

static void batch_flush(const struct addr_space *space, struct tlb_batch *batch)
{
	if (batch->count > PAGING_FLUSH_ALL_THRESHOLD) {
		if (space->tlb.flush_all != NULL)
			space->tlb.flush_all(space->tlb.ctx);
	} else {
		for (uint64_t i = 0; i < batch->count; i++)
			flush_page(space, batch->pages[i]);
	}
	batch->count = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Argument checks.
 */

/* The level whose entries map pages of `size`, or 0 for an unsupported size. */
static unsigned leaf_level(const struct addr_space *space, uint64_t size)
{
	if (size == PAGE_SIZE)
		return 1;
	if (size == PAGE_SIZE_2M)
		return 2;
	if (size == PAGE_SIZE_1G && space->allow_1g)
		return 3;
	return 0;
}

/* [phys, phys + length) lies below the space's physical limit (and below what an entry holds). */
static bool phys_fits(const struct addr_space *space, uint64_t phys, uint64_t length)
{
	uint64_t limit = space->phys_limit < PHYS_ADDR_LIMIT ? space->phys_limit : PHYS_ADDR_LIMIT;

	return phys <= limit && length <= limit - phys;
}

/* [virt, virt + length) is page-aligned and lies in one canonical half (so it does not wrap). */
static enum paging_status check_virt_range(uint64_t virt, uint64_t length)
{
	uint64_t last = virt + length - 1;

	if (!is_aligned(virt | length, PAGE_SIZE))
		return PAGING_ERR_MISALIGNED;
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	if (length != 0 && (last < virt || !is_canonical(last) || (virt ^ last) >> 63))
		return PAGING_ERR_NONCANONICAL;
	return PAGING_OK;
}

/* Walks to the leaf for `virt` and checks that a mapping starts exactly there. */
static ALWAYS_INLINE enum paging_status find_mapping_start(const struct addr_space *space, bool direct,
                                                           uint64_t virt, struct walk *w)
{
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	walk_via(space, direct, virt, 1, WALK_FIND, w);
	if (!pte_present(walk_entry(w)))
		return PAGING_ERR_NOT_MAPPED;
	if (!is_aligned(virt, pt_entry_span(w->level)))
		return PAGING_ERR_MISALIGNED;
	return PAGING_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Single pages.
 */

/* A mapping found by translate: the leaf `e` at `level`; `all` and `any` are the AND and the OR of
 * the entries on the way, the leaf's included. */
static ALWAYS_INLINE struct translation mapped(uint64_t virt, pte_t e, unsigned level, pte_t all, pte_t any)
{
	uint64_t size = pt_entry_span(level);

	return (struct translation){
		.status = PAGING_OK,
		.phys = align_down(pte_addr(e), size) | (virt & (size - 1)),
		.page_size = size,
		.level = level,
		.flags = pte_to_flags(all, any, e),
	};
}

/*
 * The walk of walk_via, written again so that every way out of it returns on the spot: unrolled,
 * each exit knows its level, so the page size, the masks and the level it returns are constants
 * and the effective flags are built from registers.  Built on walk_via, which records the walk for
 * its callers, the same translation costs a third more instructions with gcc, three fifths with
 * clang.
 */
static ALWAYS_INLINE struct translation translate(const struct addr_space *space, bool direct, uint64_t virt)
{
	uint64_t pa = space->root;
	pte_t all = ~(pte_t)0, any = 0;

	if (!is_canonical(virt))
		return (struct translation){ .status = PAGING_ERR_NONCANONICAL };
#pragma GCC unroll 4
	for (unsigned level = PT_LEVELS; level > 1; level--) {
		pte_t e = entry_read(space, direct, pa, level, virt);

		all &= e;
		any |= e;
		if (!pte_present(e))
			return (struct translation){ .status = PAGING_ERR_NOT_MAPPED, .level = level };
		if (is_huge_leaf(e, level))
			return mapped(virt, e, level, all, any);
		pa = pte_addr(e);
	}
	pte_t e = entry_read(space, direct, pa, 1, virt);
	if (!pte_present(e))
		return (struct translation){ .status = PAGING_ERR_NOT_MAPPED, .level = 1 };
	return mapped(virt, e, 1, all & e, any | e);
}

static NOINLINE struct translation translate_entering(const struct addr_space *space, uint64_t virt)
{
	return translate(space, false, virt);
}

struct translation paging_translate(struct addr_space *space, uint64_t virt)
{
	if (unlikely(!is_direct(space)))
		return translate_entering(space, virt);
	return translate(space, true, virt);
}

/* A user page needs U at every level above it.  Intermediate entries restrict nothing else
 * (pte_table), and the leaves below them keep their own U, so this exposes no other page.
 * Returns true if a (present) entry changed, which the caller must flush. */
static bool grant_user(const struct addr_space *space, struct walk *w, uint64_t virt)
{
	bool direct = is_direct(space);
	bool changed = false;

	for (unsigned level = w->level + 1; level <= PT_LEVELS; level++) {
		if (!(w->seen[level] & PTE_USER)) {
			w->seen[level] |= PTE_USER;
			entry_write(space, direct, w->table[level], level, virt, w->seen[level]);
			changed = true;
		}
	}
	return changed;
}

/* paging_map once its arguments are checked: the page of `level` at virt -> phys. */
static ALWAYS_INLINE enum paging_status map_page(const struct addr_space *space, bool direct, uint64_t virt,
                                                 uint64_t phys, unsigned level, uint32_t flags)
{
	bool user = flags & PAGE_USER;
	enum paging_status status;
	struct walk w;

	status = walk_via(space, direct, virt, level, user ? WALK_CREATE_USER : WALK_CREATE, &w);
	if (status != PAGING_OK)
		return status;
	/* For a huge page a present entry may be a table; tables are never left empty, so
	 * something inside is mapped either way. */
	if (pte_present(walk_entry(&w)))
		return PAGING_ERR_ALREADY_MAPPED;
	bool granted = user && grant_user(space, &w, virt);
	entry_write(space, direct, w.table[level], level, virt,
	            pte_leaf(phys, flags_to_pte(flags) | (level > 1 ? PTE_HUGE : 0)));
	if (granted)
		flush_page(space, virt);  /* also drops the kernel-only entries from paging-structure caches */
	return PAGING_OK;
}

static NOINLINE enum paging_status map_page_entering(const struct addr_space *space, uint64_t virt, uint64_t phys,
                                                     unsigned level, uint32_t flags)
{
	return map_page(space, false, virt, phys, level, flags);
}

enum paging_status paging_map(struct addr_space *space, uint64_t virt, uint64_t phys, uint64_t page_size,
                              uint32_t flags)
{
	unsigned level = leaf_level(space, page_size);

	if (level == 0)
		return PAGING_ERR_BAD_SIZE;
	if (!is_aligned(virt | phys, page_size))
		return PAGING_ERR_MISALIGNED;
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	if (!flags_valid(flags))
		return PAGING_ERR_BAD_FLAGS;
	if (!phys_fits(space, phys, page_size))
		return PAGING_ERR_BAD_PHYS;
	if (unlikely(!is_direct(space)))
		return map_page_entering(space, virt, phys, level, flags);
	/* The offset path once per page size: the level the walk stops at is a constant too. */
	if (level == 1)
		return map_page(space, true, virt, phys, 1, flags);
	if (level == 2)
		return map_page(space, true, virt, phys, 2, flags);
	return map_page(space, true, virt, phys, 3, flags);
}

/* Clears the leaf w stopped at, then unlinks the tables on w's path, from the leaf's up, that
 * hold no present entry any more.  Returns the level of the first table that stays (the root
 * always does): the tables below it are unlinked but not yet freed, which waits for the flush. */
static ALWAYS_INLINE unsigned clear_leaf(const struct addr_space *space, bool direct, const struct walk *w,
                                         uint64_t virt)
{
	unsigned level = w->level;

	entry_write(space, direct, w->table[level], level, virt, 0);
	while (level < PT_LEVELS && table_empty(space, direct, w->table[level], level, virt)) {
		entry_write(space, direct, w->table[level + 1], level + 1, virt, 0);
		level++;
	}
	return level;
}

/* Frees the tables clear_leaf unlinked, [from, to), once the TLB no longer leads into them: the
 * paging-structure caches may hold entries pointing at them until the flush, and a frame reused
 * while the MMU can still walk through it is a wild mapping. */
static void free_tables(const struct addr_space *space, const struct walk *w, uint64_t virt, unsigned from,
                        unsigned to)
{
	struct pt_access *access = space->access;

	for (unsigned level = from; level < to; level++) {
		space->frames.free(space->frames.ctx, w->table[level]);
		if (access->forget != NULL)
			access->forget(access, level, virt);
	}
}

/* paging_unmap: one walk, the leaf cleared, one flush (which also covers the freed tables: invlpg
 * drops the paging-structure caches too), then the tables freed. */
static ALWAYS_INLINE enum paging_status unmap_page(const struct addr_space *space, bool direct, uint64_t virt,
                                                   uint64_t *phys, uint64_t *page_size)
{
	struct walk w;
	enum paging_status status = find_mapping_start(space, direct, virt, &w);

	if (status != PAGING_OK)
		return status;
	if (phys != NULL)
		*phys = walk_frame(&w);
	if (page_size != NULL)
		*page_size = pt_entry_span(w.level);
	unsigned kept = clear_leaf(space, direct, &w, virt);
	flush_page(space, virt);
	if (unlikely(kept != w.level))
		free_tables(space, &w, virt, w.level, kept);
	return PAGING_OK;
}

static NOINLINE enum paging_status unmap_page_entering(const struct addr_space *space, uint64_t virt, uint64_t *phys,
                                                       uint64_t *page_size)
{
	return unmap_page(space, false, virt, phys, page_size);
}

enum paging_status paging_unmap(struct addr_space *space, uint64_t virt, uint64_t *phys, uint64_t *page_size)
{
	if (unlikely(!is_direct(space)))
		return unmap_page_entering(space, virt, phys, page_size);
	return unmap_page(space, true, virt, phys, page_size);
}

enum paging_status paging_protect(struct addr_space *space, uint64_t virt, uint32_t flags)
{
	bool direct = is_direct(space);
	enum paging_status status;
	struct walk w;

	if (!flags_valid(flags))
		return PAGING_ERR_BAD_FLAGS;
	status = find_mapping_start(space, direct, virt, &w);
	if (status != PAGING_OK)
		return status;

	/* Only the flag bits change: frame, size (or PAT), accessed and dirty stay. */
	pte_t old = walk_entry(&w);
	pte_t new = (old & ~FLAG_BITS) | flags_to_pte(flags);
	bool changed = (flags & PAGE_USER) && grant_user(space, &w, virt);

	if (new != old) {
		entry_write(space, direct, w.table[w.level], w.level, virt, new);
		changed = true;
	}
	if (changed)
		flush_page(space, virt);
	return PAGING_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Ranges.
 */

/* The largest page that fits at virt -> phys with `remaining` bytes to go. */
static uint64_t largest_page(const struct addr_space *space, uint64_t virt, uint64_t phys, uint64_t remaining)
{
	for (unsigned level = space->allow_1g ? 3 : 2; level > 1; level--) {
		uint64_t size = pt_entry_span(level);

		if (is_aligned(virt | phys, size) && remaining >= size)
			return size;
	}
	return PAGE_SIZE;
}

/* Unmaps everything in [virt, virt + length), which no mapping sticks out of, skipping holes
 * a whole absent entry at a time.  The flushes wait in a batch, except when a table is to be
 * freed: then the batch is flushed first. */
static void unmap_inside(const struct addr_space *space, uint64_t virt, uint64_t length)
{
	bool direct = is_direct(space);
	struct tlb_batch batch;

	batch.count = 0;
	for (uint64_t done = 0; done < length;) {
		uint64_t v = virt + done;
		struct walk w;

		walk_via(space, direct, v, 1, WALK_FIND, &w);
		if (pte_present(walk_entry(&w))) {
			unsigned kept = clear_leaf(space, direct, &w, v);
			batch_add(&batch, v);
			if (kept != w.level) {
				batch_flush(space, &batch);
				free_tables(space, &w, v, w.level, kept);
			}
		}
		done += pt_entry_span(w.level) - (v & (pt_entry_span(w.level) - 1));
	}
	batch_flush(space, &batch);
}

enum paging_status paging_map_range(struct addr_space *space, uint64_t virt, uint64_t phys, uint64_t length,
                                    uint32_t flags)
{
	enum paging_status status = check_virt_range(virt, length);

	if (!is_aligned(phys, PAGE_SIZE))
		return PAGING_ERR_MISALIGNED;
	if (status != PAGING_OK)
		return status;
	if (!flags_valid(flags))
		return PAGING_ERR_BAD_FLAGS;
	if (!phys_fits(space, phys, length))
		return PAGING_ERR_BAD_PHYS;

	for (uint64_t done = 0, size; done < length; done += size) {
		size = largest_page(space, virt + done, phys + done, length - done);
		status = paging_map(space, virt + done, phys + done, size, flags);
		if (status != PAGING_OK) {
			unmap_inside(space, virt, done);
			return status;
		}
	}
	return PAGING_OK;
}

/* True if the mapping holding `virt`, if any, reaches outside [first, last]. */
static bool sticks_out(struct addr_space *space, uint64_t virt, uint64_t first, uint64_t last)
{
	struct translation t = paging_translate(space, virt);
	uint64_t start = align_down(virt, t.page_size);

	return t.status == PAGING_OK && (start < first || start + (t.page_size - 1) > last);
}

enum paging_status paging_unmap_range(struct addr_space *space, uint64_t virt, uint64_t length)
{
	enum paging_status status = check_virt_range(virt, length);
	uint64_t last = virt + length - 1;

	if (status != PAGING_OK || length == 0)
		return status;
	/* Only the pages at the two ends can stick out.  Check both before changing anything. */
	if (sticks_out(space, virt, virt, last) || sticks_out(space, last, virt, last))
		return PAGING_ERR_MISALIGNED;
	unmap_inside(space, virt, length);
	return PAGING_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Inspection.
 */

void paging_visit(struct addr_space *space, uint64_t start, uint64_t end,
                  bool (*fn)(void *ctx, const struct mapping *m), void *ctx)
{
	uint64_t last = end - 1;  /* end = 0 wraps to the top, as documented; end <= start visits nothing */

	for (uint64_t v = start; v <= last;) {
		struct walk w;

		if (!is_canonical(v)) {
			v = UPPER_HALF_START;  /* only the hole between the halves is not canonical */
			continue;
		}
		walk(space, v, 1, WALK_FIND, &w);

		uint64_t span = pt_entry_span(w.level);
		uint64_t base = align_down(v, span);

		if (pte_present(walk_entry(&w))) {
			struct mapping m = { .virt = base, .phys = walk_frame(&w), .size = span,
			                     .level = w.level, .flags = walk_flags(&w) };

			if (!fn(ctx, &m))
				return;
		}
		if (base + span == 0)
			return;  /* that was the last page of the address space */
		v = base + span;
	}
}

enum paging_status paging_walk_path(struct addr_space *space, uint64_t virt, struct pt_path *path)
{
	struct walk w;

	path->depth = 0;
	if (!is_canonical(virt))
		return PAGING_ERR_NONCANONICAL;
	walk(space, virt, 1, WALK_FIND, &w);
	for (unsigned level = PT_LEVELS; level >= w.level; level--) {
		path->table[path->depth] = w.table[level];
		path->index[path->depth] = pt_index(virt, level);
		path->entry[path->depth] = w.seen[level];
		path->depth++;
	}
	return pte_present(walk_entry(&w)) ? PAGING_OK : PAGING_ERR_NOT_MAPPED;
}

const char *paging_status_message(enum paging_status status)
{
	switch (status) {
	case PAGING_OK:                 return "ok";
	case PAGING_ERR_NONCANONICAL:   return "address is not canonical";
	case PAGING_ERR_MISALIGNED:     return "address or length not aligned to the page size";
	case PAGING_ERR_BAD_SIZE:       return "unsupported page size";
	case PAGING_ERR_BAD_FLAGS:      return "unknown mapping flags";
	case PAGING_ERR_BAD_PHYS:       return "physical address beyond the physical limit";
	case PAGING_ERR_ALREADY_MAPPED: return "already mapped";
	case PAGING_ERR_PARENT_HUGE:    return "a huge page already covers the address";
	case PAGING_ERR_NO_FRAMES:      return "out of frames for page tables";
	case PAGING_ERR_NOT_MAPPED:     return "not mapped";
	}
	return "unknown paging status";
}
