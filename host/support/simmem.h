/*
 * Simulated physical memory for host tests, fuzzers and benchmarks: one anonymous mapping that
 * stands for physical addresses [0, size).  The portable core reaches it through an offset
 * (virtual = physical + simmem_offset), exactly as the kernel reaches RAM through the direct map.
 * Pages are only backed when touched, so a terabyte of "RAM" costs nothing until it is used.
 */
#ifndef FERRITE_HOST_SIMMEM_H
#define FERRITE_HOST_SIMMEM_H

#include <stdbool.h>
#include <stdint.h>

struct simmem {
	uint8_t *base;
	uint64_t size;
};

/* Reserves `size` bytes of zero-filled simulated memory.  False if the host refuses. */
bool simmem_create(struct simmem *mem, uint64_t size);
void simmem_destroy(struct simmem *mem);

/* The value to use as an offset: virtual = physical + simmem_offset(mem). */
static inline uintptr_t simmem_offset(const struct simmem *mem) { return (uintptr_t)mem->base; }

static inline void *simmem_ptr(const struct simmem *mem, uint64_t pa) { return mem->base + pa; }

#endif
