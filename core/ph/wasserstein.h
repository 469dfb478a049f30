/* wasserstein.h — the p-Wasserstein distance between persistence diagrams.
 *
 * W_p(A, B) = (min over matchings of sum |a - m(a)|_q^p)^(1/p), points
 * allowed to go to the diagonal, with the ground metric q = L-inf (default,
 * as GUDHI's internal_p = inf) or L2. The diagonal cost of (b, d) is
 * (d - b)/2 for L-inf and (d - b)/sqrt(2) for L2.
 *
 * Two solvers on the diagonal-augmented assignment problem (n + m rows):
 *  - exact (relative_error = 0): the Hungarian method with shortest
 *    augmenting paths and potentials, O((n+m)^3) in the worst case;
 *  - auction with epsilon scaling (relative_error = delta > 0): stops when
 *    the eps-complementary-slackness bound guarantees
 *    cost <= (1 + delta) * optimum (on the sum of p-th powers), so the
 *    distance is within a factor (1 + delta)^(1/p). Bidders that are
 *    projections find their two cheapest diagonal objects in a heap.
 * Essential classes are matched per dimension by sorted births
 * (sum |b - b'|^p; infinite when the counts differ); diagonal pairs cost 0. */
#ifndef TS_PH_WASSERSTEIN_H
#define TS_PH_WASSERSTEIN_H

#include "base/error.h"
#include "ph/diagram.h"
#include "ph/matching.h"

typedef enum TsGround { TS_GROUND_LINF = 0, TS_GROUND_L2 } TsGround;

typedef struct TsWassersteinOptions {
  double p;              /* order, >= 1 (default 2) */
  TsGround ground;       /* default L-inf */
  double relative_error; /* 0: exact (default) */
} TsWassersteinOptions;

void ts_wasserstein_options_default(TsWassersteinOptions *o);

/* dim >= 0: that dimension; dim < 0: all (the p-th powers add up).
 * m (may be NULL) receives the matching found (initialised by the call). */
TsStatus ts_wasserstein_distance(const TsDiagram *a, const TsDiagram *b, int dim, const TsWassersteinOptions *o,
                                 double *dist, TsMatching *m, TsError *err);

#endif
