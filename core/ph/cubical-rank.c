/* cubical-rank.c — the one sort of the cubical engine: pixels by value.
 *
 * Everything else in the engine is a sweep over this order, so it has to be
 * fast: integer-valued grids (8- and 16-bit images, label maps) go through
 * a counting sort in two passes; other grids through an LSD radix sort on
 * the order-preserving 64-bit image of each double, 11 bits a pass, passes
 * whose digit is the same for every key skipped. Both are stable, so ties
 * are broken by flat index. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

/* Order-preserving map of a (non-NaN) double to uint64; -0.0 == 0.0. */
static inline uint64_t double_key(double v) {
  v += 0.0;
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return (u >> 63) ? ~u : (u | (1ull << 63));
}

static TsStatus counting_sort(const double *v, size_t n, int super, double lo, size_t range, uint32_t *order,
                              uint32_t *rank, TsError *err) {
  uint32_t *count = ts_calloc_array(range + 1, sizeof *count, "cubical histogram", err);
  if (!count) return TS_ERR_NOMEM;
  /* rank[] holds each pixel's bucket while the order is built. */
  for (size_t i = 0; i < n; i++) {
    size_t b = (size_t)(v[i] - lo);
    if (super) b = range - 1 - b;
    rank[i] = (uint32_t)b;
    count[b + 1]++;
  }
  for (size_t b = 0; b < range; b++) count[b + 1] += count[b];
  for (size_t i = 0; i < n; i++) order[count[rank[i]]++] = (uint32_t)i;
  free(count);
  return TS_OK;
}

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6

/* Fills order; the last pass writes no keys. (Writing rank and sorted in
 * the last pass too was slower on smooth fields: the sweep in rank order
 * below reads neighbouring pixels one after another there.) tmp (n
 * entries) is scratch. */
static TsStatus radix_sort(const double *v, size_t n, int super, uint32_t *order, uint32_t *tmp, TsError *err) {
  uint64_t *key = ts_alloc_array(n, sizeof *key, "cubical sort keys", err);
  uint64_t *key2 = ts_alloc_array(n, sizeof *key2, "cubical sort keys", err);
  uint32_t *idx = ts_alloc_array(n, sizeof *idx, "cubical sort keys", err);
  uint32_t(*hist)[RADIX_SIZE] = ts_calloc_array(RADIX_PASSES, sizeof *hist, "cubical histogram", err);
  if (!key || !key2 || !idx || !hist) {
    free(key);
    free(key2);
    free(idx);
    free(hist);
    return TS_ERR_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t k = double_key(super ? -v[i] : v[i]);
    key[i] = k;
    for (int p = 0; p < RADIX_PASSES; p++) hist[p][(k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
  }
  int first = -1, last = -1; /* passes whose digit differs between keys */
  for (int p = 0; p < RADIX_PASSES; p++)
    if (hist[p][(key[0] >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)] != n) {
      if (first < 0) first = p;
      last = p;
    }
  if (first < 0) /* all keys equal: the flat order */
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
  uint64_t *ka = key, *kb = key2;
  uint32_t *ia = tmp, *ib = idx; /* the pixel numbers, ping-pong */
  for (int p = first; p >= 0 && p <= last; p++) {
    uint32_t *h = hist[p];
    int shift = p * RADIX_BITS;
    if (h[(ka[0] >> shift) & (RADIX_SIZE - 1)] == n) continue; /* one digit for every key */
    uint32_t sum = 0;
    for (unsigned b = 0; b < RADIX_SIZE; b++) {
      uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    if (p == last) {
      for (size_t i = 0; i < n; i++) {
        uint32_t pos = h[(ka[i] >> shift) & (RADIX_SIZE - 1)]++, px = p == first ? (uint32_t)i : ia[i];
        order[pos] = px;
      }
      break;
    }
    for (size_t i = 0; i < n; i++) {
      uint64_t k = ka[i];
      uint32_t pos = h[(k >> shift) & (RADIX_SIZE - 1)]++;
      kb[pos] = k;
      ib[pos] = p == first ? (uint32_t)i : ia[i];
    }
    uint64_t *kt = ka;
    ka = kb;
    kb = kt;
    uint32_t *it = ia;
    ia = ib;
    ib = it;
  }
  free(key);
  free(key2);
  free(idx);
  free(hist);
  return TS_OK;
}

TsStatus cub_rank_pixels(const double *v, size_t n, int super, uint32_t *order, uint32_t *rank, double *sorted,
                         TsError *err) {
  double lo = v[0], hi = v[0];
  int integral = 1;
  for (size_t i = 0; i < n; i++) {
    double x = v[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    integral &= x == floor(x);
  }
  double span = hi - lo; /* infinite for infinite values: not integral then */
  TsStatus st = integral && isfinite(span) && span < (double)(2 * n + 65536)
                    ? counting_sort(v, n, super, lo, (size_t)span + 1, order, rank, err)
                    : radix_sort(v, n, super, order, rank, err);
  if (st) return st;
  /* One gather for both: the loads are independent, so they overlap. */
  for (size_t r = 0; r < n; r++) {
    uint32_t p = order[r];
    rank[p] = (uint32_t)r;
    sorted[r] = v[p];
  }
  return TS_OK;
}
