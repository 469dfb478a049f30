/* phdim.c — PH dimension by subsampling and a log-log fit (see phdim.h). */
#include "ph/phdim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "ph/rips.h"

double ts_phdim_lifespan_sum(const double *deaths, size_t count, double alpha) {
  double s = 0.0;
  for (size_t i = 0; i < count; i++) s += 0.5 * pow(deaths[i], alpha);
  return s;
}

void ts_phdim_result_clear(TsPhdimResult *res) {
  free(res->n);
  free(res->e);
  memset(res, 0, sizeof *res);
}

typedef struct {
  const double *pts;
  size_t N, dim;
  double alpha;
  uint64_t seed;
  TsPhdimResult *res;
  TsStatus *st;
  TsError *errs;
} PhdimCtx;

static void size_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  PhdimCtx *c = ctx;
  for (size_t k = b; k < e; k++) {
    size_t n = c->res->n[k];
    uint32_t *idx = malloc(c->N * sizeof *idx);
    double *sub = malloc(n * c->dim * sizeof *sub), *deaths = malloc(n * sizeof *deaths);
    if (!idx || !sub || !deaths) {
      c->st[k] = ts_error_set(&c->errs[k], TS_ERR_NOMEM, "out of memory for a sample of %zu points", n);
    } else {
      TsRng rng;
      ts_rng_init(&rng, c->seed, k);
      for (size_t i = 0; i < c->N; i++) idx[i] = (uint32_t)i;
      /* partial Fisher–Yates: the first n are a uniform sample */
      for (size_t i = 0; i < n; i++) {
        size_t j = i + (size_t)ts_rng_below(&rng, c->N - i);
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        memcpy(sub + i * c->dim, c->pts + (size_t)idx[i] * c->dim, c->dim * sizeof *sub);
      }
      c->st[k] = ts_rips_h0_deaths(sub, n, c->dim, deaths, &c->errs[k]);
      if (!c->st[k]) c->res->e[k] = ts_phdim_lifespan_sum(deaths, n - 1, c->alpha);
    }
    free(idx);
    free(sub);
    free(deaths);
  }
}

TsStatus ts_phdim_estimate(const double *pts, size_t N, size_t dim, double alpha, size_t n_start, size_t step,
                           uint64_t seed, TsPool *pool, TsPhdimResult *res, TsError *err) {
  memset(res, 0, sizeof *res);
  if (!(alpha > 0) || !isfinite(alpha)) return ts_error_set(err, TS_ERR_INVALID, "alpha must be > 0");
  if (n_start < 2 || step < 1) return ts_error_set(err, TS_ERR_INVALID, "n-start must be >= 2 and step >= 1");
  size_t count = 0;
  for (size_t n = n_start; n < N; n += step) count++;
  if (count < 2)
    return ts_error_set(err, TS_ERR_INVALID,
                        "%zu points give %zu sample size(s) n = %zu, %zu, ... < %zu; the fit needs at least 2 "
                        "(lower --n-start or --step)",
                        N, count, n_start, n_start + step, N);
  res->n = malloc(count * sizeof *res->n);
  res->e = malloc(count * sizeof *res->e);
  TsStatus *st = calloc(count, sizeof *st);
  TsError *errs = calloc(count, sizeof *errs);
  TsStatus out = TS_OK;
  if (!res->n || !res->e || !st || !errs) {
    out = ts_error_set(err, TS_ERR_NOMEM, "PH dimension: out of memory");
    goto done;
  }
  res->nsizes = count;
  for (size_t k = 0; k < count; k++) res->n[k] = n_start + k * step;
  PhdimCtx ctx = {pts, N, dim, alpha, seed, res, st, errs};
  ts_pool_for(pool, count, 1, size_task, &ctx);
  for (size_t k = 0; k < count; k++)
    if (st[k]) {
      out = ts_error_set(err, st[k], "sample of %zu points: %s", res->n[k], errs[k].message);
      goto done;
    }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t k = 0; k < count; k++) {
    if (!(res->e[k] > 0)) {
      out = ts_error_set(err, TS_ERR_INVALID, "sample of %zu points has lifespan sum 0 (repeated points?)", res->n[k]);
      goto done;
    }
    double x = log((double)res->n[k]), y = log(res->e[k]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  double c = (double)count;
  res->slope = (c * sxy - sx * sy) / (c * sxx - sx * sx);
  res->intercept = (sy - res->slope * sx) / c;
  res->phdim = res->slope < alpha ? alpha / (alpha - res->slope) : INFINITY;
done:
  free(st);
  free(errs);
  if (out) ts_phdim_result_clear(res);
  return out;
}
