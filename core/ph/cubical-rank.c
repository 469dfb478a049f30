/* cubical-rank.c — the one sort of the cubical engine: pixels by value.
 *
 * Everything else in the engine is a sweep over this order, so it has to be
 * fast: integer-valued grids (8- and 16-bit images, label maps) go through
 * a counting sort in two passes; other grids through an LSD radix sort on
 * the order-preserving 64-bit image of each double (below). Both are
 * stable, so ties are broken by flat index. */
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

/* LSD radix sort of packed words: the top bits of each key (its distance
 * from the smallest key) above the pixel number, so one 8-byte word moves
 * per element and per pass, and ties keep flat order for free (the sort is
 * stable and pixel numbers start in order). A key too wide for the bits
 * left loses its lowest bits; elements whose truncated keys are equal are
 * then put in order by their whole keys afterwards, which for real data is
 * rare (double noise in [0, 1) keeps 44 bits at 1 MP). Digits of at most
 * 8 bits: 256 buckets keep every pass's write streams in L1, which beat
 * fewer passes of 11 bits (24 against 29-38 ms per MP on 1 MP noise). */
#define RADIX_MAX_BITS 8
#define RADIX_MAX_PASSES 8

typedef struct KeyIdx {
  uint64_t key;
  uint32_t idx;
} KeyIdx;

static int cmp_keyidx(const void *a, const void *b) {
  const KeyIdx *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Puts runs of equal truncated keys in order by whole key (then pixel).
 * Short runs, the usual case, by insertion; long ones (many values a few
 * ulps apart in a wide range) by qsort, so no input is quadratic. */
static TsStatus fix_truncated_runs(uint64_t *w, size_t n, int ibits, const double *v, int super, TsError *err) {
  uint64_t imask = (1ull << ibits) - 1;
  KeyIdx *tmp = NULL;
  size_t i = 0, slow_until = 0;
  while (i < n) {
    /* Ties are rare: skip blocks of 64 words that have none (the test
     * vectorises), and go word by word through a block that has one. */
    while (i >= slow_until && i + 65 <= n) {
      uint64_t any = 0;
      for (size_t k = i; k < i + 64; k++) any |= (w[k] >> ibits) == (w[k + 1] >> ibits);
      if (any) {
        slow_until = i + 64;
        break;
      }
      i += 64;
    }
    size_t j = i + 1;
    while (j < n && (w[j] >> ibits) == (w[i] >> ibits)) j++;
    if (j - i > 16) {
      KeyIdx *t = ts_realloc_array(tmp, j - i, sizeof *t, "cubical sort", err);
      if (!t) {
        free(tmp);
        return TS_ERR_NOMEM;
      }
      tmp = t;
      for (size_t a = i; a < j; a++) {
        uint32_t idx = (uint32_t)(w[a] & imask);
        tmp[a - i] = (KeyIdx){double_key(super ? -v[idx] : v[idx]), idx};
      }
      qsort(tmp, j - i, sizeof *tmp, cmp_keyidx);
      for (size_t a = i; a < j; a++) w[a] = (w[a] & ~imask) | tmp[a - i].idx;
    } else {
      for (size_t a = i + 1; a < j; a++) {
        uint64_t x = w[a];
        uint64_t kx = double_key(super ? -v[x & imask] : v[x & imask]);
        size_t b = a;
        while (b > i) {
          uint64_t ky = double_key(super ? -v[w[b - 1] & imask] : v[w[b - 1] & imask]);
          if (ky < kx || (ky == kx && (w[b - 1] & imask) < (x & imask))) break;
          w[b] = w[b - 1];
          b--;
        }
        w[b] = x;
      }
    }
    i = j;
  }
  free(tmp);
  return TS_OK;
}

/* The words of the first pass and every pass's histogram, in one read of
 * the values; passes is a constant in each call, so the loop unrolls.
 * Odd and even elements count in separate histograms (hist[p] and
 * hist[RADIX_MAX_PASSES + p], added up afterwards): the high digits of
 * real data are mostly one value, and one counter incremented back to
 * back waits on its own store every time. */
static inline __attribute__((always_inline)) uint64_t
make_words(const double *v, size_t n, int super, uint64_t kmin, int shift, int ibits, int dbits, const int passes,
           uint64_t *w, uint32_t (*hist)[1u << RADIX_MAX_BITS]) {
  uint64_t lost = 0, lowmask = shift ? (1ull << shift) - 1 : 0, dmask = (1ull << dbits) - 1;
  uint32_t(*odd)[1u << RADIX_MAX_BITS] = hist + RADIX_MAX_PASSES;
  size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    uint64_t k0 = double_key(super ? -v[i] : v[i]) - kmin, k1 = double_key(super ? -v[i + 1] : v[i + 1]) - kmin;
    lost |= (k0 | k1) & lowmask;
    uint64_t x0 = (k0 >> shift) << ibits | i, x1 = (k1 >> shift) << ibits | (i + 1);
    w[i] = x0;
    w[i + 1] = x1;
    for (int p = 0; p < passes; p++) {
      hist[p][(x0 >> (ibits + p * dbits)) & dmask]++;
      odd[p][(x1 >> (ibits + p * dbits)) & dmask]++;
    }
  }
  for (; i < n; i++) {
    uint64_t k = double_key(super ? -v[i] : v[i]) - kmin;
    lost |= k & lowmask;
    uint64_t x = (k >> shift) << ibits | i;
    w[i] = x;
    for (int p = 0; p < passes; p++) hist[p][(x >> (ibits + p * dbits)) & dmask]++;
  }
  for (int p = 0; p < passes; p++)
    for (uint32_t b = 0; b <= dmask; b++) hist[p][b] += odd[p][b];
  return lost;
}

