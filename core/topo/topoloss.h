/* topoloss.h — differentiable topological losses on a point cloud.
 *
 * A learned cloud X (n points of dim coordinates, row-major; a batch of
 * images flattened to one row each) is compared with a target through their
 * Vietoris–Rips persistence diagrams (Euclidean, no threshold, Z/2, H0 and
 * optionally H1). Every value of X's diagram is the length of an edge of X:
 * a finite H0 bar (0, d) dies at the edge (i, j) with d = |x_i - x_j|; an H1
 * bar (b, d) is born at an edge (i, j) and dies at an edge (k, l). So a loss
 * written in the diagram values has an exact gradient with respect to X,
 * d|x_i - x_j| / dx_i = (x_i - x_j) / |x_i - x_j|, wherever the pairing does
 * not change. This module computes the values and that gradient; it knows
 * nothing about networks (the playground, topofit and the TopoVAE all call
 * it the same way).
 *
 * The losses follow Topo-GEN (Benarroch Jedlicki's topological regularisers)
 * and keep its order, which is the order of the weight vector:
 *   0 bottleneck0   the bottleneck matching of the finite H0 points (L-inf
 *                   ground cost, diagonal cost (d - b) / 2); the loss is the
 *                   cost of its longest edge, written in X's values: a matched
 *                   pair gives |d_x - d_y|, an X point on the diagonal d_x / 2.
 *   1 bottleneck1   the same on H1: max(|b_x - b_y|, |d_x - d_y|) or
 *                   (d_x - b_x) / 2.
 *   2 persentropy0  E(D) = sum_l (l / L) log(l / L) over the lifetimes l >
 *   3 persentropy1  delta (default 0.001) of one dimension, L their sum (the
 *                   negated persistence entropy; 0 for an empty side); the
 *                   loss is (E(X) - E(Y))^2.
 *   4 dsigma0       the persistence scale-space kernel
 *   5 dsigma1         k(F, G) = 1 / (8 pi s) sum_p sum_q [exp(-|p - q|^2 / 8s)
 *                                                 - exp(-|p - q'|^2 / 8s)]
 *                   (q' = q mirrored across the diagonal, s = sigma, default
 *                   0.05); loss k(X, X) - 2 k(X, Y): the constant k(Y, Y) is
 *                   left out, so the value can be negative.
 *   6 density       f(t) = scale * sum d^4 exp(-((d - t) / s)^2) over the
 *                   finite H0 deaths (s 0.2, scale 0.002); loss = the mean of
 *                   (f_X(t) - f_Y(t))^2 over npoints (30) values of t evenly
 *                   spaced in [0, maxrange] (35), ends included.
 *   push0           -sum d / 2 over X's finite H0 deaths: it pushes clusters
 *                   apart; topofit steps with it when no weighted loss
 *                   depends on X (push0_fallback).
 * Combined: total = sum_k weights[k] * value_k over the losses that depend
 * on X (a zero weight means the loss is not evaluated at all).
 *
 * "Depends on X" (Topo-GEN's second return value) is false — and the value
 * then counts as 0 in the total and contributes no gradient — when:
 *  - X has no finite bar in the loss's dimension (a single point, or all
 *    points coincident, or an empty H1);
 *  - bottleneck0/1: the longest edge of the matching has a target point
 *    matched to the diagonal (its cost is then constant in X);
 *  - persentropy0/1: no lifetime of X exceeds delta (L = 0).
 * The target side may be empty: persentropy then compares with 0, dsigma1
 * is k(X, X) alone, bottleneck matches everything of X to the diagonal.
 *
 * Conventions kept from Topo-GEN: the essential H0 class (0, inf) is
 * dropped on both sides; X's values are recomputed from its generator edges
 * (here in double precision from the coordinates), the target's values are
 * read from its diagram (so a target may be a diagram file without edges);
 * pairs with death == birth do not exist (the Rips engine never reports
 * them); the diagram of X is computed once per call for all the losses.
 *
 * Where this module differs from Topo-GEN:
 *  - deg = 0 computes H0 only, and then the H1 losses are "not dependent"
 *    (value 0) instead of failing on a missing H1 diagram;
 *  - ties for the longest matched edge (which never happen in general
 *    position) are broken towards an edge that has a point of X, so the
 *    loss keeps a gradient; Topo-GEN takes whichever edge persim lists first;
 *  - a zero-length edge (coincident points) contributes a zero gradient (the
 *    subgradient 0 of |x_i - x_j| at x_i = x_j) instead of NaN;
 *  - H1 bars of the target with infinite death are dropped (they can only
 *    come from a diagram file).
 *
 * Cost: X's Rips diagram with edges (ph/rips.h) dominates; the losses are
 * O(n0 m0 + n1 m1) (dsigma) or a bottleneck matching. Nothing is allocated
 * per pair: a TsTopoWork holds every buffer and keeps it between calls, so
 * a training loop allocates only while the diagrams grow.
 *
 * Ownership: TsTopoDiagram and TsTopoWork own their buffers; the pool given
 * to ts_topo_work_new is borrowed. One thread at a time uses a TsTopoWork. */
