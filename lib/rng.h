/*
 * rng.h — the one random number generator of pd: xoshiro256** seeded through
 * splitmix64.  Every random choice in every command comes from a pd_rng
 * seeded from --seed, so the same input and seed give the same output on any
 * machine (no libc rand(), no time-based seeds).
 */
#ifndef PD_RNG_H
#define PD_RNG_H
#include <stdint.h>

typedef struct pd_rng {
	uint64_t s[4];
} pd_rng;

void pd_rng_seed(pd_rng *r, uint64_t seed);
uint64_t pd_rng_next(pd_rng *r);
/* uniform in [0, 1), 53 bits */
double pd_rng_uniform(pd_rng *r);
/* uniform integer in [0, n), unbiased */
uint64_t pd_rng_below(pd_rng *r, uint64_t n);
/* standard normal (Box–Muller; consumes two uniforms per call) */
double pd_rng_normal(pd_rng *r);
/* pd_hash64: a 64-bit mix of bytes (FNV-1a then splitmix finaliser), stable across runs */
uint64_t pd_hash64(const void *data, unsigned long n);

#endif
