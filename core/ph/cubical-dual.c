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

/* V, 2D: squares are the nodes, named by their top-left pixel (padded).
 * Squares that touch the frame are the outside: one component, rooted at
 * square 0, that is never born (rank infinite). A node's parent and birth
 * rank sit side by side, so that reaching a root (a random load) brings its
 * rank along in the same cache line.
 *
 * At pixel p the edges whose highest vertex is p (to its lower neighbours)
 * enter the complement. Around p the four edges and the four squares
 * alternate on a cycle, and the edges to higher neighbours are there
 * already and join their squares, so the k new edges split the cycle into
 * k arcs of squares that are each one component, and the new edges join
 * those arcs into one. An arc can be a square born here (its corner
 * opposite p lower too), alone in its component: it joins the others with
 * zero persistence, so a raster pass links it to a square of another arc
 * beforehand (a square is never reached before its birth). That leaves
 * only the pixels with two or more arcs of older squares (28% of white
 * noise, 0.4% of a smooth field) to sweep in decreasing value order, with
 * one find per such arc: the square after each new edge, going round N, E,
 * S, W. The raster pass keeps those arcs' bits for each pixel, so the
 * sweep reads one byte where it would read three rows of ranks. */
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

/* The squares and lower-neighbour bits of every node, and the saddles'
 * ranks in increasing order (*list, *ns). */
