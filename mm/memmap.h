/*
 * The physical memory map: raw entries from firmware and boot code in, a normalized map out.
 *
 * A normalized map is sorted by address, its ranges do not overlap, neighbouring ranges of one
 * kind are merged, and usable ranges start and end on page boundaries (shrunk inward).  Where
 * raw entries overlap, the more restrictive kind wins: a larger `enum mem_kind` value.
 */
#ifndef FERRITE_MM_MEMMAP_H
#define FERRITE_MM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

/* Ordered from least to most restrictive; the order decides overlaps. */
enum mem_kind {
	MEM_USABLE,            /* free RAM */
	MEM_BOOTLOADER,        /* data the bootloader handed over (the Multiboot2 information) */
	MEM_BOOT_PAGE_TABLES,  /* page tables the boot path built; live, owned by the frame allocator */
	MEM_MODULE,            /* boot modules */
	MEM_KERNEL,            /* the kernel image */
	MEM_ACPI_RECLAIMABLE,  /* ACPI tables; RAM once they are parsed */
	MEM_ACPI_NVS,          /* ACPI non-volatile storage; must be preserved */
	MEM_RESERVED,          /* firmware-reserved or unknown */
	MEM_BAD,               /* defective RAM */
	MEM_KIND_COUNT
};

/* A raw entry, as firmware or boot code describes it.  base + length may exceed 2^64. */
struct memmap_entry {
	uint64_t base;
	uint64_t length;
	enum mem_kind kind;
};

/* A normalized range: [start, end), end <= PHYS_ADDR_LIMIT. */
struct mem_range {
	uint64_t start;
	uint64_t end;
	enum mem_kind kind;
};

/* Enough for every firmware map seen in practice (GRUB under OVMF passes 19 entries). */
#define MEMMAP_MAX 128

struct memmap {
	size_t count;
	struct mem_range range[MEMMAP_MAX];
};

enum memmap_status {
	MEMMAP_OK,
	MEMMAP_ERR_EMPTY,     /* no entry with a length inside the physical address space */
	MEMMAP_ERR_TOO_MANY,  /* the normalized map needs more than MEMMAP_MAX ranges */
	MEMMAP_ERR_BAD_KIND,  /* an entry's kind is not an enum mem_kind */
	MEMMAP_ERR_BAD_RANGE, /* a [start, end) given to memmap_overlay or boot_memmap_build has end < start */
};

/* What normalization had to change, so that nothing is changed silently. */
struct memmap_notes {
	size_t zero_length;        /* entries dropped because their length is 0 */
	size_t clipped;            /* entries cut at PHYS_ADDR_LIMIT (including lengths past 2^64) */
	size_t overlaps;           /* pairs of entries sharing an address; the more restrictive kind won */
	uint64_t unaligned_bytes;  /* usable bytes given up to page-align usable ranges */
};

/*
 * Normalizes `n` raw entries into `out`.  On error `out` is left empty (count 0).
 * `notes`, which may be NULL, is filled on success.  Runs in O(n^2) time and needs no memory
 * beyond `out`.
 */
enum memmap_status memmap_normalize(const struct memmap_entry *in, size_t n, struct memmap *out,
                                    struct memmap_notes *notes);

/*
 * Marks [start, end) as `kind` in an already normalized map (the more restrictive kind wins).
 * end < start is MEMMAP_ERR_BAD_RANGE; end == start changes nothing; addresses at or above
 * PHYS_ADDR_LIMIT are ignored, as in memmap_normalize.  On error `map` is unchanged.
 */
enum memmap_status memmap_overlay(struct memmap *map, uint64_t start, uint64_t end, enum mem_kind kind);

/* Total bytes of ranges of `kind`. */
uint64_t memmap_total(const struct memmap *map, enum mem_kind kind);

/* The range containing `addr`, or NULL if no range does. */
const struct mem_range *memmap_find(const struct memmap *map, uint64_t addr);

/* "usable", "ACPI reclaimable", ...; "?" for values outside the enum. */
const char *mem_kind_name(enum mem_kind kind);

const char *memmap_status_message(enum memmap_status status);

#endif
