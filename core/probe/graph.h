/* graph.h — functional graphs of a network (dnn-topology's construction).
 *
 * Nodes are units (or groups of units, see capture.h); a unit's signal is
 * its activation over the same N inputs. The weight of an edge is the
 * absolute Pearson correlation of two signals (a constant signal
 * correlates 0 with everything), its length 1 - |r|. The Vietoris-Rips
 * filtration of that metric, with the edges of length <= 2 T (T =
 * dnn-topology's MAX_EPSILON, default 0.3) and homology in dims
 * 0..maxdim (default 2), is what DIPHA computes there on the sparse
 * distance matrix; DIPHA reports each value halved (its filtration value
 * of a simplex is half its diameter), and so do the summaries here:
 *   - pairs: essential classes dropped, values rounded to 4 decimals,
 *     pairs with persistence <= min_persistence (0.02) dropped;
 *   - Betti curve per dim: beta(x) = #births <= x - #deaths <= x at the
 *     sorted event values, moving average over a window of a tenth of
 *     their number (scipy's uniform_filter1d, zero outside; kept in
 *     double, where dnn-topology's int array truncates), then read at the
 *     event value nearest to each point of linspace(0.05, 0.4, 200);
 *   - average life mean(d - b) and midlife mean((b + d) / 2) per dim
 *     (dnn-topology's code computes mean(d + b / 2); midlife_original).
 * Dims with no pair left get NaN life and midlife and a zero curve. */
#ifndef TS_PROBE_GRAPH_H
#define TS_PROBE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "ph/diagram.h"
#include "ph/rips.h"

#define TS_GRAPH_GRID 200
#define TS_GRAPH_GRID_LO 0.05
#define TS_GRAPH_GRID_HI 0.4
#define TS_GRAPH_MAXDIM 3

/* x rounded to the nearest float16 (ties to even) and back, as numpy's
 * astype(float16); out-of-range values become +-inf. */
float ts_probe_to_half(float x);

/* The correlation distances of `units` signals of length n (row-major,
 * units x n) into out, a dense TsRipsDist (lower triangle, initialised by
 * this call): d(i, j) = 1 - |r(i, j)|, clamped to [0, 1]. One SGEMM per
 * row panel (nn/blas.h) on pool's threads. */
TsStatus ts_probe_correlation(const float *signals, size_t units, size_t n, TsPool *pool, TsRipsDist *out,
                              TsError *err);

/* The same matrix computed by every rank of an MPI job (run/dist.h), each
 * its share of the rows, gathered on rank 0. Every rank calls it with the
 * same signals. The rows go in panels of 128, each one SGEMM of its rows
 * against all rows before them, as ts_probe_correlation makes them: so
 * rank 0's matrix is one process's bit for bit, whatever the ranks. A
 * rank's share is a contiguous run of panels holding about 1/size of the
 * triangle's elements (row i costs i, so equal row counts would leave the
 * last rank most of the work). Rank 0 holds the whole triangle
 * (units^2 / 2 floats); the others only their rows, freed before return,
 * and their *out is left empty. A failure on any rank fails every rank.
 * Alone: ts_probe_correlation. */
TsStatus ts_probe_correlation_dist(const float *signals, size_t units, size_t n, TsPool *pool, TsRipsDist *out,
                                   TsError *err);
/* Rows [*row_begin, *row_end) of rank `rank` of `size` above. */
void ts_probe_correlation_split(size_t units, int rank, int size, size_t *row_begin, size_t *row_end);

typedef struct TsGraphOptions {
  double max_epsilon;     /* T: edges up to 2 T (default 0.3) */
  int maxdim;             /* default 2 */
  double min_persistence; /* default 0.02 (halved units) */
  int midlife_original;   /* mean(d + b/2) as dnn-topology's code */
  TsPool *pool;
} TsGraphOptions;

void ts_graph_options_init(TsGraphOptions *o);

typedef struct TsGraphSummary {
  int maxdim;
  size_t pairs[TS_GRAPH_MAXDIM];           /* after the filters */
  double avglife[TS_GRAPH_MAXDIM];
  double midlife[TS_GRAPH_MAXDIM];
  double betti[TS_GRAPH_MAXDIM][TS_GRAPH_GRID];
} TsGraphSummary;

/* The grid point j of the Betti curves. */
double ts_graph_grid(int j);

/* Rips of dist under o into diag (distance units, not halved; initialised
 * diagram) and, when sum is not NULL, the summaries above. */
TsStatus ts_probe_graph_ph(const TsRipsDist *dist, const TsGraphOptions *o, TsDiagram *diag, TsGraphSummary *sum,
                           TsError *err);
/* The summaries of a diagram in distance units (halved here). */
void ts_probe_graph_summarize(const TsDiagram *diag, const TsGraphOptions *o, TsGraphSummary *sum);

#endif
