/* cubical.h — persistent homology of 1- to 4-dimensional grids.
 *
 * Sublevel (or superlevel) filtrations of a scalar grid over Z/2, in the
 * V-construction (grid points are vertices, CubicalRipser's convention) or
 * the T-construction (grid points are top cells, GUDHI's
 * top_dimensional_cells). Every pair carries the grid coordinates of the
 * value that creates it and the one that kills it (TS_LOC_CELLS).
 *
 * Values are float64 in C order; shape[0] is the slowest axis, and
 * coordinates in the diagram are indices along axes 0..ndim-1. NaN is an
 * error. Many grids at once: call from several threads (the engine keeps no
 * global state) or use ts_cubical_ph_batch. */
#ifndef TS_PH_CUBICAL_H
#define TS_PH_CUBICAL_H

#include <stddef.h>

#include "base/error.h"
#include "base/pool.h"
#include "ph/diagram.h"

typedef enum TsConstruction { TS_CONSTRUCTION_V = 0, TS_CONSTRUCTION_T } TsConstruction;

typedef struct TsCubicalOptions {
  TsConstruction construction; /* default V */
  int maxdim;                  /* default -1: ndim - 1 (larger values are clamped to it) */
  int superlevel;              /* 1: superlevel sets (negate, report original values) */
  double threshold;            /* cells with value > threshold are absent; default +INFINITY */
  double min_persistence;      /* drop finite pairs with death - birth <= this; default 0 (keep > 0) */
  TsPool *pool;                /* NULL (default): one thread; else a 2D grid runs its H0 and H1 sweeps
                                  at once on two of the pool's threads */
  const volatile int *cancel;  /* NULL (default), or a flag another thread may set: the sweeps look at it
                                  every 64K pixels and stop with TS_ERR_CANCELLED (no pairs) */
} TsCubicalOptions;

void ts_cubical_options_default(TsCubicalOptions *o);

/* out must be initialised (ts_diagram_init); its pairs are replaced. Pairs
 * come grouped by dimension, unsorted (ts_diagram_sort for the canonical
 * order). Zero-persistence pairs are never reported. Superlevel: birth >=
 * death in the reported (original) values, essential deaths are -INFINITY,
 * and a threshold T drops cells with value < T (the default +INFINITY means
 * no threshold there too). maxdim -1 (the default) means ndim - 1. */
TsStatus ts_cubical_ph(const double *values, int ndim, const size_t *shape, const TsCubicalOptions *o,
                       TsDiagram *out, TsError *err);

/* Homology of count grids of one shape (values[i]: prod(shape) float64
 * each), in parallel over pool (NULL: serially on the caller's thread).
 * outs[0..count-1] must be initialised. On failure every grid is still
 * tried; the error of the first failing one is reported ("grid 12: ..."). */
TsStatus ts_cubical_ph_batch(const double *const *values, size_t count, int ndim, const size_t *shape,
                             const TsCubicalOptions *o, TsDiagram *outs, TsPool *pool, TsError *err);

#endif