/* kmin and kmax: the smallest and largest keys. */
/* Padding of a 2D grid's indices (CubGrid.pw): w = 0 for none. */
typedef struct Pad {
  CubDiv w;
  uint32_t pw;
} Pad;

/* Rank r goes to pixel p: fills order, rank and sorted (the loads are
 * independent, so successive calls overlap). */
static inline void gather_one(const double *v, Pad pad, uint32_t r, uint32_t p, uint32_t *order, uint32_t *rank,
                              double *sorted) {
  uint32_t q = pad.pw ? p + pad.pw + 1 + 2 * cub_div(p, pad.w) : p;
  order[r] = q;
  rank[q] = r;
  if (sorted) sorted[r] = v[p];
}

/* kmin and kmax: the smallest and largest keys. Fills order, rank and
 * sorted. */
static TsStatus radix_sort(const double *v, size_t n, int super, uint64_t kmin, uint64_t kmax, Pad pad,
                           uint32_t *order, uint32_t *rank, double *sorted, uint64_t *const *scratch, TsError *err) {
  if (kmin == kmax) { /* all keys equal: the flat order */
    for (size_t i = 0; i < n; i++) gather_one(v, pad, (uint32_t)i, (uint32_t)i, order, rank, sorted);
    return TS_OK;
  }
  int ibits = 64 - __builtin_clzll((uint64_t)(n - 1) | 1); /* bits of a pixel number */
  int kbits = 64 - __builtin_clzll(kmax - kmin);           /* bits of a key's distance from kmin */
  /* Key bits sorted: ibits + 18 (rounded up to whole passes) leave few
   * ties for the fix-up below, about n / 2^18 pairs for keys spread like
   * uniform noise: 5 passes instead of 6 for 1 MP, 4 instead of 7 for 16K
   * pixels. */
  int keep = (ibits + 18 + RADIX_MAX_BITS - 1) / RADIX_MAX_BITS * RADIX_MAX_BITS;
  if (keep > 64 - ibits) keep = 64 - ibits;
  int shift = kbits > keep ? kbits - keep : 0;
  int bits = kbits - shift; /* sorted bits, above the pixel number */
  int passes = (bits + RADIX_MAX_BITS - 1) / RADIX_MAX_BITS;
  int dbits = (bits + passes - 1) / passes;
  uint32_t dsize = 1u << dbits;
  uint64_t *wa = scratch ? scratch[0] : ts_alloc_array_huge(n, sizeof *wa, "cubical sort keys", err);
  uint64_t *wb = scratch ? scratch[1] : ts_alloc_array_huge(n, sizeof *wb, "cubical sort keys", err);
  uint64_t *own[2] = {scratch ? NULL : wa, scratch ? NULL : wb}; /* freed here (the passes swap wa and wb) */
  uint32_t(*hist)[1u << RADIX_MAX_BITS] = ts_calloc_array(2 * RADIX_MAX_PASSES, sizeof *hist, "cubical histogram", err);
  if (!wa || !wb || !hist) {
    free(own[0]);
    free(own[1]);
    free(hist);
    return TS_ERR_NOMEM;
  }
  uint64_t lost;
  switch (passes) {
  case 1: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 1, wa, hist); break;
  case 2: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 2, wa, hist); break;
  case 3: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 3, wa, hist); break;
  case 4: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 4, wa, hist); break;
  case 5: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 5, wa, hist); break;
  case 6: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 6, wa, hist); break;
  case 7: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 7, wa, hist); break;
  default: lost = make_words(v, n, super, kmin, shift, ibits, dbits, 8, wa, hist); break;
  }
  for (int p = 0; p < passes; p++) {
    uint32_t *h = hist[p];
    int sh = ibits + p * dbits;
    if (h[(wa[0] >> sh) & (dsize - 1)] == n) continue; /* one digit for every key */
    uint32_t sum = 0;
    for (uint32_t b = 0; b < dsize; b++) {
      uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) {
      uint64_t x = wa[i];
      wb[h[(x >> sh) & (dsize - 1)]++] = x;
    }
    uint64_t *t = wa;
    wa = wb;
    wb = t;
  }
  /* Truncated keys that tie are put in order by their whole keys, then
   * the pixel numbers are gathered. */
  uint64_t imask = (1ull << ibits) - 1;
  TsStatus st = TS_OK;
  if (lost) st = fix_truncated_runs(wa, n, ibits, v, super, err);
  for (size_t i = 0; i < n; i++) gather_one(v, pad, (uint32_t)i, (uint32_t)(wa[i] & imask), order, rank, sorted);
  free(own[0]);
  free(own[1]);
  free(hist);
  return st;
}

