/* topofit.c — Adam on a point cloud's coordinates under the topological
 * losses, Topo-GEN's three synthetic presets, point files (see topofit.h). */
#include "topo/topofit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "ph/diagram-io.h"
#include "ph/rips.h"

/* ---- point files ------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

TsStatus ts_cloud_read(const char *path, float **pts, size_t *n, size_t *dim, TsError *err) {
  double *d = NULL;
  size_t rows = 0, cols = 0;
  TsStatus st = ends_with(path, ".npy") ? ts_npy_read_f64(path, &d, &rows, &cols, err)
                                        : ts_rips_points_read(path, &d, &rows, &cols, err);
  if (st) return st;
  if (rows == 0 || cols == 0) {
    free(d);
    return ts_error_set(err, TS_ERR_FORMAT, "'%s': no points", path);
  }
  float *f = ts_alloc_array(rows * cols, sizeof *f, "points", err);
  if (!f) {
    free(d);
    return TS_ERR_NOMEM;
  }
  for (size_t k = 0; k < rows * cols; k++) {
    if (!isfinite(d[k]) || fabs(d[k]) > 3e38) {
      free(d);
      free(f);
      return ts_error_set(err, TS_ERR_FORMAT, "'%s': point %zu, coordinate %zu is not a finite float32", path,
                          k / cols + 1, k % cols + 1);
    }
    f[k] = (float)d[k];
  }
  free(d);
  *pts = f;
  *n = rows;
  *dim = cols;
  return TS_OK;
}

TsStatus ts_cloud_write_csv(const char *path, const float *pts, size_t n, size_t dim, TsError *err) {
  FILE *f = fopen(path, "w");
  if (!f) return ts_error_errno(err, errno, "cannot write '%s'", path);
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < dim; c++) fprintf(f, "%.9g%c", pts[i * dim + c], c + 1 == dim ? '\n' : ',');
  if (ferror(f) | fclose(f)) return ts_error_errno(err, errno, "cannot write '%s'", path);
  return TS_OK;
}

/* ---- presets ------------------------------------------------------------- */

static void clusters(TsRng *r, float *out, const double (*centers)[2], const int *sizes, int k, double rad) {
  size_t p = 0;
  for (int c = 0; c < k; c++)
    for (int i = 0; i < sizes[c]; i++, p++) {
      out[2 * p] = (float)(centers[c][0] + rad * (2 * ts_rng_uniform(r) - 1));
      out[2 * p + 1] = (float)(centers[c][1] + rad * (2 * ts_rng_uniform(r) - 1));
    }
}

void ts_topofit_preset_clear(TsTopoFitPreset *p) {
  free(p->start);
  free(p->target);
  memset(p, 0, sizeof *p);
}

TsStatus ts_topofit_preset(int preset, uint64_t seed, TsTopoFitPreset *out, TsError *err) {
  memset(out, 0, sizeof *out);
  if (preset < 1 || preset > 3) return ts_error_set(err, TS_ERR_INVALID, "topofit: preset %d (1, 2 or 3)", preset);
  TsRng r;
  ts_rng_init(&r, seed, 14);
  static const size_t ns[4] = {0, 64, 64, 64}, ms[4] = {0, 3, 128, 100};
  out->n = ns[preset];
  out->m = ms[preset];
  out->start = malloc(out->n * 2 * sizeof(float));
  out->target = malloc(out->m * 2 * sizeof(float));
  if (!out->start || !out->target) {
    ts_topofit_preset_clear(out);
    return ts_error_set(err, TS_ERR_NOMEM, "topofit: preset %d", preset);
  }
  out->weights[0] = out->weights[1] = 1;
  if (preset == 1) {
    static const double c[5][2] = {{0, 0}, {10, 0}, {0, 20}, {30, 30}, {10, -25}};
    static const int s[5] = {10, 10, 10, 10, 24};
    clusters(&r, out->start, c, s, 5, 0.5);
    static const float y[6] = {5, 5, 10, 10, 20, 6};
    memcpy(out->target, y, sizeof y);
    out->lr = 0.01;
    out->steps = 15000;
  } else if (preset == 2) {
    static const double ct[4][2] = {{0, 0}, {10, 0}, {-5, 4}, {8, 13}};
    static const int st[4] = {30, 20, 30, 48};
    static const double cs[2][2] = {{0, 0}, {10, 5}};
    static const int ss[2] = {30, 34};
    clusters(&r, out->target, ct, st, 4, 0.3);
    clusters(&r, out->start, cs, ss, 2, 0.4);
    out->lr = 0.05;
    out->steps = 2500;
  } else {
    /* uniform random angles, as Topo-GEN's tadasets.dsphere: with evenly
     * spaced points every target H0 bar ties and the fit collapses the
     * segments into a blob instead of closing a loop */
    for (size_t i = 0; i < out->m; i++) {
      double a = 2 * M_PI * ts_rng_uniform(&r);
      out->target[2 * i] = (float)(5 * cos(a));
      out->target[2 * i + 1] = (float)(5 * sin(a));
    }
    for (int i = 0; i < 32; i++) {
      double u1 = 0.2 * ts_rng_uniform(&r) - 0.1, u2 = 0.2 * ts_rng_uniform(&r) - 0.1;
      out->start[2 * i] = (float)u1;
      out->start[2 * i + 1] = (float)(0.7 * i + u2);
      double u3 = 0.2 * ts_rng_uniform(&r) - 0.1, u4 = 0.2 * ts_rng_uniform(&r) - 0.1;
      out->start[2 * (i + 32)] = (float)(0.2 * i + u3 + 5);
      out->start[2 * (i + 32) + 1] = (float)(0.9 * i + u4);
    }
    out->lr = 0.1;
    out->steps = 7500;
  }
  return TS_OK;
}

