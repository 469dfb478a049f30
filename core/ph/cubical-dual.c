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

#ifdef CUB_AVX2
/* The pixel pass below for eight pixels p..p+7: their low bytes into lo8,
 * and bit i of the result set if pixel p + i has two older arcs or more. */
__attribute__((target("avx2"))) static unsigned dual_pixels8(const uint32_t *rank, uint32_t p, uint32_t pw,
                                                             uint8_t *lo8) {
#define LD(o) _mm256_loadu_si256((const __m256i *)(rank + (int64_t)p + (o)))
  __m256i c = LD(0);
  __m256i ln = cub_lt_epu32(LD(-(int64_t)pw), c), lne = cub_lt_epu32(LD(-(int64_t)pw + 1), c);
  __m256i le = cub_lt_epu32(LD(1), c), lse = cub_lt_epu32(LD(pw + 1), c), ls = cub_lt_epu32(LD(pw), c);
  __m256i lsw = cub_lt_epu32(LD((int64_t)pw - 1), c), lw = cub_lt_epu32(LD(-1), c);
  __m256i lnw = cub_lt_epu32(LD(-(int64_t)pw - 1), c);
#undef LD
  __m256i o0 = _mm256_andnot_si256(_mm256_and_si256(lne, le), ln), o1 = _mm256_andnot_si256(_mm256_and_si256(lse, ls), le);
  __m256i o2 = _mm256_andnot_si256(_mm256_and_si256(lsw, lw), ls), o3 = _mm256_andnot_si256(_mm256_and_si256(lnw, ln), lw);
  __m256i f = _mm256_set1_epi32(1 << 4);
  f = _mm256_blendv_epi8(f, _mm256_set1_epi32(3 << 4), o3);
  f = _mm256_blendv_epi8(f, _mm256_set1_epi32(2 << 4), o2);
  f = _mm256_blendv_epi8(f, _mm256_set1_epi32(1 << 4), o1);
  f = _mm256_blendv_epi8(f, _mm256_setzero_si256(), o0);
  __m256i bits = _mm256_or_si256(
      _mm256_or_si256(_mm256_and_si256(o0, _mm256_set1_epi32(1)), _mm256_and_si256(o1, _mm256_set1_epi32(2))),
      _mm256_or_si256(_mm256_and_si256(o2, _mm256_set1_epi32(4)), _mm256_and_si256(o3, _mm256_set1_epi32(8))));
  __m256i v = _mm256_or_si256(bits, f);
  /* byte 0 of each lane to the front of each half, then the halves together */
  __m256i sh = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0,
                                                       4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  __m128i packed = _mm_unpacklo_epi32(_mm256_castsi256_si128(sh), _mm256_extracti128_si256(sh, 1));
  _mm_storel_epi64((__m128i *)lo8, packed);
  /* two older arcs or more: the sum of four -1/0 lanes at most -2 */
  __m256i cnt = _mm256_add_epi32(_mm256_add_epi32(o0, o1), _mm256_add_epi32(o2, o3));
  return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(-1), cnt)));
}

/* The square pass below for the eight squares sq..sq+7 (top-left corners
 * in row ra, bytes la; the row below is pw further on). */
