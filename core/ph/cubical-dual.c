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
 * essential. 2D grids take specialised loops. */
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

/* The sweeps visit pixels in value order, i.e. at random: fetch the rows
 * around the pixel PREFETCH steps ahead so that the loads overlap. */
#define PREFETCH 12
static inline void prefetch_rows(const uint32_t *a, uint32_t q, size_t W, size_t n) {
  __builtin_prefetch(&a[q]);
  if (q >= W) __builtin_prefetch(&a[q - W]);
  if (q + W < n) __builtin_prefetch(&a[q + W]);
}

/* V, 2D: squares are the nodes (indexed by their top-left pixel). */
static TsStatus dual_v2d(CubGrid *g) {
  size_t H = g->n[0], W = g->n[1], n = g->npix;
  const uint32_t *rank = g->rank;
  uint32_t *par = ts_alloc_array(n + 1, sizeof *par, "cubical union-find", g->err);
  uint32_t *nrank = ts_alloc_array(n + 1, sizeof *nrank, "cubical union-find", g->err);
  if (!par || !nrank) {
    free(par);
    free(nrank);
    return TS_ERR_NOMEM;
  }
  uint32_t ext = (uint32_t)n, w = (uint32_t)W;
  par[ext] = ext;
  nrank[ext] = CUB_INF_RANK;
  for (size_t rr = n; rr-- > 0;) {
    uint32_t r = (uint32_t)rr, p = g->order[rr];
    if (rr >= PREFETCH) {
      uint32_t q = g->order[rr - PREFETCH];
      prefetch_rows(rank, q, W, n);
      prefetch_rows(par, q, W, n);
      prefetch_rows(nrank, q, W, n);
    }
    size_t y = p / W, x = p - y * W;
    int up = y > 0, dn = y + 1 < H, lf = x > 0, rt = x + 1 < W;
    /* Squares whose highest vertex is p are born. */
    if (up && lf && rank[p - 1] < r && rank[p - w] < r && rank[p - w - 1] < r) {
      par[p - w - 1] = p - w - 1;
      nrank[p - w - 1] = r;
    }
    if (up && rt && rank[p + 1] < r && rank[p - w] < r && rank[p - w + 1] < r) {
      par[p - w] = p - w;
      nrank[p - w] = r;
    }
    if (dn && lf && rank[p - 1] < r && rank[p + w] < r && rank[p + w - 1] < r) {
      par[p - 1] = p - 1;
      nrank[p - 1] = r;
    }
    if (dn && rt && rank[p + 1] < r && rank[p + w] < r && rank[p + w + 1] < r) {
      par[p] = p;
      nrank[p] = r;
    }
    /* Edges whose highest vertex is p, in decreasing cell order: down, right, left, up. */
    if (dn && rank[p + w] < r) join(g, par, nrank, lf ? p - 1 : ext, rt ? p : ext, r, 1);
    if (rt && rank[p + 1] < r) join(g, par, nrank, up ? p - w : ext, dn ? p : ext, r, 1);
    if (lf && rank[p - 1] < r) join(g, par, nrank, up ? p - w - 1 : ext, dn ? p - 1 : ext, r, 1);
    if (up && rank[p - w] < r) join(g, par, nrank, lf ? p - w - 1 : ext, rt ? p - w : ext, r, 1);
  }
  free(par);
  free(nrank);
  return TS_OK;
}

/* T, 2D: pixels are the nodes; an edge belongs to the lower of its pixels. */
static TsStatus dual_t2d(CubGrid *g) {
  size_t H = g->n[0], W = g->n[1], n = g->npix;
  uint32_t *par = ts_alloc_array(n + 1, sizeof *par, "cubical union-find", g->err);
  uint32_t *nrank = ts_alloc_array(n + 1, sizeof *nrank, "cubical union-find", g->err);
  if (!par || !nrank) {
    free(par);
    free(nrank);
    return TS_ERR_NOMEM;
  }
  memcpy(nrank, g->rank, n * sizeof *nrank);
  const uint32_t *rank = nrank;
  uint32_t ext = (uint32_t)n, w = (uint32_t)W;
  par[ext] = ext;
  nrank[ext] = CUB_INF_RANK;
  for (size_t rr = n; rr-- > 0;) {
    uint32_t r = (uint32_t)rr, p = g->order[rr];
    if (rr >= PREFETCH) {
      uint32_t q = g->order[rr - PREFETCH];
      prefetch_rows(rank, q, W, n);
      prefetch_rows(par, q, W, n);
    }
    size_t y = p / W, x = p - y * W;
    par[p] = p;
    /* bottom, right, left, top edge of pixel p */
    if (y + 1 == H) join(g, par, nrank, p, ext, r, 1);
    else if (rank[p + w] > r) join(g, par, nrank, p, p + w, r, 1);
    if (x + 1 == W) join(g, par, nrank, p, ext, r, 1);
    else if (rank[p + 1] > r) join(g, par, nrank, p, p + 1, r, 1);
    if (x == 0) join(g, par, nrank, p, ext, r, 1);
    else if (rank[p - 1] > r) join(g, par, nrank, p, p - 1, r, 1);
    if (y == 0) join(g, par, nrank, p, ext, r, 1);
    else if (rank[p - w] > r) join(g, par, nrank, p, p - w, r, 1);
  }
  free(par);
  free(nrank);
  return TS_OK;
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
    uint32_t r = (uint32_t)rr;
    size_t p = g->order[rr], x[CUB_MAXD], cc[CUB_MAXD];
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
  if (g->d == 2) return g->T ? dual_t2d(g) : dual_v2d(g);
  return dual_generic(g);
}