#ifndef TS_TOPO_TOPOLOSS_H
#define TS_TOPO_TOPOLOSS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "ph/diagram.h"

#define TS_TOPO_NLOSS 7

typedef enum TsTopoLossId {
  TS_TOPO_BOTTLENECK0 = 0,
  TS_TOPO_BOTTLENECK1,
  TS_TOPO_PERSENTROPY0,
  TS_TOPO_PERSENTROPY1,
  TS_TOPO_DSIGMA0,
  TS_TOPO_DSIGMA1,
  TS_TOPO_DENSITY
} TsTopoLossId;

/* "bottleneck0", ..., "density"; NULL for an id out of range. */
const char *ts_topo_loss_name(int id);
/* Parses "w0,w1,...,w6" (exactly seven finite numbers, commas or blanks);
 * the message names the problem (`what` is used in it, e.g. "--weights"). */
TsStatus ts_topo_weights_parse(const char *text, const char *what, double weights[TS_TOPO_NLOSS], TsError *err);

typedef struct TsTopoConfig {
  double weights[TS_TOPO_NLOSS]; /* Topo-GEN's default [15, 15, 0, 0, 0, 0, 0] */
  int deg;                       /* 0: H0 only; 1 (default): H0 and H1 */
  int push0_fallback;            /* 1: when no weighted loss depends on X,
                                    the gradient is push0's (default 0) */
  double pers0_delta, pers1_delta;     /* 0.001 */
  double dsigma0_sigma, dsigma1_sigma; /* 0.05 */
  double density_sigma;                /* 0.2 */
  double density_scale;                /* 0.002 */
  double density_maxrange;             /* 35 */
  int density_npoints;                 /* 30 (>= 2) */
} TsTopoConfig;

void ts_topo_config_init(TsTopoConfig *c);

/* A diagram reduced to what the losses read: the finite H0 deaths and the
 * finite H1 pairs, each with its edges when known (-1 otherwise). */
typedef struct TsTopoDiagram {
  size_t n0, n1;
  double *d0;     /* [n0] H0 deaths (births are 0) */
  int32_t *e0;    /* [2 n0] death edge (i, j) */
  double *b1, *d1;/* [n1] */
  int32_t *e1;    /* [4 n1] birth edge (i, j), death edge (k, l) */
  int has_h1;     /* H1 was computed (deg 1 or a file with dim 1 rows) */
  TsDiagram fin;  /* the same pairs as a TsDiagram (H0 first, then H1), for
                     the bottleneck matching */
  size_t cap0, cap1;
} TsTopoDiagram;

