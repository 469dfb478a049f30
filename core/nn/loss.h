/* loss.h — losses: value and gradient in one call.
 *
 * Each function returns the loss (accumulated in double) with the given
 * reduction, and when grad is not NULL it ADDS scale * dLoss/dinput to grad
 * (so several losses on one output simply add, e.g. the VAE's
 * (BCE_sum + KLD_sum + topo)/B is bce(SUM, scale 1/B) + kl(scale 1/B) + ...).
 * Definitions and clamping follow torch.nn.functional exactly; the tests
 * compare value and gradient with PyTorch. */
#ifndef TS_NN_LOSS_H
#define TS_NN_LOSS_H

#include <stddef.h>
#include <stdint.h>

typedef enum TsReduction {
  TS_REDUCE_MEAN = 0, /* divide by the number of elements (cross-entropy: rows) */
  TS_REDUCE_SUM = 1
} TsReduction;

/* MSE: x, target [n]; sum (x - t)^2 (/ n for MEAN). */
double ts_loss_mse(size_t n, const float *x, const float *target, TsReduction red, float scale,
                   float *grad);

/* Cross-entropy with logits (F.cross_entropy): logits [n, c], labels [n] in
 * [0, c). MEAN divides by n. Labels out of range make the function return
 * NAN without touching grad (the data layer validates labels first). */
double ts_loss_cross_entropy(int n, int c, const float *logits, const int32_t *labels, TsReduction red,
                             float scale, float *grad);

/* Binary cross-entropy on probabilities (F.binary_cross_entropy): x, target
 * [n], x in [0, 1]; each log is clamped at -100 as PyTorch does. */
double ts_loss_bce(size_t n, const float *x, const float *target, TsReduction red, float scale,
                   float *grad);

/* Binary cross-entropy with logits (F.binary_cross_entropy_with_logits),
 * numerically stable form max(x,0) - x t + log(1 + exp(-|x|)). */
double ts_loss_bce_logits(size_t n, const float *logits, const float *target, TsReduction red,
                          float scale, float *grad);

/* Gaussian KL to N(0, I) of the VAE, summed over all n elements:
 *   KLD = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).
 * Gradients added: dmu += scale * mu, dlogvar += scale * 0.5 (exp(logvar) - 1).
 * Either gradient pointer may be NULL. */
double ts_loss_gaussian_kl(size_t n, const float *mu, const float *logvar, float scale, float *dmu,
                           float *dlogvar);

/* Number of rows whose argmax (first maximum) equals labels[i]. */
int ts_count_correct(int n, int c, const float *logits, const int32_t *labels);

#endif
