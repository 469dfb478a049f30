/* rips-cohomology.c — dimensions >= 1: persistent cohomology with clearing
 * (columns paired in dimension d-1 are skipped in d), apparent and
 * emergent pairs, and the reduction matrix V kept column by column. */
#include <stdatomic.h>

#include "ph/rips-engine.h"

typedef struct {
  Entry *a;
  size_t n, cap;
  int oom;
} Heap;

static inline void heap_push(Heap *h, Entry e) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 256;
    Entry *a = realloc(h->a, cap * sizeof *a);
    if (!a) {
      h->oom = 1;
      return;
    }
    h->a = a;
    h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!earlier(&e, &h->a[p])) break;
    h->a[i] = h->a[p];
    i = p;
  }
  h->a[i] = e;
}

static inline void heap_pop(Heap *h) {
  Entry last = h->a[--h->n];
  size_t n = h->n, i = 0;
  if (n == 0) return;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && earlier(&h->a[c + 1], &h->a[c])) c++;
    if (!earlier(&h->a[c], &last)) break;
    h->a[i] = h->a[c];
    i = c;
  }
  h->a[i] = last;
}

/* Removes and returns the pivot (entries of equal index summed); index -1
 * when the column is zero. */
static inline Entry pop_pivot(Heap *h, int p) {
  Entry piv = {0.0f, 0, -1};
  if (p == 2) {
    while (h->n) {
      piv = h->a[0];
      heap_pop(h);
      if (h->n == 0 || h->a[0].index != piv.index) return piv;
      heap_pop(h);
    }
    piv.index = -1;
    return piv;
  }
  while (h->n) {
    if (piv.coef == 0) piv = h->a[0];
    else if (h->a[0].index != piv.index) return piv;
    else piv.coef = (uint16_t)((piv.coef + h->a[0].coef) % p);
    heap_pop(h);
  }
  if (piv.coef == 0) piv.index = -1;
  return piv;
}

static inline Entry get_pivot(Heap *h, int p) {
  Entry piv = pop_pivot(h, p);
  if (piv.index != -1) heap_push(h, piv);
  return piv;
}

typedef struct {
  int64_t key; /* simplex index, -1 empty */
  int64_t col;
  uint16_t coef;
} Slot;

typedef struct {
  Slot *s;
  size_t mask, n;
} PivotMap;

static inline size_t hash64(int64_t k) {
  uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull;
  return (size_t)(x ^ (x >> 29));
}

static int map_init(PivotMap *m, size_t expect) {
  size_t cap = 64;
  while (cap < expect * 2 + 16) cap *= 2;
  m->s = malloc(cap * sizeof *m->s);
  if (!m->s) return -1;
  for (size_t i = 0; i < cap; i++) m->s[i].key = -1;
  m->mask = cap - 1;
  m->n = 0;
  return 0;
}

static inline const Slot *map_find(const PivotMap *m, int64_t key) {
  size_t i = hash64(key) & m->mask;
  for (;;) {
    const Slot *s = &m->s[i];
    if (s->key == key) return s;
    if (s->key == -1) return NULL;
    i = (i + 1) & m->mask;
  }
}

static int map_insert(PivotMap *m, int64_t key, int64_t col, uint16_t coef) {
  if ((m->n + 1) * 2 > m->mask + 1) {
    PivotMap g;
    if (map_init(&g, (m->mask + 1)) != 0) return -1;
    for (size_t i = 0; i <= m->mask; i++)
      if (m->s[i].key != -1) map_insert(&g, m->s[i].key, m->s[i].col, m->s[i].coef);
    free(m->s);
    *m = g;
  }
  size_t i = hash64(key) & m->mask;
  while (m->s[i].key != -1) i = (i + 1) & m->mask;
  m->s[i].key = key;
  m->s[i].col = col;
  m->s[i].coef = coef;
  m->n++;
  return 0;
}

static void longest_edge(const Rips *r, int64_t idx, int dim, int32_t *ei, int32_t *ej) {
  int32_t v[MAXV];
  simplex_vertices(r, idx, dim, v);
  float best = -1.0f;
  *ei = *ej = -1;
  for (int a = 1; a <= dim; a++)
    for (int b = 0; b < a; b++) {
      float x = dist(r, v[a], v[b]);
      if (x > best) {
        best = x;
        *ei = v[b];
        *ej = v[a];
      }
    }
}

/* ---- output ---- */

