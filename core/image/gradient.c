/* gradient.c — gradient magnitude (Sobel, Scharr) and Canny edges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/filtration.h"

/* scipy.ndimage 'reflect': d c b a | a b c d | d c b a */
static int reflect(int i, int n) {
  if (n == 1) return 0;
  for (;;) {
    if (i < 0) i = -i - 1;
    else if (i >= n) i = 2 * n - 1 - i;
    else return i;
  }
}

/* gx: derivative along x (columns) smoothed along y; gy the other way. */
static void gradients(const double *in, int w, int h, const double sm[3], double *gx, double *gy) {
  for (int y = 0; y < h; y++) {
    int ym = reflect(y - 1, h), yp = reflect(y + 1, h);
    const double *r0 = in + (size_t)ym * w, *r1 = in + (size_t)y * w, *r2 = in + (size_t)yp * w;
    for (int x = 0; x < w; x++) {
      int xm = reflect(x - 1, w), xp = reflect(x + 1, w);
      /* derivative kernel [1, 0, -1] as ndimage.sobel correlates it */
      double dx0 = r0[xp] - r0[xm], dx1 = r1[xp] - r1[xm], dx2 = r2[xp] - r2[xm];
      double dy0 = r2[xm] - r0[xm], dy1 = r2[x] - r0[x], dy2 = r2[xp] - r0[xp];
      gx[(size_t)y * w + x] = sm[0] * dx0 + sm[1] * dx1 + sm[2] * dx2;
      gy[(size_t)y * w + x] = sm[0] * dy0 + sm[1] * dy1 + sm[2] * dy2;
    }
  }
}

void ts_gradient_magnitude(const double *in, int w, int h, TsGradientOp op, double *out) {
  static const double sobel[3] = {0.25, 0.5, 0.25}, scharr[3] = {3.0 / 16, 10.0 / 16, 3.0 / 16};
  size_t n = (size_t)w * h;
  double *gx = malloc(n * sizeof *gx), *gy = malloc(n * sizeof *gy);
  if (!gx || !gy) { /* degrade to zero rather than crash; callers size small fields */
    free(gx);
    free(gy);
    memset(out, 0, n * sizeof *out);
    return;
  }
  gradients(in, w, h, op == TS_GRADIENT_SCHARR ? scharr : sobel, gx, gy);
  for (size_t i = 0; i < n; i++) out[i] = sqrt((gx[i] * gx[i] + gy[i] * gy[i]) / 2.0);
  free(gx);
  free(gy);
}

/* Separable Gaussian with zero padding, divided by the smoothed all-ones
 * mask so borders are not darkened (skimage's canny does the same). */
static void gaussian(const double *in, int w, int h, double sigma, double *out, double *tmp, double *norm) {
  int r = (int)(4.0 * sigma + 0.5);
  if (r < 1) r = 1;
  double *k = malloc(sizeof(double) * (size_t)(2 * r + 1));
  if (!k) {
    memcpy(out, in, sizeof(double) * (size_t)w * h);
    return;
  }
  double s = 0;
  for (int i = -r; i <= r; i++) s += k[i + r] = exp(-0.5 * i * i / (sigma * sigma));
  for (int i = 0; i <= 2 * r; i++) k[i] /= s;
  for (int pass = 0; pass < 2; pass++) {
    const double *src = pass == 0 ? in : NULL;
    double *dst = pass == 0 ? out : norm;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double a = 0;
        for (int i = -r; i <= r; i++) {
          int xx = x + i;
          if (xx >= 0 && xx < w) a += k[i + r] * (src ? src[(size_t)y * w + xx] : 1.0);
        }
        tmp[(size_t)y * w + x] = a;
      }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double a = 0;
        for (int i = -r; i <= r; i++) {
          int yy = y + i;
          if (yy >= 0 && yy < h) a += k[i + r] * tmp[(size_t)yy * w + x];
        }
        dst[(size_t)y * w + x] = a;
      }
  }
  for (size_t i = 0; i < (size_t)w * h; i++) out[i] = norm[i] > 0 ? out[i] / norm[i] : 0;
  free(k);
}

