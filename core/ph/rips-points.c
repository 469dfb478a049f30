/* rips-points.c — Rips PH straight from point clouds: one cloud, many clouds
 * at once (one per thread), and H0 alone by Prim's algorithm. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ph/rips.h"

TsStatus ts_rips_ph_points(const double *pts, size_t n, size_t dim, const TsRipsOptions *opts,
                           TsDiagram *out, TsError *err) {
  TsRipsDist d;
  TsStatus st = ts_rips_dist_from_points(&d, pts, n, dim, TS_RIPS_EUCLIDEAN, opts ? opts->pool : NULL, err);
  if (st) {
    ts_diagram_clear(out);
    return st;
  }
  st = ts_rips_ph(&d, opts, out, err);
  ts_rips_dist_clear(&d);
  return st;
}

TsStatus ts_rips_ph_pointsf(const float *pts, size_t n, size_t dim, const TsRipsOptions *opts, TsDiagram *out,
                            TsError *err) {
  TsRipsDist d;
  TsStatus st = ts_rips_dist_from_pointsf(&d, pts, n, dim, TS_RIPS_EUCLIDEAN, opts ? opts->pool : NULL, err);
  if (st) {
    ts_diagram_clear(out);
    return st;
  }
  st = ts_rips_ph(&d, opts, out, err);
  ts_rips_dist_clear(&d);
  return st;
}

typedef struct {
  const float *const *clouds;
  const size_t *n;
  size_t dim;
  TsRipsOptions opts; /* pool = NULL: each cloud serial */
  TsDiagram *out;
  TsError *errs;
  TsStatus *st;
} BatchCtx;

static void batch_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  BatchCtx *c = ctx;
  for (size_t k = b; k < e; k++)
    c->st[k] = ts_rips_ph_pointsf(c->clouds[k], c->n[k], c->dim, &c->opts, &c->out[k], &c->errs[k]);
}

TsStatus ts_rips_ph_batchf(const float *const *clouds, const size_t *n, size_t count, size_t dim,
                           const TsRipsOptions *opts, TsPool *pool, TsDiagram *out, TsError *err) {
  TsRipsOptions o;
  if (opts) o = *opts;
  else ts_rips_options_init(&o);
  o.pool = NULL;
  for (size_t k = 0; k < count; k++) ts_diagram_init(&out[k]);
  if (count == 0) return TS_OK;
  TsError *errs = calloc(count, sizeof *errs);
  TsStatus *st = calloc(count, sizeof *st);
  if (!errs || !st) {
    free(errs);
    free(st);
    return ts_error_set(err, TS_ERR_NOMEM, "Rips batch: out of memory for %zu clouds", count);
  }
  BatchCtx ctx = {clouds, n, dim, o, out, errs, st};
  ts_pool_for(pool, count, 1, batch_task, &ctx);
  TsStatus res = TS_OK;
  for (size_t k = 0; k < count && !res; k++)
    if (st[k]) {
      res = ts_error_set(err, st[k], "cloud %zu: %s", k, errs[k].message);
    }
  if (res)
    for (size_t k = 0; k < count; k++) ts_diagram_clear(&out[k]);
  free(errs);
  free(st);
  return res;
}

TsStatus ts_rips_h0_deaths(const double *pts, size_t n, size_t dim, double *deaths, TsError *err) {
  if (n < 1 || dim < 1) return ts_error_set(err, TS_ERR_INVALID, "H0: no points");
  for (size_t q = 0; q < n * dim; q++)
    if (!isfinite(pts[q]))
      return ts_error_set(err, TS_ERR_INVALID, "H0: point %zu has a non-finite coordinate", q / dim + 1);
  /* Prim: best[v] = squared distance from the tree to v */
  double *best = ts_alloc_array(n, sizeof *best, "H0 distances", err);
  if (!best) return TS_ERR_NOMEM;
  for (size_t v = 0; v < n; v++) best[v] = INFINITY;
  size_t *left = ts_alloc_array(n, sizeof *left, "H0 vertices", err);
  if (!left) {
    free(best);
    return TS_ERR_NOMEM;
  }
  for (size_t v = 0; v < n; v++) left[v] = v;
  size_t nleft = n - 1, cur = 0;
  left[0] = left[n - 1];
  for (size_t k = 0; k + 1 < n; k++) {
    const double *x = pts + cur * dim;
    size_t arg = 0;
    double bd = INFINITY;
    for (size_t q = 0; q < nleft; q++) {
      size_t v = left[q];
      const double *y = pts + v * dim;
      double s = 0.0;
      for (size_t c = 0; c < dim; c++) {
        double t = x[c] - y[c];
        s += t * t;
      }
      if (s < best[v]) best[v] = s;
      if (best[v] < bd) {
        bd = best[v];
        arg = q;
      }
    }
    cur = left[arg];
    deaths[k] = sqrt(bd);
    left[arg] = left[--nleft];
  }
  free(best);
  free(left);
  return TS_OK;
}
