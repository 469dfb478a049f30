/* batchnorm.c — batch normalisation over [n, c, hw], PyTorch's definitions.
 * Threads split the channels; each channel's sums run in one fixed order in
 * double precision, so results never depend on the thread count. */
#include "nn/ops.h"
#include "nn/simd.h"

#include <math.h>

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

void ts_batchnorm_forward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                          const float *gamma, const float *beta, float *running_mean, float *running_var,
                          int64_t *num_batches_tracked, float *y, float *save_mean, float *save_invstd) {
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
