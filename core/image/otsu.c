/* otsu.c — Otsu's threshold exactly as scikit-image's threshold_otsu
 * computes it for float input (0.19): a 256-bin np.histogram over
 * [min, max] (numpy's bin assignment, edges start + i * step), bin centres,
 * the between-class variance from cumulative sums in the same order, and
 * the first maximum. Reproducing the float operations in order makes the
 * threshold bit-identical, so binarised pictures match pixel for pixel. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "image/filtration.h"
#include "image/minmax.h"

enum { OTSU_BINS = 256 };

/* The threshold from [lo, hi] and counting pixels into the 256 bins: the
 * same double operations for double and float input. */
#define OTSU_COUNT(v, n, lo, hi, cnt)                                       \
  do {                                                                       \
    double edges_[OTSU_BINS + 1], step_ = ((hi) - (lo)) / OTSU_BINS;         \
    for (int i_ = 0; i_ <= OTSU_BINS; i_++) edges_[i_] = (double)i_ * step_ + (lo); \
    edges_[OTSU_BINS] = (hi);                                                \
    double norm_ = OTSU_BINS / ((hi) - (lo));                                \
    for (size_t i_ = 0; i_ < (n); i_++) {                                    \
      double x_ = (double)(v)[i_];                                           \
      long k_ = (long)((x_ - (lo)) * norm_);                                 \
      if (k_ >= OTSU_BINS) k_ = OTSU_BINS - 1;                               \
      if (k_ < 0) k_ = 0;                                                    \
      if (x_ < edges_[k_]) k_--;                                             \
      else if (k_ != OTSU_BINS - 1 && x_ >= edges_[k_ + 1]) k_++;            \
      if (k_ < 0) k_ = 0; /* cannot happen for x >= lo; kept for safety */   \
      (cnt)[i_ & 3][k_]++;                                                   \
    }                                                                        \
  } while (0)

/* One pixel v[i + d] the exact way (as OTSU_COUNT), skipping NaN and
 * values outside [l, h], into sub-histogram (i + d) % 4. */
#define OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, d)                      \
  do {                                                                       \
    double x_ = (double)(v)[(i) + (d)];                                      \
    if (x_ >= (l) && x_ <= (h)) {                                            \
      long k_ = (long)((x_ - (l)) * (norm));                                 \
      if (k_ >= OTSU_BINS) k_ = OTSU_BINS - 1;                               \
      if (k_ < 0) k_ = 0;                                                    \
      if (x_ < (edges)[k_]) k_--;                                            \
      else if (k_ != OTSU_BINS - 1 && x_ >= (edges)[k_ + 1]) k_++;           \
      if (k_ < 0) k_ = 0;                                                    \
      (cnt)[((i) + (d)) & 3][k_]++;                                          \
    }                                                                        \
  } while (0)

static double otsu_from_counts(long long cnt[4][OTSU_BINS], double lo, double hi) {
  double edges[OTSU_BINS + 1], centres[OTSU_BINS], counts[OTSU_BINS];
  double step = (hi - lo) / OTSU_BINS;
  for (int i = 0; i <= OTSU_BINS; i++) edges[i] = (double)i * step + lo;
  edges[OTSU_BINS] = hi;
  for (int i = 0; i < OTSU_BINS; i++) centres[i] = (edges[i] + edges[i + 1]) / 2.0;
  for (int i = 0; i < OTSU_BINS; i++) counts[i] = (double)(cnt[0][i] + cnt[1][i] + cnt[2][i] + cnt[3][i]);
  double w1[OTSU_BINS], w2[OTSU_BINS], m1[OTSU_BINS], m2[OTSU_BINS];
  /* the cumulative sums in order, then the means in a loop of their own:
   * the same divisions, but independent ones that vectorise (512 divisions
   * in a row were most of this function) */
  double acc = 0, accm = 0;
  for (int i = 0; i < OTSU_BINS; i++) {
    acc += counts[i];
    accm += counts[i] * centres[i];
    w1[i] = acc;
    m1[i] = accm;
  }
  acc = 0;
  accm = 0;
  for (int i = OTSU_BINS - 1; i >= 0; i--) {
    acc += counts[i];
    accm += counts[i] * centres[i];
    w2[i] = acc;
    m2[i] = accm;
  }
  for (int i = 0; i < OTSU_BINS; i++) {
    m1[i] /= w1[i];
    m2[i] /= w2[i];
  }
  int best = 0;
  double bestv = -1;
  for (int i = 0; i < OTSU_BINS - 1; i++) {
    double d = m1[i] - m2[i + 1];
    double var = w1[i] * w2[i + 1] * (d * d);
    /* numpy's argmax takes the first NaN; 0/0 cannot occur here because the
     * first and last bins hold min and max. */
    if (var > bestv) {
      bestv = var;
      best = i;
    }
  }
  return centres[best];
}

