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
  int maxdim;                  /* default ndim - 1 (clamped to it) */
  int superlevel;              /* 1: superlevel sets (negate, report original values) */
  double threshold;            /* cells with value > threshold are absent; default +INFINITY */
  double min_persistence;      /* drop finite pairs with death - birth <= this; default 0 (keep > 0) */
} TsCubicalOptions;

void ts_cubical_options_default(TsCubicalOptions *o);

TsStatus ts_cubical_ph(const double *values, int ndim, const size_t *shape, const TsCubicalOptions *o,
                       TsDiagram *out, TsError *err);

#endif