static TsStatus emit(const Rips *r, TsDiagram *out, int dim, float birth, int64_t bidx, float death,
                     int64_t didx, TsError *err) {
  TsPair pr;
  memset(&pr, 0, sizeof pr);
  pr.dim = dim;
  pr.birth = birth;
  pr.death = didx < 0 ? INFINITY : death;
  for (int k = 0; k < 4; k++) pr.birth_at[k] = pr.death_at[k] = -1;
  longest_edge(r, bidx, dim, &pr.birth_at[0], &pr.birth_at[1]);
  if (didx >= 0) longest_edge(r, didx, dim + 1, &pr.death_at[0], &pr.death_at[1]);
  return ts_diagram_push(out, &pr, err);
}

/* ---- dimensions >= 1: cohomology with clearing ---- */

typedef struct {
  Entry *a;
  size_t n, cap;
  int64_t *start; /* column k is a[start[k] .. start[k+1]) */
  size_t ncols, colcap;
} VMatrix;

static int vm_push(VMatrix *m, Entry e) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    Entry *a = realloc(m->a, cap * sizeof *a);
    if (!a) return -1;
    m->a = a;
    m->cap = cap;
  }
  m->a[m->n++] = e;
  return 0;
}

/* Adds the coboundary of s to the working column. Only entries from the
 * current pivot on are pushed: s is part of a reduced column (or an apparent
 * partner) whose sum has the pivot as its earliest entry, so everything
 * earlier cancels within the sum and would only cost heap operations. */
static inline void add_simplex_coboundary(const Rips *r, Cob *c, Entry s, int dim, const Entry *piv, Heap *vcol,
                                          Heap *cob) {
  heap_push(vcol, s);
  cob_set(r, c, s.index, s.diam, s.coef, dim);
  while (cob_has_next(r, c, 1)) {
    Entry e = cob_next(r, c);
    if (e.diam <= r->threshold && !earlier(&e, piv)) heap_push(cob, e);
  }
}

/* What a column's own coboundary says before any reduction, computed for a
 * block of columns in parallel: its pivot (the earliest cofacet; enumeration
 * stops at the first cofacet of the column's own diameter, which is the
 * earliest) and the apparent facet of that pivot. Neither depends on the
 * other columns, so the serial pass only has to look the pivot up: most
 * columns then pair at once, and only colliding ones are reduced. */
typedef struct {
  Entry piv;   /* index -1: empty coboundary */
  int64_t app; /* facet in an apparent pair with piv, or -1 */
} Precol;

typedef struct {
  const Rips *r;
  const Simplex *cols;
  Precol *pre;
  int dim;
  Cob *cobs;
} PreCtx;

static void precolumn_task(void *ctx, size_t b, size_t e, int worker) {
  PreCtx *x = ctx;
  const Rips *r = x->r;
  Cob *c = &x->cobs[2 * worker], *c2 = &x->cobs[2 * worker + 1];
  for (size_t q = b; q < e; q++) {
    const Simplex s = x->cols[q];
    Entry piv = {0.0f, 0, -1};
    int32_t pv[MAXV];
    cob_set(r, c, s.index, s.diam, 1, x->dim);
    while (cob_has_next(r, c, 1)) {
      Entry cf = cob_next(r, c);
      if (cf.diam > r->threshold) continue;
      if (piv.index < 0 || earlier(&cf, &piv)) {
        piv = cf;
        cob_cofacet_vertices(c, pv);
      }
      if (cf.diam == s.diam) break;
    }
    x->pre[q].piv = piv;
    x->pre[q].app = piv.index >= 0 ? zero_apparent_facet_v(r, c2, piv.index, pv, piv.diam, x->dim + 1) : -1;
  }
}

#define PRE_BLOCK 65536

