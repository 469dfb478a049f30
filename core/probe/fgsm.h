/* fgsm.h — targeted fast-gradient-sign attacks (the adversarial-manifold
 * experiment of the layer-topology study): how easily a network is pushed
 * to a chosen class, and what that does to its layers' topology.
 *
 * Convention: the attack works on the model's normalised input tensor (after
 * the resize and per-channel (x - mean) / std of the checkpoint's
 * augmentation), as the original study perturbs the normalised tensor:
 *   x_adv = clip(x - eps * sign(dCE(f(x), target) / dx), lo_c, hi_c)
 * with lo_c = (0 - mean_c) / std_c and hi_c = (1 - mean_c) / std_c, the
 * normalised images of black and white pixels, so x_adv is always a valid
 * image. sign(0) = 0. The gradient comes from the engine's backward
 * (ts_model_set_input_grad), in evaluation mode. */
#ifndef TS_PROBE_FGSM_H
#define TS_PROBE_FGSM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "probe/probe.h"

/* One batch: x [nb, C, H, W] normalised images -> xadv (same shape).
 * grad (nb x C x H x W floats, caller-owned) receives dCE/dx of the mean
 * cross-entropy towards target; lo/hi: per channel clip bounds. The model's
 * input gradient setting is restored to off. */
TsStatus ts_probe_fgsm_batch(TsModel *m, const TsNnCtx *ctx, const float *x, int nb, int target, float eps,
                             const float *lo, const float *hi, float *grad, float *xadv, TsError *err);

typedef struct TsFgsmResult {
  size_t neps;
  double *eps;       /* neps */
  double *success;   /* neps: fraction of attacked images classified as target */
  size_t attacked;   /* images attacked (label != target) */
  double clean;      /* fraction of them classified as target before the attack */
  size_t nlayers;
  char (*names)[64]; /* lifespan layers */
  double *life0;     /* neps x nlayers: L_0 of the adversarial embeddings */
} TsFgsmResult;

void ts_fgsm_result_clear(TsFgsmResult *r);

/* For each eps: up to cfg->samples images of ds (drawn at random from
 * cfg->seed, those whose label is not target), attacked batchwise; the
 * success rate and the lifespan sums (cfg->layers, cfg->life; labels are
 * the images' true classes) of the adversarial images' embeddings. */
TsStatus ts_probe_fgsm(TsModel *m, const TsProbeConfig *cfg, const TsDataset *ds, const TsAugment *aug,
                       const double *eps, size_t neps, int target, TsFgsmResult *res, TsError *err);

/* Series probe/fgsm at step epoch: rows = epsilons, cols = 2 + nlayers:
 * eps, success, L_0 per lifespan layer. */
TsStatus ts_fgsm_store(TsStore *s, int64_t run_id, int64_t epoch, const TsFgsmResult *r, TsError *err);

#endif
