/*
 * Hardening shared by the heap designs: free-list pointer encoding, redzones, poison, and the
 * one place that reports a detected problem.
 */
#ifndef FERRITE_MM_HEAP_GUARD_H
#define FERRITE_MM_HEAP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/heap.h"

#define HEAP_REDZONE_BYTE 0xbb  /* debug: the bytes right after an object */
#define HEAP_POISON_BYTE  0x6b  /* debug: a freed object, checked when it is handed out again */

/*
 * A free-list pointer as stored in memory: XOR-ed with the per-boot secret and with the address
 * of the word holding it, so an overwrite with a plausible address, or a pointer copied to
 * another slot, decodes to garbage that the designs' checks reject.  Encoding and decoding are
 * the same operation.
 */
static inline uintptr_t heap_encode_link(const struct heap *h, const void *slot, uintptr_t link)
{
	return link ^ (uintptr_t)h->cfg.secret ^ (uintptr_t)slot;
}

/*
 * A keyed check value for metadata that sits next to objects, where an overflow can reach it (an
 * object header): it depends on the secret, on the address `where` of the metadata and on every
 * bit of `word`.  A header overwritten by an overflow, copied to another place, or made up from
 * a guess at the layout matches its check only by a 2^-64 accident.
 */
static inline uint64_t heap_seal(const struct heap *h, const void *where, uint64_t word)
{
	uint64_t z = word ^ h->cfg.secret ^ ((uint64_t)(uintptr_t)where * 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Reports a problem through the heap's `report` (if any) and returns `status`. */
enum heap_status heap_report(struct heap *h, enum heap_status status, uintptr_t addr, size_t size_class,
                             const char *what);

/* Offset of the first byte in [p, p + n) that is not `expected`, or n if all are. */
size_t heap_find_mismatch(const void *p, size_t n, uint8_t expected);

#endif
