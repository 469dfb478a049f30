/* rng.h — reproducible random numbers.
 *
 * xoshiro256** seeded through splitmix64 from (seed, stream). Every random
 * thing in Toposcope is a function of --seed: parallel work draws from one
 * stream per item (image i uses stream i), so results do not depend on the
 * thread count or the order in which threads pick items up. */
#ifndef TS_BASE_RNG_H
#define TS_BASE_RNG_H

#include <stdint.h>
#include <stddef.h>

typedef struct TsRng {
  uint64_t s[4];
  int has_spare;
  double spare;
} TsRng;

void ts_rng_init(TsRng *rng, uint64_t seed, uint64_t stream);
uint64_t ts_rng_u64(TsRng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double ts_rng_uniform(TsRng *rng);
/* Uniform in [0, 1) with 24 random bits. */
float ts_rng_uniformf(TsRng *rng);
/* Standard normal (polar Box–Muller). */
double ts_rng_normal(TsRng *rng);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t ts_rng_below(TsRng *rng, uint64_t n);
/* Fisher–Yates shuffle of n indices. */
void ts_rng_shuffle_u32(TsRng *rng, uint32_t *v, size_t n);

#endif
