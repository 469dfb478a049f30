/* cubical-cohomology.c — middle dimensions (1..d-2) by cohomology.
 *
 * Ripser's recipe on cubes: the columns are the k-cells in decreasing
 * filtration order, each one's coboundary generated on the fly from its
 * coordinates (never stored); cells that were pivots of dimension k-1 are
 * skipped (clearing: they are deaths, their columns reduce to zero). A
 * column's pivot is its earliest coface. When that coface is no one's pivot
 * yet the pair is emergent and nothing is reduced or stored — the common
 * case by far. Otherwise the column is reduced over Z/2 (sorted vectors,
 * merged), and only then is the reduced coboundary kept, for later columns that meet
 * its pivot. The pivot table is dense over (k+1)-cell slots (4 bytes a slot)
 * and becomes the clearing set of dimension k+1. */
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

/* The working column: a sorted vector of keys (rank << 32 | slot), added to
 * by symmetric difference (Z/2). Columns stay short in cubical complexes, so
 * a merge beats a heap. */
typedef struct Col {
  uint64_t *a, *tmp;
  size_t n, cap;
} Col;

static int col_reserve(Col *c, size_t n) {
  if (n <= c->cap) return 0;
  size_t cap = c->cap ? c->cap : 64;
  while (cap < n) cap *= 2;
  uint64_t *a = realloc(c->a, cap * sizeof *a), *t;
  if (!a) return -1;
  c->a = a;
  t = realloc(c->tmp, cap * sizeof *t);
  if (!t) return -1;
  c->tmp = t;
  c->cap = cap;
  return 0;
}

/* c ^= x (x sorted, len m). */
static int col_add(Col *c, const uint64_t *x, size_t m) {
  if (col_reserve(c, c->n + m)) return -1;
  size_t i = 0, j = 0, o = 0;
  uint64_t *a = c->a, *t = c->tmp;
  while (i < c->n && j < m) {
    if (a[i] < x[j]) t[o++] = a[i++];
    else if (x[j] < a[i]) t[o++] = x[j++];
    else i++, j++;
  }
  while (i < c->n) t[o++] = a[i++];
  while (j < m) t[o++] = x[j++];
  c->tmp = a;
  c->a = t;
  c->n = o;
  return 0;
}

static void sort_small(uint64_t *k, int n) {
  for (int a = 1; a < n; a++)
    for (int b = a; b > 0 && k[b - 1] > k[b]; b--) {
      uint64_t t = k[b];
      k[b] = k[b - 1];
      k[b - 1] = t;
    }
}

/* Reduced columns that had to be stored: an open-addressing map from the
 * column's slot to a run in one pool of keys. */
typedef struct Stored {
  uint64_t *slot; /* slot + 1; 0 = empty */
  size_t *start;
  uint32_t *len;
  size_t cap, n;
  uint64_t *pool;
  size_t pool_n, pool_cap;
} Stored;

static size_t hash64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x;
}

static int stored_find(const Stored *s, uint64_t slot, size_t *start, uint32_t *len) {
  if (!s->cap) return 0;
  size_t i = hash64(slot) & (s->cap - 1);
  while (s->slot[i]) {
    if (s->slot[i] == slot + 1) {
      *start = s->start[i];
      *len = s->len[i];
      return 1;
    }
    i = (i + 1) & (s->cap - 1);
  }
  return 0;
}

static int stored_put(Stored *s, uint64_t slot, size_t start, uint32_t len) {
  if (2 * (s->n + 1) > s->cap) {
    Stored t = *s;
    size_t cap = s->cap ? 2 * s->cap : 1024;
    t.slot = calloc(cap, sizeof *t.slot);
    t.start = malloc(cap * sizeof *t.start);
    t.len = malloc(cap * sizeof *t.len);
    if (!t.slot || !t.start || !t.len) {
      free(t.slot);
      free(t.start);
      free(t.len);
      return -1;
    }
    t.cap = cap;
    t.n = 0;
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->slot[i]) continue;
      size_t j = hash64(s->slot[i] - 1) & (cap - 1);
      while (t.slot[j]) j = (j + 1) & (cap - 1);
      t.slot[j] = s->slot[i];
      t.start[j] = s->start[i];
      t.len[j] = s->len[i];
      t.n++;
    }
    free(s->slot);
    free(s->start);
    free(s->len);
    *s = t;
  }
  size_t i = hash64(slot) & (s->cap - 1);
  while (s->slot[i]) i = (i + 1) & (s->cap - 1);
  s->slot[i] = slot + 1;
  s->start[i] = start;
  s->len[i] = len;
  s->n++;
  return 0;
}

static int pool_push(Stored *s, uint64_t v) {
  if (s->pool_n == s->pool_cap) {
    size_t cap = s->pool_cap ? 2 * s->pool_cap : 4096;
    uint64_t *a = realloc(s->pool, cap * sizeof *a);
    if (!a) return -1;
    s->pool = a;
    s->pool_cap = cap;
  }
  s->pool[s->pool_n++] = v;
  return 0;
}

