/* cubical.c — ts_cubical_ph: checks the input, ranks the pixels, and runs
 * union-find for H0, cohomology for the middle dimensions and duality for
 * the top one, all over one shared total order of cells
 * (see cubical-internal.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

void ts_cubical_options_default(TsCubicalOptions *o) {
  memset(o, 0, sizeof *o);
  o->construction = TS_CONSTRUCTION_V;
  o->maxdim = -1;
  o->superlevel = 0;
  o->threshold = INFINITY;
  o->min_persistence = 0.0;
}

uint32_t cub_cell_rank(const CubGrid *g, const size_t *cc) {
  /* V: max over the cell's vertices; T: min over the pixels that contain it. */
  size_t lo[CUB_MAXD], hi[CUB_MAXD];
  for (int i = 0; i < g->d; i++) {
    size_t c = cc[i];
    if (!g->T) {
      lo[i] = c >> 1;
      hi[i] = (c + 1) >> 1;
    } else if (c & 1) {
      lo[i] = hi[i] = c >> 1;
    } else {
      lo[i] = c ? (c >> 1) - 1 : 0;
      hi[i] = (c >> 1) < g->n[i] ? (c >> 1) : (c >> 1) - 1;
    }
  }
  uint32_t best = g->T ? UINT32_MAX : 0;
  size_t x[CUB_MAXD];
  memcpy(x, lo, sizeof x);
  for (;;) {
    size_t p = 0;
    for (int i = 0; i < g->d; i++) p += x[i] * g->pstride[i];
    uint32_t r = g->rank[p];
    if (g->T ? r < best : r > best) best = r;
    int i = g->d - 1;
    while (i >= 0 && x[i] == hi[i]) {
      x[i] = lo[i];
      i--;
    }
    if (i < 0) break;
    x[i]++;
  }
  return best;
}

uint64_t cub_cell_slot(const CubGrid *g, const size_t *cc) {
  uint64_t base = 0;
  unsigned mask = 0;
  int k = 0;
  for (int i = 0; i < g->d; i++) {
    base += (uint64_t)(cc[i] >> 1) * g->latstride[i];
    if (cc[i] & 1) {
      mask |= 1u << i;
      k++;
    }
  }
  return base * (uint64_t)g->orient_count[k] + (uint64_t)g->orient_index[mask];
}

void cub_slot_coords(const CubGrid *g, int k, uint64_t slot, size_t *cc) {
  uint64_t base = slot / (uint64_t)g->orient_count[k];
  unsigned mask = g->orient_mask[k][slot % (uint64_t)g->orient_count[k]];
  for (int i = g->d - 1; i >= 0; i--) {
    size_t b = (size_t)(base % g->lat[i]);
    base /= g->lat[i];
    cc[i] = 2 * b + ((mask >> i) & 1u);
  }
}

/* Pixel q (as order holds it: padded in 2D) -> its coordinates; returns
 * its flat index in the input. */
static inline uint32_t unravel(const CubGrid *g, uint32_t q, int32_t *at) {
  for (int i = 3; i >= g->d; i--) at[i] = -1;
  if (g->pw) { /* 2D, padded */
    uint32_t y = cub_div(q, cub_div_init(g->pw)), x = q - y * g->pw;
    at[0] = (int32_t)y - 1;
    at[1] = (int32_t)x - 1;
    return (y - 1) * (uint32_t)g->n[1] + x - 1;
  }
  uint32_t p = q; /* pixel indices fit 32 bits: 32-bit divisions are cheaper */
  for (int i = g->d - 1; i > 0; i--) {
    uint32_t n = (uint32_t)g->n[i], r = q / n;
    at[i] = (int32_t)(q - r * n);
    q = r;
  }
  at[0] = (int32_t)q;
  return p;
}

/* The input's value at rank r. */
static inline double value_at_rank(const CubGrid *g, uint32_t r) {
  int32_t at[CUB_MAXD];
  return g->values[unravel(g, g->order[r], at)];
}

