/*
 * The baseline the frame benchmarks measure ferrite against: the frame allocator of the hobby-OS
 * tutorials, which is NOT part of the kernel.  It hands out the usable frames of the memory map
 * in address order, the n-th one on the n-th call, and finds it by walking the map frame by
 * frame from the start, so the n-th call costs O(n) and n calls cost O(n^2).  It cannot free.
 *
 * Written here the way the tutorials write it (an iterator over usable frames, advanced n times),
 * because its point is to show what that costs, not to be good.
 */
#ifndef FERRITE_BENCH_NAIVE_FRAMES_H
#define FERRITE_BENCH_NAIVE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/memmap.h"

struct naive_frames {
	const struct memmap *map;  /* borrowed: must outlive the allocator */
	uint64_t handed_out;       /* frames handed out so far: the next call returns frame n = this */
};

/* Starts handing out the usable frames of `map`, a normalized map (usable ranges page-aligned). */
void naive_frames_init(struct naive_frames *nf, const struct memmap *map);

/* The next usable frame, in address order, to *pa; false (and *pa untouched) once all are out. */
bool naive_frames_alloc(struct naive_frames *nf, uint64_t *pa);

#endif