/* The present cofaces of the k-cell cc as sorted keys (rank << 32 | slot). */
static int coboundary(const CubGrid *g, const size_t *cc, uint64_t *keys) {
  int nk = 0;
  size_t c2[CUB_MAXD];
  memcpy(c2, cc, sizeof c2);
  for (int i = 0; i < g->d; i++) {
    if (cc[i] & 1) continue;
    for (int s = -1; s <= 1; s += 2) {
      if ((s < 0 && cc[i] == 0) || (s > 0 && cc[i] + 1 >= g->m[i])) continue;
      c2[i] = s < 0 ? cc[i] - 1 : cc[i] + 1;
      uint32_t r = cub_cell_rank(g, c2);
      if (r < g->cutoff) keys[nk++] = ((uint64_t)r << 32) | cub_cell_slot(g, c2);
    }
    c2[i] = cc[i];
  }
  sort_small(keys, nk);
  return nk;
}

TsStatus cub_cohomology(CubGrid *g, int k, const uint8_t *cleared, uint8_t **pivots_out) {
  *pivots_out = NULL;
  int d = g->d;
  size_t nslot = g->nlat * (size_t)g->orient_count[k + 1];
  /* pivot[slot of a (k+1)-cell] = slot of the k-cell whose pivot it is, + 1 */
  uint32_t *pivot = ts_calloc_array(nslot, sizeof *pivot, "cubical pivot table", g->err);
  if (!pivot) return TS_ERR_NOMEM;
  Col w = {0};
  Stored st = {0};
  TsStatus status = TS_OK;
  const CubPattern *pc = g->pat[k];
  int npc = g->npat[k];
  uint64_t keys[2 * CUB_MAXD], ok[2 * CUB_MAXD];
  for (size_t rr = g->cutoff; rr-- > 0 && status == TS_OK;) {
    uint32_t r = (uint32_t)rr;
    size_t p = g->order[rr], x[CUB_MAXD], cc[CUB_MAXD];
    uint32_t b = cub_bmask(g, p, x);
    for (int j = npc - 1; j >= 0; j--) {
      if (!cub_pattern_hit(g, &pc[j], p, r, b)) continue;
      for (int i = 0; i < d; i++) cc[i] = 2 * x[i] + (size_t)g->T + (size_t)(int64_t)pc[j].o[i];
      uint64_t sigma = cub_cell_slot(g, cc);
      if (cleared[sigma >> 3] & (1u << (sigma & 7))) continue;
      int nk = coboundary(g, cc, keys);
      if (nk == 0) {
        cub_emit(g, k, r, CUB_INF_RANK);
        continue;
      }
      uint32_t ps = (uint32_t)keys[0];
      if (!pivot[ps]) { /* emergent pair: the earliest coface is free */
        pivot[ps] = (uint32_t)(sigma + 1);
        cub_emit(g, k, r, (uint32_t)(keys[0] >> 32));
        continue;
      }
      /* Reduce: add the columns whose pivot we meet until a free pivot or zero. */
      w.n = 0;
      if (col_add(&w, keys, (size_t)nk)) goto nomem;
      while (w.n) {
        ps = (uint32_t)w.a[0];
        if (!pivot[ps]) break;
        uint64_t other = pivot[ps] - 1;
        size_t start;
        uint32_t len;
        if (stored_find(&st, other, &start, &len)) {
          if (col_add(&w, st.pool + start, len)) goto nomem;
        } else {
          size_t oc[CUB_MAXD];
          cub_slot_coords(g, k, other, oc);
          int no = coboundary(g, oc, ok);
          if (col_add(&w, ok, (size_t)no)) goto nomem;
        }
      }
      if (!w.n) {
        cub_emit(g, k, r, CUB_INF_RANK);
        continue;
      }
      /* Keep the reduced column for later columns that meet its pivot. */
      size_t start = st.pool_n;
      for (size_t i = 0; i < w.n; i++)
        if (pool_push(&st, w.a[i])) goto nomem;
      if (stored_put(&st, sigma, start, (uint32_t)w.n)) goto nomem;
      pivot[ps] = (uint32_t)(sigma + 1);
      cub_emit(g, k, r, (uint32_t)(w.a[0] >> 32));
    }
  }
  goto out;
nomem:
  status = ts_error_set(g->err, TS_ERR_NOMEM, "cubical homology: out of memory reducing dimension %d", k);
out:
  free(w.a);
  free(w.tmp);
  free(st.slot);
  free(st.start);
  free(st.len);
  free(st.pool);
  if (status == TS_OK) {
    uint8_t *bits = ts_calloc_array((nslot + 7) / 8, 1, "cubical pivot marks", g->err);
    if (!bits) status = TS_ERR_NOMEM;
    else {
      for (size_t s = 0; s < nslot; s++)
        if (pivot[s]) bits[s >> 3] |= (uint8_t)(1u << (s & 7));
      *pivots_out = bits;
    }
  }
  free(pivot);
  return status;
}
