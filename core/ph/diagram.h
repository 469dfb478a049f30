/* diagram.h — persistence diagrams: the one type every homology engine
 * fills and every vectorisation, distance, file format and plot reads.
 *
 * A pair is (dim, birth, death) with death = +INFINITY for an essential
 * class, plus where it happens: for cubical homology the grid coordinates of
 * the cell value that creates and the one that kills it (so
 * value[death_at] - value[birth_at] = death - birth; -1 where unused, e.g.
 * the death of an essential class); for Rips the vertex pair (i, j) of the
 * longest edge of the birth simplex and of the death simplex (third and
 * fourth entries -1). `loc` says which. */
#ifndef TS_PH_DIAGRAM_H
#define TS_PH_DIAGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum TsLocKind {
  TS_LOC_NONE = 0,  /* no locations (read from a plain file) */
  TS_LOC_CELLS,     /* cubical: at[k] = index along array axis k */
  TS_LOC_EDGES      /* Rips: at[0], at[1] = vertices of the edge */
} TsLocKind;

typedef struct TsPair {
  double birth, death;
  int32_t dim;
  int32_t birth_at[4];
  int32_t death_at[4];
} TsPair;

typedef struct TsDiagram {
  TsPair *pairs; /* owned */
  size_t n, cap;
  TsLocKind loc;
  int maxdim; /* highest dimension computed (pairs may be absent in it) */
} TsDiagram;

void ts_diagram_init(TsDiagram *d);
void ts_diagram_clear(TsDiagram *d);
TsStatus ts_diagram_reserve(TsDiagram *d, size_t cap, TsError *err);
/* Appends a pair without locations (all -1). */
TsStatus ts_diagram_add(TsDiagram *d, int dim, double birth, double death, TsError *err);
TsStatus ts_diagram_push(TsDiagram *d, const TsPair *p, TsError *err);
/* Number of pairs in dimension dim (essential ones included). */
size_t ts_diagram_count(const TsDiagram *d, int dim);
size_t ts_diagram_count_essential(const TsDiagram *d, int dim);
/* Sorts by (dim, birth, death): the canonical order of files and tests. */
void ts_diagram_sort(TsDiagram *d);
/* Removes pairs with death - birth <= min_persistence (essential kept). */
void ts_diagram_filter_persistence(TsDiagram *d, double min_persistence);
/* Deep copy into dst (initialised or cleared first). */
TsStatus ts_diagram_copy(TsDiagram *dst, const TsDiagram *src, TsError *err);

#endif
