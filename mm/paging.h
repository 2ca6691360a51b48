/*
 * The page-table walker and mapper.  Portable C: it reaches page tables only through the access
 * seam (struct pt_access), gets frames for new tables from `struct table_frames`, and flushes
 * the TLB through `struct tlb_ops`.  The kernel plugs in its access techniques (offset,
 * recursive, temporary) and the real frame allocator; the host plugs in simulated memory.
 */
#ifndef FERRITE_MM_PAGING_H
#define FERRITE_MM_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/pte.h"

/* Mapping flags, in a mapper call and in a translation's effective flags.  A page is present,
 * readable and kernel-only unless these say otherwise. */
enum page_flags {
	PAGE_WRITE        = 1u << 0,
	PAGE_USER         = 1u << 1,
	PAGE_WRITETHROUGH = 1u << 2,
	PAGE_NOCACHE      = 1u << 3,
	PAGE_GLOBAL       = 1u << 4,
	PAGE_NOEXEC       = 1u << 5,
};
#define PAGE_FLAGS_ALL (PAGE_WRITE | PAGE_USER | PAGE_WRITETHROUGH | PAGE_NOCACHE | PAGE_GLOBAL | PAGE_NOEXEC)

enum paging_status {
	PAGING_OK,
	PAGING_ERR_NONCANONICAL,    /* a virtual address outside the canonical halves */
	PAGING_ERR_MISALIGNED,      /* an address or length not aligned to the page size */
	PAGING_ERR_BAD_SIZE,        /* a page size other than 4 KiB, 2 MiB, 1 GiB (or 1 GiB unsupported) */
	PAGING_ERR_BAD_FLAGS,       /* flag bits outside PAGE_FLAGS_ALL */
	PAGING_ERR_BAD_PHYS,        /* a physical address beyond the CPU's physical address width */
	PAGING_ERR_ALREADY_MAPPED,  /* the target entry, or a page inside a requested huge page, is mapped */
	PAGING_ERR_PARENT_HUGE,     /* a huge page already covers the address at a higher level */
	PAGING_ERR_NO_FRAMES,       /* no frame for a new table; nothing was changed */
	PAGING_ERR_NOT_MAPPED,      /* nothing is mapped there */
};

/*
 * The access seam: how the walker reaches a page table.
 *
 * Offset technique (and the host simulation): `enter` is NULL and the table whose physical
 * address is pa is at virtual address `offset + pa`.  This is the fast path the walker inlines.
 *
 * Other techniques set `enter`: it returns a pointer to the table at `level` (4 = PML4 .. 1 = PT)
 * on the walk for `virt`, whose frame is `table_pa`.  The offset and temporary techniques find
 * the table by `table_pa`; the recursive technique by its position (`level` and `virt`).  The
 * pointer stays valid until `leave` for the same level.  `forget` is called after a table on the
 * walk for `virt` was unlinked from its parent and freed, so a technique that keeps a translation
 * of the table (the recursive window) can flush it.  `leave` and `forget` may be NULL.
 */
struct pt_access {
	uintptr_t offset;
	pte_t *(*enter)(struct pt_access *self, uint64_t table_pa, unsigned level, uint64_t virt);
	void (*leave)(struct pt_access *self, pte_t *table, unsigned level);
	void (*forget)(struct pt_access *self, unsigned level, uint64_t virt);
	void *ctx;
};

/* Where page-table frames come from: alloc returns a zeroed 4 KiB frame, or false if none is left. */
struct table_frames {
	bool (*alloc)(void *ctx, uint64_t *pa);
	void (*free)(void *ctx, uint64_t pa);
	void *ctx;
};

/* TLB maintenance.  NULL functions mean there is no TLB to maintain (host simulation). */
struct tlb_ops {
	void (*flush_page)(void *ctx, uint64_t virt);
	void (*flush_all)(void *ctx);
	void *ctx;
};

/* Range operations that change more than this many pages flush the whole TLB instead of each page:
 * past a few dozen invlpg, reloading CR3 is cheaper than flushing page by page. */
#define PAGING_FLUSH_ALL_THRESHOLD 32

