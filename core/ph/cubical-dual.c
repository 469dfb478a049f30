/* cubical-dual.c — the top dimension d-1 by Alexander duality.
 *
 * In the d-ball the classes of H_{d-1} of a sublevel set are the bounded
 * components of its complement. So pixels are swept in decreasing rank and
 * the complement grows: each d-cell is a node of a union-find, the outside
 * of the grid one more node that is never born (rank "infinite"), and each
 * (d-1)-cell joins the (one or two) d-cells it bounds. A join of two
 * components is, read forwards, a (d-1)-cell creating a class that the
 * younger component's first d-cell (its highest) fills: the elder rule run
 * backwards, no matrix at all. Cells beyond the threshold are born
 * "infinite" too, so a class that the kept complex never fills comes out
 * essential. 2D grids take specialised loops (cubical-pixels.c,
 * cubical-squares.c). */
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

/* Joins the components of a and b, the elder (higher rank) surviving, and
 * emits the pair if the cell of rank r is present. */
static inline void join(CubGrid *g, uint32_t *par, const uint32_t *nrank, uint32_t a, uint32_t b, uint32_t r,
                        int dim) {
  a = uf_find(par, a);
  b = uf_find(par, b);
  if (a == b) return;
  uint32_t young;
  if (nrank[a] < nrank[b]) {
    young = a;
    par[a] = b;
  } else {
    young = b;
    par[b] = a;
  }
  if (r >= g->cutoff) return;
  uint32_t yr = nrank[young];
  cub_emit(g, dim, r, yr >= g->cutoff ? CUB_INF_RANK : yr);
}

static TsStatus dual_generic(CubGrid *g) {
  size_t nn = g->nlat;
  uint32_t *par = ts_alloc_array(nn + 1, sizeof *par, "cubical union-find", g->err);
  uint32_t *nrank = ts_alloc_array(nn + 1, sizeof *nrank, "cubical union-find", g->err);
  if (!par || !nrank) {
    free(par);
    free(nrank);
    return TS_ERR_NOMEM;
  }
  int d = g->d;
  uint32_t ext = (uint32_t)nn;
  par[ext] = ext;
  nrank[ext] = CUB_INF_RANK;
  const CubPattern *pt = g->pat[d], *pf = g->pat[d - 1];
  int nt = g->npat[d], nf = g->npat[d - 1];
  for (size_t rr = g->npix; rr-- > 0;) {
    if (cub_cancelled(g, rr)) {
      free(par);
      free(nrank);
      return cub_cancel_error(g);
    }
    uint32_t r = (uint32_t)rr;
    size_t p = g->order[rr], x[CUB_MAXD], cc[CUB_MAXD];
    if (rr >= CUB_PREFETCH) {
      size_t q = g->order[rr - CUB_PREFETCH];
      cub_prefetch_block(g, g->rank, sizeof *g->rank, q);
      if (!g->T) { /* V: the top cells are numbered by their lowest pixel */
        cub_prefetch_block(g, par, sizeof *par, q);
        cub_prefetch_block(g, nrank, sizeof *nrank, q);
      }
    }
    uint32_t b = cub_bmask(g, p, x);
    for (int j = 0; j < nt; j++) {
      if (!cub_pattern_hit(g, &pt[j], p, r, b)) continue;
      for (int i = 0; i < d; i++) cc[i] = 2 * x[i] + (size_t)g->T + (size_t)(int64_t)pt[j].o[i];
      uint32_t s = (uint32_t)cub_cell_slot(g, cc); /* C(d, d) = 1 */
      par[s] = s;
      nrank[s] = r;
    }
    for (int j = nf - 1; j >= 0; j--) {
      if (!cub_pattern_hit(g, &pf[j], p, r, b)) continue;
      int axis = 0;
      for (int i = 0; i < d; i++) {
        cc[i] = 2 * x[i] + (size_t)g->T + (size_t)(int64_t)pf[j].o[i];
        if (!(cc[i] & 1)) axis = i;
      }
      /* The d-cells on either side along the even axis, or the outside. */
      uint32_t side[2];
      size_t c0 = cc[axis];
      for (int s = 0; s < 2; s++) {
        if ((s == 0 && c0 == 0) || (s == 1 && c0 + 1 >= g->m[axis])) {
          side[s] = ext;
          continue;
        }
        cc[axis] = s ? c0 + 1 : c0 - 1;
        side[s] = (uint32_t)cub_cell_slot(g, cc);
      }
      cc[axis] = c0;
      join(g, par, nrank, side[0], side[1], r, d - 1);
    }
  }
  free(par);
  free(nrank);
  return TS_OK;
}

TsStatus cub_top_dual(CubGrid *g) {
  /* 2D: for T the complement's pixels joined to their four neighbours and
   * to the outside (an edge belongs to the lower of its pixels), for V its
   * squares joined across the edges */
  if (g->pw) return g->T ? cub_pixel_sweep(g, 1) : cub_square_sweep(g, 1);
  return dual_generic(g);
}