TsStatus ts_otsu_threshold(const double *v, size_t n, double *threshold, TsError *err) {
  if (n == 0) return ts_error_set(err, TS_ERR_INVALID, "Otsu threshold of an empty picture");
  double lo, hi;
  ts_minmax(v, n, &lo, &hi);
  if (!isfinite(lo) || !isfinite(hi))
    return ts_error_set(err, TS_ERR_INVALID, "Otsu threshold of a picture with NaN or infinite values");
  if (lo == hi) return ts_error_set(err, TS_ERR_INVALID, "Otsu threshold of a constant picture");
  /* Four sub-histograms, pixel i counting in sub-histogram i % 4: neighbouring
   * pixels of a smooth picture mostly fall in the same bin, and one counter
   * incremented back to back waits on its own previous store every time.
   * The sums are the same integers. */
  long long cnt[4][OTSU_BINS];
  memset(cnt, 0, sizeof cnt);
  OTSU_COUNT(v, n, lo, hi, cnt);
  *threshold = otsu_from_counts(cnt, lo, hi);
  return TS_OK;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The fast path sixteen pixels (two vectors) at a time in float: f's float
 * error is below 1e-4 bins ((x - lo) and the product rounded once each,
 * norm once, all relative 2^-24 of at most 256 bins), so pixels within
 * 1e-3 + eps of an edge go to the exact path and the rest have bin
 * trunc(f). Counting is what costs: neighbouring pixels of a smooth picture
 * mostly share a bin, and a counter incremented twice in a row waits for
 * its own previous store (~5 cycles), so pixel i counts in sub-histogram
 * i % 16 (32-bit: at most 2^27 pixels per call, see below, so no overflow;
 * 16 KiB, in L1). Only the pixels of a vector that are near an edge take
 * the exact path, not all sixteen. The sums are the same integers. Returns
 * the number of pixels done. (Tried, no faster here: adding 16 at once when
 * all sixteen bins agree; the bins first stored as 16-bit numbers, then
 * counted.) */
__attribute__((target("avx2"))) static size_t bins_avx2(const float *v, size_t n, double l, double h, double norm,
                                                       double eps, const double *edges, long long cnt[4][OTSU_BINS]) {
  uint32_t c16[16][OTSU_BINS];
  memset(c16, 0, sizeof c16);
  const __m256 vl = _mm256_set1_ps((float)l), vn = _mm256_set1_ps((float)norm), ve = _mm256_set1_ps((float)(eps + 1e-3)),
               ve1 = _mm256_set1_ps((float)(1 - eps - 1e-3)), vtop = _mm256_set1_ps(OTSU_BINS - 1), zero = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 f0 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(v + i), vl), vn);
    __m256 f1 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(v + i + 8), vl), vn);
    __m256 in0 = _mm256_and_ps(_mm256_cmp_ps(f0, zero, _CMP_GE_OQ), _mm256_cmp_ps(f0, vtop, _CMP_LE_OQ));
    __m256 in1 = _mm256_and_ps(_mm256_cmp_ps(f1, zero, _CMP_GE_OQ), _mm256_cmp_ps(f1, vtop, _CMP_LE_OQ));
    __m256i k0 = _mm256_cvttps_epi32(_mm256_and_ps(f0, in0)), k1 = _mm256_cvttps_epi32(_mm256_and_ps(f1, in1));
    __m256 r0 = _mm256_sub_ps(f0, _mm256_cvtepi32_ps(k0)), r1 = _mm256_sub_ps(f1, _mm256_cvtepi32_ps(k1));
    __m256 ok0 =
        _mm256_and_ps(in0, _mm256_and_ps(_mm256_cmp_ps(r0, ve, _CMP_GE_OQ), _mm256_cmp_ps(r0, ve1, _CMP_LE_OQ)));
    __m256 ok1 =
        _mm256_and_ps(in1, _mm256_and_ps(_mm256_cmp_ps(r1, ve, _CMP_GE_OQ), _mm256_cmp_ps(r1, ve1, _CMP_LE_OQ)));
    int32_t kk[16];
    _mm256_storeu_si256((__m256i *)kk, k0);
    _mm256_storeu_si256((__m256i *)(kk + 8), k1);
    unsigned ok = (unsigned)_mm256_movemask_ps(ok0) | (unsigned)_mm256_movemask_ps(ok1) << 8;
    if (ok != 0xffff) {
      /* the pixels near an edge (or out of range) the exact way, the rest by kk */
      for (int d = 0; d < 16; d++) {
        if (ok >> d & 1) c16[d][kk[d]]++;
        else OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, d);
      }
      continue;
    }
    for (int d = 0; d < 16; d++) c16[d][kk[d]]++;
  }
  for (int d = 1; d < 16; d++)
    for (int b = 0; b < OTSU_BINS; b++) c16[0][b] += c16[d][b];
  for (int b = 0; b < OTSU_BINS; b++) cnt[0][b] += c16[0][b];
  return i;
}
#endif