static TsStatus compute_pairs(const Rips *r, const SimplexVec *cols, PivotMap *pivots, int dim, Cob *cobs,
                              TsPool *pool, TsDiagram *out, TsError *err) {
  TsStatus st = TS_OK;
  VMatrix V = {0};
  Heap vcol = {0}, cob = {0};
  Cob *c = &cobs[0];
  Precol *pre = NULL;
  V.start = malloc((cols->n + 1) * sizeof *V.start);
  pre = malloc((cols->n < PRE_BLOCK ? cols->n + 1 : PRE_BLOCK) * sizeof *pre);
  if (!V.start || !pre) {
    free(V.start);
    free(pre);
    return ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for %zu columns", cols->n);
  }
  V.start[0] = 0;
  const int p = r->p;
  for (size_t ci = 0; ci < cols->n; ci++) {
    const float diam = cols->a[ci].diam;
    Entry col = {diam, 1, cols->a[ci].index};
    if (ci % PRE_BLOCK == 0) {
      size_t m = cols->n - ci < PRE_BLOCK ? cols->n - ci : PRE_BLOCK;
      PreCtx x = {r, cols->a + ci, pre, dim, cobs};
      ts_pool_for(pool, m, 64, precolumn_task, &x);
    }
    const Precol *pc = &pre[ci % PRE_BLOCK];
    if (pc->piv.index < 0) {
      if ((st = emit(r, out, dim, diam, col.index, 0.0f, -1, err))) goto done;
      V.start[ci + 1] = (int64_t)V.n;
      continue;
    }
    if (pc->app < 0 && !map_find(pivots, pc->piv.index)) {
      if (pc->piv.diam > diam && (st = emit(r, out, dim, diam, col.index, pc->piv.diam, pc->piv.index, err)))
        goto done;
      if (map_insert(pivots, pc->piv.index, (int64_t)ci, pc->piv.coef) != 0) {
        st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for pivots");
        goto done;
      }
      V.start[ci + 1] = (int64_t)V.n;
      continue;
    }
    /* the column collides (or its pivot is an apparent partner): reduce it
     * with its whole coboundary in a heap */
    vcol.n = cob.n = 0;
    cob_set(r, c, col.index, col.diam, 1, dim);
    while (cob_has_next(r, c, 1)) {
      Entry e = cob_next(r, c);
      if (e.diam <= r->threshold) heap_push(&cob, e);
    }
    Entry piv = get_pivot(&cob, p);
    for (;;) {
      if (cob.oom || vcol.oom) {
        st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory while reducing dimension %d", dim);
        goto done;
      }
      if (piv.index == -1) { /* essential class */
        if ((st = emit(r, out, dim, diam, col.index, 0.0f, -1, err))) goto done;
        break;
      }
      const Slot *s = map_find(pivots, piv.index);
      if (s) {
        int64_t j = s->col;
        uint16_t factor = (uint16_t)(p - piv.coef * (uint32_t)r->inv[s->coef] % (uint32_t)p);
        Entry add = {cols->a[j].diam, factor, cols->a[j].index};
        add_simplex_coboundary(r, c, add, dim, &piv, &vcol, &cob);
        for (int64_t q = V.start[j]; q < V.start[j + 1]; q++) {
          Entry e = V.a[q];
          e.coef = (uint16_t)(e.coef * (uint32_t)factor % (uint32_t)p);
          add_simplex_coboundary(r, c, e, dim, &piv, &vcol, &cob);
        }
        piv = get_pivot(&cob, p);
        continue;
      }
      Cob c2;
      int64_t f = zero_apparent_facet(r, &c2, piv.index, piv.diam, dim + 1);
      if (f >= 0) {
        /* the pivot is the apparent partner of a skipped column: add it */
        Entry add = {piv.diam, (uint16_t)(p - 1), f};
        /* coefficient of piv in the coboundary of f, to cancel piv */
        int32_t fv[MAXV], pv[MAXV];
        simplex_vertices(r, f, dim, fv);
        simplex_vertices(r, piv.index, dim + 1, pv);
        int pos = 0;
        while (pos <= dim && fv[pos] == pv[pos]) pos++;
        uint16_t cf = (uint16_t)((pos & 1) ? p - 1 : 1);
        add.coef = (uint16_t)(p - piv.coef * (uint32_t)r->inv[cf] % (uint32_t)p);
        add_simplex_coboundary(r, c, add, dim, &piv, &vcol, &cob);
        piv = get_pivot(&cob, p);
        continue;
      }
      /* a new pair */
      if (piv.diam > diam && (st = emit(r, out, dim, diam, col.index, piv.diam, piv.index, err))) goto done;
      if (map_insert(pivots, piv.index, (int64_t)ci, piv.coef) != 0) {
        st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for pivots");
        goto done;
      }
      for (;;) {
        Entry e = pop_pivot(&vcol, p);
        if (e.index == -1) break;
        if (vm_push(&V, e) != 0) {
          st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for the reduction matrix");
          goto done;
        }
      }
      break;
    }
    V.start[ci + 1] = (int64_t)V.n;
  }
done:
  free(pre);
  free(V.a);
  free(V.start);
  free(vcol.a);
  free(cob.a);
  return st;
}

typedef struct {
  const Rips *r;
  const SimplexVec *simplices;
  const PivotMap *pivots;
  int dim; /* of the simplices to make */
  int keep_next;
  SimplexVec *next, *cols; /* per worker */
  Cob *cobs;
  atomic_int oom;
} AssembleCtx;