__attribute__((target("avx2"))) static void dual_squares8(const uint32_t *rank, const uint8_t *low, VNode *nd,
                                                          uint32_t sq, uint32_t pw, uint32_t n) {
  const uint32_t *ra = rank + sq, *rb = ra + pw;
  const uint8_t *la = low + sq, *lb = la + pw;
#define LDR(p) _mm256_loadu_si256((const __m256i *)(p))
#define LDB(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p)))
  __m256i hi = LDR(ra), off = _mm256_setzero_si256(), code = LDB(la);
#define CORNER(rk, lb_, o)                                                                                             \
  do {                                                                                                                 \
    __m256i v_ = (rk), gt_ = cub_lt_epu32(hi, v_);                                                                     \
    hi = _mm256_max_epu32(hi, v_);                                                                                     \
    off = _mm256_blendv_epi8(off, _mm256_set1_epi32((int)(o)), gt_);                                                  \
    code = _mm256_blendv_epi8(code, (lb_), gt_);                                                                       \
  } while (0)
  CORNER(LDR(ra + 1), LDB(la + 1), 1);
  CORNER(LDR(rb), LDB(lb), pw);
  CORNER(LDR(rb + 1), LDB(lb + 1), pw + 1);
#undef CORNER
#undef LDR
#undef LDB
  /* the arc m chose: the square after edge code >> 4 */
  __m256i after = _mm256_setr_epi32(-(int)pw, 0, -1, -(int)pw - 1, 0, 0, 0, 0);
  __m256i to = _mm256_permutevar8x32_epi32(after, _mm256_srli_epi32(code, 4));
  __m256i vs = _mm256_add_epi32(_mm256_set1_epi32((int)sq), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i par = _mm256_add_epi32(_mm256_add_epi32(vs, off), to);
  par = _mm256_and_si256(par, cub_lt_epu32(hi, _mm256_set1_epi32((int)n))); /* the frame: square 0 */
  __m256i lo = _mm256_unpacklo_epi32(par, hi), hh = _mm256_unpackhi_epi32(par, hi);
  _mm256_storeu_si256((__m256i *)(nd + sq), _mm256_permute2x128_si256(lo, hh, 0x20));
  _mm256_storeu_si256((__m256i *)(nd + sq + 4), _mm256_permute2x128_si256(lo, hh, 0x31));
}
#endif

/* The raster passes: every pixel's bits of older arcs (low), every
 * square's rank and first parent, and the saddles' ranks in increasing
 * order (*list, *ns). */
static TsStatus dual_v2d_settle(CubGrid *g, VNode *nd, uint8_t *low, uint32_t **list, size_t *ns) {
  uint32_t H = (uint32_t)g->n[0], W = (uint32_t)g->n[1], pw = g->pw, n = (uint32_t)g->npix;
  const uint32_t *rank = g->rank;
  int avx2 = cub_use_avx2();
  size_t nwords = ((size_t)n + 63) / 64, count = 0;
  uint64_t *saddle = ts_calloc_array(nwords, sizeof *saddle, "cubical saddles", g->err);
  if (!saddle) return TS_ERR_NOMEM;
  /* Pixels: bits 0-3 of low[p], the new edges (to lower neighbours N, E,
   * S, W) whose following square (NE, SE, SW, NW) is older than p, i.e.
   * has a corner above p; bits 4-5, the arc the squares born at p join:
   * the first older one, or at a local maximum (no older arc) the square
   * SE, which stays their root. Branch-free, so that it vectorises. */
  for (uint32_t y = 1; y <= H; y++) {
    const uint32_t *rr = rank + (size_t)y * pw, *up = rr - pw, *dn = rr + pw;
    uint8_t *lr = low + (size_t)y * pw;
    uint32_t x = 1;
#ifdef CUB_AVX2
    if (avx2)
      for (; x + 8 <= W + 1; x += 8)
        for (unsigned two = dual_pixels8(rank, y * pw + x, pw, lr + x); two; two &= two - 1) {
          uint32_t r = rr[x + (uint32_t)__builtin_ctz(two)];
          saddle[r >> 6] |= 1ull << (r & 63);
        }
#endif
    for (; x <= W; x++) {
      uint32_t r = rr[x];
      unsigned n0 = up[x] < r, e0 = rr[x + 1] < r, s0 = dn[x] < r, w0 = rr[x - 1] < r;
      unsigned o0 = n0 & !((up[x + 1] < r) & e0), o1 = e0 & !((dn[x + 1] < r) & s0);
      unsigned o2 = s0 & !((dn[x - 1] < r) & w0), o3 = w0 & !((up[x - 1] < r) & n0);
      unsigned first = o0 ? 0u : o1 ? 1u : o2 ? 2u : o3 ? 3u : 1u;
      lr[x] = (uint8_t)(o0 | o1 << 1 | o2 << 2 | o3 << 3 | first << 4);
      uint64_t two = (0xfee8u >> (lr[x] & 15)) & 1; /* two older arcs or more */
      saddle[r >> 6] |= two << (r & 63);
    }
  }
  /* Squares: each is born at its highest corner m, where it joins the arc
   * m chose (a square never reached before its birth, since the joins at a
   * pixel only touch the squares around it, whose corners are no higher).
   * A square on the frame has the frame's rank n and belongs to the
   * outside, rooted at square 0. */
  const int32_t after[4] = {-(int32_t)pw, 0, -1, -(int32_t)pw - 1};
  for (uint32_t y = 0; y <= H; y++) {
    const uint32_t *ra = rank + (size_t)y * pw, *rb = ra + pw;
    const uint8_t *la = low + (size_t)y * pw, *lb = la + pw;
    VNode *row = nd + (size_t)y * pw;
    uint32_t x = 0;
#ifdef CUB_AVX2
    if (avx2)
      for (; x + 8 <= W + 1; x += 8) dual_squares8(rank, low, nd, y * pw + x, pw, n);
#endif
    for (; x <= W; x++) {
      uint32_t sq = y * pw + x, hi = ra[x], m = sq;
      unsigned code = la[x];
      if (ra[x + 1] > hi) hi = ra[x + 1], m = sq + 1, code = la[x + 1];
      if (rb[x] > hi) hi = rb[x], m = sq + pw, code = lb[x];
      if (rb[x + 1] > hi) hi = rb[x + 1], m = sq + pw + 1, code = lb[x + 1];
      row[x].par = hi >= n ? 0 : (uint32_t)((int64_t)m + after[code >> 4]);
      row[x].rank = hi;
    }
  }
  nd[0].rank = CUB_INF_RANK; /* the outside: square 0, its own parent */
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
  VNode *own = g->work[1] ? NULL : ts_alloc_array_huge(total, sizeof *own, "cubical union-find", g->err);
  VNode *nd = g->work[1] ? (VNode *)g->work[1] : own;
  uint8_t *low = ts_alloc_array_huge(total, 1, "cubical lower neighbours", g->err);
  uint32_t *list = NULL;
  size_t ns = 0;
  if (low) memset(low, 0, total); /* the frame's bytes are read (and ignored) by the square pass */
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
    unsigned m = low[p] & 15;
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
  free(own);
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