int cub_use_avx2(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx2") && !getenv("TOPOSCOPE_NO_AVX2");
#else
  return 0;
#endif
}

TsStatus cub_bitset_list(const uint64_t *bits, size_t nwords, uint32_t **list, size_t *ns, TsError *err) {
  size_t count = 0, k = 0;
  for (size_t w = 0; w < nwords; w++) count += (size_t)__builtin_popcountll(bits[w]);
  uint32_t *l = ts_alloc_array(count ? count : 1, sizeof *l, "cubical saddles", err);
  if (!l) return TS_ERR_NOMEM;
  for (size_t w = 0; w < nwords; w++)
    for (uint64_t b = bits[w]; b; b &= b - 1) l[k++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
  *list = l;
  *ns = count;
  return TS_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Without a threshold one component is alive, born at rank 0; otherwise
 * the roots are found in one raster pass. */
TsStatus cub_essential(CubGrid *g, const CubNode *nd, uint32_t rows, uint32_t cols, uint32_t alive) {
  if (alive == 0) return TS_OK;
  uint32_t *roots = ts_alloc_array(alive, sizeof *roots, "cubical union-find", g->err);
  if (!roots) return TS_ERR_NOMEM;
  size_t k = 0;
  if (alive == 1) roots[k++] = 0;
  for (uint32_t y = 0; y < rows && k < alive; y++)
    for (uint32_t i = y * g->pw, e = i + cols; i < e && k < alive; i++)
      if (nd[i].par == i && nd[i].rank < g->cutoff) roots[k++] = nd[i].rank;
  qsort(roots, k, sizeof *roots, cmp_u32);
  for (size_t i = 0; i < k; i++) cub_emit(g, 0, g->pend_pixels ? g->order[roots[i]] : roots[i], CUB_INF_RANK);
  free(roots);
  return TS_OK;
}

TsStatus cub_cancel_error(CubGrid *g) {
  return ts_error_set(g->err, TS_ERR_CANCELLED, "cubical homology: cancelled");
}

int cub_pend_grow(CubGrid *g, int dim, size_t k) {
  if (g->st != TS_OK) return -1;
  if (dim != g->pend_dim) {
    cub_flush(g);
    g->pend_dim = dim;
  }
  if (g->cappend - g->npend >= k) return 0;
  size_t cap = g->cappend ? 2 * g->cappend : 4096;
  while (cap - g->npend < k) cap *= 2;
  uint64_t *p = ts_realloc_array(g->pend, cap, sizeof *p, "cubical pairs", g->err);
  if (!p) {
    g->st = TS_ERR_NOMEM;
    return -1;
  }
  g->pend = p;
  g->cappend = cap;
  return 0;
}

void cub_emit_slow(CubGrid *g, int dim, uint32_t rb, uint32_t rd) {
  if (cub_pend_grow(g, dim, 1)) return;
  g->pend[g->npend++] = (uint64_t)rb << 32 | rd;
}

void cub_flush(CubGrid *g) {
  size_t np = g->npend;
  g->npend = 0;
  if (np == 0 || g->st != TS_OK) return;
  TsDiagram *d = g->out;
  if ((g->st = ts_diagram_reserve(d, d->n + np, g->err))) return;
  const uint64_t *pend = g->pend;
  const uint32_t *order = g->order;
  const double *values = g->values;
  double inf = g->super ? -INFINITY : INFINITY;
  size_t o = d->n;
  /* Four random loads a pair, two by two dependent (two when the pairs
   * name pixels): start the pixels' numbers 2K pairs ahead and their
   * values K pairs ahead. */
  enum { AHEAD = 12 };
  const int pixels = g->pend_pixels;
#define PIXEL(x) (pixels ? (x) : order[(x)])
  for (size_t i = 0; i < np; i++) {
    if (!pixels && i + 2 * AHEAD < np) {
      uint32_t b = (uint32_t)(pend[i + 2 * AHEAD] >> 32), e = (uint32_t)pend[i + 2 * AHEAD];
      __builtin_prefetch(&order[b]);
      if (e != CUB_INF_RANK) __builtin_prefetch(&order[e]);
    }
    /* pixels: no numbers to wait for, so the values start 2K ahead */
    size_t ahead = pixels ? 2 * AHEAD : AHEAD;
    if (i + ahead < np) {
      int32_t at[CUB_MAXD];
      uint32_t b = (uint32_t)(pend[i + ahead] >> 32), e = (uint32_t)pend[i + ahead];
      __builtin_prefetch(&values[unravel(g, PIXEL(b), at)]);
      if (e != CUB_INF_RANK) __builtin_prefetch(&values[unravel(g, PIXEL(e), at)]);
    }
    uint32_t rb = (uint32_t)(pend[i] >> 32), rd = (uint32_t)pend[i];
    TsPair *pr = &d->pairs[o];
    memset(pr, 0, sizeof *pr); /* padding too: diagrams compare and hash as bytes */
    double b = values[unravel(g, PIXEL(rb), pr->birth_at)];
    if (rd == CUB_INF_RANK) {
      pr->death = inf;
      for (int k = 0; k < 4; k++) pr->death_at[k] = -1;
    } else {
      double dv = values[unravel(g, PIXEL(rd), pr->death_at)];
      if (dv == b) continue; /* zero persistence (a tie) */
      pr->death = dv;
    }
    pr->birth = b;
    pr->dim = g->pend_dim;
    o++;
  }
#undef PIXEL
  d->n = o;
}

/* Cells at a pixel, by dimension, in ascending slot order. */
static int cmp_pattern(const void *a, const void *b) {
  int64_t x = ((const CubPattern *)a)->soff, y = ((const CubPattern *)b)->soff;
  return (x > y) - (x < y);
}

static TsStatus build_patterns(CubGrid *g, TsError *err) {
  int d = g->d, total = 1;
  for (int i = 0; i < d; i++) total *= 3;
  /* Orientation tables: masks of k odd axes, numbered in increasing order. */
  memset(g->orient_count, 0, sizeof g->orient_count);
  for (unsigned mask = 0; mask < (1u << d); mask++) {
    int k = __builtin_popcount(mask);
    g->orient_mask[k][g->orient_count[k]] = (uint8_t)mask;
    g->orient_index[mask] = (int8_t)g->orient_count[k]++;
  }
  for (int k = 0; k <= d; k++) {
    g->pat[k] = ts_calloc_array((size_t)total, sizeof(CubPattern), "cubical patterns", err);
    if (!g->pat[k]) return TS_ERR_NOMEM;
    g->npat[k] = 0;
  }
  for (int t = 0; t < total; t++) {
    CubPattern pt;
    memset(&pt, 0, sizeof pt);
    int u = t, nz = 0;
    for (int i = d - 1; i >= 0; i--) {
      pt.o[i] = (int8_t)(u % 3 - 1);
      u /= 3;
    }
    for (int i = 0; i < d; i++) {
      pt.coff += pt.o[i] * (int64_t)g->cstride[i];
      if (pt.o[i]) {
        nz++;
        pt.need |= 1u << (2 * i + (pt.o[i] > 0));
      }
    }
    /* Other pixels: s with s_i in {0, o_i}, s != 0. */
    for (int s = 1; s < (1 << d); s++) {
      int ok = 1;
      int64_t off = 0;
      uint32_t om = 0;
      for (int i = 0; i < d && ok; i++) {
        if (!((s >> i) & 1)) continue;
        if (!pt.o[i]) ok = 0;
        off += pt.o[i] * (int64_t)g->pstride[i];
        om |= 1u << (2 * i + (pt.o[i] > 0));
      }
      if (!ok) continue;
      pt.poff[pt.nother] = off;
      pt.omask[pt.nother] = om;
      pt.nother++;
    }
    int k = g->T ? d - nz : nz;
    /* Slot offset: the cell's lattice base moves by floor((T + o) / 2) per axis. */
    int64_t dbase = 0;
    unsigned mask = 0;
    for (int i = 0; i < d; i++) {
      int h = g->T + pt.o[i];
      dbase += (h < 0 ? -1 : h / 2) * (int64_t)g->latstride[i];
      if (h & 1) mask |= 1u << i;
    }
    pt.soff = dbase * g->orient_count[k] + g->orient_index[mask];
    g->pat[k][g->npat[k]++] = pt;
  }
  for (int k = 0; k <= d; k++) qsort(g->pat[k], (size_t)g->npat[k], sizeof(CubPattern), cmp_pattern);
  return TS_OK;
}

static void free_patterns(CubGrid *g) {
  for (int k = 0; k <= CUB_MAXD; k++) free(g->pat[k]);
}

/* A 2D grid's two sweeps, H0 upwards and H1 (by duality) downwards, only
 * read the shared ranks: each runs on its own copy of the grid, with its
 * own pending pairs and error, on two threads if the pool has them, and the
 * pairs reach the diagram afterwards, H0 first, as when run one by one. */
typedef struct Sweeps2d {
  CubGrid g[2];
  TsError err[2];
  TsStatus st[2];
} Sweeps2d;

static void sweep_task(void *ctx, size_t begin, size_t end, int worker) {
  (void)worker;
  Sweeps2d *s = ctx;
  for (size_t i = begin; i < end; i++) s->st[i] = i == 0 ? cub_h0(&s->g[0], NULL) : cub_top_dual(&s->g[1]);
}

static TsStatus sweeps_2d(CubGrid *g, TsPool *pool) {
  Sweeps2d s;
  for (int i = 0; i < 2; i++) {
    s.g[i] = *g;
    s.g[i].pend = NULL;
    s.g[i].npend = s.g[i].cappend = 0;
    s.g[i].pend_dim = i;
    s.g[i].err = &s.err[i];
    ts_error_clear(&s.err[i]);
  }
  ts_pool_for(pool, 2, 1, sweep_task, &s);
  /* the union-find nodes are done with: the diagram grows in their place */
  for (int i = 0; i < 2; i++) {
    free(g->work[i]);
    g->work[i] = NULL;
  }
  TsStatus st = TS_OK;
  for (int i = 0; i < 2; i++) {
    if (st == TS_OK && s.st[i] == TS_OK) {
      s.g[i].err = g->err;
      cub_flush(&s.g[i]);
      s.st[i] = s.g[i].st;
    }
    if (st == TS_OK && s.st[i] != TS_OK) {
      st = s.st[i];
      if (s.g[i].err != g->err) ts_error_set(g->err, st, "%s", s.err[i].message);
    }
    free(s.g[i].pend);
  }
  return st;
}

static TsStatus check_values(const double *v, int ndim, const size_t *shape, size_t n, TsError *err) {
  for (size_t i = 0; i < n; i++) {
    if (isnan(v[i])) {
      size_t x[CUB_MAXD], p = i;
      for (int a = ndim - 1; a >= 0; a--) {
        x[a] = p % shape[a];
        p /= shape[a];
      }
      char at[96];
      int o = 0;
      for (int a = 0; a < ndim; a++) o += snprintf(at + o, sizeof at - (size_t)o, a ? ", %zu" : "%zu", x[a]);
      return ts_error_set(err, TS_ERR_INVALID, "cubical homology: value at (%s) is NaN", at);
    }
  }
  return TS_OK;
}

static void filter_pairs(TsDiagram *d, int super, double minp) {
  /* The flush already left out pairs of zero persistence, and none is
   * negative: with minp 0 there is nothing to do (and 56 bytes a pair to
   * read and write back). */
  if (!(minp > 0)) return;
  size_t o = 0;
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    double life = super ? p->birth - p->death : p->death - p->birth;
    if (isinf(p->death) || life > minp) {
      if (o != i) d->pairs[o] = *p;
      o++;
    }
  }
  d->n = o;
}

TsStatus ts_cubical_ph(const double *values, int ndim, const size_t *shape, const TsCubicalOptions *o,
                       TsDiagram *out, TsError *err) {
  TsCubicalOptions def;
  if (!o) {
    ts_cubical_options_default(&def);
    o = &def;
  }
  if (!out) return ts_error_set(err, TS_ERR_INVALID, "cubical homology: no output diagram");
  out->n = 0;
  out->loc = TS_LOC_CELLS;
  if (ndim < 1 || ndim > CUB_MAXD)
    return ts_error_set(err, TS_ERR_UNSUPPORTED,
                        "cubical homology: a %d-dimensional grid is not supported (1 to 4 axes)", ndim);
  if (!shape) return ts_error_set(err, TS_ERR_INVALID, "cubical homology: no shape");
  size_t npix = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == 0)
      return ts_error_set(err, TS_ERR_INVALID, "cubical homology: empty grid (axis %d has length 0)", i);
    if (ts_mul_size(npix, shape[i], &npix) != 0 || npix >= UINT32_MAX - 1)
      return ts_error_set(err, TS_ERR_UNSUPPORTED, "cubical homology: grid too large (at most 2^32-2 values)");
  }
  if (!values) return ts_error_set(err, TS_ERR_INVALID, "cubical homology: no values");
  if (o->construction != TS_CONSTRUCTION_V && o->construction != TS_CONSTRUCTION_T)
    return ts_error_set(err, TS_ERR_INVALID, "cubical homology: unknown construction %d", (int)o->construction);
  if (isnan(o->threshold)) return ts_error_set(err, TS_ERR_INVALID, "cubical homology: threshold is NaN");
  if (isnan(o->min_persistence) || o->min_persistence < 0)
    return ts_error_set(err, TS_ERR_INVALID, "cubical homology: min_persistence must be >= 0");
  if (o->maxdim < -1) return ts_error_set(err, TS_ERR_INVALID, "cubical homology: maxdim %d < 0", o->maxdim);
  TsStatus st;
  int maxdim = o->maxdim < 0 || o->maxdim > ndim - 1 ? ndim - 1 : o->maxdim;
  out->maxdim = maxdim;

  CubGrid g;
  memset(&g, 0, sizeof g);
  g.d = ndim;
  g.T = o->construction == TS_CONSTRUCTION_T;
  g.cancel = o->cancel;
  g.super = o->superlevel != 0;
  g.values = values;
  g.npix = npix;
  g.out = out;
  g.err = err;
  g.ncells = 1;
  g.nlat = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    g.n[i] = shape[i];
    g.pstride[i] = i == ndim - 1 ? 1 : g.pstride[i + 1] * g.n[i + 1];
    g.m[i] = g.T ? 2 * shape[i] + 1 : 2 * shape[i] - 1;
    g.lat[i] = g.T ? shape[i] + 1 : shape[i];
  }
  for (int i = ndim - 1; i >= 0; i--) {
    g.cstride[i] = g.ncells;
    g.latstride[i] = g.nlat;
    g.ncells *= g.m[i]; /* cannot overflow: npix < 2^32 and d <= 4 */
    g.nlat *= g.lat[i];
  }
  int middle = ndim >= 3 && maxdim >= 1;
  if (middle && g.nlat > (UINT32_MAX / 2 - 1) / 6) /* slots must fit 31 bits */
    return ts_error_set(err, TS_ERR_UNSUPPORTED,
                        "cubical homology: grid too large for dimensions 1..%d (at most 2^32 cells)", ndim - 2);

  /* 2D: padded (see CubGrid.pw), the frame adding 2 (H + W) + 4 entries;
   * a grid whose padded indices would not fit 32 bits takes the general
   * sweeps instead. */
  size_t nrank = npix + 1; /* + the outside */
  if (ndim == 2 && (shape[0] + 2) * (shape[1] + 2) < UINT32_MAX) {
    g.pw = (uint32_t)shape[1] + 2;
    nrank = (shape[0] + 2) * (shape[1] + 2);
  }
  g.order = ts_alloc_array_huge(npix, sizeof(uint32_t), "cubical order", err);
  g.rank = ts_alloc_array_huge(nrank, sizeof(uint32_t), "cubical ranks", err);
  if (!g.order || !g.rank) {
    st = TS_ERR_NOMEM;
    goto done;
  }
  if ((st = build_patterns(&g, err))) goto done;
  if (g.pw && maxdim == 1) { /* the sort's buffers become the two sweeps' nodes */
    for (int i = 0; i < 2; i++)
      if (!(g.work[i] = ts_alloc_array_huge(nrank, sizeof *g.work[i], "cubical work", err))) {
        st = TS_ERR_NOMEM;
        goto done;
      }
  }
  if ((st = cub_rank_pixels(values, npix, g.super, g.pw ? shape[1] : 0, g.order, g.rank, NULL,
                            g.work[0] ? g.work : NULL, err))) {
    /* the sort looks for NaN as it reads the values; say where it is */
    if (st == TS_ERR_INVALID) check_values(values, ndim, shape, npix, err);
    goto done;
  }
  if (g.pw) { /* the frame */
    size_t pw = g.pw, ph = shape[0] + 2;
    for (size_t x = 0; x < pw; x++) g.rank[x] = g.rank[(ph - 1) * pw + x] = (uint32_t)npix;
    for (size_t y = 1; y + 1 < ph; y++) g.rank[y * pw] = g.rank[y * pw + pw - 1] = (uint32_t)npix;
  } else {
    g.rank[npix] = CUB_INF_RANK;
  }

  /* Threshold: cells whose value lies beyond it are absent, i.e. ranks >= cutoff. */
  g.cutoff = (uint32_t)npix;
  if (!(g.super ? o->threshold == INFINITY || o->threshold == -INFINITY : o->threshold == INFINITY)) {
    size_t lo = 0, hi = npix; /* first rank whose value is beyond the threshold */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      double v = value_at_rank(&g, (uint32_t)mid);
      int beyond = g.super ? v < o->threshold : v > o->threshold;
      if (beyond) hi = mid;
      else lo = mid + 1;
    }
    g.cutoff = (uint32_t)lo;
  }

  uint8_t *cleared = NULL;
  if (middle) {
    size_t nedge = g.nlat * (size_t)g.orient_count[1];
    cleared = ts_calloc_array((nedge + 7) / 8, 1, "cubical edge marks", err);
    if (!cleared) {
      st = TS_ERR_NOMEM;
      goto done;
    }
  }
  if (g.pw && maxdim == 1) {
    st = sweeps_2d(&g, o->pool);
    goto filter;
  }
  st = cub_h0(&g, cleared);
  for (int k = 1; st == TS_OK && k <= maxdim && k <= ndim - 2; k++) {
    uint8_t *next = NULL;
    st = cub_cohomology(&g, k, cleared, &next);
    free(cleared);
    cleared = next;
  }
  free(cleared);
  if (st == TS_OK && ndim >= 2 && maxdim == ndim - 1) st = cub_top_dual(&g);
  cub_flush(&g);
  if (st == TS_OK) st = g.st;
filter:
  if (st == TS_OK) filter_pairs(out, g.super, o->min_persistence);

done:
  free(g.pend);
  free_patterns(&g);
  free(g.order);
  free(g.rank);
  free(g.work[0]);
  free(g.work[1]);
  if (st) out->n = 0;
  return st;
}
