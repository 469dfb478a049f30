/* filtration.c — Kaji's PH-label preprocessing and the other filtrations
 * (see filtration.h). */
#include "image/filtration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"raw",    "grey",     "distance", "signed-distance", "gradient",
                                    "upward", "downward", "radial",   "radial-inv"};

const char *ts_filtration_name(TsFiltrationKind k) {
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

int ts_filtration_parse(const char *name) {
  char buf[32];
  size_t n = strlen(name);
  if (n >= sizeof buf) return -1;
  for (size_t i = 0; i <= n; i++) buf[i] = name[i] == '_' ? '-' : name[i];
  if (!strcmp(buf, "gray")) return TS_FILT_GREY;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(buf, names[i])) return (int)i;
  return -1;
}

void ts_filtration_options_default(TsFiltrationOptions *o) {
  memset(o, 0, sizeof *o);
  o->kind = TS_FILT_SIGNED_DISTANCE;
  o->resize = 0;
  o->kaji_scale = 1;
  o->edges = 0;
}

void ts_image_to_grey(const TsImage *img, double *out) {
  size_t n = (size_t)img->width * img->height;
  const uint8_t *p = img->pixels;
  if (img->channels < 3) {
    for (size_t i = 0; i < n; i++) out[i] = p[i * img->channels];
    return;
  }
  for (size_t i = 0; i < n; i++, p += img->channels) out[i] = 0.2989 * p[0] + 0.5870 * p[1] + 0.1140 * p[2];
}

static int is_constant(const double *v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (v[i] != v[0]) return 0;
  return 1;
}

TsStatus ts_filtration_apply(const TsImage *img, const TsFiltrationOptions *o, double **out, int *out_w, int *out_h,
                             int *constant, TsError *err) {
  *out = NULL;
  *constant = 0;
  if (!img->pixels || img->width <= 0 || img->height <= 0 || img->channels < 1 || img->channels > 4)
    return ts_error_set(err, TS_ERR_INVALID, "filtration of an empty or malformed picture");
  if (o->resize < 0 || o->resize > 65535) return ts_error_set(err, TS_ERR_INVALID, "bad resize %d", o->resize);
  int w = img->width, h = img->height;
  size_t n = (size_t)w * h;
  double *g = ts_alloc_array(n, sizeof *g, "filtration", err);
  if (!g) return TS_ERR_NOMEM;
  if (o->kind == TS_FILT_RAW) {
    int c = img->channels == 4 ? 3 : img->channels;
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (int k = 0; k < c; k++) s += img->pixels[i * img->channels + k];
      g[i] = s / c;
    }
  } else {
    ts_image_to_grey(img, g);
  }
  if (o->resize > 0 && (o->resize != w || o->resize != h)) {
    int r = o->resize;
    double *rg = ts_alloc_array((size_t)r * r, sizeof *rg, "filtration", err);
    if (!rg) {
      free(g);
      return TS_ERR_NOMEM;
    }
    ts_resize_bilinear(g, w, h, rg, r, r);
    free(g);
    g = rg;
    w = h = r;
    n = (size_t)w * h;
  }
  *out_w = w;
  *out_h = h;
  if (o->kind == TS_FILT_RAW || o->kind == TS_FILT_GREY) {
    *out = g;
    return TS_OK;
  }
  if (o->kind == TS_FILT_GRADIENT) {
    double *gm = ts_alloc_array(n, sizeof *gm, "filtration", err);
    if (!gm) {
      free(g);
      return TS_ERR_NOMEM;
    }
    ts_gradient_magnitude(g, w, h, TS_GRADIENT_SOBEL, gm);
    free(g);
    *out = gm;
    return TS_OK;
  }
  if ((unsigned)o->kind > TS_FILT_RADIAL_INV) {
    free(g);
    return ts_error_set(err, TS_ERR_INVALID, "unknown filtration %d", (int)o->kind);
  }
  /* Mask-based filtrations: bw = grey >= otsu(grey), or Canny edges. */
  uint8_t *bw = ts_alloc_array(n, 1, "filtration", err);
  double *f = ts_alloc_array(n, sizeof *f, "filtration", err);
  if (!bw || !f) {
    free(g), free(bw), free(f);
    return TS_ERR_NOMEM;
  }
  TsStatus s = TS_OK;
  int empty = 0;
  if (is_constant(g, n)) empty = 1;
  else if (o->edges) {
    for (size_t i = 0; i < n; i++) g[i] /= 255.0;
    s = ts_canny(g, w, h, 1.0, 0.1, 0.2, bw, err);
    if (!s) {
      empty = 1;
      for (size_t i = 0; i < n && empty; i++) empty = !bw[i];
    }
  } else {
    double t;
    s = ts_otsu_threshold(g, n, &t, err);
    if (!s)
      for (size_t i = 0; i < n; i++) bw[i] = g[i] >= t;
  }
  if (s || empty) {
    free(g), free(bw), free(f);
    if (s) return s;
    *constant = 1;
    *out = ts_calloc_array(n, sizeof **out, "filtration", err);
    return *out ? TS_OK : TS_ERR_NOMEM;
  }
  switch (o->kind) {
  case TS_FILT_DISTANCE:
  case TS_FILT_SIGNED_DISTANCE: {
    /* edt(~bw): distance of each background pixel to the foreground */
    for (size_t i = 0; i < n; i++) bw[i] = !bw[i];
    s = ts_edt(bw, w, h, f, err);
    if (!s && o->kind == TS_FILT_SIGNED_DISTANCE) {
      for (size_t i = 0; i < n; i++) bw[i] = !bw[i];
      s = ts_edt(bw, w, h, g, err); /* edt(bw) */
      if (!s)
        for (size_t i = 0; i < n; i++) f[i] = g[i] - f[i];
    }
    if (!s && o->kaji_scale) {
      double k = 256.0 / h;
      for (size_t i = 0; i < n; i++) f[i] *= k;
    }
    break;
  }
  case TS_FILT_UPWARD:
  case TS_FILT_DOWNWARD: {
    /* CubicalRipser: out = bw * (+-row) as int; background = max(out) */
    double mx = -INFINITY;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        size_t i = (size_t)y * w + x;
        f[i] = bw[i] ? (o->kind == TS_FILT_UPWARD ? -y : y) : 0;
        if (f[i] > mx) mx = f[i];
      }
    for (size_t i = 0; i < n; i++)
      if (!bw[i]) f[i] = mx;
    break;
  }
  case TS_FILT_RADIAL:
  case TS_FILT_RADIAL_INV: {
    double mx = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        size_t i = (size_t)y * w + x;
        double r = sqrt((double)x * x + (double)y * y);
        if (r > mx) mx = r;
        f[i] = bw[i] ? (o->kind == TS_FILT_RADIAL_INV ? -r : r) : 0;
      }
    if (o->kind == TS_FILT_RADIAL)
      for (size_t i = 0; i < n; i++)
        if (!bw[i]) f[i] = mx;
    break;
  }
  default: break;
  }
  free(g);
  free(bw);
  if (s) {
    free(f);
    return s;
  }
  *out = f;
  return TS_OK;
}