static void assemble_task(void *ctx, size_t b, size_t e, int worker) {
  AssembleCtx *a = ctx;
  const Rips *r = a->r;
  Cob *c = &a->cobs[2 * worker], *c2 = &a->cobs[2 * worker + 1];
  for (size_t q = b; q < e; q++) {
    const Simplex s = a->simplices->a[q];
    cob_set(r, c, s.index, s.diam, 1, a->dim - 1);
    while (cob_has_next(r, c, 0)) {
      Entry cf = cob_next(r, c);
      if (cf.diam > r->threshold) continue;
      int bad = 0;
      if (a->keep_next) bad |= svec_push(&a->next[worker], cf.diam, cf.index);
      if (map_find(a->pivots, cf.index)) continue;
      int32_t cv[MAXV];
      cob_cofacet_vertices(c, cv);
      if (zero_apparent_cofacet_v(r, c2, cf.index, cv, cf.diam, a->dim) >= 0) continue;
      if (zero_apparent_facet_v(r, c2, cf.index, cv, cf.diam, a->dim) >= 0) continue;
      bad |= svec_push(&a->cols[worker], cf.diam, cf.index);
      if (bad) atomic_store(&a->oom, 1);
    }
  }
}

/* The dim-simplices (from the (dim-1)-simplices), and the columns to reduce:
 * those neither cleared (a pivot of dimension dim-1) nor in an apparent pair. */
static TsStatus assemble(const Rips *r, SimplexVec *simplices, SimplexVec *cols, const PivotMap *pivots,
                         int dim, TsPool *pool, Cob *cobs, TsError *err) {
  int nt = ts_pool_threads(pool);
  SimplexVec *next = calloc((size_t)nt, sizeof *next), *wc = calloc((size_t)nt, sizeof *wc);
  TsStatus st = TS_OK;
  if (!next || !wc) {
    st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory");
    goto done;
  }
  AssembleCtx ctx = {r, simplices, pivots, dim, dim < r->maxdim, next, wc, cobs, 0};
  ts_pool_for(pool, simplices->n, 0, assemble_task, &ctx);
  if (atomic_load(&ctx.oom)) {
    st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for the simplices of dimension %d", dim);
    goto done;
  }
  size_t ncols = 0, nnext = 0;
  for (int w = 0; w < nt; w++) {
    ncols += wc[w].n;
    nnext += next[w].n;
  }
  cols->n = 0;
  if (ncols > cols->cap) {
    free(cols->a);
    cols->a = malloc(ncols * sizeof *cols->a);
    cols->cap = cols->a ? ncols : 0;
    if (!cols->a) {
      st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for %zu columns", ncols);
      goto done;
    }
  }
  for (int w = 0; w < nt; w++) {
    if (wc[w].n) memcpy(cols->a + cols->n, wc[w].a, wc[w].n * sizeof *cols->a);
    cols->n += wc[w].n;
  }
  simplices->n = 0;
  if (dim < r->maxdim) {
    if (nt == 1) { /* hand over the buffer */
      free(simplices->a);
      *simplices = next[0];
      next[0].a = NULL;
    } else {
      if (nnext > simplices->cap) {
        free(simplices->a);
        simplices->a = malloc(nnext * sizeof *simplices->a);
        simplices->cap = simplices->a ? nnext : 0;
        if (!simplices->a) {
          st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for %zu simplices", nnext);
          goto done;
        }
      }
      for (int w = 0; w < nt; w++) {
        if (next[w].n) memcpy(simplices->a + simplices->n, next[w].a, next[w].n * sizeof *simplices->a);
        simplices->n += next[w].n;
      }
    }
  }
  ts_rips_sort_par(cols->a, cols->n, pool);
done:
  if (next)
    for (int w = 0; w < nt; w++) free(next[w].a);
  if (wc)
    for (int w = 0; w < nt; w++) free(wc[w].a);
  free(next);
  free(wc);
  return st;
}

TsStatus ts_rips_cohomology(const Rips *r, SimplexVec *simplices, SimplexVec *cols, Cob *cobs, TsPool *pool,
                            TsDiagram *out, TsError *err) {
  TsStatus st = TS_OK;
  PivotMap pivots = {0};
  for (int dim = 1; dim <= r->maxdim; dim++) {
    if (map_init(&pivots, cols->n) != 0) return ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for pivots");
    if ((st = compute_pairs(r, cols, &pivots, dim, cobs, pool, out, err))) break;
    if (dim < r->maxdim && (st = assemble(r, simplices, cols, &pivots, dim + 1, pool, cobs, err))) break;
    free(pivots.s);
    pivots.s = NULL;
  }
  free(pivots.s);
  return st;
}
