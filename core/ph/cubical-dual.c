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

/* The 2D sweeps run in padded coordinates (CubGrid.pw) and visit pixels in
 * value order, i.e. at random: fetch the rows of ranks around the pixel 2K
 * steps ahead, and K steps ahead what the finds will load first. */
#define PREFETCH 12
static inline void prefetch_rows(const uint32_t *rank, uint32_t q, uint32_t pw) {
  __builtin_prefetch(&rank[q - pw]);
  __builtin_prefetch(&rank[q]);
  __builtin_prefetch(&rank[q + pw]);
}

/* V, 2D: squares are the nodes, named by their top-left pixel (padded).
 * Squares that touch the frame are the outside: one component, rooted at
 * square 0, that is never born (rank infinite). A node's parent and birth rank sit side by
 * side, so that reaching a root (a random load) brings its rank along in
 * the same cache line. */
typedef struct VNode {
  uint32_t par, rank;
} VNode;

static inline uint32_t vfind(VNode *nd, uint32_t x) {
  while (nd[x].par != x) {
    nd[x].par = nd[nd[x].par].par;
    x = nd[x].par;
  }
  return x;
}

static inline void vjoin(CubGrid *g, VNode *nd, uint32_t a, uint32_t b, uint32_t r) {
  a = vfind(nd, a);
  b = vfind(nd, b);
  if (a == b) return;
  uint32_t young;
  if (nd[a].rank < nd[b].rank) {
    young = a;
    nd[a].par = b;
  } else {
    young = b;
    nd[b].par = a;
  }
  if (r >= g->cutoff) return;
  uint32_t yr = nd[young].rank;
  cub_emit(g, 1, r, yr >= g->cutoff ? CUB_INF_RANK : yr);
}

static TsStatus dual_v2d(CubGrid *g) {
  uint32_t H = (uint32_t)g->n[0], W = (uint32_t)g->n[1], pw = g->pw, n = (uint32_t)g->npix;
  const uint32_t *rank = g->rank, *order = g->order;
  VNode *nd = ts_alloc_array_huge((size_t)(H + 2) * pw, sizeof *nd, "cubical union-find", g->err);
  if (!nd) return TS_ERR_NOMEM;
  /* Every square is born at the highest rank of its corners, before the
   * sweep gets there: set them all up front in one raster pass (no finds
   * reach a square before its birth, since the joins at a pixel only touch
   * squares around it, whose corners are no higher). A square on the frame
   * has the frame's rank n and belongs to the outside. */
  for (uint32_t y = 0; y <= H; y++) {
    const uint32_t *a = rank + (size_t)y * pw, *b = a + pw;
    VNode *row = nd + (size_t)y * pw;
    for (uint32_t x = 0; x <= W; x++) {
      uint32_t top = a[x] > a[x + 1] ? a[x] : a[x + 1], bot = b[x] > b[x + 1] ? b[x] : b[x + 1];
      uint32_t hi = top > bot ? top : bot, s = y * pw + x;
      row[x].par = hi >= n ? 0 : s;
      row[x].rank = hi;
    }
  }
  nd[0].rank = CUB_INF_RANK; /* the outside: square 0, its own parent */
  for (uint32_t rr = n; rr-- > 0;) {
    if (cub_cancelled(g, rr)) {
      free(nd);
      return cub_cancel_error(g);
    }
    uint32_t r = rr, p = order[rr];
    if (rr >= 2 * PREFETCH) {
      uint32_t q = order[rr - 2 * PREFETCH];
      prefetch_rows(rank, q, pw);
      __builtin_prefetch(&nd[q]); /* the squares at q - 1, q - pw - 1 may sit a line before */
      __builtin_prefetch(&nd[q - 1]);
      __builtin_prefetch(&nd[q - pw]);
      __builtin_prefetch(&nd[q - pw - 1]);
    }
    if (rr >= PREFETCH) { /* the squares' parents, where their finds go next */
      uint32_t q = order[rr - PREFETCH];
      __builtin_prefetch(&nd[nd[q].par]);
      __builtin_prefetch(&nd[nd[q - 1].par]);
      __builtin_prefetch(&nd[nd[q - pw].par]);
      __builtin_prefetch(&nd[nd[q - pw - 1].par]);
    }
    /* Edges whose highest vertex is p (the frame is never lower), in
     * decreasing cell order: down, right, left, up; each joins the two
     * squares on its sides. Around p the four edges and four squares
     * alternate on a cycle, and the edges to higher neighbours (done
     * earlier) already join their squares: the k edges done here join k
     * arcs of that cycle into one, so the last of them always finds its
     * squares joined. It is left out: one find pair less per pixel. */
    unsigned m = (unsigned)(rank[p + pw] < r) | (unsigned)(rank[p + 1] < r) << 1 | (unsigned)(rank[p - 1] < r) << 2 |
                 (unsigned)(rank[p - pw] < r) << 3;
    if (m) m ^= 1u << (31 - __builtin_clz(m));
    if (m & 1) vjoin(g, nd, p - 1, p, r);
    if (m & 2) vjoin(g, nd, p - pw, p, r);
    if (m & 4) vjoin(g, nd, p - pw - 1, p - 1, r);
    if (m & 8) vjoin(g, nd, p - pw - 1, p - pw, r);
  }
  free(nd);
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
  /* T, 2D: the complement's pixels joined to their four neighbours and to
   * the outside (an edge belongs to the lower of its pixels) */
  if (g->pw) return g->T ? cub_pixel_sweep(g, 0, 1) : dual_v2d(g);
  return dual_generic(g);
}
