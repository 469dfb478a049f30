/* cubical-squares.c — union-find over the squares of a 2D grid (the
 * (H+1) x (W+1) squares of four pixels in padded coordinates, named by
 * their top-left pixel), with the pixels swept in value order and the
 * edges between pixels joining the squares on their two sides:
 *   backwards, the V-construction's top dimension by duality (a square is
 *     the V complex's 2-cell, at the max of its corners; cubical-dual.c says
 *     why the complement's components are H1), the squares touching the
 *     frame being the outside: one component, rooted at square 0, never
 *     born (rank infinite);
 *   forwards, H0 of the T-construction (a square is the vertex where four
 *     pixels meet, at the min of them; an edge of T is at the min of its two
 *     pixels), which is the same sweep with the order turned round: the T
 *     complex of f is the dual of the V complex of -f.
 * "Earlier" means higher rank backwards and lower rank forwards; a square
 * is born at its earliest corner, and the elder of two roots is the one
 * born earlier.
 *
 * At pixel p the edges to the neighbours that come later (for V: lower)
 * enter. Around p the four edges and the four squares alternate on a
 * cycle, and the edges to earlier neighbours are there already and join
 * their squares, so the k new edges split the cycle into k arcs of squares
 * that are each one component, and the new edges join those arcs into
 * one. An arc can be a square born at p (its other three corners later),
 * alone in its component: it joins the others with zero persistence, so a
 * raster pass links it to a square of another arc beforehand (a square is
 * never reached before its birth, since the joins at a pixel only touch
 * the squares around it). That leaves only the pixels with two or more
 * arcs of older squares (28% of white noise, 0.4% of a smooth field) to
 * sweep in value order, with one find per such arc: the square after each
 * new edge, going round N, E, S, W. The raster pass keeps those arcs' bits
 * for each pixel, so the sweep reads one byte where it would read three
 * rows of ranks. */
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

/* Whether rank a comes after rank b in the sweep. */
static inline int later(uint32_t a, uint32_t b, const int rev) { return rev ? a < b : a > b; }

#ifdef CUB_AVX2
/* The pixel pass below for eight pixels p..p+7: their low bytes into lo8;
 * bit i of *two is set if pixel p + i has two older arcs or more, of *ext
 * if it has none and all its squares are born there (a local extremum). */
__attribute__((target("avx2"))) static void pixels8(const uint32_t *rank, uint32_t p, uint32_t pw, const int rev,
                                                    uint8_t *lo8, unsigned *two, unsigned *ext) {
#define LD(o) _mm256_loadu_si256((const __m256i *)(rank + (int64_t)p + (o)))
  __m256i c = LD(0);
#define LATER(o) (rev ? cub_lt_epu32(LD(o), c) : cub_lt_epu32(c, LD(o)))
  __m256i ln = LATER(-(int64_t)pw), lne = LATER(-(int64_t)pw + 1), le = LATER(1), lse = LATER(pw + 1);
  __m256i ls = LATER(pw), lsw = LATER((int64_t)pw - 1), lw = LATER(-1), lnw = LATER(-(int64_t)pw - 1);
#undef LATER
#undef LD
  __m256i b0 = _mm256_and_si256(_mm256_and_si256(lne, le), ln), b1 = _mm256_and_si256(_mm256_and_si256(lse, ls), le);
  __m256i b2 = _mm256_and_si256(_mm256_and_si256(lsw, lw), ls), b3 = _mm256_and_si256(_mm256_and_si256(lnw, ln), lw);
  __m256i o0 = _mm256_andnot_si256(b0, ln), o1 = _mm256_andnot_si256(b1, le);
  __m256i o2 = _mm256_andnot_si256(b2, ls), o3 = _mm256_andnot_si256(b3, lw);
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
  _mm_storel_epi64((__m128i *)lo8, _mm_unpacklo_epi32(_mm256_castsi256_si128(sh), _mm256_extracti128_si256(sh, 1)));
  /* two older arcs or more: the sum of four -1/0 lanes at most -2 */
  __m256i cnt = _mm256_add_epi32(_mm256_add_epi32(o0, o1), _mm256_add_epi32(o2, o3));
  *two = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(-1), cnt)));
  __m256i all = _mm256_and_si256(_mm256_and_si256(b0, b1), _mm256_and_si256(b2, b3));
  *ext = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(all));
}

