/* bottleneck.h — the exact bottleneck distance between persistence diagrams.
 *
 * d_B(A, B) = min over matchings (points may go to the diagonal) of the
 * largest L-inf edge; the diagonal cost of (b, d) is (d - b) / 2.
 *
 * Exact: the answer is the smallest double r at which the threshold graph
 * has a perfect matching — found by bisection over the bit patterns of
 * doubles (so it is one of the computed candidate distances), each test a
 * Hopcroft–Karp run on the diagonal-augmented graph whose neighbour queries
 * go through a uniform grid of cell size r; visited points are removed from
 * the grid during each BFS, so dense clusters and high multiplicities cost
 * little; each test starts from the largest matching found below it.
 *
 * Essential classes (death = +inf) are matched separately, dimension by
 * dimension, by sorted births: the distance is infinite when their counts
 * differ. Pairs on the diagonal are matched to it at cost 0. */
#ifndef TS_PH_BOTTLENECK_H
#define TS_PH_BOTTLENECK_H

#include "base/error.h"
#include "ph/diagram.h"
#include "ph/matching.h"

/* dim >= 0 compares that dimension only; dim < 0 every dimension present
 * (each separately; the distance is the largest). m (may be NULL) receives
 * an optimal matching (initialised by the call). */
TsStatus ts_bottleneck_distance(const TsDiagram *a, const TsDiagram *b, int dim, double *dist, TsMatching *m,
                                TsError *err);

#endif
