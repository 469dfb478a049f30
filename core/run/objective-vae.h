/* objective-vae.h — what a (Topo)VAE run records beyond its metrics: per
 * epoch, a picture grid and the latent means of validation images, into the
 * store (objective-vae.c, vae-report.c).
 *
 * Store rows written by ts_vae_epoch_report at (step = the global step at
 * the end of the epoch):
 *   blob   "vae/grid" (image/png): 8 columns of 28 x 28 tiles (1-pixel grey
 *          gaps); rows: validation inputs, the plain VAE's reconstructions
 *          (lockstep only), the TopoVAE's reconstructions, TopoVAE samples
 *          decoded from z ~ N(0, I), plain VAE samples (lockstep only);
 *          the samples use the same z for both models.
 *   series "topovae/latent": n_latent x (latent + 1) rows: the latent means
 *          mu of the first n_latent validation images, then the image's
 *          class as a number; "vae/latent" the same for the plain VAE
 *          (lockstep only; or the main model of a run without topological
 *          weights, a plain VAE). */
#ifndef TS_RUN_OBJECTIVE_VAE_H
#define TS_RUN_OBJECTIVE_VAE_H

#include <stdint.h>

#include "base/error.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "run/objective.h"
#include "run/store.h"

/* The lockstep plain VAE of a vae objective, or NULL (no lockstep, or not a
 * vae objective). */
TsModel *ts_objective_vae_plain(TsObjective *o);

/* Writes the rows above for the main model (and the objective's plain VAE);
 * val's images are used as [0, 1] pixels. seed draws the sample codes. */
TsStatus ts_vae_epoch_report(TsObjective *o, TsModel *main, const TsNnCtx *ctx, const TsDataset *val, int n_latent,
                             uint64_t seed, TsStore *store, int64_t run, int64_t step, int64_t epoch, TsError *err);

#endif