void ts_topo_diagram_init(TsTopoDiagram *t);
void ts_topo_diagram_clear(TsTopoDiagram *t);
/* From any diagram (e.g. read by ph/diagram-io.h): essential classes and
 * dimensions above 1 are dropped; edges kept when d->loc is TS_LOC_EDGES.
 * has_h1 = d->maxdim >= 1 or a dim-1 pair is present. */
TsStatus ts_topo_diagram_from(TsTopoDiagram *t, const TsDiagram *d, TsError *err);
/* The Rips diagram of a cloud (float32 rows), dims 0..deg, with edges;
 * pool may be NULL. */
TsStatus ts_topo_diagram_of_cloud(TsTopoDiagram *t, const float *pts, size_t n, size_t dim, int deg, TsPool *pool,
                                  TsError *err);
/* The diagrams of many clouds at once (one per thread of pool: the TopoVAE
 * computes every input batch's diagram before training). out[k] must be
 * initialised. */
TsStatus ts_topo_diagram_batch(TsTopoDiagram *out, const float *const *clouds, const size_t *n, size_t count,
                               size_t dim, int deg, TsPool *pool, TsError *err);

typedef struct TsTopoResult {
  double total;                  /* sum of weights[k] * value[k] over dependent losses */
  int depends;                   /* some weighted loss depends on X */
  double value[TS_TOPO_NLOSS];   /* each weighted loss (0 when not dependent) */
  int dep[TS_TOPO_NLOSS];        /* each loss's depends-on-X flag */
  double push0;                  /* push0 of X (always computed) */
  int used_push0;                /* the gradient is push0's (fallback taken) */
  size_t n0, n1;                 /* X's finite H0 / H1 bars */
  int64_t match[2][2];           /* bottleneck0 / bottleneck1: the longest
                                    matched edge as (X bar, target bar),
                                    indices into the TsTopoDiagrams' H0 or H1
                                    arrays, -1 = the diagonal; {-1, -1} when
                                    that loss was not evaluated */
} TsTopoResult;

typedef struct TsTopoWork TsTopoWork;

/* pool (may be NULL, borrowed) parallelises X's distance matrix and
 * cohomology. */
TsTopoWork *ts_topo_work_new(TsPool *pool, TsError *err);
void ts_topo_work_free(TsTopoWork *w);
/* X's diagram of the last successful call (valid until the next call). */
const TsTopoDiagram *ts_topo_work_diagram(const TsTopoWork *w);

/* The combined loss of X against target (cfg NULL: the defaults). grad (NULL:
 * not computed) receives dL/dX [n, dim]: of the total, or of push0 when the
 * fallback is taken; zero when nothing depends on X. Rejects n < 1, dim < 1,
 * NaN/inf coordinates, bad config values, a target edge out of range is
 * harmless (target edges are never read). */
TsStatus ts_topo_loss(TsTopoWork *w, const float *x, size_t n, size_t dim, const TsTopoDiagram *target,
                      const TsTopoConfig *cfg, float *grad, TsTopoResult *res, TsError *err);
/* The same in double precision (coordinates and gradient); the pairing is
 * still computed from float32 distances, as the engine does. */
TsStatus ts_topo_loss_f64(TsTopoWork *w, const double *x, size_t n, size_t dim, const TsTopoDiagram *target,
                          const TsTopoConfig *cfg, double *grad, TsTopoResult *res, TsError *err);

/* One loss alone (weight 1, the other parameters from cfg or the defaults):
 * its value, its depends-on-X flag and its gradient (NULL: skipped). */
TsStatus ts_topo_loss_one(TsTopoWork *w, TsTopoLossId id, const float *x, size_t n, size_t dim,
                          const TsTopoDiagram *target, const TsTopoConfig *cfg, float *grad, double *value,
                          int *depends, TsError *err);
/* push0 of X and its gradient (NULL: skipped). */
TsStatus ts_topo_push0(TsTopoWork *w, const float *x, size_t n, size_t dim, float *grad, double *value,
                       TsError *err);

#endif
