/* cubical-pixels.c — union-find over the pixels of a 2D grid, each joined
 * to its four neighbours, swept in value order: forwards H0 of the
 * V-construction, backwards the T-construction's top dimension by duality
 * (the complement's pixels, joined to their neighbours and to the outside;
 * cubical-dual.c says why that is H1). Its mirror image is
 * cubical-squares.c (the V dual and T's H0).
 *
 * "Earlier" means lower rank forwards and higher rank backwards. Grids are
 * in padded coordinates (CubGrid.pw): the frame's rank npix is never
 * earlier than a pixel forwards, and backwards it is always earlier and is
 * the outside, one component rooted at node 0. The union-find lives in
 * pixel space, each node's parent beside its pixel's rank. A root is its
 * component's eldest pixel, so the elder of two roots is the earlier one
 * and a root's rank is its component's birth.
 *
 * Most pixels cannot merge anything, and those are settled in one raster
 * pass instead of the sweep in value order, which visits pixels at random:
 * the eight pixels around p, as a ring N NE E SE S SW W NW, split the
 * earlier ones into arcs, runs that are already one component (N and E are
 * joined through an earlier NE, and so on). A pixel with no arc starts a
 * component; with one arc it joins that component and kills nothing, so
 * its parent can be any earlier neighbour (the eldest: the trees stay
 * shallow), set in the raster pass. Only pixels with two arcs or more
 * ("saddles", 28% of white noise) are swept in value order,
 * with one find per arc. By induction on the rank, the union-find has the
 * components of the sublevel set (or of the complement) whenever the sweep
 * reaches a saddle: every join it skipped was between pixels already
 * connected. */
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

/* Whether rank a comes before rank b in the sweep. */
static inline int earlier(uint32_t a, uint32_t b, const int rev) { return rev ? a > b : a < b; }

/* The ring's mask of earlier pixels -> the arcs' first pixels: how many,
 * then their ring indices three bits each. */
typedef struct ArcTable {
  uint8_t count[256];
  uint16_t starts[256];
} ArcTable;

static void arc_table(ArcTable *t) {
  for (unsigned m = 0; m < 256; m++) {
    unsigned c = 0, st = 0, any = 0;
    for (int k = 0; k < 8; k += 2) { /* the four neighbours; the diagonals only link */
      if (!(m >> k & 1)) continue;
      any = 1;
      /* k continues an arc if the neighbour before it and the diagonal
       * between them are earlier */
      unsigned prev = (unsigned)(k + 7) & 7, prev2 = (unsigned)(k + 6) & 7;
      if ((m >> prev & 1) & (m >> prev2 & 1)) continue;
      st |= (unsigned)k << (3 * c);
      c++;
    }
    if (any && c == 0) { /* the whole ring is one arc: start at N */
      st = 0;
      c = 1;
    }
    t->count[m] = (uint8_t)c;
    t->starts[m] = (uint16_t)st;
  }
}

/* The ring's mask of pixels earlier than rank r around p, from ranks
 * spaced stride entries apart (1: an array of ranks, 2: the nodes). */
static inline unsigned ring_mask(const uint32_t *rk, size_t stride, uint32_t p, uint32_t pw, uint32_t r,
                                 const int rev) {
#define E(q, bit) ((unsigned)earlier(rk[(size_t)(q) * stride], r, rev) << (bit))
  return E(p - pw, 0) | E(p - pw + 1, 1) | E(p + 1, 2) | E(p + pw + 1, 3) | E(p + pw, 4) | E(p + pw - 1, 5) |
         E(p - 1, 6) | E(p - pw - 1, 7);
#undef E
}

/* One pixel of the raster pass: its first parent, and whether it starts a
 * component (1), is a saddle (2) or neither (0). */
