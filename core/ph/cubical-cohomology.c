/* cubical-cohomology.c — middle dimensions (1..d-2) by cohomology.
 *
 * Ripser's recipe on cubes: the columns are the k-cells in decreasing
 * filtration order, each one's coboundary generated on the fly from its
 * coordinates (never stored); cells that were pivots of dimension k-1 are
 * skipped (clearing: they are deaths, their columns reduce to zero). A
 * column's pivot is its earliest coface. When that coface is no one's pivot
 * yet the pair is emergent and nothing is reduced or stored — the common
 * case by far. Otherwise the column is reduced over Z/2 (sorted vectors,
 * merged), and only then is the reduced coboundary kept (compressed, see
 * Stored), for later columns that meet its pivot. The pivot table is dense
 * over (k+1)-cell slots, four bits a slot (which face of the pivot is the
 * column), and becomes the clearing set of dimension k+1 (4D grids). */
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

/* The working column: keys (rank << 32 | slot) added to by symmetric
 * difference (Z/2), in two sorted vectors: a big one B (a[h..n), consumed
 * from the front as the pivot advances) and a small one S (s[0..sn)) that
 * takes the additions and is merged into B only once it outgrows a
 * sixteenth of it. A plain merge into one vector copied the whole column
 * for every addition: on 128^3 noise a few thousand columns grow to tens of
 * thousands of keys while the additions are mostly a handful of keys, and
 * that copying was a quarter of the run. The column is B ^ S; its pivot
 * (the least key) is found by cancelling equal fronts. */
typedef struct Col {
  uint64_t *a, *tmp, *s, *stmp;
  size_t h, n, cap, sn, scap;
} Col;

static int grow(uint64_t **x, uint64_t **y, size_t *cap, size_t n) {
  if (n <= *cap) return 0;
  size_t c = *cap ? *cap : 64;
  while (c < n) c *= 2;
  uint64_t *a = realloc(*x, c * sizeof *a);
  if (!a) return -1;
  *x = a;
  a = realloc(*y, c * sizeof *a);
  if (!a) return -1;
  *y = a;
  *cap = c;
  return 0;
}

/* t = a ^ x (both sorted); returns the length. */
static size_t merge_xor(const uint64_t *a, size_t n, const uint64_t *x, size_t m, uint64_t *t) {
  size_t i = 0, j = 0, o = 0;
  while (i < n && j < m) {
    if (a[i] < x[j]) t[o++] = a[i++];
    else if (x[j] < a[i]) t[o++] = x[j++];
    else i++, j++;
  }
  while (i < n) t[o++] = a[i++];
  while (j < m) t[o++] = x[j++];
  return o;
}

static void col_clear(Col *c) { c->h = c->n = c->sn = 0; }

/* B ^= S: afterwards the whole column is a[0..n). */
static int col_flush(Col *c) {
  if (!c->sn) return 0;
  size_t nb = c->n - c->h;
  if (grow(&c->a, &c->tmp, &c->cap, nb + c->sn)) return -1;
  size_t o = merge_xor(c->a + c->h, nb, c->s, c->sn, c->tmp);
  uint64_t *t = c->a;
  c->a = c->tmp;
  c->tmp = t;
  c->h = 0;
  c->n = o;
  c->sn = 0;
  return 0;
}

/* c ^= x (x sorted, len m). */
static int col_add(Col *c, const uint64_t *x, size_t m) {
  if (grow(&c->s, &c->stmp, &c->scap, c->sn + m)) return -1;
  size_t o = merge_xor(c->s, c->sn, x, m, c->stmp);
  uint64_t *t = c->s;
  c->s = c->stmp;
  c->stmp = t;
  c->sn = o;
  size_t nb = c->n - c->h;
  return c->sn > 64 && c->sn > nb / 16 ? col_flush(c) : 0;
}

/* The least key of the column into *key; 0 if the column is zero. */
static int col_pivot(Col *c, uint64_t *key) {
  size_t si = 0;
  while (c->h < c->n && si < c->sn && c->a[c->h] == c->s[si]) c->h++, si++;
  if (si) { /* drop the cancelled front of S */
    memmove(c->s, c->s + si, (c->sn - si) * sizeof *c->s);
    c->sn -= si;
  }
  if (c->h == c->n && !c->sn) return 0;
  if (c->h == c->n) *key = c->s[0];
  else if (!c->sn) *key = c->a[c->h];
  else *key = c->a[c->h] < c->s[0] ? c->a[c->h] : c->s[0];
  return 1;
}

