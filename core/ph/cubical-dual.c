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

static inline void born(uint32_t *par, uint32_t *nrank, uint32_t s, uint32_t r) {
  par[s] = s;
  nrank[s] = r;
}

/* V, 2D: squares are the nodes (indexed by their top-left pixel). A node's
 * parent and birth rank sit side by side, so that reaching a root (a random
 * load) brings its rank along in the same cache line. */
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

static inline void vborn(VNode *nd, uint32_t s, uint32_t r) {
  nd[s].par = s;
  nd[s].rank = r;
}

static TsStatus dual_v2d(CubGrid *g) {
  size_t H = g->n[0], W = g->n[1], n = g->npix;
  const uint32_t *rank = g->rank;
  VNode *nd = ts_alloc_array(n + 1, sizeof *nd, "cubical union-find", g->err);
  if (!nd) return TS_ERR_NOMEM;
  uint32_t ext = (uint32_t)n, w = (uint32_t)W;
  nd[ext].par = ext;
  nd[ext].rank = CUB_INF_RANK;
  for (size_t rr = n; rr-- > 0;) {
    uint32_t r = (uint32_t)rr, p = g->order[rr];
    if (rr >= PREFETCH) {
      uint32_t q = g->order[rr - PREFETCH];
      prefetch_rows(rank, q, W, n);
      __builtin_prefetch(&nd[q]); /* the squares at q - 1, q - W - 1 may sit a line before */
      if (q > 0) __builtin_prefetch(&nd[q - 1]);
      if (q > W) {
        __builtin_prefetch(&nd[q - W]);
        __builtin_prefetch(&nd[q - W - 1]);
      }
    }
    size_t y = p / W, x = p - y * W;
    int up = y > 0, dn = y + 1 < H, lf = x > 0, rt = x + 1 < W;
    if (up && dn && lf && rt) {
      /* Interior: which of the 8 neighbours are lower, without branching on
       * (random) ranks; bits UL U UR L R DL D DR. */
      unsigned m = (unsigned)(rank[p - w - 1] < r) | (unsigned)(rank[p - w] < r) << 1 |
                   (unsigned)(rank[p - w + 1] < r) << 2 | (unsigned)(rank[p - 1] < r) << 3 |
                   (unsigned)(rank[p + 1] < r) << 4 | (unsigned)(rank[p + w - 1] < r) << 5 |
                   (unsigned)(rank[p + w] < r) << 6 | (unsigned)(rank[p + w + 1] < r) << 7;
      if ((m & 0x0b) == 0x0b) vborn(nd, p - w - 1, r);
      if ((m & 0x16) == 0x16) vborn(nd, p - w, r);
      if ((m & 0x68) == 0x68) vborn(nd, p - 1, r);
      if ((m & 0xd0) == 0xd0) vborn(nd, p, r);
      if (m & 0x40) vjoin(g, nd, p - 1, p, r);
      if (m & 0x10) vjoin(g, nd, p - w, p, r);
      if (m & 0x08) vjoin(g, nd, p - w - 1, p - 1, r);
      if (m & 0x02) vjoin(g, nd, p - w - 1, p - w, r);
      continue;
    }
    /* Squares whose highest vertex is p are born. */
    if (up && lf && rank[p - 1] < r && rank[p - w] < r && rank[p - w - 1] < r) {
      vborn(nd, p - w - 1, r);
    }
    if (up && rt && rank[p + 1] < r && rank[p - w] < r && rank[p - w + 1] < r) {
      vborn(nd, p - w, r);
    }
    if (dn && lf && rank[p - 1] < r && rank[p + w] < r && rank[p + w - 1] < r) {
      vborn(nd, p - 1, r);
    }
    if (dn && rt && rank[p + 1] < r && rank[p + w] < r && rank[p + w + 1] < r) {
      vborn(nd, p, r);
    }
    /* Edges whose highest vertex is p, in decreasing cell order: down, right, left, up. */
    if (dn && rank[p + w] < r) vjoin(g, nd, lf ? p - 1 : ext, rt ? p : ext, r);
    if (rt && rank[p + 1] < r) vjoin(g, nd, up ? p - w : ext, dn ? p : ext, r);
    if (lf && rank[p - 1] < r) vjoin(g, nd, up ? p - w - 1 : ext, dn ? p - 1 : ext, r);
    if (up && rank[p - w] < r) vjoin(g, nd, lf ? p - w - 1 : ext, rt ? p - w : ext, r);
  }
  free(nd);
  return TS_OK;
}

/* T, 2D: pixels are the nodes, numbered by rank (as in H0), the outside is
 * node n; the elder of two roots is the larger number. An edge belongs to
 * the lower of its pixels. */
static TsStatus dual_t2d(CubGrid *g) {
  size_t H = g->n[0], W = g->n[1], n = g->npix;
  uint32_t *par = ts_alloc_array(n + 1, sizeof *par, "cubical union-find", g->err);
  if (!par) return TS_ERR_NOMEM;
  const uint32_t *rank = g->rank;
  uint32_t ext = (uint32_t)n, w = (uint32_t)W, cut = g->cutoff;
  par[ext] = ext;
  for (size_t rr = n; rr-- > 0;) {
    uint32_t r = (uint32_t)rr, p = g->order[rr];
    if (rr >= PREFETCH) prefetch_rows(rank, g->order[rr - PREFETCH], W, n);
    size_t y = p / W, x = p - y * W;
    /* The edges of pixel p that are its own (the other side is higher or
     * outside), bottom, right, left, top; gathered without branching on ranks. */
    uint32_t q[4];
    int nq = 0;
#define SIDE(inside, c)                                                                                                \
  do {                                                                                                                 \
    if (inside) {                                                                                                      \
      q[nq] = rank[(c)];                                                                                               \
      nq += q[nq] > r;                                                                                                 \
    } else                                                                                                             \
      q[nq++] = ext;                                                                                                   \
  } while (0)
    SIDE(y + 1 < H, p + w);
    SIDE(x + 1 < W, p + 1);
    SIDE(x > 0, p - 1);
    SIDE(y > 0, p - w);
#undef SIDE
    if (nq == 0) { /* a local maximum: a new component of the complement */
      par[r] = r;
      continue;
    }
    /* r is the youngest: its first edge joins it to a neighbour, no pair. */
    uint32_t a = uf_find(par, q[0]);
    par[r] = a;
    for (int j = 1; j < nq; j++) {
      uint32_t b = uf_find(par, q[j]);
      if (a == b) continue;
      uint32_t young = a < b ? a : b, old = a ^ b ^ young;
      par[young] = old;
      if (r < cut) cub_emit(g, 1, r, young >= cut ? CUB_INF_RANK : young);
      a = old;
    }
  }
  free(par);
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
  if (g->d == 2) return g->T ? dual_t2d(g) : dual_v2d(g);
  return dual_generic(g);
}
