/* cubical-h0.c — H0 by union-find with the elder rule.
 *
 * Pixels are swept in increasing rank; at each pixel the vertices and edges
 * whose rank it is are added in the shared cell order. The root of every
 * component is its oldest vertex, so its birth is the root's own rank and no
 * per-root data is kept. An edge that joins two components kills the younger
 * one (a pair) and is negative: it is marked so that the cohomology of
 * dimension 1 skips it (clearing).
 * 2D grids without a middle dimension go to cub_pixel_sweep and
 * cub_square_sweep. */
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

static inline uint32_t uf_find(uint32_t *par, uint32_t x) {
  while (par[x] != x) {
    par[x] = par[par[x]];
    x = par[x];
  }
  return x;
}

/* Joins the components of a and b (node ranks nrank); returns the younger
 * root that died, or UINT32_MAX if they were one component. */
static inline uint32_t uf_join_elder(uint32_t *par, const uint32_t *nrank, uint32_t a, uint32_t b) {
  a = uf_find(par, a);
  b = uf_find(par, b);
  if (a == b) return UINT32_MAX;
  if (nrank[a] < nrank[b]) {
    par[b] = a;
    return b;
  }
  par[a] = b;
  return a;
}

TsStatus cub_h0(CubGrid *g, uint8_t *negative_edges) {
  /* 2D: V's pixels joined to their four neighbours, T's squares (the
   * vertices where four pixels meet) across its edges */
  if (g->pw && !negative_edges) return g->T ? cub_square_sweep(g, 0) : cub_pixel_sweep(g, 0);
  /* Vertex nodes live in the lattice of cell bases: pixels for V, corners for T. */
  size_t nn = g->nlat;
  uint32_t *par = ts_alloc_array(nn, sizeof *par, "cubical union-find", g->err);
  uint32_t *nrank = g->T ? ts_alloc_array(nn, sizeof *nrank, "cubical union-find", g->err) : g->rank;
  if (!par || !nrank) {
    free(par);
    if (g->T) free(nrank);
    return TS_ERR_NOMEM;
  }
  if (g->T)
    for (size_t i = 0; i < nn; i++) nrank[i] = CUB_INF_RANK;
  const CubPattern *pv = g->pat[0], *pe = g->pat[1];
  int nv = g->npat[0], ne = g->npat[1], d = g->d;
  for (uint32_t r = 0; r < g->cutoff; r++) {
    if (cub_cancelled(g, r)) {
      free(par);
      if (g->T) free(nrank);
      return cub_cancel_error(g);
    }
    size_t p = g->order[r], x[CUB_MAXD], cc[CUB_MAXD];
    if (r + CUB_PREFETCH < g->cutoff) {
      size_t q = g->order[r + CUB_PREFETCH];
      cub_prefetch_block(g, g->rank, sizeof *g->rank, q);
      if (!g->T) cub_prefetch_block(g, par, sizeof *par, q); /* V: nodes are the pixels */
    }
    uint32_t b = cub_bmask(g, p, x);
    for (int j = 0; j < nv; j++) {
      if (!cub_pattern_hit(g, &pv[j], p, r, b)) continue;
      for (int i = 0; i < d; i++) cc[i] = 2 * x[i] + (size_t)g->T + (size_t)(int64_t)pv[j].o[i];
      uint32_t s = (uint32_t)cub_cell_slot(g, cc);
      par[s] = s;
      nrank[s] = r; /* for V this is rank[p] already */
    }
    for (int j = 0; j < ne; j++) {
      if (!cub_pattern_hit(g, &pe[j], p, r, b)) continue;
      int axis = 0;
      for (int i = 0; i < d; i++) {
        cc[i] = 2 * x[i] + (size_t)g->T + (size_t)(int64_t)pe[j].o[i];
        if (cc[i] & 1) axis = i;
      }
      uint64_t es = cub_cell_slot(g, cc);
      uint32_t a = (uint32_t)(es / (uint64_t)g->orient_count[1]);
      /* The two endpoints: bases of cc with the odd axis rounded down and up. */
      uint32_t ea = a, eb = a + (uint32_t)g->latstride[axis];
      uint32_t dead = uf_join_elder(par, nrank, ea, eb);
      if (dead != UINT32_MAX) {
        cub_emit(g, 0, nrank[dead], r);
        if (negative_edges) negative_edges[es >> 3] |= (uint8_t)(1u << (es & 7));
      }
    }
  }
  for (size_t s = 0; s < nn; s++)
    if (nrank[s] < g->cutoff && par[s] == s) cub_emit(g, 0, nrank[s], CUB_INF_RANK);
  free(par);
  if (g->T) free(nrank);
  return TS_OK;
}
