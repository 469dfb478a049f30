/* rips.c — the Vietoris–Rips engine (Ripser's algorithm, see rips.h).
 *
 * Simplices are numbered by the combinatorial number system: the d-simplex
 * {v0 < v1 < ... < vd} has index sum_k C(v_k, k+1). The filtration order is
 * (diameter ascending, index descending); cohomology reduces columns in the
 * reverse order, and the pivot of a coboundary column is its entry earliest
 * in the filtration. Coboundaries are enumerated, never stored: only the
 * reduction matrix V (the columns added to each column) is kept.
 *
 * Two ways to enumerate cofacets: "dense" scans every vertex (used without a
 * threshold, where the cut at the enclosing radius keeps most edges), and
 * "sparse" intersects the sorted neighbour lists of the simplex's vertices
 * (used with a threshold and for graphs), as Ripser does. */
#include "ph/rips.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 16 /* vertices of the largest simplex handled (maxdim + 2) */

typedef struct {
  float diam;
  uint16_t coef;
  int64_t index;
} Entry; /* a simplex with a diameter and a coefficient */

typedef struct {
  float diam;
  int64_t index;
} Simplex;

typedef struct Rips {
  int64_t n;
  int maxdim;
  float threshold;
  int p;          /* modulus */
  uint16_t *inv;  /* multiplicative inverses mod p */
  int64_t *binom; /* binom[k * (n + 1) + i] = C(i, k), k <= maxdim + 2 */
  int64_t bstride;
  const float *lower; /* dense lookups (may be NULL in sparse mode) */
  int sparse;         /* enumerate cofacets through neighbour lists */
  int64_t *nb_off;    /* CSR neighbour lists, sorted by vertex */
  int32_t *nb_idx;
  float *nb_val;
} Rips;

static inline int64_t B(const Rips *r, int64_t i, int k) { return r->binom[(int64_t)k * r->bstride + i]; }

static inline float dist(const Rips *r, int64_t i, int64_t j) {
  if (i == j) return 0.0f;
  if (i < j) {
    int64_t t = i;
    i = j;
    j = t;
  }
  if (r->lower) return r->lower[i * (i - 1) / 2 + j];
  /* binary search in i's neighbour list */
  int64_t lo = r->nb_off[i], hi = r->nb_off[i + 1];
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (r->nb_idx[mid] < j) lo = mid + 1;
    else hi = mid;
  }
  return (lo < r->nb_off[i + 1] && r->nb_idx[lo] == j) ? r->nb_val[lo] : INFINITY;
}

/* Largest v in [k-1, top] with C(v, k) <= idx (Ripser's binary search). */
static inline int64_t max_vertex(const Rips *r, int64_t idx, int k, int64_t top) {
  int64_t bottom = k - 1;
  if (!(B(r, top, k) <= idx)) {
    int64_t count = top - bottom;
    while (count > 0) {
      int64_t step = count >> 1, mid = top - step;
      if (!(B(r, mid, k) <= idx)) {
        top = mid - 1;
        count -= step + 1;
      } else {
        count = step;
      }
    }
  }
  return top;
}

/* Vertices of the dim-simplex idx, ascending, into v[0..dim]. */
static inline void simplex_vertices(const Rips *r, int64_t idx, int dim, int32_t *v) {
  int64_t top = r->n - 1;
  for (int k = dim + 1; k >= 1; k--) {
    top = max_vertex(r, idx, k, top);
    v[k - 1] = (int32_t)top;
    idx -= B(r, top, k);
    top--;
  }
}

