/* batchnorm.c — batch normalisation over [n, c, hw], PyTorch's definitions.
 * Threads split the channels; each channel's sums run in one fixed order in
 * double precision, so results never depend on the thread count. */
#include "nn/ops.h"

#include <math.h>

typedef struct BnJob {
  const TsBatchNormDesc *d;
  int train;
  const float *x, *gamma, *beta, *dy, *smean, *sinv;
  float *rm, *rv, *y, *save_mean, *save_invstd, *dx, *dgamma, *dbeta;
} BnJob;

static void fwd_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  BnJob *j = ctx;
  const TsBatchNormDesc *d = j->d;
  const size_t hw = (size_t)d->hw, chw = (size_t)d->c * hw;
  const double m = (double)d->n * (double)hw;
  for (size_t c = b; c < e; c++) {
    float mean, invstd;
    if (j->train) {
      double s = 0.0;
      for (int n = 0; n < d->n; n++) {
        const float *v = j->x + n * chw + c * hw;
        for (size_t i = 0; i < hw; i++) s += v[i];
      }
      double mu = s / m, ss = 0.0;
      for (int n = 0; n < d->n; n++) {
        const float *v = j->x + n * chw + c * hw;
        for (size_t i = 0; i < hw; i++) {
          double t = v[i] - mu;
          ss += t * t;
        }
      }
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

static void bwd_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  BnJob *j = ctx;
  const TsBatchNormDesc *d = j->d;
  const size_t hw = (size_t)d->hw, chw = (size_t)d->c * hw;
  const double m = (double)d->n * (double)hw;
  for (size_t c = b; c < e; c++) {
    const float mean = j->smean[c], invstd = j->sinv[c];
    double sdy = 0.0, sdyx = 0.0;
    for (int n = 0; n < d->n; n++) {
      const float *v = j->x + n * chw + c * hw, *g = j->dy + n * chw + c * hw;
      for (size_t i = 0; i < hw; i++) {
        sdy += g[i];
        sdyx += (double)g[i] * (v[i] - mean);
      }
    }
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
        for (size_t i = 0; i < hw; i++) o[i] += k1 * (g[i] - mdy - (v[i] - mean) * k2);
      }
    } else {
      const float k1 = gm * invstd;
      for (int n = 0; n < d->n; n++) {
        const float *g = j->dy + n * chw + c * hw;
        float *o = j->dx + n * chw + c * hw;
        for (size_t i = 0; i < hw; i++) o[i] += k1 * g[i];
      }
    }
  }
}

void ts_batchnorm_backward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                           const float *gamma, const float *save_mean, const float *save_invstd,
                           const float *dy, float *dx, float *dgamma, float *dbeta) {
  BnJob j = {0};
  j.d = d, j.train = train, j.x = x, j.gamma = gamma, j.smean = save_mean, j.sinv = save_invstd;
  j.dy = dy, j.dx = dx, j.dgamma = dgamma, j.dbeta = dbeta;
  ts_nn_for(ctx, (size_t)d->c, 0, 3 * (size_t)d->n * d->hw, bwd_task, &j);
}
