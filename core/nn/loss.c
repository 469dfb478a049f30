/* loss.c — losses with their gradients, as torch.nn.functional defines them. */
#include "nn/loss.h"

#include <math.h>

double ts_loss_mse(size_t n, const float *x, const float *target, TsReduction red, float scale, float *grad) {
  double s = 0.0;
  float norm = red == TS_REDUCE_MEAN && n ? 1.0f / (float)n : 1.0f;
  for (size_t i = 0; i < n; i++) {
    float d = x[i] - target[i];
    s += (double)d * d;
    if (grad) grad[i] += scale * 2.0f * d * norm;
  }
  return red == TS_REDUCE_MEAN && n ? s / (double)n : s;
}

double ts_loss_cross_entropy(int n, int c, const float *logits, const int32_t *labels, TsReduction red, float scale,
                             float *grad) {
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= c) return NAN;
  double total = 0.0;
  float norm = red == TS_REDUCE_MEAN && n ? 1.0f / (float)n : 1.0f;
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * c;
    float mx = -INFINITY;
    for (int k = 0; k < c; k++) mx = fmaxf(mx, z[k]);
    double s = 0.0;
    for (int k = 0; k < c; k++) s += exp((double)(z[k] - mx));
    double lse = mx + log(s);
    total += lse - z[labels[i]];
    if (grad) {
      float *g = grad + (size_t)i * c;
      for (int k = 0; k < c; k++) {
        float p = (float)exp((double)z[k] - lse);
        g[k] += scale * norm * (p - (k == labels[i] ? 1.0f : 0.0f));
      }
    }
  }
  return red == TS_REDUCE_MEAN && n ? total / n : total;
}

double ts_loss_bce(size_t n, const float *x, const float *target, TsReduction red, float scale, float *grad) {
  double s = 0.0;
  float norm = red == TS_REDUCE_MEAN && n ? 1.0f / (float)n : 1.0f;
  for (size_t i = 0; i < n; i++) {
    double p = x[i], t = target[i];
    double lp = p > 0 ? fmax(log(p), -100.0) : -100.0;
    double l1p = p < 1 ? fmax(log1p(-p), -100.0) : -100.0;
    s -= t * lp + (1.0 - t) * l1p;
    if (grad) {
      /* PyTorch: (x - t) / max((1 - x) x, 1e-12) */
      double den = fmax((1.0 - p) * p, 1e-12);
      grad[i] += scale * norm * (float)((p - t) / den);
    }
  }
  return red == TS_REDUCE_MEAN && n ? s / (double)n : s;
}

double ts_loss_bce_logits(size_t n, const float *logits, const float *target, TsReduction red, float scale,
                          float *grad) {
  double s = 0.0;
  float norm = red == TS_REDUCE_MEAN && n ? 1.0f / (float)n : 1.0f;
  for (size_t i = 0; i < n; i++) {
    double x = logits[i], t = target[i];
    s += fmax(x, 0.0) - x * t + log1p(exp(-fabs(x)));
    if (grad) {
      double sig = 1.0 / (1.0 + exp(-x));
      grad[i] += scale * norm * (float)(sig - t);
    }
  }
  return red == TS_REDUCE_MEAN && n ? s / (double)n : s;
}

double ts_loss_gaussian_kl(size_t n, const float *mu, const float *logvar, float scale, float *dmu, float *dlogvar) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    double m = mu[i], lv = logvar[i], ev = exp(lv);
    s += 1.0 + lv - m * m - ev;
    if (dmu) dmu[i] += scale * mu[i];
    if (dlogvar) dlogvar[i] += scale * 0.5f * (float)(ev - 1.0);
  }
  return -0.5 * s;
}

int ts_count_correct(int n, int c, const float *logits, const int32_t *labels) {
  int correct = 0;
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * c;
    int best = 0;
    for (int k = 1; k < c; k++)
      if (z[k] > z[best]) best = k;
    correct += best == labels[i];
  }
  return correct;
}