static void sort_small(uint64_t *k, int n) {
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && k[b - 1] > k[b]; b--) {
      uint64_t t = k[b];
      k[b] = k[b - 1];
      k[b - 1] = t;
    }
}

/* Reduced columns that had to be stored. They are the memory of the
 * engine (on 3D noise their lengths follow a power law: every octave of
 * lengths holds about as many keys), so they are kept compressed: a
 * column is its length, then the slots of its keys after the first (the
 * pivot, known from the look-up) as zigzag varint differences, in key
 * order; ranks are not stored but recomputed from the slots on use (about
 * 2.2 bytes a key instead of 8). An open-addressing map finds a column
 * from its pivot's slot. */
typedef struct Stored {
  uint32_t *key;  /* pivot slot + 1; 0 = empty */
  uint32_t *id;   /* index into start */
  size_t cap, n;
  uint64_t *start; /* byte offset of column id in pool */
  size_t start_cap;
  uint8_t *pool;
  size_t pool_n, pool_cap;
} Stored;

static size_t hash32(uint32_t x) {
  uint64_t h = (uint64_t)x * 0x9e3779b97f4a7c15ull;
  return (size_t)(h >> 32);
}

static int stored_find(const Stored *s, uint32_t ps, uint64_t *start) {
  if (!s->cap) return 0;
  size_t i = hash32(ps) & (s->cap - 1);
  while (s->key[i]) {
    if (s->key[i] == ps + 1) {
      *start = s->start[s->id[i]];
      return 1;
    }
    i = (i + 1) & (s->cap - 1);
  }
  return 0;
}

static int stored_put(Stored *s, uint32_t ps, uint64_t start) {
  if (s->n == s->start_cap) {
    size_t cap = s->start_cap ? 2 * s->start_cap : 1024;
    uint64_t *a = realloc(s->start, cap * sizeof *a);
    if (!a) return -1;
    s->start = a;
    s->start_cap = cap;
  }
  if (8 * (s->n + 1) > 7 * s->cap) { /* load factor at most 7/8: look-ups only ever find (few probes) */
    size_t cap = s->cap ? 2 * s->cap : 1024;
    uint32_t *k = calloc(cap, sizeof *k), *id = malloc(cap * sizeof *id);
    if (!k || !id) {
      free(k);
      free(id);
      return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->key[i]) continue;
      size_t j = hash32(s->key[i] - 1) & (cap - 1);
      while (k[j]) j = (j + 1) & (cap - 1);
      k[j] = s->key[i];
      id[j] = s->id[i];
    }
    free(s->key);
    free(s->id);
    s->key = k;
    s->id = id;
    s->cap = cap;
  }
  size_t i = hash32(ps) & (s->cap - 1);
  while (s->key[i]) i = (i + 1) & (s->cap - 1);
  s->key[i] = ps + 1;
  s->id[i] = (uint32_t)s->n;
  s->start[s->n++] = start;
  return 0;
}

static int pool_reserve(Stored *s, size_t more) {
  if (s->pool_n + more <= s->pool_cap) return 0;
  size_t cap = s->pool_cap ? s->pool_cap : 1 << 16;
  while (cap < s->pool_n + more) cap *= 2;
  uint8_t *a = realloc(s->pool, cap);
  if (!a) return -1;
  s->pool = a;
  s->pool_cap = cap;
  return 0;
}

