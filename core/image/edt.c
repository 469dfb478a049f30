/* edt.c — exact Euclidean distance transform in linear time
 * (Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions",
 * 2012): the squared distance is a lower envelope of parabolas, computed
 * along columns and then along rows. All squared distances are integers,
 * so the result is exactly sqrt(dx^2 + dy^2), as scipy's. */
#include <math.h>
#include <stdlib.h>

#include "image/filtration.h"

/* One line: d[q] = min_p (q - p)^2 + f[p] over the sites with finite f
 * (all INFINITY if there are none). v, z are scratch of n and n + 1. */
static void dt1d(const double *f, double *d, int n, int *v, double *z) {
  int k = -1;
  for (int q = 0; q < n; q++) {
    if (!isfinite(f[q])) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -INFINITY;
      z[1] = INFINITY;
      continue;
    }
    double s;
    for (;;) { /* terminates: z[0] = -inf */
      int p = v[k];
      s = ((f[q] + (double)q * q) - (f[p] + (double)p * p)) / (2.0 * (q - p));
      if (s <= z[k]) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = INFINITY;
  }
  if (k < 0) {
    for (int q = 0; q < n; q++) d[q] = INFINITY;
    return;
  }
  int j = 0;
  for (int q = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    double dq = q - v[j];
    d[q] = dq * dq + f[v[j]];
  }
}

TsStatus ts_edt(const uint8_t *mask, int width, int height, double *out, TsError *err) {
  if (width <= 0 || height <= 0) return ts_error_set(err, TS_ERR_INVALID, "distance transform of an empty picture");
  int n = width > height ? width : height;
  double *f = ts_alloc_array((size_t)n, sizeof *f, "distance transform", err);
  double *d = ts_alloc_array((size_t)n, sizeof *d, "distance transform", err);
  double *z = ts_alloc_array((size_t)n + 1, sizeof *z, "distance transform", err);
  int *v = ts_alloc_array((size_t)n, sizeof *v, "distance transform", err);
  if (!f || !d || !z || !v) {
    free(f);
    free(d);
    free(z);
    free(v);
    return TS_ERR_NOMEM;
  }
  size_t w = (size_t)width;
  /* columns */
  for (int x = 0; x < width; x++) {
    for (int y = 0; y < height; y++) f[y] = mask[(size_t)y * w + x] ? INFINITY : 0.0;
    dt1d(f, d, height, v, z);
    for (int y = 0; y < height; y++) out[(size_t)y * w + x] = d[y];
  }
  /* rows */
  for (int y = 0; y < height; y++) {
    double *row = out + (size_t)y * w;
    for (int x = 0; x < width; x++) f[x] = row[x];
    dt1d(f, d, width, v, z);
    for (int x = 0; x < width; x++) row[x] = sqrt(d[x]);
  }
  free(f);
  free(d);
  free(z);
  free(v);
  return TS_OK;
}
