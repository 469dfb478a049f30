/* lifespan.h — the topology of a layer's embedding, as the layer-topology
 * study measures it: lifespan sums of the Rips bars of a layer's outputs,
 * per class or global.
 *
 * An embedding is count x dim floats (one row per sample: a conv layer's
 * globally average-pooled channels, a dense layer's units). It is min-max
 * scaled per feature over all rows ((x - min) / (max - min); a constant
 * feature becomes 0), and the Euclidean Vietoris-Rips persistence of the
 * rows (no threshold) gives, per homology dimension q (0 and optionally
 * 1), the lifespan sum L_q = sum over the finite bars of 0.5 (d - b)^alpha.
 *   global mode: one Rips over all rows;
 *   local mode:  per class, the first per_class rows of that class (in row
 *                order), L_q averaged over the classes that have rows.
 *                The original code loops over classes 0..8 only (an off-by-one
 *                for ten classes); classes_0_8 = 1 reproduces that.
 * The PH dimension of the layer uses the unscaled rows (ph/phdim.h). */
#ifndef TS_PROBE_LIFESPAN_H
#define TS_PROBE_LIFESPAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "ph/diagram.h"

typedef struct TsLifespanOptions {
  int maxdim;       /* 0: H0 only (default); 1: H0 and H1 */
  double alpha;     /* exponent, default 1 */
  int local;        /* 1: per class and averaged (default); 0: global */
  int per_class;    /* rows per class in local mode (default 250) */
  int classes_0_8;  /* local mode over classes 0..8 only (the original code's loop) */
  TsPool *pool;     /* threads for H1 (NULL: serial) */
} TsLifespanOptions;

void ts_lifespan_options_init(TsLifespanOptions *o);

/* Lifespan sums of emb (count x dim, row-major) into sums[0..maxdim];
 * labels (count) and num_classes are used in local mode. diag (NULL, or an
 * initialised diagram) receives the bars the sums come from, in dims
 * 0..maxdim, essential ones with death +inf: in global mode the one Rips
 * diagram, in local mode the per-class diagrams one after another (class
 * 0 first), so it holds one essential H0 class per class. */
TsStatus ts_probe_lifespans(const float *emb, size_t count, size_t dim, const int32_t *labels, int num_classes,
                            const TsLifespanOptions *o, double sums[2], TsDiagram *diag, TsError *err);

/* Min-max scaling per feature, in place (count x dim doubles). */
void ts_probe_minmax(double *x, size_t count, size_t dim);

#endif