static inline float diameter_of(const Rips *r, const int32_t *v, int dim) {
  float d = 0.0f;
  for (int a = 1; a <= dim; a++)
    for (int b = 0; b < a; b++) {
      float x = dist(r, v[a], v[b]);
      if (x > d) d = x;
    }
  return d;
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

/* ---- cofacet enumeration ---- */

typedef struct {
  int64_t idx_below, idx_above, j;
  int k, dim;
  int32_t v[MAXV];
  float diam;
  uint16_t coef;
  /* sparse */
  int64_t it[MAXV], end[MAXV];
  int32_t nb;
  float nbd;
  int32_t added; /* the vertex cob_next added, at position k of the cofacet */
} Cob;

/* v: the simplex's vertices when the caller knows them (NULL: decoded) */
static inline void cob_set_v(const Rips *r, Cob *c, int64_t idx, const int32_t *v, float diam, uint16_t coef,
                             int dim) {
  c->idx_below = idx;
  c->idx_above = 0;
  c->j = r->n - 1;
  c->k = dim + 1;
  c->dim = dim;
  c->diam = diam;
  c->coef = coef;
  if (v) memcpy(c->v, v, (size_t)(dim + 1) * sizeof *v);
  else simplex_vertices(r, idx, dim, c->v);
  if (r->sparse) {
    for (int i = 0; i <= dim; i++) {
      c->it[i] = r->nb_off[c->v[i] + 1] - 1;
      c->end[i] = r->nb_off[c->v[i]] - 1;
    }
  }
}

/* all = 0: only cofacets whose new vertex is above every vertex of the
 * simplex (each simplex is then generated from exactly one facet). */
static inline void cob_set(const Rips *r, Cob *c, int64_t idx, float diam, uint16_t coef, int dim) {
  cob_set_v(r, c, idx, NULL, diam, coef, dim);
}

/* The vertices of the cofacet cob_next returned last. */
static inline void cob_cofacet_vertices(const Cob *c, int32_t *out) {
  for (int i = 0, q = 0; i <= c->dim + 1; i++) out[i] = i == c->k ? c->added : c->v[q++];
}

static inline int cob_has_next(const Rips *r, Cob *c, int all) {
  if (!r->sparse) return c->j >= c->k && (all || B(r, c->j, c->k) > c->idx_below);
  for (; c->it[0] != c->end[0]; c->it[0]--) {
    int32_t nb = r->nb_idx[c->it[0]];
    float nbd = r->nb_val[c->it[0]];
    for (int i = 1; i <= c->dim; i++) {
      while (r->nb_idx[c->it[i]] > nb)
        if (--c->it[i] == c->end[i]) return 0;
      if (r->nb_idx[c->it[i]] != nb) goto next_neighbour;
      if (r->nb_val[c->it[i]] > nbd) nbd = r->nb_val[c->it[i]];
    }
    while (c->k > 0 && c->v[c->k - 1] > nb) {
      if (!all) return 0;
      c->idx_below -= B(r, c->v[c->k - 1], c->k);
      c->idx_above += B(r, c->v[c->k - 1], c->k + 1);
      c->k--;
    }
    c->nb = nb;
    c->nbd = nbd;
    return 1;
  next_neighbour:;
  }
  return 0;
}

static inline Entry cob_next(const Rips *r, Cob *c) {
  Entry e;
  if (r->sparse) {
    c->it[0]--;
    c->added = c->nb;
    e.diam = c->nbd > c->diam ? c->nbd : c->diam;
    e.index = c->idx_above + B(r, c->nb, c->k + 1) + c->idx_below;
  } else {
    while (B(r, c->j, c->k) <= c->idx_below) {
      c->idx_below -= B(r, c->j, c->k);
      c->idx_above += B(r, c->j, c->k + 1);
      c->j--;
      c->k--;
    }
    float d = c->diam;
    const int64_t j = c->j;
    if (r->lower) {
      const float *row = r->lower + j * (j - 1) / 2;
      for (int i = 0; i <= c->dim; i++) {
        int64_t vi = c->v[i];
        float x = vi < j ? row[vi] : r->lower[vi * (vi - 1) / 2 + j];
        if (x > d) d = x;
      }
    } else {
      for (int i = 0; i <= c->dim; i++) {
        float x = dist(r, j, c->v[i]);
        if (x > d) d = x;
      }
    }
    e.diam = d;
    e.index = c->idx_above + B(r, j, c->k + 1) + c->idx_below;
    c->added = (int32_t)j;
    c->j--;
  }
  e.coef = (uint16_t)(((c->k & 1) ? r->p - 1 : 1) * (uint32_t)c->coef % (uint32_t)r->p);
  return e;
}

/* ---- apparent pairs ---- */

/* The facet of the dim-simplex v (diameter diam) that is its pivot in the
 * boundary if it has the same diameter: the latest such facet, i.e. the one
 * of smallest index, which removes the highest vertex possible; -1 if none.
 * A facet keeps the diameter iff it keeps one of the longest edges. fv gets
 * the facet's vertices. */
static int64_t zero_pivot_facet_v(const Rips *r, const int32_t *v, float diam, int dim, int32_t *fv) {
  int ea[MAXV * (MAXV - 1) / 2], eb[MAXV * (MAXV - 1) / 2], ne = 0;
  for (int a = 1; a <= dim; a++)
    for (int b = 0; b < a; b++)
      if (dist(r, v[a], v[b]) == diam) {
        ea[ne] = a;
        eb[ne++] = b;
      }
  for (int rm = dim; rm >= 0; rm--) {
    int keeps = 0;
    for (int q = 0; q < ne && !keeps; q++) keeps = ea[q] != rm && eb[q] != rm;
    if (!keeps) continue;
    int64_t f = 0;
    for (int i = 0, pos = 0; i <= dim; i++)
      if (i != rm) {
        fv[pos] = v[i];
        f += B(r, v[i], ++pos);
      }
    return f;
  }
  return -1;
}

/* The cofacet of (idx, v) that is its pivot in the coboundary if it has the
 * same diameter: the first one enumerated (largest index); -1 if none. cv
 * (may be NULL) gets its vertices. */
static int64_t zero_pivot_cofacet_v(const Rips *r, Cob *c, int64_t idx, const int32_t *v, float diam, int dim,
                                    int32_t *cv, int *pos) {
  if (!r->sparse) {
    /* dense: the highest vertex within diam of every vertex, each test
     * stopping at the first longer edge */
    const float *rows[MAXV];
    for (int i = 0; i <= dim; i++) rows[i] = r->lower + (int64_t)v[i] * (v[i] - 1) / 2;
    int k = dim + 1; /* vertices of v below j */
    for (int64_t j = r->n - 1; j >= 0; j--) {
      while (k > 0 && v[k - 1] >= j) {
        if (v[k - 1] == j) goto next_j;
        k--;
      }
      {
        const float *rowj = r->lower + j * (j - 1) / 2;
        for (int i = 0; i <= dim; i++) {
          float x = v[i] < j ? rowj[v[i]] : rows[i][j];
          if (x > diam) goto next_j;
        }
        int64_t f = 0;
        for (int i = 0, q = 0; i <= dim + 1; i++) {
          int32_t u = i == k ? (int32_t)j : v[q++];
          if (cv) cv[i] = u;
          f += B(r, u, i + 1);
        }
        if (pos) *pos = k;
        return f;
      }
    next_j:;
    }
    return -1;
  }
  cob_set_v(r, c, idx, v, diam, 1, dim);
  while (cob_has_next(r, c, 1)) {
    Entry e = cob_next(r, c);
    if (e.diam == diam) {
      if (cv) cob_cofacet_vertices(c, cv);
      if (pos) *pos = c->k;
      return e.index;
    }
  }
  return -1;
}

static int64_t zero_apparent_facet_v(const Rips *r, Cob *c, int64_t idx, const int32_t *v, float diam, int dim) {
  int32_t fv[MAXV];
  int64_t f = zero_pivot_facet_v(r, v, diam, dim, fv);
  if (f < 0) return -1;
  return zero_pivot_cofacet_v(r, c, f, fv, diam, dim - 1, NULL, NULL) == idx ? f : -1;
}

/* Whether the pivot facet of the simplex cv (dim, diameter diam, known to
 * keep its diameter without vertex k) is the facet without vertex k: no
 * vertex above k may be removable, i.e. every longest edge must touch it. */
static int pivot_facet_removes(const Rips *r, const int32_t *cv, int dim, int k, float diam) {
  for (int rm = dim; rm > k; rm--)
    for (int a = 1; a <= dim; a++) {
      if (a == rm) continue;
      for (int b = 0; b < a; b++)
        if (b != rm && dist(r, cv[a], cv[b]) == diam) return 0;
    }
  return 1;
}

static int64_t zero_apparent_cofacet_v(const Rips *r, Cob *c, int64_t idx, const int32_t *v, float diam, int dim) {
  int32_t cv[MAXV];
  int pos;
  int64_t cf = zero_pivot_cofacet_v(r, c, idx, v, diam, dim, cv, &pos);
  if (cf < 0) return -1;
  /* the facet without the added vertex has the cofacet's diameter */
  return pivot_facet_removes(r, cv, dim + 1, pos, diam) ? cf : -1;
}

static int64_t zero_apparent_facet(const Rips *r, Cob *c, int64_t idx, float diam, int dim) {
  int32_t v[MAXV];
  simplex_vertices(r, idx, dim, v);
  return zero_apparent_facet_v(r, c, idx, v, diam, dim);
}

static int64_t zero_apparent_cofacet(const Rips *r, Cob *c, int64_t idx, float diam, int dim) {
  int32_t v[MAXV];
  simplex_vertices(r, idx, dim, v);
  return zero_apparent_cofacet_v(r, c, idx, v, diam, dim);
}

/* ---- growable arrays, heap, hash map ---- */

typedef struct {
  Simplex *a;
  size_t n, cap;
} SimplexVec;

static int svec_push(SimplexVec *v, float diam, int64_t index) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 256;
    Simplex *a = realloc(v->a, cap * sizeof *a);
    if (!a) return -1;
    v->a = a;
    v->cap = cap;
  }
  v->a[v->n].diam = diam;
  v->a[v->n].index = index;
  v->n++;
  return 0;
}