/* The square pass below for the eight squares sq..sq+7. */
__attribute__((target("avx2"))) static void squares8(const uint32_t *rank, const uint8_t *low, CubNode *nd, uint32_t sq,
                                                     uint32_t pw, uint32_t n, const int rev) {
  const uint32_t *ra = rank + sq, *rb = ra + pw;
  const uint8_t *la = low + sq, *lb = la + pw;
#define LDR(p) _mm256_loadu_si256((const __m256i *)(p))
#define LDB(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p)))
  __m256i birth = LDR(ra), off = _mm256_setzero_si256(), code = LDB(la);
#define CORNER(rk, lb_, o)                                                                                             \
  do {                                                                                                                 \
    __m256i v_ = (rk), e_ = rev ? cub_lt_epu32(birth, v_) : cub_lt_epu32(v_, birth);                                   \
    birth = rev ? _mm256_max_epu32(birth, v_) : _mm256_min_epu32(birth, v_);                                           \
    off = _mm256_blendv_epi8(off, _mm256_set1_epi32((int)(o)), e_);                                                   \
    code = _mm256_blendv_epi8(code, (lb_), e_);                                                                        \
  } while (0)
  CORNER(LDR(ra + 1), LDB(la + 1), 1);
  CORNER(LDR(rb), LDB(lb), pw);
  CORNER(LDR(rb + 1), LDB(lb + 1), pw + 1);
#undef CORNER
#undef LDR
#undef LDB
  /* the arc the earliest corner chose: the square after edge code >> 4 */
  __m256i after = _mm256_setr_epi32(-(int)pw, 0, -1, -(int)pw - 1, 0, 0, 0, 0);
  __m256i to = _mm256_permutevar8x32_epi32(after, _mm256_srli_epi32(code, 4));
  __m256i vs = _mm256_add_epi32(_mm256_set1_epi32((int)sq), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i par = _mm256_add_epi32(_mm256_add_epi32(vs, off), to);
  if (rev) par = _mm256_and_si256(par, cub_lt_epu32(birth, _mm256_set1_epi32((int)n))); /* the outside: 0 */
  __m256i lo = _mm256_unpacklo_epi32(par, birth), hi = _mm256_unpackhi_epi32(par, birth);
  _mm256_storeu_si256((__m256i *)(nd + sq), _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256((__m256i *)(nd + sq + 4), _mm256_permute2x128_si256(lo, hi, 0x31));
}
#endif

/* The raster passes: every pixel's bits of older arcs (low), every
 * square's rank and first parent, the saddles' ranks in increasing order
 * (*list, *ns) and the number of components born. Forwards, pixels beyond
 * the threshold are never reached and are left out; backwards they are
 * swept too (their joins shape the complement), only their pairs are not
 * kept. */
static inline __attribute__((always_inline)) TsStatus settle(CubGrid *g, CubNode *nd, uint8_t *low, const int rev,
                                                             uint32_t **list, size_t *ns, uint32_t *born_out) {
  uint32_t H = (uint32_t)g->n[0], W = (uint32_t)g->n[1], pw = g->pw, n = (uint32_t)g->npix;
  uint32_t cut = rev ? n : g->cutoff, born = 0;
  const uint32_t *rank = g->rank;
  int avx2 = cub_use_avx2();
  size_t nwords = ((size_t)n + 63) / 64;
  uint64_t *saddle = ts_calloc_array(nwords, sizeof *saddle, "cubical saddles", g->err);
  if (!saddle) return TS_ERR_NOMEM;
  /* Pixels: bits 0-3 of low[p], the new edges (to N, E, S, W) whose
   * following square (NE, SE, SW, NW) is older than p, i.e. has a corner
   * earlier than p; bits 4-5, the arc that the squares born at p join: the
   * first older one, or at a local extremum (no older arc) the square SE,
   * which stays their root. */
  for (uint32_t y = 1; y <= H && !cub_cancelled_row(g, y); y++) {
    const uint32_t *rr = rank + (size_t)y * pw, *up = rr - pw, *dn = rr + pw;
    uint8_t *lr = low + (size_t)y * pw;
    uint32_t x = 1;
#ifdef CUB_AVX2
    if (avx2)
      for (; x + 8 <= W + 1; x += 8) {
        unsigned two, ext;
        pixels8(rank, y * pw + x, pw, rev, lr + x, &two, &ext);
        for (; two; two &= two - 1) {
          uint32_t r = rr[x + (uint32_t)__builtin_ctz(two)];
          if (r < cut) saddle[r >> 6] |= 1ull << (r & 63);
        }
        for (; ext; ext &= ext - 1) born += rr[x + (uint32_t)__builtin_ctz(ext)] < cut;
      }
#endif
    for (; x <= W; x++) {
      uint32_t r = rr[x];
      unsigned n0 = later(up[x], r, rev), e0 = later(rr[x + 1], r, rev), s0 = later(dn[x], r, rev);
      unsigned w0 = later(rr[x - 1], r, rev);
      unsigned b0 = n0 & e0 & later(up[x + 1], r, rev), b1 = e0 & s0 & later(dn[x + 1], r, rev);
      unsigned b2 = s0 & w0 & later(dn[x - 1], r, rev), b3 = w0 & n0 & later(up[x - 1], r, rev);
      unsigned o0 = n0 & !b0, o1 = e0 & !b1, o2 = s0 & !b2, o3 = w0 & !b3;
      unsigned first = o0 ? 0u : o1 ? 1u : o2 ? 2u : o3 ? 3u : 1u;
      lr[x] = (uint8_t)(o0 | o1 << 1 | o2 << 2 | o3 << 3 | first << 4);
      uint64_t two = (0xfee8u >> (o0 | o1 << 1 | o2 << 2 | o3 << 3)) & 1 & (r < cut); /* two older arcs or more */
      saddle[r >> 6] |= two << (r & 63);
      born += b0 & b1 & b2 & b3 & (r < cut);
    }
  }
  /* Squares: each is born at its earliest corner m, where it joins the arc
   * m chose. Backwards a square on the frame has the frame's rank n and
   * belongs to the outside; forwards the frame comes last, so a square's
   * birth is at one of its pixels. */
  const int32_t after[4] = {-(int32_t)pw, 0, -1, -(int32_t)pw - 1};
  for (uint32_t y = 0; y <= H && !cub_cancelled_row(g, y); y++) {
    const uint32_t *ra = rank + (size_t)y * pw, *rb = ra + pw;
    const uint8_t *la = low + (size_t)y * pw, *lb = la + pw;
    CubNode *row = nd + (size_t)y * pw;
    uint32_t x = 0;
#ifdef CUB_AVX2
    if (avx2)
      for (; x + 8 <= W + 1; x += 8) squares8(rank, low, nd, y * pw + x, pw, n, rev);
#endif
    for (; x <= W; x++) {
      uint32_t sq = y * pw + x, b = ra[x], m = sq;
      unsigned code = la[x];
      if (later(b, ra[x + 1], rev)) b = ra[x + 1], m = sq + 1, code = la[x + 1];
      if (later(b, rb[x], rev)) b = rb[x], m = sq + pw, code = lb[x];
      if (later(b, rb[x + 1], rev)) b = rb[x + 1], m = sq + pw + 1, code = lb[x + 1];
      row[x].par = rev && b >= n ? 0 : (uint32_t)((int64_t)m + after[code >> 4]);
      row[x].rank = b;
    }
  }
  if (rev) nd[0].rank = CUB_INF_RANK; /* the outside: square 0, its own parent */
  TsStatus st = cub_bitset_list(saddle, nwords, list, ns, g->err);
  free(saddle);
  *born_out = born;
  return st;
}

/* The sweep over the saddles in value order (list ascending). Two-stage
 * prefetch: the pixel's bits and its squares 2K saddles ahead, their
 * parents K ahead. Returns the number of components that died. */
#define PREFETCH 8
static inline __attribute__((always_inline)) TsStatus sweep_saddles(CubGrid *g, CubNode *nd, const uint8_t *low,
                                                                    const uint32_t *list, size_t ns, const int rev,
                                                                    uint32_t *dead_out) {
  const uint32_t *order = g->order;
  uint32_t pw = g->pw, cut = g->cutoff, dead = 0;
  const int dim = rev ? 1 : 0;
  /* the square after each edge going round: N -> NE, E -> SE, S -> SW, W -> NW */
  const int32_t after[4] = {-(int32_t)pw, 0, -1, -(int32_t)pw - 1};
  for (size_t i = 0; i < ns; i++) {
    if (cub_cancelled(g, (uint32_t)i)) return cub_cancel_error(g);
    size_t at = rev ? ns - 1 - i : i, left = ns - 1 - i;
    uint32_t r = list[at], p = order[r];
    if (left >= 2 * PREFETCH) {
      uint32_t q = cub_saddle_ahead(g, list, at, 2 * PREFETCH, rev);
      __builtin_prefetch(&low[q]);
      __builtin_prefetch(&nd[q - pw - 1]);
      __builtin_prefetch(&nd[q - pw]);
      __builtin_prefetch(&nd[q - 1]);
      __builtin_prefetch(&nd[q]);
    }
    if (left >= PREFETCH) {
      uint32_t q = cub_saddle_ahead(g, list, at, PREFETCH, rev);
      __builtin_prefetch(&nd[nd[q - pw - 1].par]);
      __builtin_prefetch(&nd[nd[q - pw].par]);
      __builtin_prefetch(&nd[nd[q - 1].par]);
      __builtin_prefetch(&nd[nd[q].par]);
    }
    uint64_t *out = cub_pend_room(g, dim, 4);
    if (!out) return g->st;
    unsigned m = low[p] & 15;
    int j = __builtin_ctz(m);
    m &= m - 1;
    uint32_t a = cub_find(nd, (uint32_t)((int64_t)p + after[j])), ra = nd[a].rank, kept = 0;
    /* backwards, pairs are (r, death) and only below the threshold; a root
     * born at r dies with zero persistence, which is not kept */
    uint32_t keep = !rev || r < cut;
    for (; m; m &= m - 1) {
      j = __builtin_ctz(m);
      uint32_t young, ry, differ = cub_join(nd, &a, &ra, cub_find(nd, (uint32_t)((int64_t)p + after[j])), rev,
                                            &young, &ry);
      out[kept] = rev ? (uint64_t)r << 32 | (ry >= cut ? CUB_INF_RANK : ry) : (uint64_t)ry << 32 | r;
      kept += differ & keep & (ry != r);
      dead += differ;
    }
    g->npend += kept;
  }
  *dead_out = dead;
  return TS_OK;
}

static inline __attribute__((always_inline)) TsStatus sweep(CubGrid *g, CubNode *nd, uint8_t *low, const int rev) {
  uint32_t *list = NULL, born = 0, dead = 0;
  size_t ns = 0;
  TsStatus st = settle(g, nd, low, rev, &list, &ns, &born);
  if (st == TS_OK && g->cancel && *g->cancel) st = cub_cancel_error(g);
  if (st == TS_OK) st = sweep_saddles(g, nd, low, list, ns, rev, &dead);
  free(list);
  if (st == TS_OK && !rev) st = cub_essential(g, nd, (uint32_t)g->n[0] + 1, (uint32_t)g->n[1] + 1, born - dead);
  return st;
}

TsStatus cub_square_sweep(CubGrid *g, int reverse) {
  size_t total = ((size_t)g->n[0] + 2) * g->pw;
  /* backwards (a dual) the second work array, forwards (H0) the first:
   * the two sweeps of a grid may run at once */
  CubNode *own = g->work[reverse] ? NULL : ts_alloc_array_huge(total, sizeof *own, "cubical union-find", g->err);
  CubNode *nd = g->work[reverse] ? (CubNode *)g->work[reverse] : own;
  uint8_t *low = ts_alloc_array_huge(total, 1, "cubical arcs", g->err);
  TsStatus st = TS_ERR_NOMEM;
  if (nd && low) {
    cub_pend_pixels(g, 0); /* pairs of ranks */
    /* the frame's bytes are read (and ignored) by the square pass; the
     * pixel pass writes all the others */
    uint32_t H = (uint32_t)g->n[0], pw = g->pw;
    memset(low, 0, pw);
    memset(low + (size_t)(H + 1) * pw, 0, pw);
    for (uint32_t y = 1; y <= H; y++) low[(size_t)y * pw] = low[(size_t)y * pw + pw - 1] = 0;
    st = reverse ? sweep(g, nd, low, 1) : sweep(g, nd, low, 0);
  }
  free(low);
  free(own);
  return st;
}
