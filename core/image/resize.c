/* resize.c — bilinear and area resizing of float fields and pictures. */
#include <math.h>
#include <stdlib.h>

#include "image/filtration.h"

void ts_resize_bilinear(const double *in, int w, int h, double *out, int ow, int oh) {
  double sx = (double)w / ow, sy = (double)h / oh;
  for (int y = 0; y < oh; y++) {
    double fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    int y0 = (int)fy;
    if (y0 > h - 1) y0 = h - 1;
    int y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    double ty = fy - y0;
    if (ty > 1) ty = 1;
    for (int x = 0; x < ow; x++) {
      double fx = (x + 0.5) * sx - 0.5;
      if (fx < 0) fx = 0;
      int x0 = (int)fx;
      if (x0 > w - 1) x0 = w - 1;
      int x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      double tx = fx - x0;
      if (tx > 1) tx = 1;
      const double *r0 = in + (size_t)y0 * w, *r1 = in + (size_t)y1 * w;
      double top = r0[x0] + tx * (r0[x1] - r0[x0]), bot = r1[x0] + tx * (r1[x1] - r1[x0]);
      out[(size_t)y * ow + x] = top + ty * (bot - top);
    }
  }
}

/* Weights of the input cells [i, i+1) overlapping output cell [o*s, (o+1)*s). */
static void area_axis(int n, int on, int o, int *first, int *last, double *wts) {
  double s = (double)n / on, a = o * s, b = (o + 1) * s;
  int i0 = (int)floor(a), i1 = (int)ceil(b) - 1;
  if (i1 > n - 1) i1 = n - 1;
  if (i0 > i1) i0 = i1;
  *first = i0;
  *last = i1;
  for (int i = i0; i <= i1; i++) {
    double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
    wts[i - i0] = hi > lo ? (hi - lo) / s : 0;
  }
}

void ts_resize_area(const double *in, int w, int h, double *out, int ow, int oh) {
  int mx = w / ow + 3, my = h / oh + 3;
  double *wx = malloc(sizeof(double) * (size_t)mx), *wy = malloc(sizeof(double) * (size_t)my);
  if (!wx || !wy) {
    free(wx);
    free(wy);
    ts_resize_bilinear(in, w, h, out, ow, oh);
    return;
  }
  for (int y = 0; y < oh; y++) {
    int y0, y1;
    area_axis(h, oh, y, &y0, &y1, wy);
    for (int x = 0; x < ow; x++) {
      int x0, x1;
      area_axis(w, ow, x, &x0, &x1, wx);
      double acc = 0, tw = 0;
      for (int yy = y0; yy <= y1; yy++)
        for (int xx = x0; xx <= x1; xx++) {
          double wt = wy[yy - y0] * wx[xx - x0];
          acc += wt * in[(size_t)yy * w + xx];
          tw += wt;
        }
      out[(size_t)y * ow + x] = tw > 0 ? acc / tw : 0;
    }
  }
  free(wx);
  free(wy);
}

TsStatus ts_image_resize(const TsImage *in, int ow, int oh, int area, TsImage *out, TsError *err) {
  if (ow <= 0 || oh <= 0 || ow > 65535 || oh > 65535)
    return ts_error_set(err, TS_ERR_INVALID, "cannot resize to %d x %d", ow, oh);
  size_t n = (size_t)in->width * in->height, on = (size_t)ow * oh;
  double *a = ts_alloc_array(n, sizeof *a, "resize", err), *b = ts_alloc_array(on, sizeof *b, "resize", err);
  TsImage o = {0};
  TsStatus s = (a && b) ? ts_image_alloc(&o, ow, oh, in->channels, err) : TS_ERR_NOMEM;
  if (s) {
    free(a);
    free(b);
    return s;
  }
  for (int c = 0; c < in->channels; c++) {
    for (size_t i = 0; i < n; i++) a[i] = in->pixels[i * in->channels + c];
    if (area) ts_resize_area(a, in->width, in->height, b, ow, oh);
    else ts_resize_bilinear(a, in->width, in->height, b, ow, oh);
    for (size_t i = 0; i < on; i++) {
      double v = floor(b[i] + 0.5);
      o.pixels[i * o.channels + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  free(a);
  free(b);
  *out = o;
  return TS_OK;
}
