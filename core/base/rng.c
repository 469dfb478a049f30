#include "base/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ts_rng_init(TsRng *rng, uint64_t seed, uint64_t stream) {
  /* Mix the stream id through its own splitmix step so that neighbouring
   * (seed, stream) pairs give unrelated states. */
  uint64_t t = stream;
  uint64_t x = seed ^ splitmix64(&t);
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
  rng->has_spare = 0;
  rng->spare = 0.0;
}

uint64_t ts_rng_u64(TsRng *rng) {
  uint64_t *s = rng->s;
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

double ts_rng_uniform(TsRng *rng) { return (double)(ts_rng_u64(rng) >> 11) * 0x1.0p-53; }

float ts_rng_uniformf(TsRng *rng) { return (float)(ts_rng_u64(rng) >> 40) * 0x1.0p-24f; }

double ts_rng_normal(TsRng *rng) {
  if (rng->has_spare) {
    rng->has_spare = 0;
    return rng->spare;
  }
  double u, v, s;
  do {
    u = 2.0 * ts_rng_uniform(rng) - 1.0;
    v = 2.0 * ts_rng_uniform(rng) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double m = sqrt(-2.0 * log(s) / s);
  rng->spare = v * m;
  rng->has_spare = 1;
  return u * m;
}

uint64_t ts_rng_below(TsRng *rng, uint64_t n) {
  /* Lemire's nearly divisionless method. */
  unsigned __int128 m = (unsigned __int128)ts_rng_u64(rng) * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      m = (unsigned __int128)ts_rng_u64(rng) * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

void ts_rng_shuffle_u32(TsRng *rng, uint32_t *v, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)ts_rng_below(rng, i);
    uint32_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}
