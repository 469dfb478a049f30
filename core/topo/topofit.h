/* topofit.h — fitting a point cloud's topology to a target by gradient
 * descent on its coordinates (Topo-GEN's synthetic experiments), and the
 * point files such runs read and write.
 *
 * A TsTopoFit owns a learned cloud X, the target's diagram, a TsTopoWork
 * and Adam's moments; each ts_topofit_step evaluates the combined loss
 * (topoloss.h) and takes one Adam step on X (PyTorch's Adam: beta 0.9,
 * 0.999, eps 1e-8, bias-corrected, no weight decay). As in Topo-GEN, a step
 * where no weighted loss depends on X follows push0 instead, which pushes
 * clusters apart until the bottleneck losses get a grip again.
 *
 * The three presets are Topo-GEN's (2-D, weights [1,1,0,0,0,0,0], deg 1):
 *   1  start: clusters of 10, 10, 10, 10, 24 points, uniform +-0.5 around
 *      (0,0), (10,0), (0,20), (30,30), (10,-25); target: the 3 points
 *      (5,5), (10,10), (20,6); lr 0.01, 15000 steps.
 *   2  start: 30 and 34 points, +-0.4 around (0,0) and (10,5); target:
 *      clusters of 30, 20, 30, 48 points, +-0.3 around (0,0), (10,0),
 *      (-5,4), (8,13); lr 0.05, 2500 steps.
 *   3  start: two noisy segments of 32 points, (U(-.1,.1), 0.7 i +
 *      U(-.1,.1)) and (5 + 0.2 i + U(-.1,.1), 0.9 i + U(-.1,.1)); target:
 *      100 points drawn uniformly at random on the circle of radius 5 (as
 *      Topo-GEN does; with evenly spaced points every target H0 bar ties
 *      and the fit shrinks the segments into a blob instead of closing a
 *      loop); lr 0.1, 7500 steps.
 * Random draws come from --seed, so a preset is reproducible (not
 * bit-identical to Topo-GEN's numpy draws). */
#ifndef TS_TOPO_TOPOFIT_H
#define TS_TOPO_TOPOFIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "topo/topoloss.h"

/* ---- point files --------------------------------------------------------
 * CSV / whitespace text (one point a row, '#' comments; no header line)
 * or, by the .npy extension, a 2-D .npy array (float32/float64/integer).
 * *pts is malloc'd (float32, row-major). */
TsStatus ts_cloud_read(const char *path, float **pts, size_t *n, size_t *dim, TsError *err);
/* CSV without a header, %.9g (float32 round-trips). */
TsStatus ts_cloud_write_csv(const char *path, const float *pts, size_t n, size_t dim, TsError *err);

/* ---- presets -------------------------------------------------------------- */

typedef struct TsTopoFitPreset {
  float *start, *target; /* malloc'd, 2-D points */
  size_t n, m;
  double lr;
  int64_t steps;
  double weights[TS_TOPO_NLOSS];
} TsTopoFitPreset;

/* preset 1, 2 or 3 (anything else: TS_ERR_INVALID). */
TsStatus ts_topofit_preset(int preset, uint64_t seed, TsTopoFitPreset *out, TsError *err);
void ts_topofit_preset_clear(TsTopoFitPreset *p);

/* ---- the fit ---------------------------------------------------------------- */

typedef struct TsTopoFit {
  size_t n, dim;
  float *x;            /* the learned cloud [n, dim] (owned) */
  float *grad;         /* dL/dX of the last step */
  double *m, *v;       /* Adam's moments */
  int64_t t;           /* steps taken */
  double lr;
  TsTopoConfig cfg;    /* push0_fallback is forced on */
  TsTopoDiagram target;
  TsTopoWork *work;
} TsTopoFit;

/* Copies x0 [n, dim]; the target diagram is copied. pool (may be NULL)
 * is borrowed for X's diagram. */
TsStatus ts_topofit_init(TsTopoFit *f, const float *x0, size_t n, size_t dim, const TsTopoDiagram *target,
                         const TsTopoConfig *cfg, double lr, TsPool *pool, TsError *err);
void ts_topofit_clear(TsTopoFit *f);
/* One step: res gets the loss at the cloud before the step (Topo-GEN logs
 * that value); X moves by Adam. */
TsStatus ts_topofit_step(TsTopoFit *f, TsTopoResult *res, TsError *err);

#endif
