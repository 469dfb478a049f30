/* rips.h — Vietoris–Rips persistent homology of finite metric spaces: point
 * clouds, distance matrices and weighted graphs, with representative edges.
 *
 * The algorithm is Ripser's (Bauer 2021): H0 by union-find over the sorted
 * edges; higher dimensions by persistent cohomology with clearing, implicit
 * coboundaries over the combinatorial number system, apparent and emergent
 * pairs; without a threshold the filtration is cut at the enclosing radius
 * (beyond it the complex is a cone, so no pair is lost). Coefficients Z/2 by
 * default, Z/p for a prime p < 2^15 as an option. Distances are float32, as
 * in Ripser (diagram values are their exact float values widened to double).
 *
 * Every diagram this module fills has loc = TS_LOC_EDGES:
 *  - dim 0: birth_at = {v, -1}, v the smallest vertex of the component that
 *    dies (all births are 0); death_at = {i, j}, the edge that merges it;
 *    the essential class (one per connected component) has death +inf and
 *    death_at = {-1, -1}.
 *  - dim >= 1: birth_at = {i, j}, the longest edge of the simplex whose
 *    addition creates the class (|x_i - x_j| = birth), death_at = {i, j}
 *    the longest edge of the simplex that kills it (|x_i - x_j| = death);
 *    essential classes (possible only with a threshold or a sparse graph)
 *    have death +inf and death_at = {-1, -1}.
 * Pairs with death == birth are not reported. The diagram is sorted with
 * ts_diagram_sort. */
#ifndef TS_PH_RIPS_H
#define TS_PH_RIPS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "ph/diagram.h"

typedef enum TsRipsMetric {
  TS_RIPS_EUCLIDEAN = 0,
  TS_RIPS_MANHATTAN,
  TS_RIPS_CHEBYSHEV,
  TS_RIPS_COSINE,     /* 1 - <x,y> / (|x| |y|) */
  TS_RIPS_CORRELATION /* 1 - |Pearson(x, y)| (functional graphs); constant rows: r = 0 */
} TsRipsMetric;

typedef enum TsRipsFormat {
  TS_RIPS_POINTS = 0,  /* one point a line, coordinates separated by commas or blanks */
  TS_RIPS_DISTANCE,    /* full n x n matrix, one row a line */
  TS_RIPS_LOWER,       /* lower triangle without diagonal: d10, d20 d21, ... (any layout) */
  TS_RIPS_UPPER,       /* upper triangle without diagonal: d01 d02 ... d12 ... (any layout) */
  TS_RIPS_SPARSE,      /* "i j d" lines: an edge list; absent edges never enter */
  TS_RIPS_DIPHA        /* DIPHA binary distance matrix (magic 8067171840, type 7) */
} TsRipsFormat;

/* Parses names as the CLI writes them ("points" or "point-cloud", "distance",
 * "lower-distance", "upper-distance", "sparse", "dipha"); -1 if unknown. */
int ts_rips_format_parse(const char *name);
int ts_rips_metric_parse(const char *name);
const char *ts_rips_metric_name(TsRipsMetric m);

/* A finite metric space: either a dense compressed lower triangle
 * (lower[i*(i-1)/2 + j] = d(i, j) for i > j; +inf = no edge) or, when lower
 * is NULL, a sparse edge list. Owns its arrays. */
typedef struct TsRipsDist {
  int32_t n;
  float *lower;
  size_t nedges;
  int32_t *ei, *ej;
  float *ed;
} TsRipsDist;

void ts_rips_dist_init(TsRipsDist *d);
void ts_rips_dist_clear(TsRipsDist *d);

/* Distances between the n rows (dim coordinates each, row-major) of pts.
 * Rows are computed in parallel on pool (NULL: serially). Rejects NaN and
 * infinite coordinates, n < 1, dim < 1, and n beyond what 64-bit simplex
 * indices can address. */
TsStatus ts_rips_dist_from_points(TsRipsDist *out, const double *pts, size_t n, size_t dim,
                                  TsRipsMetric metric, TsPool *pool, TsError *err);
TsStatus ts_rips_dist_from_pointsf(TsRipsDist *out, const float *pts, size_t n, size_t dim,
                                   TsRipsMetric metric, TsPool *pool, TsError *err);
/* From a full symmetric matrix (row-major n x n): checks square, symmetric,
 * zero diagonal, no NaN, no negative entry. */
TsStatus ts_rips_dist_from_matrix(TsRipsDist *out, const double *m, size_t n, TsError *err);

/* Reads a file in one of the formats above (for TS_RIPS_POINTS the metric
 * turns rows into distances). Errors name the file, the line and the problem
 * (ragged rows, a non-number, NaN, a negative distance, a non-square matrix,
 * a triangle whose length is not n(n-1)/2, a vertex index out of range). */
TsStatus ts_rips_dist_read(TsRipsDist *out, const char *path, TsRipsFormat format,
                           TsRipsMetric metric, TsPool *pool, TsError *err);
/* Reads points only (rows x cols, row-major doubles, caller frees *pts). */
TsStatus ts_rips_points_read(const char *path, double **pts, size_t *n, size_t *dim, TsError *err);

typedef struct TsRipsOptions {
  int maxdim;          /* highest homology dimension (default 1) */
  double threshold;    /* keep simplices of diameter <= threshold; INFINITY
                          (default): cut at the enclosing radius (dense input)
                          or keep every edge (sparse input) */
  int modulus;         /* prime coefficient field (default 2) */
  TsPool *pool;        /* threads for assembling columns (NULL: serial) */
} TsRipsOptions;

void ts_rips_options_init(TsRipsOptions *o);

/* Persistent homology in dims 0..opts->maxdim into out (an initialised
 * diagram; cleared first, empty on failure). opts NULL: the defaults. */
TsStatus ts_rips_ph(const TsRipsDist *dist, const TsRipsOptions *opts, TsDiagram *out, TsError *err);

/* Euclidean Rips PH of a small point cloud in one call (the topological
 * losses use it on batches of a few hundred points): rows of pts are points. */
TsStatus ts_rips_ph_points(const double *pts, size_t n, size_t dim, const TsRipsOptions *opts,
                           TsDiagram *out, TsError *err);
TsStatus ts_rips_ph_pointsf(const float *pts, size_t n, size_t dim, const TsRipsOptions *opts,
                            TsDiagram *out, TsError *err);

/* Many clouds at once, one per task on pool (each cloud serial inside):
 * clouds[k] has n[k] rows of dim floats; out[k] (need not be initialised)
 * receives its diagram, owned by the caller. The first failure (by cloud
 * index) is reported, naming the cloud, and then every out[k] is empty. */
TsStatus ts_rips_ph_batchf(const float *const *clouds, const size_t *n, size_t count, size_t dim,
                           const TsRipsOptions *opts, TsPool *pool, TsDiagram *out, TsError *err);

/* H0 only, by Prim's algorithm on the fly (O(n^2 dim) time, O(n) memory):
 * the n-1 finite death values (MST edge lengths, Euclidean) into deaths
 * (caller's array of n-1). */
TsStatus ts_rips_h0_deaths(const double *pts, size_t n, size_t dim, double *deaths, TsError *err);

#endif
