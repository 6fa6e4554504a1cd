/*
 * rng.c — xoshiro256** (Blackman and Vigna), splitmix64 seeding; see rng.h.
 */
#include "rng.h"
#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void pd_rng_seed(pd_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t pd_rng_next(pd_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double pd_rng_uniform(pd_rng *r)
{
	return (double)(pd_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t pd_rng_below(pd_rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	uint64_t lim = -n % n;	/* 2^64 mod n */
	for (;;) {
		uint64_t x = pd_rng_next(r);
		if (x >= lim)
			return x % n;
	}
}

double pd_rng_normal(pd_rng *r)
{
	double u1 = pd_rng_uniform(r), u2 = pd_rng_uniform(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t pd_hash64(const void *data, unsigned long n)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned long i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	uint64_t x = h;
	return splitmix64(&x);
}
