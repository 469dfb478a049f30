/* lifespan.c — min-max scaling and lifespan sums of layer embeddings. */
#include "probe/lifespan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ph/diagram.h"
#include "ph/rips.h"

void ts_lifespan_options_init(TsLifespanOptions *o) {
  memset(o, 0, sizeof *o);
  o->alpha = 1.0;
  o->local = 1;
  o->per_class = 250;
}

void ts_probe_minmax(double *x, size_t count, size_t dim) {
  for (size_t j = 0; j < dim; j++) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
      double v = x[i * dim + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    double span = hi - lo;
    for (size_t i = 0; i < count; i++) x[i * dim + j] = span > 0 ? (x[i * dim + j] - lo) / span : 0.0;
  }
}

/* L_0 (and L_1) of the n rows of pts; the bars appended to out when not NULL. */
static TsStatus cloud_sums(const double *pts, size_t n, size_t dim, const TsLifespanOptions *o, double sums[2],
                           TsDiagram *out, TsError *err) {
  sums[0] = sums[1] = 0.0;
  if (n < 1) return TS_OK;
  if (n < 2) return out ? ts_diagram_add(out, 0, 0.0, INFINITY, err) : TS_OK;
  if (o->maxdim < 1) {
    double *deaths = malloc((n - 1) * sizeof *deaths);
    if (!deaths) return ts_error_set(err, TS_ERR_NOMEM, "lifespans: out of memory");
    TsStatus s = ts_rips_h0_deaths(pts, n, dim, deaths, err);
    for (size_t i = 0; !s && i + 1 < n; i++) sums[0] += 0.5 * pow(deaths[i], o->alpha);
    /* every H0 bar of a Rips filtration is born at 0; one class never dies */
    for (size_t i = 0; out && !s && i + 1 < n; i++) s = ts_diagram_add(out, 0, 0.0, deaths[i], err);
    if (out && !s) s = ts_diagram_add(out, 0, 0.0, INFINITY, err);
    free(deaths);
    return s;
  }
  TsRipsOptions ro;
  ts_rips_options_init(&ro);
  ro.maxdim = 1;
  ro.pool = o->pool;
  TsDiagram d;
  ts_diagram_init(&d);
  TsStatus s = ts_rips_ph_points(pts, n, dim, &ro, &d, err);
  for (size_t i = 0; !s && i < d.n; i++) {
    const TsPair *p = &d.pairs[i];
    if (isfinite(p->death) && p->dim <= 1) sums[p->dim] += 0.5 * pow(p->death - p->birth, o->alpha);
    if (out && !s && p->dim <= 1) s = ts_diagram_add(out, p->dim, p->birth, p->death, err);
  }
  ts_diagram_clear(&d);
  return s;
}

TsStatus ts_probe_lifespans(const float *emb, size_t count, size_t dim, const int32_t *labels, int num_classes,
                            const TsLifespanOptions *o, double sums[2], TsDiagram *diag, TsError *err) {
  sums[0] = sums[1] = 0.0;
  if (count < 1 || dim < 1) return ts_error_set(err, TS_ERR_INVALID, "lifespans: empty embedding");
  double *x = ts_alloc_array(count * dim, sizeof(double), "embedding", err);
  if (!x) return TS_ERR_NOMEM;
  for (size_t i = 0; i < count * dim; i++) x[i] = emb[i];
  ts_probe_minmax(x, count, dim);
  TsStatus s = TS_OK;
  if (!o->local) {
    s = cloud_sums(x, count, dim, o, sums, diag, err);
    free(x);
    return s;
  }
  int K = o->classes_0_8 && num_classes > 9 ? 9 : num_classes;
  size_t cap = o->per_class > 0 ? (size_t)o->per_class : count;
  double *sub = ts_alloc_array((cap < count ? cap : count) * dim, sizeof(double), "class subset", err);
  if (!sub) {
    free(x);
    return TS_ERR_NOMEM;
  }
  int used = 0;
  for (int c = 0; c < K && !s; c++) {
    size_t n = 0;
    for (size_t i = 0; i < count && n < cap; i++)
      if (labels[i] == c) memcpy(sub + n++ * dim, x + i * dim, dim * sizeof(double));
    if (n == 0) continue;
    double cs[2];
    s = cloud_sums(sub, n, dim, o, cs, diag, err);
    sums[0] += cs[0], sums[1] += cs[1];
    used++;
  }
  if (!s && used == 0) s = ts_error_set(err, TS_ERR_INVALID, "lifespans: no sample of any class");
  if (!s) sums[0] /= used, sums[1] /= used;
  free(sub);
  free(x);
  return s;
}