void ts_otsu_threshold_f32(const float *v, size_t n, float lo, float hi, double *threshold) {
  long long cnt[4][OTSU_BINS];
  memset(cnt, 0, sizeof cnt);
  double l = lo, h = hi;
  double edges[OTSU_BINS + 1], step = (h - l) / OTSU_BINS;
  for (int i = 0; i <= OTSU_BINS; i++) edges[i] = (double)i * step + l;
  edges[OTSU_BINS] = h;
  double norm = OTSU_BINS / (h - l);
  /* numpy's bin is trunc(f), f = (x - lo) * norm, moved by one where x falls
   * on the other side of a computed edge. That can only happen when f is
   * within the rounding of the edges of an integer (eps, in bins, with a
   * wide margin): elsewhere trunc(f) is the answer, and four pixels take a
   * few vector instructions. Pixels near an edge, at hi, or NaN take the
   * exact scalar path (NaN and out-of-range pixels are not counted). */
  double eps = 1e-9 + 16 * DBL_EPSILON * (fabs(l) + fabs(h)) * norm;
  size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (eps < 0.01 && __builtin_cpu_supports("avx2") && !getenv("TOPOSCOPE_NO_AVX2"))
    while (n - i >= 16) {
      size_t part = n - i < ((size_t)1 << 27) ? n - i : (size_t)1 << 27; /* c16's counters stay below 2^32 */
      i += bins_avx2(v + i, part, l, h, norm, eps, edges, cnt);
    }
#endif
#ifdef __SSE2__
  if (eps < 0.01) {
    const __m128d vl = _mm_set1_pd(l), vn = _mm_set1_pd(norm), ve = _mm_set1_pd(eps), ve1 = _mm_set1_pd(1 - eps),
                  vtop = _mm_set1_pd(OTSU_BINS - 1);
    for (; i + 4 <= n; i += 4) {
      __m128 xv = _mm_loadu_ps(v + i);
      __m128d f0 = _mm_mul_pd(_mm_sub_pd(_mm_cvtps_pd(xv), vl), vn);
      __m128d f1 = _mm_mul_pd(_mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(xv, xv)), vl), vn);
      /* f in [0, 255] (NaN fails), so truncation is safe */
      __m128d in0 = _mm_and_pd(_mm_cmpge_pd(f0, _mm_setzero_pd()), _mm_cmple_pd(f0, vtop));
      __m128d in1 = _mm_and_pd(_mm_cmpge_pd(f1, _mm_setzero_pd()), _mm_cmple_pd(f1, vtop));
      __m128i k0 = _mm_cvttpd_epi32(_mm_and_pd(f0, in0)), k1 = _mm_cvttpd_epi32(_mm_and_pd(f1, in1));
      __m128d r0 = _mm_sub_pd(f0, _mm_cvtepi32_pd(k0)), r1 = _mm_sub_pd(f1, _mm_cvtepi32_pd(k1));
      __m128d ok0 = _mm_and_pd(in0, _mm_and_pd(_mm_cmpge_pd(r0, ve), _mm_cmple_pd(r0, ve1)));
      __m128d ok1 = _mm_and_pd(in1, _mm_and_pd(_mm_cmpge_pd(r1, ve), _mm_cmple_pd(r1, ve1)));
      if ((_mm_movemask_pd(ok0) & _mm_movemask_pd(ok1)) == 3) {
        int32_t k[4];
        _mm_storel_epi64((__m128i *)k, k0);
        _mm_storel_epi64((__m128i *)(k + 2), k1);
        cnt[0][k[0]]++;
        cnt[1][k[1]]++;
        cnt[2][k[2]]++;
        cnt[3][k[3]]++;
      } else {
        OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, 0);
        OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, 1);
        OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, 2);
        OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, 3);
      }
    }
  }
#endif
  for (; i < n; i++) OTSU_COUNT_ONE(v, i, l, h, norm, edges, cnt, 0);
  *threshold = otsu_from_counts(cnt, l, h);
}