struct addr_space {
	uint64_t root;               /* physical address of the PML4 */
	struct pt_access *access;
	struct table_frames frames;
	struct tlb_ops tlb;
	bool allow_1g;               /* the CPU has 1 GiB pages (pdpe1gb) */
	uint64_t phys_limit;         /* 1 << MAXPHYADDR; frames at or above are rejected */
};

struct translation {
	enum paging_status status;  /* PAGING_OK, PAGING_ERR_NOT_MAPPED or PAGING_ERR_NONCANONICAL */
	uint64_t phys;              /* physical address of `virt` */
	uint64_t page_size;         /* 4 KiB, 2 MiB or 1 GiB */
	unsigned level;             /* level of the leaf; when not mapped, the level whose entry is absent */
	uint32_t flags;             /* effective enum page_flags: W and U if every level allows, NX if any forbids */
};

/* Walks the tables by hand: where `virt` goes, how large its page is, and with what access. */
struct translation paging_translate(struct addr_space *space, uint64_t virt);

/*
 * Maps the page at `virt` (aligned to `page_size`) to the frame at `phys`.  Missing tables are
 * allocated zeroed, all of them before any is linked, so PAGING_ERR_NO_FRAMES leaves no trace.
 * A user page opens the kernel-only table entries above it to user mode.  Any error leaves the
 * tables unchanged.
 */
enum paging_status paging_map(struct addr_space *space, uint64_t virt, uint64_t phys,
                              uint64_t page_size, uint32_t flags);

/*
 * Removes the mapping that starts at `virt` (which must be the start of the page, whatever its
 * size, else PAGING_ERR_MISALIGNED).  Returns its frame and page size through `phys` and
 * `page_size` (either may be NULL; written only on success).  Tables left empty are freed, up
 * to but not including the PML4, after the TLB flush.
 */
enum paging_status paging_unmap(struct addr_space *space, uint64_t virt, uint64_t *phys,
                                uint64_t *page_size);

/* Changes the flags of the mapping that starts at `virt`; frame, size, accessed and dirty bits
 * stay.  PAGE_USER opens the kernel-only table entries above it, as paging_map does. */
enum paging_status paging_protect(struct addr_space *space, uint64_t virt, uint32_t flags);

/*
 * Maps [virt, virt + length) to [phys, phys + length) with the largest pages alignment allows.
 * All three must be 4 KiB-aligned.  On error nothing of the range stays mapped.
 */
enum paging_status paging_map_range(struct addr_space *space, uint64_t virt, uint64_t phys,
                                    uint64_t length, uint32_t flags);

/*
 * Unmaps every mapping inside [virt, virt + length); holes are skipped.  A huge page that
 * sticks out of the range is an error (PAGING_ERR_MISALIGNED) and nothing is changed.
 * The frames are not freed: the mapper does not own them.
 */
enum paging_status paging_unmap_range(struct addr_space *space, uint64_t virt, uint64_t length);

/* One present leaf mapping, as paging_visit reports it. */
struct mapping {
	uint64_t virt;
	uint64_t phys;
	uint64_t size;
	unsigned level;
	uint32_t flags;  /* effective flags, as in struct translation */
};

/* Calls `fn` for every leaf mapping that overlaps [start, end), in address order, until it returns
 * false.  `start` and `end` are canonical; end = 0 means "to the top of the address space", any
 * other end <= start means nothing. */
void paging_visit(struct addr_space *space, uint64_t start, uint64_t end,
                  bool (*fn)(void *ctx, const struct mapping *m), void *ctx);

/* The entries met on the walk for `virt`, from the PML4 down: what `ptdump VADDR` shows. */
struct pt_path {
	unsigned depth;                     /* entries recorded, 1..4 (0 for a non-canonical address) */
	uint64_t table[PT_LEVELS];          /* physical address of the table at each step */
	unsigned index[PT_LEVELS];
	pte_t entry[PT_LEVELS];
};
/* PAGING_OK down to a leaf; PAGING_ERR_NOT_MAPPED when the walk ends at an absent entry, which
 * is recorded as the last step. */
enum paging_status paging_walk_path(struct addr_space *space, uint64_t virt, struct pt_path *path);

/* A short human-readable message for `status`; never NULL. */
const char *paging_status_message(enum paging_status status);

#endif
