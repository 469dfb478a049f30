/* cubical-h0.c — H0 by union-find with the elder rule.
 *
 * Pixels are swept in increasing rank; at each pixel the vertices and edges
 * whose rank it is are added in the shared cell order. The root of every
 * component is its oldest vertex, so its birth is the root's own rank and no
 * per-root data is kept. An edge that joins two components kills the younger
 * one (a pair) and is negative: it is marked so that the cohomology of
 * dimension 1 skips it (clearing).
 * 2D grids take specialised loops (4 neighbours for V, 8 for T: the closed
 * squares of two pixels meet iff they touch at a corner). */
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

/* The sweep visits pixels in value order, i.e. at random. Two-stage
 * prefetch: the rows of ranks around the pixel 2K steps ahead, then, K steps
 * ahead, the union-find entries of its neighbours (their ranks have arrived
 * by then), the first load of each find. */
#define PREFETCH 12
static inline void prefetch_rows(const uint32_t *rank, uint32_t q, uint32_t pw) {
  __builtin_prefetch(&rank[q - pw]);
  __builtin_prefetch(&rank[q]);
  __builtin_prefetch(&rank[q + pw]);
}

/* 2D, in padded coordinates (the frame's rank is never lower). The
 * union-find lives in rank space (node r is the pixel of rank r), so the
 * root of a component is its lowest rank, its birth, and the elder of two
 * roots is the smaller number: no rank is looked up while joining, and the
 * current pixel's entry is written in sweep order. */
static inline __attribute__((always_inline)) TsStatus h0_2d_sweep(CubGrid *g, uint32_t *par, const int eight) {
  const uint32_t *rank = g->rank, *order = g->order;
  uint32_t cut = g->cutoff, pw = g->pw;
  for (uint32_t r = 0; r < cut; r++) {
    if (cub_cancelled(g, r)) return cub_cancel_error(g);
    uint32_t p = order[r];
    if (r + 2 * PREFETCH < cut) prefetch_rows(rank, order[r + 2 * PREFETCH], pw);
    if (r + PREFETCH < cut) {
      uint32_t s = order[r + PREFETCH];
      __builtin_prefetch(&par[rank[s - pw]]);
      __builtin_prefetch(&par[rank[s - 1]]);
      __builtin_prefetch(&par[rank[s + 1]]);
      __builtin_prefetch(&par[rank[s + pw]]);
    }
    /* Ranks of the earlier neighbours, gathered without branching on them. */
    uint32_t q[8];
    int nq = 0;
#define CAND(c)                                                                                                        \
  do {                                                                                                                 \
    uint32_t rq_ = rank[(c)];                                                                                          \
    q[nq] = rq_;                                                                                                       \
    nq += rq_ < r;                                                                                                     \
  } while (0)
    if (eight) CAND(p - pw - 1);
    CAND(p - pw);
    if (eight) CAND(p - pw + 1);
    CAND(p - 1);
    CAND(p + 1);
    if (eight) CAND(p + pw - 1);
    CAND(p + pw);
    if (eight) CAND(p + pw + 1);
#undef CAND
    if (nq == 0) { /* a local minimum: a new component */
      par[r] = r;
      continue;
    }
    /* r is the youngest vertex: joining its first neighbour kills nothing. */
    uint32_t a = uf_find(par, q[0]);
    par[r] = a;
    for (int j = 1; j < nq; j++) {
      uint32_t b = uf_find(par, q[j]);
      if (a == b) continue;
      uint32_t young = a > b ? a : b, old = a ^ b ^ young;
      par[young] = old;
      cub_emit(g, 0, young, r);
      a = old;
    }
  }
  for (uint32_t r = 0; r < cut; r++)
    if (par[r] == r) cub_emit(g, 0, r, CUB_INF_RANK);
  return TS_OK;
}

static TsStatus h0_2d(CubGrid *g) {
  /* one spare node: the frame's rank (npix) may be prefetched */
  uint32_t *par = ts_alloc_array_huge((size_t)g->npix + 1, sizeof *par, "cubical union-find", g->err);
  if (!par) return TS_ERR_NOMEM;
  /* T: the closed squares of two pixels meet iff they touch at a corner */
  TsStatus st = g->T ? h0_2d_sweep(g, par, 1) : h0_2d_sweep(g, par, 0);
  free(par);
  return st;
}

TsStatus cub_h0(CubGrid *g, uint8_t *negative_edges) {
  if (g->pw && !negative_edges) return h0_2d(g);
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