typedef struct {
  Entry *a;
  size_t n, cap;
  int oom;
} Heap;

/* a comes before b in the filtration */
static inline int earlier(const Entry *a, const Entry *b) {
  return a->diam < b->diam || (a->diam == b->diam && a->index > b->index);
}

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

/* ---- sorting (diameter descending, index ascending: the reduction order) ---- */

static inline int later(const Simplex *a, const Simplex *b) {
  return a->diam > b->diam || (a->diam == b->diam && a->index < b->index);
}

static void sort_simplices(Simplex *a, size_t n) {
  while (n > 24) {
    Simplex *x = &a[0], *y = &a[n / 2], *z = &a[n - 1], *m;
    if (later(x, y)) m = later(y, z) ? y : (later(x, z) ? z : x);
    else m = later(x, z) ? x : (later(y, z) ? z : y);
    Simplex piv = *m;
    size_t i = 0, j = n - 1;
    for (;;) {
      while (later(&a[i], &piv)) i++;
      while (later(&piv, &a[j])) j--;
      if (i >= j) break;
      Simplex t = a[i];
      a[i] = a[j];
      a[j] = t;
      i++;
      j--;
    }
    /* [0, j] and [j+1, n): recurse on the smaller */
    size_t left = j + 1;
    if (left < n - left) {
      sort_simplices(a, left);
      a += left;
      n -= left;
    } else {
      sort_simplices(a + left, n - left);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    Simplex t = a[i];
    size_t j = i;
    while (j > 0 && later(&t, &a[j - 1])) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = t;
  }
}

/* With threads: one partition step around the median of 9 samples, then the
 * two sides sorted side by side (in place: no extra memory). */
typedef struct {
  Simplex *part[2];
  size_t len[2];
} SortCtx;

static void sort_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  SortCtx *c = ctx;
  for (size_t q = b; q < e; q++) sort_simplices(c->part[q], c->len[q]);
}

