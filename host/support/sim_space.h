/*
 * A page-table playground for host tests: a struct addr_space over simulated memory, with
 *
 *   - a frame source for page tables: a free list of 4 KiB frames carved from the simulated
 *     memory, zeroed on alloc, counted, with an allocation budget to make it run dry on purpose;
 *   - a TLB recorder that counts flushes and remembers the flushed addresses;
 *   - one of two ways to reach the tables:
 *       SIM_ACCESS_OFFSET   the offset fast path (table at simmem base + pa), as the direct map;
 *       SIM_ACCESS_GUARDED  enter/leave through one slot page per level, like the kernel's
 *                           temporary mappings, checking the seam contract as it goes.
 *
 * The guarded access copies a table into its level's slot on enter and back on leave, then
 * fills the slot with poison, as a temporary-mapping slot would be pointed elsewhere: a read
 * through a stale pointer sees poison entries (present, huge, an address nowhere), a write
 * through one is found at the next enter.  It aborts the test (with a message) when the walker
 * breaks the contract: entering a slot that is in use, leaving what it did not enter, writing
 * after leave, entering a frame that is not a live page table, or naming a (level, virt) that
 * does not lead to that table, which the recursive technique relies on.  Its offset is 0, so a
 * walker that took the offset path with it would fault.
 *
 * The frame source aborts on a free of a frame it did not hand out, a double free, or a free of
 * a table that still has entries.
 */
#ifndef FERRITE_HOST_SIM_SPACE_H
#define FERRITE_HOST_SIM_SPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/support/simmem.h"
#include "mm/paging.h"

enum sim_access {
	SIM_ACCESS_OFFSET,
	SIM_ACCESS_GUARDED,
};

#define SIM_UNLIMITED UINT64_MAX

struct sim_frames {
	uint64_t count;      /* frames in the pool: physical [PAGE_SIZE, (count + 1) * PAGE_SIZE) */
	uint64_t free_head;  /* first free frame, 0 when none (frame 0 is never handed out) */
	uint8_t *live;       /* per frame: handed out and not yet freed */
	uint64_t allocs;     /* successful allocations */
	uint64_t frees;
	uint64_t budget;     /* allocations still allowed, or SIM_UNLIMITED */
	uint64_t flushes_at_last_free;  /* TLB flushes (page and full) recorded when a table was last freed */
};

#define SIM_TLB_LOG 4096

struct sim_tlb {
	uint64_t page_flushes;
	uint64_t full_flushes;
	uint64_t log[SIM_TLB_LOG];  /* the first SIM_TLB_LOG page flushes since the last reset */
};

#define SIM_FORGET_LOG 64

struct sim_forget {
	unsigned level;
	uint64_t virt;
};

#define SIM_POISON_BYTE  0xa5
#define SIM_POISON_ENTRY UINT64_C(0xa5a5a5a5a5a5a5a5)

struct sim_guard {
	uint8_t *slots;                    /* one page per level; slots + (level - 1) * PAGE_SIZE */
	uint64_t entered[PT_LEVELS + 1];   /* the table in each level's slot, 0 when the slot is free */
	uint64_t enters;
	uint64_t leaves;
};

struct sim_space_config {
	enum sim_access access;
	bool allow_1g;
	uint64_t phys_limit;    /* 0 means PHYS_ADDR_LIMIT */
	uint64_t table_frames;  /* pool size; 0 means SIM_DEFAULT_TABLE_FRAMES */
};

#define SIM_DEFAULT_TABLE_FRAMES 4096

struct sim_space {
	struct addr_space space;  /* what the mapper is given */
	struct pt_access access;
	struct simmem mem;
	struct sim_frames frames;
	struct sim_tlb tlb;
	struct sim_guard guard;
	uint64_t forgets;
	struct sim_forget forget_log[SIM_FORGET_LOG];  /* the first SIM_FORGET_LOG since the reset */
};

/* Builds an empty address space (a zeroed root table, already counted as one allocation). */
bool sim_space_create(struct sim_space *s, const struct sim_space_config *cfg);
void sim_space_destroy(struct sim_space *s);

/* The table at `pa`, read or written directly, bypassing the seam (tests edit entries by hand). */
pte_t *sim_table(const struct sim_space *s, uint64_t pa);

/* Page-table frames handed out and not freed, the root included. */
uint64_t sim_tables_in_use(const struct sim_space *s);

/* True if every enter was matched by a leave: no slot is in use. */
bool sim_guard_idle(const struct sim_space *s);

/* True if `virt` was flushed since the last reset: by a page flush of it, or by a full flush. */
bool sim_tlb_flushed(const struct sim_space *s, uint64_t virt);

/* Forgets the recorded flushes and forgets (counters and logs). */
void sim_records_reset(struct sim_space *s);

#endif
