/* batchnorm.c — batch normalisation over [n, c, hw], PyTorch's definitions.
 * Threads split the channels; each channel's sums run in one fixed order in
 * double precision, so results never depend on the thread count.
 * With ctx->sync_sum (synchronised batch norm, tensor.h) training mode
 * takes its statistics over all processes: forward sums the channel sums
 * and the element count, then (with the global mean) the squared
 * deviations; backward sums dy and dy (x - mean) in global-batch units.
 * dgamma and dbeta stay this process's own (the gradient reduction adds
 * them up, as PyTorch's SyncBatchNorm under DDP). */
#include "nn/ops.h"
#include "nn/simd.h"

#include <math.h>
#include <stdlib.h>

typedef struct BnJob {
  const TsBatchNormDesc *d;
  int train;
  int into; /* backward: dx = (not +=) */
  const float *x, *gamma, *beta, *dy, *smean, *sinv;
  float *rm, *rv, *y, *save_mean, *save_invstd, *dx, *dgamma, *dbeta;
} BnJob;

/* The per-channel sums, in double over 8 lanes: one serial chain of
 * double additions cannot be vectorised and costs 4 cycles an element;
 * 8 independent lanes (then added in a fixed order) are as exact and the
 * order still does not depend on the thread count. */
#define LANES 8
static double lanes_total(const double *a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

TS_NN_CLONES
static void sum_into(double *a, const float *v, size_t n) {
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int l = 0; l < LANES; l++) a[l] += (double)v[i + l];
  for (int l = 0; i < n; i++, l++) a[l] += (double)v[i];
}

TS_NN_CLONES
static void sqdev_into(double *a, const float *v, size_t n, double mu) {
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int l = 0; l < LANES; l++) {
      double t = (double)v[i + l] - mu;
      a[l] += t * t;
    }
  for (int l = 0; i < n; i++, l++) {
    double t = (double)v[i] - mu;
    a[l] += t * t;
  }
}

/* sum g and sum g (v - mean), both in double */
TS_NN_CLONES
static void dot_into(double *a, double *b, const float *g, const float *v, size_t n, float mean) {
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int l = 0; l < LANES; l++) {
      a[l] += (double)g[i + l];
      b[l] += (double)g[i + l] * (double)(v[i + l] - mean);
    }
  for (int l = 0; i < n; i++, l++) {
    a[l] += (double)g[i];
    b[l] += (double)g[i] * (double)(v[i] - mean);
  }
}

TS_NN_CLONES
static void fwd_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  BnJob *j = ctx;
  const TsBatchNormDesc *d = j->d;
  const size_t hw = (size_t)d->hw, chw = (size_t)d->c * hw;
  const double m = (double)d->n * (double)hw;
  for (size_t c = b; c < e; c++) {
    float mean, invstd;
    if (j->train) {
      double a[LANES] = {0};
      for (int n = 0; n < d->n; n++) sum_into(a, j->x + n * chw + c * hw, hw);
      double mu = lanes_total(a) / m;
      double b2[LANES] = {0};
      for (int n = 0; n < d->n; n++) sqdev_into(b2, j->x + n * chw + c * hw, hw, mu);
      double ss = lanes_total(b2);
      double var = ss / m;
      mean = (float)mu;
      invstd = (float)(1.0 / sqrt(var + d->eps));
      if (j->rm) {
        double unbiased = m > 1 ? ss / (m - 1) : var;
        j->rm[c] = (1.0f - d->momentum) * j->rm[c] + d->momentum * (float)mu;
        j->rv[c] = (1.0f - d->momentum) * j->rv[c] + d->momentum * (float)unbiased;
      }
    } else {
      mean = j->rm[c];
      invstd = (float)(1.0 / sqrt((double)j->rv[c] + d->eps));
    }
    j->save_mean[c] = mean;
    j->save_invstd[c] = invstd;
    float g = j->gamma ? j->gamma[c] : 1.0f, bt = j->beta ? j->beta[c] : 0.0f;
    float scale = g * invstd, shift = bt - mean * scale;
    for (int n = 0; n < d->n; n++) {
      const float *v = j->x + n * chw + c * hw;
      float *o = j->y + n * chw + c * hw;
      for (size_t i = 0; i < hw; i++) o[i] = v[i] * scale + shift;
    }
  }
}

