/* phdim.h — the persistent-homology dimension of a point cloud (as "Topology and
 * geometry of data manifold in deep learning" estimates it): for sample sizes n = n_start, n_start + step, ... < N, draw
 * n points without replacement, E(n) = H0 lifespan sum = sum over the finite
 * H0 bars of 0.5 (d - b)^alpha (Euclidean Rips; the bars are the minimum
 * spanning tree's edges), fit log E = m log n + c by least squares, and
 * PHdim = alpha / (alpha - m). Each size draws from its own random stream
 * (seed, size index), so the result does not depend on the thread count. */
#ifndef TS_PH_PHDIM_H
#define TS_PH_PHDIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"

typedef struct TsPhdimResult {
  double slope, intercept; /* m and c of the fit */
  double phdim;            /* alpha / (alpha - m); +inf when m >= alpha */
  size_t nsizes;
  size_t *n;  /* sample sizes (owned) */
  double *e;  /* E(n) (owned) */
} TsPhdimResult;

/* Sum over finite H0 deaths d of 0.5 d^alpha (all H0 births are 0). */
double ts_phdim_lifespan_sum(const double *deaths, size_t count, double alpha);

/* pts: N rows of dim doubles. Needs at least two sample sizes below N. */
TsStatus ts_phdim_estimate(const double *pts, size_t N, size_t dim, double alpha, size_t n_start, size_t step,
                           uint64_t seed, TsPool *pool, TsPhdimResult *res, TsError *err);
void ts_phdim_result_clear(TsPhdimResult *res);

#endif
