/*
 * A small deterministic PRNG (splitmix64) for tests (host and in-kernel), fuzzers and benchmarks:
 * the same seed gives the same sequence everywhere, so a failing random test can be replayed.
 * Not for secrets.
 */
#ifndef FERRITE_LIB_RNG_H
#define FERRITE_LIB_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct rng {
	uint64_t state;
};

static inline struct rng rng_seed(uint64_t seed)
{
	return (struct rng){ .state = seed };
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for tests (the modulo bias is below 2^-32 for small n); n > 0. */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* True with probability 1 / n. */
static inline bool rng_one_in(struct rng *r, uint64_t n)
{
	return rng_below(r, n) == 0;
}

#endif
