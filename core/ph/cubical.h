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
 * global state) or use ts_cubical_ph_batch.
 *
 * ---- How it is computed.
 *
 * **How it is computed.** The pixels are sorted once (a counting sort for
 * integer-valued grids, otherwise an LSD radix sort of 8-byte words: the top
 * bits of each value's order-preserving key above the pixel number, 8-bit
 * digits, as many passes as the pixel count needs — 5 for a megapixel —,
 * keys that tie once truncated put in order by their whole keys afterwards);
 * every cell's value comes from one pixel, and all the algorithms share one
 * total order of cells (pixel rank, dimension, cell slot), so their pairs
 * are those of a single boundary matrix. H0 is union-find with the elder
 * rule in a sweep over the pixels in increasing order. The top dimension d-1
 * is computed by Alexander duality: a sweep in decreasing order runs
 * union-find over the d-cells plus the outside of the grid, each (d-1)-cell
 * joining the cells on its two sides — a 2D image needs no matrix at all.
 * The middle dimensions (H1 of a volume; H1, H2 of 4D grids) use cohomology
 * as Ripser does: columns in decreasing order, coboundaries generated on the
 * fly from the cell's coordinates, clearing (H0's deaths are skipped),
 * emergent pairs (a column whose earliest coface is free pairs at once and
 * is never stored; only columns that needed reducing are kept, compressed:
 * the slots of their cofaces as varint differences, about 2.2 bytes a coface
 * instead of 8, ranks looked up again on use). The sweeps record pairs as
 * two ranks (or two pixels); values and coordinates are filled in at the end
 * in one prefetching pass, reading the input at the pair's pixels.
 *
 * 2D images have two sweeps of their own, mirror images of each other
 * (`core/ph/cubical-pixels.c`, `cubical-squares.c`). V's H0 and T's dual are
 * a union-find over the pixels, each joined to its four neighbours (the
 * frame around the image is the outside); V's dual and T's H0 are a
 * union-find over the squares of four pixels, joined across the edges
 * between pixels (the T complex of f is the dual of the V complex of -f).
 * Either way most pixels cannot merge anything, and they are settled in
 * raster passes instead of the sweep in value order, which visits pixels at
 * random: the eight pixels around p split the earlier ones into arcs that
 * are already one component (N and E are joined through an earlier NE), a
 * pixel with one arc gets an earlier neighbour as its parent (a square born
 * at p gets a square of an older arc), and only pixels where two older arcs
 * meet — 28% of white noise, under 1% of a smooth field — are swept in value
 * order, with one find per arc, branch-free joins and two-stage prefetching.
 * By induction on the rank the union-find holds the right components
 * whenever the sweep reaches such a pixel: every join skipped was between
 * pixels already connected. The raster passes run eight pixels at a time
 * with AVX2 where the CPU has it (`TOPOSCOPE_NO_AVX2=1` takes the scalar
 * loops, which the tests also run); the sort's two key buffers become the
 * two sweeps' union-find nodes, and the sweeps run at once on two threads
 * when there are two (`toposcope ph` with one input, the workbench). The big
 * arrays read at random are in transparent huge pages. A caller may pass a
 * cancel flag (`TsCubicalOptions.cancel`): every sweep looks at it each 64K
 * pixels and stops with `TS_ERR_CANCELLED`. Nothing is stored per cell but
 * four bits of pivot table per cell of the dimension above (which of the
 * pivot's faces owns it): 2D uses 8 bytes of ranks and order per pixel, 16
 * of union-find and one of arcs; memory is dominated by the input and the
 * diagram. `toposcope ph` has glibc serve large blocks from mmap, so what
 * realloc leaves behind is returned at once.
 */
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