static inline uint8_t *put_varint(uint8_t *o, uint64_t v) {
  while (v >= 0x80) {
    *o++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *o++ = (uint8_t)v;
  return o;
}

static inline const uint8_t *get_varint(const uint8_t *i, uint64_t *v) {
  uint64_t x = 0;
  int sh = 0;
  while (*i & 0x80) {
    x |= (uint64_t)(*i++ & 0x7f) << sh;
    sh += 7;
  }
  *v = x | (uint64_t)*i++ << sh;
  return i;
}

/* Appends the reduced column a[0..n) (a[0]'s slot is the pivot). */
static int stored_add(Stored *s, const uint64_t *a, size_t n) {
  if (pool_reserve(s, 10 * n)) return -1; /* at most 5 bytes a slot difference, 10 for the length */
  uint64_t start = s->pool_n;
  uint8_t *o = s->pool + s->pool_n;
  o = put_varint(o, n);
  uint32_t prev = (uint32_t)a[0];
  for (size_t i = 1; i < n; i++) {
    uint32_t sl = (uint32_t)a[i];
    int64_t dl = (int64_t)sl - (int64_t)prev;
    o = put_varint(o, ((uint64_t)dl << 1) ^ (uint64_t)(dl >> 63));
    prev = sl;
  }
  s->pool_n = (size_t)(o - s->pool);
  return stored_put(s, (uint32_t)a[0], start);
}

/* Rank of the (k+1)-cell with the given slot. V: the cell's base vertex is
 * the pixel with the lattice base's index (lattice and pixel grid agree), so
 * the rank is the max over a table of vertex offsets per orientation. T: the
 * min over the pixels that contain it. */
typedef struct CofaceRank {
  uint32_t C;
  int nv;
  int64_t voff[6][8];
  uint64_t mC, mlat[CUB_MAXD]; /* fastdiv magics of C and of the lattice sizes */
} CofaceRank;

/* Division of a 32-bit n by a fixed d > 1 as a multiplication (Lemire,
 * Kaser and Kurz, "Faster remainder by direct computation"): exact for
 * every n < 2^32 with M = floor((2^64 - 1) / d) + 1. Divisions by a
 * variable cost 20 to 40 cycles, and the decoding of a stored column does
 * two or three per key. */
static inline uint64_t fastdiv_magic(uint32_t d) { return d > 1 ? UINT64_MAX / d + 1 : 0; }
static inline uint32_t fastdiv(uint32_t n, uint64_t m) {
  return m ? (uint32_t)(((unsigned __int128)m * n) >> 64) : n;
}

static void coface_rank_init(const CubGrid *g, int k1, CofaceRank *cr) {
  cr->C = (uint32_t)g->orient_count[k1];
  cr->nv = 1 << k1;
  cr->mC = fastdiv_magic(cr->C);
  for (int i = 0; i < g->d; i++) cr->mlat[i] = fastdiv_magic((uint32_t)g->lat[i]);
  for (uint32_t o = 0; o < cr->C; o++) {
    unsigned mask = g->orient_mask[k1][o];
    int j = 0;
    for (unsigned sub = 0; sub < (1u << g->d); sub++) {
      if (sub & ~mask) continue;
      int64_t off = 0;
      for (int i = 0; i < g->d; i++)
        if (sub & (1u << i)) off += (int64_t)g->pstride[i];
      cr->voff[o][j++] = off;
    }
  }
}

/* The first pixel coface_rank reads for the cell (for prefetching). */
static inline size_t coface_pixel(const CubGrid *g, const CofaceRank *cr, int k1, uint32_t slot) {
  uint32_t base = fastdiv(slot, cr->mC);
  if (!g->T) return base;
  unsigned mask = g->orient_mask[k1][slot - base * cr->C];
  size_t lo = 0;
  for (int i = g->d - 1; i >= 0; i--) {
    uint32_t L = (uint32_t)g->lat[i], q = i ? fastdiv(base, cr->mlat[i]) : 0, bi = base - q * L;
    base = q;
    if (mask & (1u << i)) lo += bi * g->pstride[i]; /* as in coface_rank: odd, the pixel bi; even, bi - 1 */
    else if (bi) lo += (bi - 1) * g->pstride[i];
  }
  return lo;
}

static inline uint32_t coface_rank(const CubGrid *g, const CofaceRank *cr, int k1, uint32_t slot) {
  if (!g->T) {
    uint32_t base = fastdiv(slot, cr->mC), o = slot - base * cr->C;
    const uint32_t *rank = g->rank;
    const int64_t *vo = cr->voff[o];
    uint32_t r = rank[base];
    for (int j = 1; j < cr->nv; j++) {
      uint32_t q = rank[(int64_t)base + vo[j]];
      if (q > r) r = q;
    }
    return r;
  }
  /* T: the lattice coordinates (slots fit 31 bits), by fastdiv. */
  uint32_t base = fastdiv(slot, cr->mC), o = slot - base * cr->C;
  unsigned mask = g->orient_mask[k1][o];
  size_t lo = 0;
  int64_t step[CUB_MAXD];
  int ns = 0;
  for (int i = g->d - 1; i >= 0; i--) {
    uint32_t L = (uint32_t)g->lat[i], q = i ? fastdiv(base, cr->mlat[i]) : 0, bi = base - q * L;
    base = q;
    size_t st = g->pstride[i];
    if (mask & (1u << i)) lo += bi * st; /* odd: the one pixel bi */
    else if (bi == 0) lo += 0;           /* even at the low face: pixel 0 */
    else if (bi == g->n[i]) lo += (bi - 1) * st;
    else {
      lo += (bi - 1) * st; /* pixels bi - 1 and bi */
      step[ns++] = (int64_t)st;
    }
  }
  const uint32_t *rank = g->rank;
  uint32_t r = rank[lo];
  for (unsigned sub = 1; sub < (1u << ns); sub++) {
    int64_t off = 0;
    for (int j = 0; j < ns; j++)
      if (sub & (1u << j)) off += step[j];
    uint32_t q = rank[(int64_t)lo + off];
    if (q < r) r = q;
  }
  return r;
}

/* Decodes the stored column at start (pivot key first) into out. */
static size_t stored_decode(const CubGrid *g, const CofaceRank *cr, int k1, const Stored *s, uint64_t start,
                            uint64_t pivot_key, uint64_t **out, size_t *out_cap) {
  const uint8_t *i = s->pool + start;
  uint64_t n;
  i = get_varint(i, &n);
  if (n > *out_cap) {
    size_t cap = *out_cap ? *out_cap : 64;
    while (cap < n) cap *= 2;
    uint64_t *a = realloc(*out, cap * sizeof *a);
    if (!a) return SIZE_MAX;
    *out = a;
    *out_cap = cap;
  }
  uint64_t *o = *out;
  o[0] = pivot_key;
  uint32_t prev = (uint32_t)pivot_key;
  if (n <= 16) {
    for (size_t j = 1; j < n; j++) {
      uint64_t z;
      i = get_varint(i, &z);
      int64_t dl = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
      uint32_t sl = (uint32_t)((int64_t)prev + dl);
      o[j] = ((uint64_t)coface_rank(g, cr, k1, sl) << 32) | sl;
      prev = sl;
    }
    return (size_t)n;
  }
  /* Long columns in two passes: the slots, fetching each cell's first
   * pixel's rank, then the ranks, so that the (random) loads overlap. */
  for (size_t j = 1; j < n; j++) {
    uint64_t z;
    i = get_varint(i, &z);
    int64_t dl = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    uint32_t sl = (uint32_t)((int64_t)prev + dl);
    o[j] = sl;
    __builtin_prefetch(&g->rank[coface_pixel(g, cr, k1, sl)]);
    prev = sl;
  }
  for (size_t j = 1; j < n; j++) o[j] |= (uint64_t)coface_rank(g, cr, k1, (uint32_t)o[j]) << 32;
  return (size_t)n;
}

/* The present cofaces of the k-cell cc as sorted keys (rank << 32 | slot).
 * A coface extends cc by one step along an axis where cc is flat, so its
 * rank comes from cc's own pixels: V, the max of cc's vertices and of those
 * vertices shifted one step; T, the min over the pixels containing cc that
 * lie on the step's side. */
static int coboundary(const CubGrid *g, int k, const size_t *cc, uint64_t *keys) {
  int d = g->d, np = 1, nk = 0;
  size_t pix[1 << CUB_MAXD];
  unsigned side[1 << CUB_MAXD];
  uint64_t base = 0;
  unsigned mask = 0;
  pix[0] = 0;
  side[0] = 0;
  for (int i = 0; i < d; i++) {
    size_t c = cc[i], st = g->pstride[i];
    base += (uint64_t)(c >> 1) * g->latstride[i];
    if (c & 1) mask |= 1u << i;
    size_t lo, hi;
    int two;
    if (!g->T) {
      lo = c >> 1;
      hi = (c + 1) >> 1;
      two = c & 1;
    } else if (c & 1) {
      lo = hi = c >> 1;
      two = 0;
    } else {
      lo = c ? (c >> 1) - 1 : (c >> 1);
      hi = (c >> 1) < g->n[i] ? (c >> 1) : lo;
      two = lo != hi;
      if (!two && c == 0) /* at the grid's low face the one pixel lies on the + side */
        for (int j = 0; j < np; j++) side[j] |= 1u << i;
    }
    for (int j = 0; j < np; j++) pix[j] += lo * st;
    if (two) {
      for (int j = 0; j < np; j++) {
        pix[np + j] = pix[j] + st;
        side[np + j] = side[j] | (g->T ? 1u << i : 0);
      }
      np *= 2;
    }
  }
  const uint32_t *rank = g->rank;
  uint32_t rs = 0;
  if (!g->T)
    for (int j = 0; j < np; j++)
      if (rank[pix[j]] > rs) rs = rank[pix[j]];
  uint64_t C = (uint64_t)g->orient_count[k + 1];
  for (int i = 0; i < d; i++) {
    if (cc[i] & 1) continue;
    int64_t st = (int64_t)g->pstride[i];
    for (int s = -1; s <= 1; s += 2) {
      if ((s < 0 && cc[i] == 0) || (s > 0 && cc[i] + 1 >= g->m[i])) continue;
      uint32_t r;
      if (!g->T) {
        r = rs;
        for (int j = 0; j < np; j++) {
          uint32_t q = rank[(int64_t)pix[j] + s * st];
          if (q > r) r = q;
        }
      } else {
        r = UINT32_MAX;
        unsigned want = s > 0 ? 1u << i : 0;
        for (int j = 0; j < np; j++)
          if ((side[j] & (1u << i)) == want && rank[pix[j]] < r) r = rank[pix[j]];
      }
      if (r >= g->cutoff) continue;
      uint64_t b2 = s < 0 ? base - g->latstride[i] : base;
      keys[nk++] = ((uint64_t)r << 32) | (b2 * C + (uint64_t)g->orient_index[mask | 1u << i]);
    }
  }
  sort_small(keys, nk);
  return nk;
}

/* Pivot table: four bits per (k+1)-cell slot. 0: no column has it as its
 * pivot; else the low three bits b say which face of the pivot cell the
 * column is: across its ((b - 1) >> 1)-th odd axis, on side (b - 1) & 1;
 * STORED when its reduced column was stored (so the common emergent case
 * never probes the map). Four bits instead of a 4-byte cell slot: the
 * pivot of a column is one of its cofaces, so the column is one of the
 * pivot's (at most 6) faces. */
#define STORED 0x8u

static inline unsigned piv_get(const uint8_t *t, uint32_t s) { return (t[s >> 1] >> ((s & 1) * 4)) & 15u; }
static inline void piv_set(uint8_t *t, uint32_t s, unsigned v) { t[s >> 1] |= (uint8_t)(v << ((s & 1) * 4)); }

/* The code of the k-cell sigma as a face of its coface tau, from their
 * slots: tau adds one odd axis i to sigma's, and lies on sigma's low side
 * (sigma is tau's face on side 1) iff their lattice bases differ. */
static inline unsigned face_code(const CubGrid *g, int k, uint32_t sigma, uint32_t tau) {
  uint32_t ck = (uint32_t)g->orient_count[k], c1 = (uint32_t)g->orient_count[k + 1];
  uint32_t sb = sigma / ck, tb = tau / c1;
  unsigned ms = g->orient_mask[k][sigma - sb * ck], mt = g->orient_mask[k + 1][tau - tb * c1];
  unsigned i = (unsigned)__builtin_ctz(mt & ~ms);
  return 1 + 2 * (unsigned)__builtin_popcount(mt & ((1u << i) - 1)) + (tb != sb);
}

/* The coordinates of the face with that code of the cell tc, in place. */
static void face_of(size_t *tc, unsigned code, int d) {
  unsigned f = code - 1, j = 0;
  for (int i = 0; i < d; i++) {
    if (!(tc[i] & 1)) continue;
    if (j++ == f >> 1) {
      tc[i] += (f & 1) ? 1 : (size_t)-1;
      return;
    }
  }
}

TsStatus cub_cohomology(CubGrid *g, int k, const uint8_t *cleared, uint8_t **pivots_out) {
  *pivots_out = NULL;
  int d = g->d;
  size_t nslot = g->nlat * (size_t)g->orient_count[k + 1];
  uint8_t *pivot = ts_calloc_array(nslot / 2 + 1, 1, "cubical pivot table", g->err);
  if (!pivot) return TS_ERR_NOMEM;
  Col w = {0};
  Stored st = {0};
  uint64_t *dec = NULL;
  size_t dec_cap = 0;
  CofaceRank cr;
  coface_rank_init(g, k + 1, &cr);
  TsStatus status = TS_OK;
  const CubPattern *pc = g->pat[k];
  int npc = g->npat[k];
  uint64_t keys[2 * CUB_MAXD], ok[2 * CUB_MAXD];
  for (size_t rr = g->cutoff; rr-- > 0 && status == TS_OK;) {
    if (cub_cancelled(g, rr)) {
      status = cub_cancel_error(g);
      break;
    }
    uint32_t r = (uint32_t)rr;
    size_t p = g->order[rr], x[CUB_MAXD], cc[CUB_MAXD];
    if (rr >= CUB_PREFETCH) cub_prefetch_block(g, g->rank, sizeof *g->rank, g->order[rr - CUB_PREFETCH]);
    uint32_t b = cub_bmask(g, p, x);
    for (int j = npc - 1; j >= 0; j--) {
      if (!cub_pattern_hit(g, &pc[j], p, r, b)) continue;
      for (int i = 0; i < d; i++) cc[i] = 2 * x[i] + (size_t)g->T + (size_t)(int64_t)pc[j].o[i];
      uint64_t sigma = cub_cell_slot(g, cc);
      if (cleared[sigma >> 3] & (1u << (sigma & 7))) continue;
      int nk = coboundary(g, k, cc, keys);
      if (nk == 0) {
        cub_emit(g, k, r, CUB_INF_RANK);
        continue;
      }
      uint32_t ps = (uint32_t)keys[0];
      if (!piv_get(pivot, ps)) { /* emergent pair: the earliest coface is free */
        piv_set(pivot, ps, face_code(g, k, (uint32_t)sigma, ps));
        cub_emit(g, k, r, (uint32_t)(keys[0] >> 32));
        continue;
      }
      /* Reduce: add the columns whose pivot we meet until a free pivot or zero. */
      col_clear(&w);
      if (col_add(&w, keys, (size_t)nk)) goto nomem;
      uint64_t top;
      int nonzero;
      while ((nonzero = col_pivot(&w, &top))) {
        ps = (uint32_t)top;
        unsigned pv = piv_get(pivot, ps);
        if (!pv) break;
        uint64_t start;
        if ((pv & STORED) && stored_find(&st, ps, &start)) {
          size_t len = stored_decode(g, &cr, k + 1, &st, start, top, &dec, &dec_cap);
          if (len == SIZE_MAX || col_add(&w, dec, len)) goto nomem;
        } else {
          size_t oc[CUB_MAXD];
          cub_slot_coords(g, k + 1, ps, oc);
          face_of(oc, pv & ~STORED, d);
          int no = coboundary(g, k, oc, ok);
          if (col_add(&w, ok, (size_t)no)) goto nomem;
        }
      }
      if (!nonzero) {
        cub_emit(g, k, r, CUB_INF_RANK);
        continue;
      }
      /* Keep the reduced column for later columns that meet its pivot. */
      if (col_flush(&w) || stored_add(&st, w.a + w.h, w.n - w.h)) goto nomem;
      piv_set(pivot, ps, face_code(g, k, (uint32_t)sigma, ps) | STORED);
      cub_emit(g, k, r, (uint32_t)(top >> 32));
    }
  }
  goto out;
nomem:
  status = ts_error_set(g->err, TS_ERR_NOMEM, "cubical homology: out of memory reducing dimension %d", k);
out:
  free(w.a);
  free(w.tmp);
  free(w.s);
  free(w.stmp);
  free(dec);
  free(st.key);
  free(st.id);
  free(st.start);
  free(st.pool);
  if (status == TS_OK && k + 1 <= d - 2) { /* the next dimension's clearing set */
    uint8_t *bits = ts_calloc_array((nslot + 7) / 8, 1, "cubical pivot marks", g->err);
    if (!bits) status = TS_ERR_NOMEM;
    else {
      for (size_t s = 0; s < nslot; s++)
        if (piv_get(pivot, (uint32_t)s)) bits[s >> 3] |= (uint8_t)(1u << (s & 7));
      *pivots_out = bits;
    }
  }
  free(pivot);
  return status;
}