static TsStatus dual_v2d_settle(CubGrid *g, VNode *nd, uint8_t *low, uint32_t **list, size_t *ns) {
  uint32_t H = (uint32_t)g->n[0], W = (uint32_t)g->n[1], pw = g->pw, n = (uint32_t)g->npix;
  const uint32_t *rank = g->rank;
  /* Every square is born at the highest rank of its corners, before the
   * sweep gets there: set them all up front (no find reaches a square
   * before its birth, since the joins at a pixel only touch the squares
   * around it, whose corners are no higher). A square on the frame has the
   * frame's rank n and belongs to the outside. */
  for (uint32_t y = 0; y <= H; y++) {
    const uint32_t *ra = rank + (size_t)y * pw, *rb = ra + pw;
    VNode *row = nd + (size_t)y * pw;
    for (uint32_t x = 0; x <= W; x++) {
      uint32_t top = ra[x] > ra[x + 1] ? ra[x] : ra[x + 1], bot = rb[x] > rb[x + 1] ? rb[x] : rb[x + 1];
      uint32_t hi = top > bot ? top : bot, sq = y * pw + x;
      row[x].par = hi >= n ? 0 : sq;
      row[x].rank = hi;
    }
  }
  nd[0].rank = CUB_INF_RANK; /* the outside: square 0, its own parent */
  size_t nwords = ((size_t)n + 63) / 64, count = 0;
  uint64_t *saddle = ts_calloc_array(nwords, sizeof *saddle, "cubical saddles", g->err);
  if (!saddle) return TS_ERR_NOMEM;
  /* the square after each edge going round: N -> NE, E -> SE, S -> SW, W -> NW */
  const int32_t after[4] = {-(int32_t)pw, 0, -1, -(int32_t)pw - 1};
  for (uint32_t y = 1; y <= H; y++) {
    const uint32_t *rr = rank + (size_t)y * pw, *up = rr - pw, *dn = rr + pw;
    uint8_t *lr = low + (size_t)y * pw;
    /* bits 0-3: the lower neighbours N, E, S, W; bits 4-7: the squares
     * NE, SE, SW, NW born here (all three other corners lower). Vectorises. */
    for (uint32_t x = 1; x <= W; x++) {
      uint32_t r = rr[x];
      unsigned n0 = up[x] < r, e0 = rr[x + 1] < r, s0 = dn[x] < r, w0 = rr[x - 1] < r;
      unsigned ne = up[x + 1] < r, se = dn[x + 1] < r, sw = dn[x - 1] < r, nw = up[x - 1] < r;
      lr[x] = (uint8_t)(n0 | e0 << 1 | s0 << 2 | w0 << 3 | (n0 & ne & e0) << 4 | (e0 & se & s0) << 5 |
                        (s0 & sw & w0) << 6 | (w0 & nw & n0) << 7);
    }
    for (uint32_t x = 1; x <= W; x++) {
      uint32_t p = y * pw + x, r = rr[x];
      unsigned b = lr[x], born = b >> 4, old = b & 15 & ~born; /* arcs of older squares */
      if (born) {
        /* link the squares born here to the first older arc's square, or,
         * at a local maximum (four born, no older arc), to the square SE */
        uint32_t to = (uint32_t)((int64_t)p + (old ? after[__builtin_ctz(old)] : 0));
        for (unsigned m = born; m; m &= m - 1) {
          uint32_t sq = (uint32_t)((int64_t)p + after[__builtin_ctz(m)]);
          if (sq != to) nd[sq].par = to;
        }
      }
      lr[x] = (uint8_t)old;
      uint64_t two = (0xfee8u >> old) & 1; /* two bits or more set, for the 16 masks */
      saddle[r >> 6] |= two << (r & 63);
    }
  }
  for (size_t w = 0; w < nwords; w++) count += (size_t)__builtin_popcountll(saddle[w]);
  uint32_t *l = ts_alloc_array(count ? count : 1, sizeof *l, "cubical saddles", g->err);
  if (!l) {
    free(saddle);
    return TS_ERR_NOMEM;
  }
  size_t k = 0;
  for (size_t w = 0; w < nwords; w++)
    for (uint64_t b = saddle[w]; b; b &= b - 1) l[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
  free(saddle);
  *list = l;
  *ns = count;
  return TS_OK;
}

/* Two-stage prefetch, as in cubical-pixels.c: the pixel's bits and its
 * squares 2K saddles ahead, their parents K ahead. */
#define PREFETCH 8
static TsStatus dual_v2d(CubGrid *g) {
  uint32_t H = (uint32_t)g->n[0], pw = g->pw, cut = g->cutoff;
  size_t total = (size_t)(H + 2) * pw;
  VNode *nd = ts_alloc_array_huge(total, sizeof *nd, "cubical union-find", g->err);
  uint8_t *low = ts_alloc_array_huge(total, 1, "cubical lower neighbours", g->err);
  uint32_t *list = NULL;
  size_t ns = 0;
  TsStatus st = nd && low ? dual_v2d_settle(g, nd, low, &list, &ns) : TS_ERR_NOMEM;
  const uint32_t *order = g->order;
  /* the square after each edge going round: N -> NE, E -> SE, S -> SW, W -> NW */
  const int32_t after[4] = {-(int32_t)pw, 0, -1, -(int32_t)pw - 1};
  for (size_t i = ns; st == TS_OK && i-- > 0;) {
    if (cub_cancelled(g, (uint32_t)i)) {
      st = cub_cancel_error(g);
      break;
    }
    uint32_t r = list[i], p = order[r];
    if (i >= 2 * PREFETCH) {
      uint32_t q = order[list[i - 2 * PREFETCH]];
      __builtin_prefetch(&low[q]);
      __builtin_prefetch(&nd[q - pw - 1]);
      __builtin_prefetch(&nd[q - pw]);
      __builtin_prefetch(&nd[q - 1]);
      __builtin_prefetch(&nd[q]);
    }
    if (i >= PREFETCH) {
      uint32_t q = order[list[i - PREFETCH]];
      __builtin_prefetch(&nd[nd[q - pw - 1].par]);
      __builtin_prefetch(&nd[nd[q - pw].par]);
      __builtin_prefetch(&nd[nd[q - 1].par]);
      __builtin_prefetch(&nd[nd[q].par]);
    }
    uint64_t *out = cub_pend_room(g, 1, 4);
    if (!out) {
      st = g->st;
      break;
    }
    /* Joins without branches (as in cubical-pixels.c): the elder is the
     * root of higher rank; a square born here (rank r) dies with zero
     * persistence, which is not kept. */
    unsigned m = low[p];
    int j = __builtin_ctz(m);
    m &= m - 1;
    uint32_t a = vfind(nd, (uint32_t)((int64_t)p + after[j])), ra = nd[a].rank, kept = 0, keep = r < cut;
    for (; m; m &= m - 1) {
      j = __builtin_ctz(m);
      uint32_t b = vfind(nd, (uint32_t)((int64_t)p + after[j]));
      uint32_t rb = nd[b].rank, differ = a != b, bold = rb > ra;
      uint32_t old = bold ? b : a, young = bold ? a : b, ry = bold ? ra : rb;
      nd[young].par = old; /* a no-op when a == b */
      out[kept] = (uint64_t)r << 32 | (ry >= cut ? CUB_INF_RANK : ry);
      kept += differ & keep & (ry != r);
      a = old;
      ra = bold ? rb : ra;
    }
    g->npend += kept;
  }
  free(list);
  free(low);
  free(nd);
  return st;
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