static inline unsigned settle_one(CubNode *nd, const uint32_t *rank, const ArcTable *arcs, uint32_t p, uint32_t pw,
                                  const int rev) {
  uint32_t r = rank[p];
  unsigned c = arcs->count[ring_mask(rank, 1, p, pw, r, rev)];
  /* the eldest earlier neighbour (none: p stays its own parent) */
  uint32_t best = p, br = r;
#define ELDER(q)                                                                                                       \
  do {                                                                                                                 \
    uint32_t rq_ = rank[(q)];                                                                                          \
    int e_ = earlier(rq_, br, rev);                                                                                    \
    best = e_ ? (q) : best;                                                                                            \
    br = e_ ? rq_ : br;                                                                                                \
  } while (0)
  ELDER(p - pw);
  ELDER(p + 1);
  ELDER(p + pw);
  ELDER(p - 1);
#undef ELDER
  nd[p] = (CubNode){best, r};
  return c == 0 ? 1 : c >= 2 ? 2 : 0;
}

#ifdef CUB_AVX2
#define lt_epu32 cub_lt_epu32
/* settle_one for eight pixels of a row at once (the same parents): bit i
 * of *born and *saddle is pixel p + i. */
__attribute__((target("avx2"))) static void settle8(CubNode *nd, const uint32_t *rank, uint32_t p, uint32_t pw,
                                                    const int rev, unsigned *born, unsigned *sad) {
#define LD(o) _mm256_loadu_si256((const __m256i *)(rank + (int64_t)p + (o)))
  __m256i c = LD(0), n = LD(-(int64_t)pw), ne = LD(-(int64_t)pw + 1), e = LD(1), se = LD(pw + 1), so = LD(pw),
          sw = LD((int64_t)pw - 1), w = LD(-1), nw = LD(-(int64_t)pw - 1);
#undef LD
#define EARLIER(x) (rev ? lt_epu32(c, (x)) : lt_epu32((x), c))
  __m256i ln = EARLIER(n), lne = EARLIER(ne), le = EARLIER(e), lse = EARLIER(se), ls = EARLIER(so), lsw = EARLIER(sw),
          lw = EARLIER(w), lnw = EARLIER(nw);
#undef EARLIER
  /* arc starts as -1 lanes, summed: minus the arc count (as arc_table) */
  __m256i any = _mm256_or_si256(_mm256_or_si256(ln, le), _mm256_or_si256(ls, lw));
  __m256i s0 = _mm256_andnot_si256(_mm256_and_si256(lnw, lw), ln), s1 = _mm256_andnot_si256(_mm256_and_si256(lne, ln), le);
  __m256i s2 = _mm256_andnot_si256(_mm256_and_si256(lse, le), ls), s3 = _mm256_andnot_si256(_mm256_and_si256(lsw, ls), lw);
  __m256i nstart = _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
  *born = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(any)) ^ 0xffu;
  *sad = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(-1), nstart)));
  /* the eldest earlier neighbour, in settle_one's order (ranks are
   * distinct but for the frame's, which no pixel ties) */
  __m256i vp = _mm256_add_epi32(_mm256_set1_epi32((int)p), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i best = vp, br = c;
#define ELDER(x, o)                                                                                                    \
  do {                                                                                                                 \
    __m256i e_ = rev ? lt_epu32(br, (x)) : lt_epu32((x), br);                                                          \
    best = _mm256_blendv_epi8(best, _mm256_add_epi32(vp, _mm256_set1_epi32((int)(o))), e_);                           \
    br = rev ? _mm256_max_epu32(br, (x)) : _mm256_min_epu32(br, (x));                                                 \
  } while (0)
  ELDER(n, -(int64_t)pw);
  ELDER(e, 1);
  ELDER(so, pw);
  ELDER(w, -1);
#undef ELDER
  __m256i lo = _mm256_unpacklo_epi32(best, c), hi = _mm256_unpackhi_epi32(best, c);
  _mm256_storeu_si256((__m256i *)(nd + p), _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256((__m256i *)(nd + p + 4), _mm256_permute2x128_si256(lo, hi, 0x31));
}
#undef lt_epu32
#endif

/* The raster pass: every node's rank and first parent, the saddles as a
 * bitset over ranks, and the number of components born (pixels with no
 * arc). Forwards, pixels beyond the threshold are never reached and are
 * left out; backwards they are swept too (their joins shape the
 * complement), only their pairs are not kept. */
static inline __attribute__((always_inline)) uint32_t settle_rows(CubGrid *g, CubNode *nd, const ArcTable *arcs,
                                                                  uint64_t *saddle, const int rev, int avx2) {
  uint32_t H = (uint32_t)g->n[0], W = (uint32_t)g->n[1], pw = g->pw, born = 0;
  uint32_t cut = rev ? (uint32_t)g->npix : g->cutoff;
  const uint32_t *rank = g->rank;
  /* the frame: forwards never reached (each its own parent, read only by
   * prefetches); backwards the outside, one component rooted at node 0 */
  for (uint32_t i = 0; i < pw; i++) {
    uint32_t j = (H + 1) * pw + i;
    nd[i] = (CubNode){rev ? 0 : i, rank[i]};
    nd[j] = (CubNode){rev ? 0 : j, rank[j]};
  }
  (void)avx2;
  for (uint32_t y = 1; y <= H && !cub_cancelled_row(g, y); y++) {
    uint32_t p = y * pw, e = p + W + 1;
    nd[p] = (CubNode){rev ? 0 : p, rank[p]};
    nd[e] = (CubNode){rev ? 0 : e, rank[e]};
    p++;
#ifdef CUB_AVX2
    if (avx2)
      for (; p + 8 <= e; p += 8) {
        unsigned b, sd;
        settle8(nd, rank, p, pw, rev, &b, &sd);
        for (unsigned i = 0; i < 8; i++) {
          uint32_t r = rank[p + i];
          if (r >= cut) continue;
          born += b >> i & 1;
          if (sd >> i & 1) saddle[r >> 6] |= 1ull << (r & 63);
        }
      }
#endif
    for (; p < e; p++) {
      uint32_t r = rank[p];
      unsigned kind = settle_one(nd, rank, arcs, p, pw, rev);
      if (r >= cut) continue;
      born += kind == 1;
      if (kind == 2) saddle[r >> 6] |= 1ull << (r & 63);
    }
  }
  return born;
}

/* The sweep over the saddles (list, ascending ranks) in value order.
 * Two-stage prefetch: the rows around the saddle 2K ahead, then, K ahead,
 * its neighbours' parents (the rows have arrived by then), where their
 * finds go next. Returns the number of components that died. */
#define PREFETCH 8
static inline __attribute__((always_inline)) TsStatus sweep_saddles(CubGrid *g, CubNode *nd, const ArcTable *arcs,
                                                                    const uint32_t *list, size_t ns, const int rev,
                                                                    uint32_t *dead_out) {
  const uint32_t *order = g->order;
  uint32_t pw = g->pw, cut = g->cutoff, dead = 0;
  const int32_t ring[8] = {-(int32_t)pw, -(int32_t)pw + 1, 1, (int32_t)pw + 1,
                           (int32_t)pw,  (int32_t)pw - 1,  -1, -(int32_t)pw - 1};
  const int dim = rev ? 1 : 0;
  for (size_t i = 0; i < ns; i++) {
    if (cub_cancelled(g, (uint32_t)i)) return cub_cancel_error(g);
    size_t at = rev ? ns - 1 - i : i, left = ns - 1 - i;
    uint32_t r = list[at], p = order[r];
    if (left >= 2 * PREFETCH) {
      uint32_t q = cub_saddle_ahead(g, list, at, 2 * PREFETCH, rev);
      __builtin_prefetch(&nd[q - pw - 1]);
      __builtin_prefetch(&nd[q - pw + 1]);
      __builtin_prefetch(&nd[q - 1]);
      __builtin_prefetch(&nd[q + 1]);
      __builtin_prefetch(&nd[q + pw - 1]);
      __builtin_prefetch(&nd[q + pw + 1]);
    }
    if (left >= PREFETCH) {
      uint32_t q = cub_saddle_ahead(g, list, at, PREFETCH, rev);
      __builtin_prefetch(&nd[nd[q - pw].par]);
      __builtin_prefetch(&nd[nd[q - 1].par]);
      __builtin_prefetch(&nd[nd[q + 1].par]);
      __builtin_prefetch(&nd[nd[q + pw].par]);
    }
    unsigned m = ring_mask(&nd[0].rank, 2, p, pw, r, rev), c = arcs->count[m], st = arcs->starts[m];
    uint64_t *out = cub_pend_room(g, dim, 4);
    if (!out) return g->st;
    uint32_t a = cub_find(nd, (uint32_t)((int64_t)p + ring[st & 7]));
    uint32_t ra = nd[a].rank, kept = 0;
    /* backwards, pairs are (r, death) and only below the threshold */
    uint32_t keep = !rev || r < cut;
    for (unsigned j = 1; j < c; j++) {
      st >>= 3;
      uint32_t young, ry, differ = cub_join(nd, &a, &ra, cub_find(nd, (uint32_t)((int64_t)p + ring[st & 7])), rev,
                                            &young, &ry);
      /* the pair as pixels (cub_pend_pixels): p and the young root */
      out[kept] = rev ? (uint64_t)p << 32 | (ry >= cut ? CUB_INF_RANK : young) : (uint64_t)young << 32 | p;
      kept += differ & keep;
      dead += differ;
    }
    g->npend += kept;
    nd[p].par = a; /* p itself straight to the root */
  }
  *dead_out = dead;
  return TS_OK;
}

/* The two phases of one sweep, with rev constant (separate copies, so its
 * tests leave the loops). */
static inline __attribute__((always_inline)) TsStatus sweep(CubGrid *g, CubNode *nd, const ArcTable *arcs,
                                                            uint64_t *saddle, size_t nwords, const int rev) {
  int avx2 = cub_use_avx2();
  uint32_t alive = settle_rows(g, nd, arcs, saddle, rev, avx2);
  if (g->cancel && *g->cancel) return cub_cancel_error(g);
  size_t ns = 0;
  uint32_t *list = NULL, dead = 0;
  if (cub_bitset_list(saddle, nwords, &list, &ns, g->err)) return TS_ERR_NOMEM;
  TsStatus st = sweep_saddles(g, nd, arcs, list, ns, rev, &dead);
  free(list);
  if (st == TS_OK && !rev) st = cub_essential(g, nd, (uint32_t)g->n[0] + 2, g->pw, alive - dead);
  return st;
}

TsStatus cub_pixel_sweep(CubGrid *g, int reverse) {
  size_t total = ((size_t)g->n[0] + 2) * g->pw, nwords = ((size_t)g->npix + 63) / 64;
  /* forwards the first work array, backwards the second (they may run at once) */
  CubNode *own = g->work[reverse] ? NULL : ts_alloc_array_huge(total, sizeof *own, "cubical union-find", g->err);
  CubNode *nd = g->work[reverse] ? (CubNode *)g->work[reverse] : own;
  uint64_t *saddle = ts_calloc_array(nwords, sizeof *saddle, "cubical saddles", g->err);
  TsStatus st = TS_ERR_NOMEM;
  if (nd && saddle) {
    cub_pend_pixels(g, 1); /* until the next sweep or the caller's flush */
    ArcTable arcs;
    arc_table(&arcs);
    st = reverse ? sweep(g, nd, &arcs, saddle, nwords, 1) : sweep(g, nd, &arcs, saddle, nwords, 0);
  }
  free(own);
  free(saddle);
  return st;
}