/* ---- synchronised batch norm (ctx->sync_sum) ----------------------------- */

typedef struct SyncJob {
  const TsBatchNormDesc *d;
  const float *x, *dy;
  const float *smean;
  double *acc, *acc2; /* per channel */
  const double *mu;
} SyncJob;

static void sync_sum_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  SyncJob *j = ctx;
  const size_t hw = (size_t)j->d->hw, chw = (size_t)j->d->c * hw;
  for (size_t c = b; c < e; c++) {
    double a[LANES] = {0};
    for (int n = 0; n < j->d->n; n++) sum_into(a, j->x + n * chw + c * hw, hw);
    j->acc[c] = lanes_total(a);
  }
}

static void sync_sqdev_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  SyncJob *j = ctx;
  const size_t hw = (size_t)j->d->hw, chw = (size_t)j->d->c * hw;
  for (size_t c = b; c < e; c++) {
    double a[LANES] = {0};
    for (int n = 0; n < j->d->n; n++) sqdev_into(a, j->x + n * chw + c * hw, hw, j->mu[c]);
    j->acc[c] = lanes_total(a);
  }
}

static void sync_dot_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  SyncJob *j = ctx;
  const size_t hw = (size_t)j->d->hw, chw = (size_t)j->d->c * hw;
  for (size_t c = b; c < e; c++) {
    double a[LANES] = {0}, b2[LANES] = {0};
    for (int n = 0; n < j->d->n; n++)
      dot_into(a, b2, j->dy + n * chw + c * hw, j->x + n * chw + c * hw, hw, j->smean[c]);
    j->acc[c] = lanes_total(a);
    j->acc2[c] = lanes_total(b2);
  }
}

typedef struct NormJob {
  const TsBatchNormDesc *d;
  const float *x, *gamma, *beta, *dy, *mean, *invstd;
  float *y, *dx;
  const double *k_dy, *k_dyx; /* backward: mean(dy), mean(dy (x - mean)) in this process's units */
  int into;
} NormJob;

static void sync_norm_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  NormJob *j = ctx;
  const size_t hw = (size_t)j->d->hw, chw = (size_t)j->d->c * hw;
  for (size_t c = b; c < e; c++) {
    float g = j->gamma ? j->gamma[c] : 1.0f, bt = j->beta ? j->beta[c] : 0.0f;
    float scale = g * j->invstd[c], shift = bt - j->mean[c] * scale;
    for (int n = 0; n < j->d->n; n++) {
      const float *v = j->x + n * chw + c * hw;
      float *o = j->y + n * chw + c * hw;
      for (size_t i = 0; i < hw; i++) o[i] = v[i] * scale + shift;
    }
  }
}

static void sync_dx_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  NormJob *j = ctx;
  const size_t hw = (size_t)j->d->hw, chw = (size_t)j->d->c * hw;
  for (size_t c = b; c < e; c++) {
    const float mean = j->mean[c], invstd = j->invstd[c], gm = j->gamma ? j->gamma[c] : 1.0f;
    const float k1 = gm * invstd, mdy = (float)j->k_dy[c], k2 = (float)j->k_dyx[c] * invstd * invstd;
    for (int n = 0; n < j->d->n; n++) {
      const float *v = j->x + n * chw + c * hw, *g = j->dy + n * chw + c * hw;
      float *o = j->dx + n * chw + c * hw;
      if (j->into)
        for (size_t i = 0; i < hw; i++) o[i] = k1 * (g[i] - mdy - (v[i] - mean) * k2);
      else
        for (size_t i = 0; i < hw; i++) o[i] += k1 * (g[i] - mdy - (v[i] - mean) * k2);
    }
  }
}

/* Scratch for the channel sums: 3c + 1 doubles, kept between calls (one
 * trainer thread drives a synchronised model). */