TsStatus cub_rank_pixels(const double *v, size_t n, int super, size_t pad_w, uint32_t *order, uint32_t *rank,
                         double *sorted, uint64_t *const *scratch, TsError *err) {
  /* the range, and whether there is a NaN (the caller's check, in the
   * same read of the values) */
  double lo = INFINITY, hi = -INFINITY;
  int nan = 0;
  for (size_t i = 0; i < n; i++) {
    double x = v[i];
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
    nan |= x != x;
  }
  if (nan) return ts_error_set(err, TS_ERR_INVALID, "cubical homology: a value is NaN");
  double span = hi - lo; /* infinite for infinite values: not integral then */
  int integral = isfinite(span) && span < (double)(2 * n + 65536);
  for (size_t i = 0; integral && i < n; i++) integral = v[i] == floor(v[i]);
  Pad pad = {cub_div_init((uint32_t)pad_w), pad_w ? (uint32_t)pad_w + 2 : 0};
  if (!integral)
    return radix_sort(v, n, super, double_key(super ? -hi : lo), double_key(super ? -lo : hi), pad, order, rank,
                      sorted, scratch, err);
  TsStatus st = counting_sort(v, n, super, lo, (size_t)span + 1, order, rank, err);
  if (st) return st;
  for (size_t r = 0; r < n; r++) gather_one(v, pad, (uint32_t)r, order[r], order, rank, sorted);
  return TS_OK;
}
