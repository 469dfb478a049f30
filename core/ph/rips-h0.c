/* rips-h0.c — dimension 0: union-find over the edges in filtration order
 * (elder rule by smallest vertex: all births are 0), and the edges that
 * close cycles without an apparent partner become the dim-1 columns. */
#include "ph/rips-engine.h"


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
TsStatus ts_rips_collect_edges(const Rips *r, SimplexVec *edges, TsPool *pool, TsError *err) {
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
  ts_rips_sort_par(edges->a, edges->n, pool);
  return TS_OK;
}

/* H0 by union-find; leaves the dim-1 columns to reduce (cycle edges not in
 * an apparent pair), in reduction order. */
TsStatus ts_rips_h0(const Rips *r, const SimplexVec *edges, SimplexVec *cols, Cob *cobs, TsPool *pool,
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