static double *sync_scratch(size_t c) {
  static double *buf;
  static size_t cap;
  if (3 * c + 1 > cap) {
    double *p = realloc(buf, sizeof(double) * (3 * c + 1));
    if (!p) return NULL;
    buf = p;
    cap = 3 * c + 1;
  }
  return buf;
}

static int sync_forward(const TsNnCtx *ctx, const TsBatchNormDesc *d, const float *x, const float *gamma,
                        const float *beta, float *rm, float *rv, float *y, float *save_mean, float *save_invstd) {
  size_t C = (size_t)d->c;
  double *v = sync_scratch(C);
  if (!v) return -1;
  double *mu = v + C + 1;
  SyncJob j = {.d = d, .x = x, .acc = v, .mu = mu};
  ts_nn_for(ctx, C, 0, (size_t)d->n * d->hw, sync_sum_task, &j);
  v[C] = (double)d->n * (double)d->hw;
  ctx->sync_sum(ctx->sync_user, v, C + 1);
  const double m = v[C];
  for (size_t c = 0; c < C; c++) mu[c] = m > 0 ? v[c] / m : 0;
  ts_nn_for(ctx, C, 0, 2 * (size_t)d->n * d->hw, sync_sqdev_task, &j);
  ctx->sync_sum(ctx->sync_user, v, C);
  for (size_t c = 0; c < C; c++) {
    double ss = v[c], var = m > 0 ? ss / m : 0;
    save_mean[c] = (float)mu[c];
    save_invstd[c] = (float)(1.0 / sqrt(var + d->eps));
    if (rm) {
      double unbiased = m > 1 ? ss / (m - 1) : var;
      rm[c] = (1.0f - d->momentum) * rm[c] + d->momentum * (float)mu[c];
      rv[c] = (1.0f - d->momentum) * rv[c] + d->momentum * (float)unbiased;
    }
  }
  NormJob nj = {.d = d, .x = x, .gamma = gamma, .beta = beta, .mean = save_mean, .invstd = save_invstd, .y = y};
  ts_nn_for(ctx, C, 0, (size_t)d->n * d->hw, sync_norm_task, &nj);
  return 0;
}

static int sync_backward(const TsNnCtx *ctx, const TsBatchNormDesc *d, const float *x, const float *gamma,
                         const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                         float *dgamma, float *dbeta, int into) {
  size_t C = (size_t)d->c;
  double *v = sync_scratch(C);
  if (!v) return -1;
  /* v[0..C): sum dy, v[C..2C): sum dy (x - mean), v[2C]: elements */
  SyncJob j = {.d = d, .x = x, .dy = dy, .smean = save_mean, .acc = v, .acc2 = v + C};
  ts_nn_for(ctx, C, 0, 2 * (size_t)d->n * d->hw, sync_dot_task, &j);
  for (size_t c = 0; c < C; c++) { /* this process's own parameter gradients */
    if (dbeta) dbeta[c] += (float)v[c];
    if (dgamma) dgamma[c] += (float)(v[C + c] * save_invstd[c]);
  }
  if (!dx) return 0;
  const double w = ctx->sync_weight > 0 ? ctx->sync_weight : 1.0;
  for (size_t c = 0; c < 2 * C; c++) v[c] *= w; /* to global-batch units */
  v[2 * C] = (double)d->n * (double)d->hw;
  ctx->sync_sum(ctx->sync_user, v, 2 * C + 1);
  const double m = v[2 * C];
  for (size_t c = 0; c < 2 * C; c++) v[c] = m > 0 ? v[c] / m / w : 0; /* means, back in our units */
  NormJob nj = {.d = d, .x = x, .gamma = gamma, .dy = dy, .mean = save_mean, .invstd = save_invstd, .dx = dx,
                .k_dy = v, .k_dyx = v + C, .into = into};
  ts_nn_for(ctx, C, 0, 2 * (size_t)d->n * d->hw, sync_dx_task, &nj);
  return 0;
}

