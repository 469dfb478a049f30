/* cubical-cohomology.c — middle dimensions (1..d-2) by cohomology.
 *
 * Ripser's recipe on cubes: the columns are the k-cells in decreasing
 * filtration order, each one's coboundary generated on the fly from its
 * coordinates (never stored); cells that were pivots of dimension k-1 are
 * skipped (clearing: they are deaths, their columns reduce to zero). A
 * column's pivot is its earliest coface. When that coface is no one's pivot
 * yet the pair is emergent and nothing is reduced or stored — the common
 * case by far. Otherwise the column is reduced with a binary heap over Z/2,
 * and only then is the reduced coboundary kept, for later columns that meet
 * its pivot. The pivot table is dense over (k+1)-cell slots (4 bytes a slot)
 * and becomes the clearing set of dimension k+1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ph/cubical-internal.h"

typedef struct Heap {
  uint64_t *a;
  size_t n, cap;
} Heap;

static int heap_push(Heap *h, uint64_t v) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    uint64_t *a = realloc(h->a, cap * sizeof *a);
    if (!a) return -1;
    h->a = a;
    h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (h->a[up] <= v) break;
    h->a[i] = h->a[up];
    i = up;
  }
  h->a[i] = v;
  return 0;
}

static uint64_t heap_pop(Heap *h) {
  uint64_t top = h->a[0], v = h->a[--h->n];
  size_t i = 0, n = h->n;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && h->a[c + 1] < h->a[c]) c++;
    if (h->a[c] >= v) break;
    h->a[i] = h->a[c];
    i = c;
  }
  if (n) h->a[i] = v;
  return top;
}

/* Pops the smallest entry that survives Z/2 cancellation; 0 if none. */
static int heap_pivot(Heap *h, uint64_t *out) {
  while (h->n) {
    uint64_t x = heap_pop(h);
    if (h->n && h->a[0] == x) {
      heap_pop(h);
      continue;
    }
    *out = x;
    return 1;
  }
  return 0;
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

/* The present cofaces of the k-cell cc as keys (rank << cbits | flat index). */
static int coboundary(const CubGrid *g, const size_t *cc, uint64_t *keys) {
  int nk = 0;
  uint64_t flat = 0;
  for (int i = 0; i < g->d; i++) flat += (uint64_t)cc[i] * g->cstride[i];
  size_t c2[CUB_MAXD];
  memcpy(c2, cc, sizeof c2);
  for (int i = 0; i < g->d; i++) {
    if (cc[i] & 1) continue;
    for (int s = -1; s <= 1; s += 2) {
      if ((s < 0 && cc[i] == 0) || (s > 0 && cc[i] + 1 >= g->m[i])) continue;
      c2[i] = s < 0 ? cc[i] - 1 : cc[i] + 1;
      uint32_t r = cub_cell_rank(g, c2);
      if (r < g->cutoff) {
        uint64_t f = s < 0 ? flat - g->cstride[i] : flat + g->cstride[i];
        keys[nk++] = ((uint64_t)r << g->cbits) | f;
      }
    }
    c2[i] = cc[i];
  }
  return nk;
}

static void key_coords(const CubGrid *g, uint64_t key, size_t *cc) {
  cub_cell_coords(g, key & ((1ull << g->cbits) - 1), cc);
}

static size_t stat_reduced, stat_adds;
TsStatus cub_cohomology(CubGrid *g, int k, const uint8_t *cleared, uint8_t **pivots_out) {
  *pivots_out = NULL;
  int d = g->d;
  size_t nslot = g->nlat * (size_t)g->orient_count[k + 1];
  /* pivot[slot of a (k+1)-cell] = slot of the k-cell whose pivot it is, + 1 */
  uint32_t *pivot = ts_calloc_array(nslot, sizeof *pivot, "cubical pivot table", g->err);
  if (!pivot) return TS_ERR_NOMEM;
  Heap h = {0};
  Stored st = {0};
  TsStatus status = TS_OK;
  const CubPattern *pc = g->pat[k];
  int npc = g->npat[k];
  uint64_t keys[2 * CUB_MAXD];
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
      uint64_t piv = keys[0];
      for (int i = 1; i < nk; i++)
        if (keys[i] < piv) piv = keys[i];
      size_t pc2[CUB_MAXD];
      key_coords(g, piv, pc2);
      uint64_t ps = cub_cell_slot(g, pc2);
      if (!pivot[ps]) { /* emergent pair */
        pivot[ps] = (uint32_t)(sigma + 1);
        cub_emit(g, k, r, (uint32_t)(piv >> g->cbits));
        continue;
      }
      if (getenv("CUB_STATS")) stat_reduced++;
      /* Reduce: add the columns whose pivot we meet until a free pivot or zero. */
      h.n = 0;
      for (int i = 0; i < nk; i++)
        if (heap_push(&h, keys[i])) goto nomem;
      int found;
      for (;;) {
        found = heap_pivot(&h, &piv);
        if (!found) break;
        key_coords(g, piv, pc2);
        ps = cub_cell_slot(g, pc2);
        if (!pivot[ps]) break;
        uint64_t other = pivot[ps] - 1;
        stat_adds++;
        size_t start;
        uint32_t len;
        if (stored_find(&st, other, &start, &len)) {
          for (uint32_t i = 0; i < len; i++)
            if (st.pool[start + i] != piv && heap_push(&h, st.pool[start + i])) goto nomem;
        } else {
          size_t oc[CUB_MAXD];
          cub_slot_coords(g, k, other, oc);
          uint64_t ok[2 * CUB_MAXD];
          int no = coboundary(g, oc, ok);
          for (int i = 0; i < no; i++)
            if (ok[i] != piv && heap_push(&h, ok[i])) goto nomem;
        }
        /* piv was popped already: leaving out the added column's copy cancels it. */
      }
      if (!found) {
        cub_emit(g, k, r, CUB_INF_RANK);
        continue;
      }
      /* Keep the reduced column: its pivot, then the rest (cancelled). */
      size_t start = st.pool_n;
      if (pool_push(&st, piv)) goto nomem;
      uint64_t rest;
      while (heap_pivot(&h, &rest))
        if (pool_push(&st, rest)) goto nomem;
      if (stored_put(&st, sigma, start, (uint32_t)(st.pool_n - start))) goto nomem;
      pivot[ps] = (uint32_t)(sigma + 1);
      cub_emit(g, k, r, (uint32_t)(piv >> g->cbits));
    }
  }
  if (getenv("CUB_STATS")) fprintf(stderr, "dim %d: reduced %zu adds %zu stored %zu\n", k, stat_reduced, stat_adds, st.pool_n);
  goto out;
nomem:
  status = ts_error_set(g->err, TS_ERR_NOMEM, "cubical homology: out of memory reducing dimension %d", k);
out:
  free(h.a);
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
