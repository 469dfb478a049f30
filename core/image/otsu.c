/* otsu.c — Otsu's threshold exactly as scikit-image's threshold_otsu
 * computes it for float input (0.19): a 256-bin np.histogram over
 * [min, max] (numpy's bin assignment, edges start + i * step), bin centres,
 * the between-class variance from cumulative sums in the same order, and
 * the first maximum. Reproducing the float operations in order makes the
 * threshold bit-identical, so binarised pictures match pixel for pixel. */
#include <math.h>
#include <string.h>

#include "image/filtration.h"
#include "image/minmax.h"

enum { OTSU_BINS = 256 };

TsStatus ts_otsu_threshold(const double *v, size_t n, double *threshold, TsError *err) {
  if (n == 0) return ts_error_set(err, TS_ERR_INVALID, "Otsu threshold of an empty picture");
  double lo, hi;
  ts_minmax(v, n, &lo, &hi);
  if (!isfinite(lo) || !isfinite(hi))
    return ts_error_set(err, TS_ERR_INVALID, "Otsu threshold of a picture with NaN or infinite values");
  if (lo == hi) return ts_error_set(err, TS_ERR_INVALID, "Otsu threshold of a constant picture");
  double edges[OTSU_BINS + 1], centres[OTSU_BINS], counts[OTSU_BINS];
  double step = (hi - lo) / OTSU_BINS;
  for (int i = 0; i <= OTSU_BINS; i++) edges[i] = (double)i * step + lo;
  edges[OTSU_BINS] = hi;
  for (int i = 0; i < OTSU_BINS; i++) centres[i] = (edges[i] + edges[i + 1]) / 2.0;
  /* Four sub-histograms, pixel i counting in sub-histogram i % 4: neighbouring
   * pixels of a smooth picture mostly fall in the same bin, and one counter
   * incremented back to back waits on its own previous store every time.
   * The sums are the same integers. */
  long long cnt[4][OTSU_BINS];
  memset(cnt, 0, sizeof cnt);
  double norm = OTSU_BINS / (hi - lo);
  for (size_t i = 0; i < n; i++) {
    double x = v[i];
    long k = (long)((x - lo) * norm);
    if (k >= OTSU_BINS) k = OTSU_BINS - 1;
    if (k < 0) k = 0;
    if (x < edges[k]) k--;
    else if (k != OTSU_BINS - 1 && x >= edges[k + 1]) k++;
    if (k < 0) k = 0; /* cannot happen for x >= lo; kept for safety */
    cnt[i & 3][k]++;
  }
  for (int i = 0; i < OTSU_BINS; i++) counts[i] = (double)(cnt[0][i] + cnt[1][i] + cnt[2][i] + cnt[3][i]);
  double w1[OTSU_BINS], w2[OTSU_BINS], m1[OTSU_BINS], m2[OTSU_BINS];
  double acc = 0, accm = 0;
  for (int i = 0; i < OTSU_BINS; i++) {
    acc += counts[i];
    accm += counts[i] * centres[i];
    w1[i] = acc;
    m1[i] = accm / acc;
  }
  acc = 0;
  accm = 0;
  for (int i = OTSU_BINS - 1; i >= 0; i--) {
    acc += counts[i];
    accm += counts[i] * centres[i];
    w2[i] = acc;
    m2[i] = accm / acc;
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
  *threshold = centres[best];
  return TS_OK;
}
