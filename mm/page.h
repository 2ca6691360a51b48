/* Page sizes, alignment and address-shape helpers used throughout the memory model. */
#ifndef FERRITE_MM_PAGE_H
#define FERRITE_MM_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SHIFT   12
#define PAGE_SIZE    (UINT64_C(1) << PAGE_SHIFT)  /* 4 KiB */
#define PAGE_SIZE_2M (UINT64_C(1) << 21)
#define PAGE_SIZE_1G (UINT64_C(1) << 30)

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

/* x86_64 physical addresses have at most 52 bits (MAXPHYADDR); nothing can exist above. */
#define PHYS_ADDR_LIMIT (UINT64_C(1) << 52)

/* `a` must be a power of two. */
static inline uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }

/* `a` must be a power of two; the caller makes sure x + a - 1 does not wrap. */
static inline uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static inline bool is_aligned(uint64_t x, uint64_t a) { return (x & (a - 1)) == 0; }

/* A 48-bit virtual address is canonical when bits 63..47 are all equal. */
static inline bool is_canonical(uint64_t virt)
{
	return (uint64_t)((int64_t)(virt << 16) >> 16) == virt;
}

#endif