void ts_batchnorm_forward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                          const float *gamma, const float *beta, float *running_mean, float *running_var,
                          int64_t *num_batches_tracked, float *y, float *save_mean, float *save_invstd) {
  if (train && ctx && ctx->sync_sum &&
      sync_forward(ctx, d, x, gamma, beta, running_mean, running_var, y, save_mean, save_invstd) == 0) {
    if (num_batches_tracked) (*num_batches_tracked)++;
    return;
  }
  BnJob j = {0};
  j.d = d, j.train = train, j.x = x, j.gamma = gamma, j.beta = beta;
  j.rm = running_mean, j.rv = running_var, j.y = y, j.save_mean = save_mean, j.save_invstd = save_invstd;
  ts_nn_for(ctx, (size_t)d->c, 0, 3 * (size_t)d->n * d->hw, fwd_task, &j);
  if (train && num_batches_tracked) (*num_batches_tracked)++;
}

TS_NN_CLONES
static void bwd_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  BnJob *j = ctx;
  const TsBatchNormDesc *d = j->d;
  const size_t hw = (size_t)d->hw, chw = (size_t)d->c * hw;
  const double m = (double)d->n * (double)hw;
  for (size_t c = b; c < e; c++) {
    const float mean = j->smean[c], invstd = j->sinv[c];
    double a[LANES] = {0}, b2[LANES] = {0};
    for (int n = 0; n < d->n; n++) dot_into(a, b2, j->dy + n * chw + c * hw, j->x + n * chw + c * hw, hw, mean);
    const double sdy = lanes_total(a), sdyx = lanes_total(b2);
    /* dbeta = sum dy, dgamma = sum dy * xhat */
    if (j->dbeta) j->dbeta[c] += (float)sdy;
    if (j->dgamma) j->dgamma[c] += (float)(sdyx * invstd);
    if (!j->dx) continue;
    const float gm = j->gamma ? j->gamma[c] : 1.0f;
    if (j->train) {
      /* dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)) */
      const float k1 = gm * invstd;
      const float mdy = (float)(sdy / m);
      const float k2 = (float)(sdyx / m) * invstd * invstd;
      for (int n = 0; n < d->n; n++) {
        const float *v = j->x + n * chw + c * hw, *g = j->dy + n * chw + c * hw;
        float *o = j->dx + n * chw + c * hw;
        if (j->into)
          for (size_t i = 0; i < hw; i++) o[i] = k1 * (g[i] - mdy - (v[i] - mean) * k2);
        else
          for (size_t i = 0; i < hw; i++) o[i] += k1 * (g[i] - mdy - (v[i] - mean) * k2);
      }
    } else {
      const float k1 = gm * invstd;
      for (int n = 0; n < d->n; n++) {
        const float *g = j->dy + n * chw + c * hw;
        float *o = j->dx + n * chw + c * hw;
        if (j->into)
          for (size_t i = 0; i < hw; i++) o[i] = k1 * g[i];
        else
          for (size_t i = 0; i < hw; i++) o[i] += k1 * g[i];
      }
    }
  }
}

static void backward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x, const float *gamma,
                     const float *save_mean, const float *save_invstd, const float *dy, float *dx, float *dgamma,
                     float *dbeta, int into) {
  if (train && ctx && ctx->sync_sum &&
      sync_backward(ctx, d, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta, into) == 0)
    return;
  BnJob j = {0};
  j.d = d, j.train = train, j.x = x, j.gamma = gamma, j.smean = save_mean, j.sinv = save_invstd;
  j.dy = dy, j.dx = dx, j.dgamma = dgamma, j.dbeta = dbeta, j.into = into;
  ts_nn_for(ctx, (size_t)d->c, 0, 3 * (size_t)d->n * d->hw, bwd_task, &j);
}

void ts_batchnorm_backward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                           const float *gamma, const float *save_mean, const float *save_invstd,
                           const float *dy, float *dx, float *dgamma, float *dbeta) {
  backward(ctx, d, train, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta, 0);
}

void ts_batchnorm_backward_into(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                                const float *gamma, const float *save_mean, const float *save_invstd,
                                const float *dy, float *dx, float *dgamma, float *dbeta) {
  backward(ctx, d, train, x, gamma, save_mean, save_invstd, dy, dx, dgamma, dbeta, 1);
}