/* ---- the fit --------------------------------------------------------------- */

void ts_topofit_clear(TsTopoFit *f) {
  free(f->x);
  free(f->grad);
  free(f->m);
  free(f->v);
  ts_topo_diagram_clear(&f->target);
  ts_topo_work_free(f->work);
  memset(f, 0, sizeof *f);
}

TsStatus ts_topofit_init(TsTopoFit *f, const float *x0, size_t n, size_t dim, const TsTopoDiagram *target,
                         const TsTopoConfig *cfg, double lr, TsPool *pool, TsError *err) {
  memset(f, 0, sizeof *f);
  if (n < 1 || dim < 1) return ts_error_set(err, TS_ERR_INVALID, "topofit: empty cloud");
  if (!(lr > 0) || !isfinite(lr)) return ts_error_set(err, TS_ERR_INVALID, "topofit: learning rate %g", lr);
  f->n = n;
  f->dim = dim;
  f->lr = lr;
  if (cfg) f->cfg = *cfg;
  else ts_topo_config_init(&f->cfg);
  f->cfg.push0_fallback = 1;
  ts_topo_diagram_init(&f->target);
  f->x = ts_alloc_array(n * dim, sizeof *f->x, "topofit cloud", err);
  f->grad = ts_calloc_array(n * dim, sizeof *f->grad, "topofit gradient", err);
  f->m = ts_calloc_array(n * dim, sizeof *f->m, "topofit moments", err);
  f->v = ts_calloc_array(n * dim, sizeof *f->v, "topofit moments", err);
  TsStatus st = (!f->x || !f->grad || !f->m || !f->v) ? TS_ERR_NOMEM : TS_OK;
  if (!st) st = ts_topo_diagram_from(&f->target, &target->fin, err);
  if (!st) {
    f->work = ts_topo_work_new(pool, err);
    if (!f->work) st = TS_ERR_NOMEM;
  }
  if (st) {
    ts_topofit_clear(f);
    return st;
  }
  f->target.has_h1 = target->has_h1;
  memcpy(f->x, x0, n * dim * sizeof *f->x);
  return TS_OK;
}

TsStatus ts_topofit_step(TsTopoFit *f, TsTopoResult *res, TsError *err) {
  TsTopoResult tmp;
  if (!res) res = &tmp;
  TsStatus st = ts_topo_loss(f->work, f->x, f->n, f->dim, &f->target, &f->cfg, f->grad, res, err);
  if (st) return st;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  f->t++;
  const double c1 = 1 - pow(b1, (double)f->t), c2 = 1 - pow(b2, (double)f->t);
  for (size_t k = 0; k < f->n * f->dim; k++) {
    double g = f->grad[k];
    f->m[k] = b1 * f->m[k] + (1 - b1) * g;
    f->v[k] = b2 * f->v[k] + (1 - b2) * g * g;
    f->x[k] -= (float)(f->lr * (f->m[k] / c1) / (sqrt(f->v[k] / c2) + eps));
  }
  return TS_OK;
}
