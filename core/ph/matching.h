/* matching.h — a matching between two persistence diagrams, as the
 * bottleneck and Wasserstein distances return it (for the GUI's matching
 * view and, later, for gradients through the matched pairs).
 *
 * Each edge names a pair of A (index into a->pairs) and a pair of B, or -1
 * for the diagonal (the point is matched to its projection). Every
 * off-diagonal pair of the dimensions compared appears in exactly one edge;
 * pairs on the diagonal (birth == death) appear matched to the diagonal at
 * cost 0. `cost` is the ground distance of the edge (L-inf or L2; the
 * diagonal cost is the distance to the closest diagonal point; essential
 * classes cost |birth_a - birth_b|). */
#ifndef TS_PH_MATCHING_H
#define TS_PH_MATCHING_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ph/diagram.h"

typedef struct TsMatchEdge {
  int64_t a, b; /* pair indices, -1 = diagonal */
  double cost;
} TsMatchEdge;

typedef struct TsMatching {
  TsMatchEdge *edges; /* owned */
  size_t n, cap;
} TsMatching;

void ts_matching_init(TsMatching *m);
void ts_matching_clear(TsMatching *m);
TsStatus ts_matching_add(TsMatching *m, int64_t a, int64_t b, double cost, TsError *err);
/* Writes `dim,a,b,a_birth,a_death,b_birth,b_death,cost` lines (indices -1
 * and empty coordinates for the diagonal). */
TsStatus ts_matching_write_csv(const char *path, const TsMatching *m, const TsDiagram *a, const TsDiagram *b,
                               TsError *err);

/* --- shared by the distances ------------------------------------------ */

/* One dimension of one diagram split the way distances treat it: finite
 * off-diagonal points (xy[2i], xy[2i+1] = birth, death; idx[i] its pair),
 * essential classes sorted by birth (ess[i] = pair index). */
typedef struct TsMatchSide {
  size_t n, ness;
  double *xy;
  int64_t *idx, *ess;
} TsMatchSide;

/* Fills s from the pairs of dimension dim; pairs on the diagonal are added
 * to m (if not NULL) as matched to the diagonal at cost 0 (side 0: they
 * belong to A, side 1: to B). */
TsStatus ts_match_side_init(TsMatchSide *s, const TsDiagram *d, int dim, int side, TsMatching *m, TsError *err);
void ts_match_side_clear(TsMatchSide *s);
/* Highest dimension with a pair in a or b (-1 if both are empty). */
int ts_match_maxdim(const TsDiagram *a, const TsDiagram *b);

#endif