static void sort_simplices_par(Simplex *a, size_t n, TsPool *pool) {
  if (ts_pool_threads(pool) < 2 || n < 65536) {
    sort_simplices(a, n);
    return;
  }
  Simplex smp[9];
  for (int k = 0; k < 9; k++) smp[k] = a[(n - 1) / 8 * (size_t)k];
  sort_simplices(smp, 9);
  Simplex piv = smp[4];
  size_t i = 0, j = n - 1;
  for (;;) {
    while (later(&a[i], &piv)) i++;
    while (later(&piv, &a[j])) j--;
    if (i >= j) break;
    Simplex t = a[i];
    a[i] = a[j];
    a[j] = t;
    i++;
    j--;
  }
  SortCtx c = {{a, a + j + 1}, {j + 1, n - j - 1}};
  ts_pool_for(pool, 2, 1, sort_task, &c);
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

/* ---- dimension 0 ---- */

static int32_t uf_find(int32_t *parent, int32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

typedef struct {
  const Rips *r;
  const Simplex *edges;
  const uint8_t *cycle;
  uint8_t *keep;
  Cob *cobs;
} ApparentEdgesCtx;

static void apparent_edges_task(void *ctx, size_t b, size_t e, int worker) {
  ApparentEdgesCtx *c = ctx;
  for (size_t i = b; i < e; i++)
    if (c->cycle[i])
      c->keep[i] = zero_apparent_cofacet(c->r, &c->cobs[worker], c->edges[i].index, c->edges[i].diam, 1) < 0;
}

/* The edges (diameter <= threshold) in reduction order (diameter descending). */
static TsStatus collect_edges(const Rips *r, SimplexVec *edges, TsPool *pool, TsError *err) {
  if (r->lower) {
    size_t cnt = 0;
    for (int64_t i = 1; i < r->n; i++) {
      const float *row = r->lower + i * (i - 1) / 2;
      for (int64_t j = 0; j < i; j++) cnt += row[j] <= r->threshold;
    }
    edges->a = ts_alloc_array(cnt ? cnt : 1, sizeof *edges->a, "Rips edges", err);
    if (!edges->a) return err ? err->code : TS_ERR_NOMEM;
    edges->cap = cnt ? cnt : 1;
    edges->n = 0;
    for (int64_t i = 1; i < r->n; i++) {
      const float *row = r->lower + i * (i - 1) / 2;
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          edges->a[edges->n].diam = row[j];
          edges->a[edges->n].index = i * (i - 1) / 2 + j;
          edges->n++;
        }
    }
  } else {
    size_t cnt = (size_t)r->nb_off[r->n] / 2;
    edges->a = ts_alloc_array(cnt ? cnt : 1, sizeof *edges->a, "Rips edges", err);
    if (!edges->a) return err ? err->code : TS_ERR_NOMEM;
    edges->cap = cnt ? cnt : 1;
    edges->n = 0;
    for (int64_t i = 0; i < r->n; i++)
      for (int64_t q = r->nb_off[i]; q < r->nb_off[i + 1]; q++) {
        int64_t j = r->nb_idx[q];
        if (j < i) {
          edges->a[edges->n].diam = r->nb_val[q];
          edges->a[edges->n].index = i * (i - 1) / 2 + j;
          edges->n++;
        }
      }
  }
  sort_simplices_par(edges->a, edges->n, pool);
  return TS_OK;
}

/* H0 by union-find; leaves the dim-1 columns to reduce (cycle edges not in
 * an apparent pair), in reduction order. */
static TsStatus dim0(const Rips *r, const SimplexVec *edges, SimplexVec *cols, Cob *cobs, TsPool *pool,
                     TsDiagram *out, TsError *err) {
  TsStatus st = TS_OK;
  int32_t *parent = ts_alloc_array((size_t)r->n, sizeof *parent, "union-find", err);
  int32_t *minv = ts_alloc_array((size_t)r->n, sizeof *minv, "union-find", err);
  uint8_t *cycle = ts_calloc_array(edges->n + 1, 2, "edge flags", err);
  if (!parent || !minv || !cycle) {
    st = TS_ERR_NOMEM;
    goto done;
  }
  uint8_t *keep = cycle + edges->n + 1;
  for (int64_t i = 0; i < r->n; i++) parent[i] = minv[i] = (int32_t)i;
  for (size_t q = edges->n; q-- > 0;) { /* filtration order */
    int32_t v[2];
    simplex_vertices(r, edges->a[q].index, 1, v);
    int32_t a = uf_find(parent, v[0]), b = uf_find(parent, v[1]);
    if (a == b) {
      cycle[q] = 1;
      continue;
    }
    /* the component with the larger smallest vertex dies (all births 0) */
    int32_t young = minv[a] > minv[b] ? a : b, old = young == a ? b : a;
    if (edges->a[q].diam > 0.0f) {
      TsPair pr;
      memset(&pr, 0, sizeof pr);
      pr.dim = 0;
      pr.birth = 0.0;
      pr.death = edges->a[q].diam;
      for (int k = 0; k < 4; k++) pr.birth_at[k] = pr.death_at[k] = -1;
      pr.birth_at[0] = minv[young];
      pr.death_at[0] = v[0];
      pr.death_at[1] = v[1];
      if ((st = ts_diagram_push(out, &pr, err))) goto done;
    }
    parent[young] = old;
  }
  for (int64_t i = 0; i < r->n; i++)
    if (uf_find(parent, (int32_t)i) == i) {
      TsPair pr;
      memset(&pr, 0, sizeof pr);
      pr.death = INFINITY;
      for (int k = 0; k < 4; k++) pr.birth_at[k] = pr.death_at[k] = -1;
      pr.birth_at[0] = minv[i];
      if ((st = ts_diagram_push(out, &pr, err))) goto done;
    }
  if (r->maxdim >= 1) {
    ApparentEdgesCtx ctx = {r, edges->a, cycle, keep, cobs};
    ts_pool_for(pool, edges->n, 0, apparent_edges_task, &ctx);
    for (size_t q = 0; q < edges->n; q++)
      if (cycle[q] && keep[q] && svec_push(cols, edges->a[q].diam, edges->a[q].index) != 0) {
        st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for columns");
        goto done;
      }
  }
done:
  free(parent);
  free(minv);
  free(cycle);
  return st;
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

static inline void add_simplex_coboundary(const Rips *r, Cob *c, Entry s, int dim, Heap *vcol, Heap *cob) {
  heap_push(vcol, s);
  cob_set(r, c, s.index, s.diam, s.coef, dim);
  while (cob_has_next(r, c, 1)) {
    Entry e = cob_next(r, c);
    if (e.diam <= r->threshold) heap_push(cob, e);
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
        add_simplex_coboundary(r, c, add, dim, &vcol, &cob);
        for (int64_t q = V.start[j]; q < V.start[j + 1]; q++) {
          Entry e = V.a[q];
          e.coef = (uint16_t)(e.coef * (uint32_t)factor % (uint32_t)p);
          add_simplex_coboundary(r, c, e, dim, &vcol, &cob);
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
        add_simplex_coboundary(r, c, add, dim, &vcol, &cob);
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
  sort_simplices_par(cols->a, cols->n, pool);
done:
  if (next)
    for (int w = 0; w < nt; w++) free(next[w].a);
  if (wc)
    for (int w = 0; w < nt; w++) free(wc[w].a);
  free(next);
  free(wc);
  return st;
}

/* ---- setup ---- */

void ts_rips_options_init(TsRipsOptions *o) {
  memset(o, 0, sizeof *o);
  o->maxdim = 1;
  o->threshold = INFINITY;
  o->modulus = 2;
}

static int is_prime(int p) {
  if (p < 2) return 0;
  for (int q = 2; q * q <= p; q++)
    if (p % q == 0) return 0;
  return 1;
}

typedef struct {
  const TsRipsDist *d;
  float threshold;
  int64_t *deg;
} CsrCtx;

static TsStatus build_neighbours(Rips *r, const TsRipsDist *d, TsError *err) {
  int64_t n = r->n;
  r->nb_off = calloc((size_t)n + 1, sizeof *r->nb_off);
  if (!r->nb_off) return ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for neighbour lists");
  if (d->lower) {
    for (int64_t i = 1; i < n; i++) {
      const float *row = d->lower + i * (i - 1) / 2;
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          r->nb_off[i + 1]++;
          r->nb_off[j + 1]++;
        }
    }
  } else {
    for (size_t e = 0; e < d->nedges; e++)
      if (d->ed[e] <= r->threshold && d->ei[e] != d->ej[e]) {
        r->nb_off[d->ei[e] + 1]++;
        r->nb_off[d->ej[e] + 1]++;
      }
  }
  for (int64_t i = 0; i < n; i++) r->nb_off[i + 1] += r->nb_off[i];
  size_t m = (size_t)r->nb_off[n];
  r->nb_idx = malloc((m ? m : 1) * sizeof *r->nb_idx);
  r->nb_val = malloc((m ? m : 1) * sizeof *r->nb_val);
  int64_t *fill = malloc((size_t)n * sizeof *fill);
  if (!r->nb_idx || !r->nb_val || !fill) {
    free(fill);
    return ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for %zu neighbours", m);
  }
  memcpy(fill, r->nb_off, (size_t)n * sizeof *fill);
  if (d->lower) {
    /* row by row in j order keeps every list sorted: for vertex v, first
     * the j < v (row v), then the i > v (rows after) */
    for (int64_t i = 1; i < n; i++) {
      const float *row = d->lower + i * (i - 1) / 2;
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          r->nb_idx[fill[i]] = (int32_t)j;
          r->nb_val[fill[i]++] = row[j];
        }
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          r->nb_idx[fill[j]] = (int32_t)i;
          r->nb_val[fill[j]++] = row[j];
        }
    }
  } else {
    for (size_t e = 0; e < d->nedges; e++)
      if (d->ed[e] <= r->threshold && d->ei[e] != d->ej[e]) {
        int32_t a = d->ei[e], b = d->ej[e];
        r->nb_idx[fill[a]] = b;
        r->nb_val[fill[a]++] = d->ed[e];
        r->nb_idx[fill[b]] = a;
        r->nb_val[fill[b]++] = d->ed[e];
      }
    /* sort each list by vertex; a repeated edge keeps its smallest length */
    for (int64_t v = 0; v < n; v++) {
      int64_t lo = r->nb_off[v], hi = r->nb_off[v + 1];
      for (int64_t q = lo + 1; q < hi; q++) {
        int32_t ki = r->nb_idx[q];
        float kv = r->nb_val[q];
        int64_t t = q;
        while (t > lo && (r->nb_idx[t - 1] > ki || (r->nb_idx[t - 1] == ki && r->nb_val[t - 1] > kv))) {
          r->nb_idx[t] = r->nb_idx[t - 1];
          r->nb_val[t] = r->nb_val[t - 1];
          t--;
        }
        r->nb_idx[t] = ki;
        r->nb_val[t] = kv;
      }
    }
    /* drop duplicates (compact in place, then rebuild offsets) */
    int64_t o = 0, start = 0;
    for (int64_t v = 0; v < n; v++) {
      int64_t lo = start, hi = r->nb_off[v + 1];
      start = hi;
      r->nb_off[v] = o;
      for (int64_t q = lo; q < hi; q++)
        if (q == lo || r->nb_idx[q] != r->nb_idx[q - 1]) {
          r->nb_idx[o] = r->nb_idx[q];
          r->nb_val[o++] = r->nb_val[q];
        }
    }
    r->nb_off[n] = o;
  }
  free(fill);
  return TS_OK;
}

TsStatus ts_rips_ph(const TsRipsDist *d, const TsRipsOptions *opts, TsDiagram *out, TsError *err) {
  TsRipsOptions def;
  if (!opts) {
    ts_rips_options_init(&def);
    opts = &def;
  }
  ts_diagram_clear(out);
  out->loc = TS_LOC_EDGES;
  out->maxdim = opts->maxdim;
  if (!d || d->n < 1) return ts_error_set(err, TS_ERR_INVALID, "Rips: no points");
  if (opts->maxdim < 0 || opts->maxdim > MAXV - 3)
    return ts_error_set(err, TS_ERR_INVALID, "Rips: maximal dimension %d is outside 0..%d", opts->maxdim, MAXV - 3);
  if (!is_prime(opts->modulus) || opts->modulus >= 32768)
    return ts_error_set(err, TS_ERR_INVALID, "Rips: modulus %d is not a prime below 32768", opts->modulus);
  if (isnan(opts->threshold) || opts->threshold < 0)
    return ts_error_set(err, TS_ERR_INVALID, "Rips: threshold must be >= 0");

  Rips r;
  memset(&r, 0, sizeof r);
  r.n = d->n;
  r.maxdim = opts->maxdim;
  r.p = opts->modulus;
  r.lower = d->lower;
  TsStatus st = TS_OK;
  SimplexVec simplices = {0}, cols = {0};
  PivotMap pivots = {0};
  Cob *cobs = NULL;
  int nt = ts_pool_threads(opts->pool);

  /* binomials C(i, k) for i <= n, k <= maxdim + 2, overflow-checked where
   * the largest simplex index of dimension maxdim + 1 must fit */
  int kmax = r.maxdim + 2;
  r.bstride = r.n + 1;
  r.binom = ts_alloc_array((size_t)(kmax + 1) * (size_t)(r.n + 1), sizeof *r.binom, "binomial table", err);
  if (!r.binom) return TS_ERR_NOMEM;
  for (int64_t i = 0; i <= r.n; i++) {
    for (int k = 0; k <= kmax; k++) {
      int64_t v;
      if (k == 0 || k == i) v = 1;
      else if (k > i) v = 0;
      else {
        int64_t a = r.binom[(int64_t)(k - 1) * r.bstride + i - 1], b = r.binom[(int64_t)k * r.bstride + i - 1];
        if (a > INT64_MAX / 4 - b) {
          st = ts_error_set(err, TS_ERR_INVALID,
                            "Rips: %lld points are too many to number the %d-simplices in 64 bits",
                            (long long)r.n, kmax - 1);
          goto done;
        }
        v = a + b;
      }
      r.binom[(int64_t)k * r.bstride + i] = v;
    }
  }
  r.inv = malloc((size_t)r.p * sizeof *r.inv);
  cobs = calloc((size_t)nt * 2, sizeof *cobs);
  if (!r.inv || !cobs) {
    st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory");
    goto done;
  }
  r.inv[0] = 0;
  r.inv[1] = 1;
  for (int a = 2; a < r.p; a++) r.inv[a] = (uint16_t)(r.p - (r.p / a) * (uint32_t)r.inv[r.p % a] % r.p);

  /* threshold: as given, or the enclosing radius for dense input (the
   * smallest over vertices of the largest distance from it), one pass */
  float maxd = 0.0f, enc = INFINITY;
  if (d->lower) {
    float *rmax = calloc((size_t)r.n, sizeof *rmax);
    if (!rmax) {
      st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory");
      goto done;
    }
    for (int64_t i = 1; i < r.n; i++) {
      const float *row = d->lower + i * (i - 1) / 2;
      float ri = 0.0f;
      for (int64_t j = 0; j < i; j++) {
        float x = row[j];
        if (x > ri) ri = x;
        if (x > rmax[j]) rmax[j] = x;
      }
      rmax[i] = ri;
      if (ri > maxd) maxd = ri;
    }
    for (int64_t i = 0; i < r.n; i++)
      if (rmax[i] < enc) enc = rmax[i];
    free(rmax);
  }
  if (isinf(opts->threshold)) r.threshold = d->lower ? enc : INFINITY;
  else r.threshold = (float)opts->threshold;
  /* an infinite distance is no edge at all */
  if (!(r.threshold <= FLT_MAX)) r.threshold = FLT_MAX;
  r.sparse = !d->lower || (!isinf(opts->threshold) && r.threshold < maxd);
  if (r.sparse && (st = build_neighbours(&r, d, err))) goto done;

  if ((st = collect_edges(&r, &simplices, opts->pool, err))) goto done;
  if ((st = dim0(&r, &simplices, &cols, cobs, opts->pool, out, err))) goto done;
  for (int dim = 1; dim <= r.maxdim; dim++) {
    if (map_init(&pivots, cols.n) != 0) {
      st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for pivots");
      goto done;
    }
    if ((st = compute_pairs(&r, &cols, &pivots, dim, cobs, opts->pool, out, err))) goto done;
    if (dim < r.maxdim && (st = assemble(&r, &simplices, &cols, &pivots, dim + 1, opts->pool, cobs, err)))
      goto done;
    free(pivots.s);
    pivots.s = NULL;
  }
  ts_diagram_sort(out);
  out->maxdim = r.maxdim;
done:
  free(pivots.s);
  free(simplices.a);
  free(cols.a);
  free(cobs);
  free(r.inv);
  free(r.binom);
  free(r.nb_off);
  free(r.nb_idx);
  free(r.nb_val);
  if (st) ts_diagram_clear(out);
  return st;
}