TsStatus ts_canny(const double *in, int w, int h, double sigma, double low, double high, uint8_t *edges,
                  TsError *err) {
  if (w <= 0 || h <= 0) return ts_error_set(err, TS_ERR_INVALID, "Canny edges of an empty picture");
  if (!(sigma > 0) || !(low >= 0) || !(high >= low))
    return ts_error_set(err, TS_ERR_INVALID, "Canny needs sigma > 0 and 0 <= low <= high");
  size_t n = (size_t)w * h;
  double *sm = ts_alloc_array(n, sizeof *sm, "Canny", err), *tmp = ts_alloc_array(n, sizeof *tmp, "Canny", err);
  double *gx = ts_alloc_array(n, sizeof *gx, "Canny", err), *gy = ts_alloc_array(n, sizeof *gy, "Canny", err);
  double *mag = ts_alloc_array(n, sizeof *mag, "Canny", err);
  int *stack = ts_alloc_array(n, sizeof *stack, "Canny", err);
  uint8_t *cand = ts_calloc_array(n, 1, "Canny", err);
  if (!sm || !tmp || !gx || !gy || !mag || !stack || !cand) {
    free(sm), free(tmp), free(gx), free(gy), free(mag), free(stack), free(cand);
    return TS_ERR_NOMEM;
  }
  gaussian(in, w, h, sigma, sm, tmp, mag);
  static const double raw[3] = {1, 2, 1}; /* ndimage.sobel is unnormalised */
  gradients(sm, w, h, raw, gx, gy);
  for (size_t i = 0; i < n; i++) mag[i] = hypot(gx[i], gy[i]);
  memset(edges, 0, n);
  /* Non-maximum suppression with linear interpolation between the two
   * neighbours the gradient points between; the 1-pixel border is never an
   * edge (skimage erodes the mask). 1 = weak candidate, 2 = strong. */
  for (int y = 1; y < h - 1; y++)
    for (int x = 1; x < w - 1; x++) {
      size_t i = (size_t)y * w + x;
      double m = mag[i];
      if (m < low || m == 0) continue;
      double ax = fabs(gx[i]), ay = fabs(gy[i]);
      int sx = gx[i] >= 0 ? 1 : -1, sy = gy[i] >= 0 ? 1 : -1;
      double m1, m2;
      if (ax >= ay) { /* mostly along x: compare left/right, interpolate in y */
        double t = ay / ax;
        m1 = (1 - t) * mag[i + sx] + t * mag[i + (ptrdiff_t)sy * w + sx];
        m2 = (1 - t) * mag[i - sx] + t * mag[i - (ptrdiff_t)sy * w - sx];
      } else {
        double t = ax / ay;
        m1 = (1 - t) * mag[i + (ptrdiff_t)sy * w] + t * mag[i + (ptrdiff_t)sy * w + sx];
        m2 = (1 - t) * mag[i - (ptrdiff_t)sy * w] + t * mag[i - (ptrdiff_t)sy * w - sx];
      }
      if (m >= m1 && m >= m2) cand[i] = m >= high ? 2 : 1;
    }
  /* Hysteresis: keep weak candidates 8-connected to a strong one. */
  size_t top = 0;
  for (size_t i = 0; i < n; i++)
    if (cand[i] == 2) {
      edges[i] = 1;
      stack[top++] = (int)i;
    }
  while (top > 0) {
    int i = stack[--top], y = i / w, x = i % w;
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++) {
        int yy = y + dy, xx = x + dx;
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        size_t j = (size_t)yy * w + xx;
        if (cand[j] && !edges[j]) {
          edges[j] = 1;
          stack[top++] = (int)j;
        }
      }
  }
  free(sm), free(tmp), free(gx), free(gy), free(mag), free(stack), free(cand);
  return TS_OK;
}
